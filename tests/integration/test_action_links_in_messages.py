"""The acknowledge and snooze links in real messages: a webhook's signed JSON and a Slack post carry
them, an email to a team reminder's recipient is addressed to that person and ends with theirs, and
each link acts for that person through the bus; the log channels never write a link down."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from adapters.apprise_channel import AppriseChannel
from adapters.log_channel import LogChannel
from adapters.log_email_channel import LogEmailChannel
from adapters.webhook_channel import WebhookChannel
from application import action_links
from application.action_links import ActionLinks
from application.channels import NotificationChannel
from application.commands import CheckDueReminders, CreateReminder, CreateUser, FollowActionLink
from domain.delivery import Delivery, DeliveryKind
from domain.schedule import Frequency
from domain.team import Team
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import START, FixedClock, admin, make_service, run_queue, team_of
from tests.integration.conftest import TIMEOUT, assert_no_secret, local_channels, make_notification
from tests.integration.peers import HOST, HttpReceiver, SmtpServer

PUBLIC_URL = "https://reminders.example.org"
SECRET = "channel-webhook-secret"
SLACK_PATH = "/services/T0123ABCD/B0456EFGH/xQ7vR2mK9pL4sT8wY3zA6bC1"
ACTIONS = {"ack_url": f"{PUBLIC_URL}/links/ack-token", "snooze_url": f"{PUBLIC_URL}/links/snooze-token"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def channels(smtp_server: SmtpServer) -> Iterator[dict[str, NotificationChannel]]:
    with local_channels(smtp_server, secret=SECRET) as real:
        yield {"log": LogChannel(), **real}


@pytest.fixture
def service(clock: FixedClock, channels: dict[str, NotificationChannel]) -> Service:
    """Wired as the server wires it, links included, over the memory store."""
    return make_service(clock=clock, channels=channels, links=ActionLinks(PUBLIC_URL + "/"))


def person(service: Service, name: str) -> User:
    user: User = service.bus.handle(
        CreateUser(
            actor=admin(service), name=name, email=f"{name.lower()}@example.com", timezone="Europe/Berlin"
        )
    )
    return user


def remind(service: Service, owner: User, channel: str, target: str | None = None, **fields: Any) -> str:
    reminder = service.bus.handle(
        CreateReminder(
            actor=admin(service),
            owner_id=owner.id,
            title=f"Standup via {channel}",
            message="Join the call",
            channel=channel,
            target=target,
            time_of_day="10:00",
            timezone="Europe/Berlin",
            frequency=Frequency.DAILY,
            **fields,
        )
    )
    return str(reminder.id)


def deliver_the_slot(service: Service, clock: FixedClock) -> list[Delivery]:
    clock.advance(hours=1, minutes=1)  # 10:00 in Berlin is 09:00 UTC
    service.bus.handle(CheckDueReminders(now=clock.now()))
    return run_queue(service)


def team(service: Service) -> Team:
    with service.uow_factory() as uow:
        found = uow.teams.get(team_of(service).team.id)
    assert found is not None
    return found


def stored(service: Service, delivery_id: str) -> Delivery:
    with service.uow_factory() as uow:
        found = uow.deliveries.get(delivery_id)
    assert found is not None
    return found


def token_of(url: str) -> str:
    assert url.startswith(f"{PUBLIC_URL}/links/"), url
    return url.removeprefix(f"{PUBLIC_URL}/links/")


def assert_links_for(service: Service, actions: dict[str, str], delivery_id: str) -> None:
    """Both links are the service's, signed with the team's link secret, for this delivery."""
    assert set(actions) == {"ack_url", "snooze_url"}
    now = service.clock.now()
    claims = {name: action_links.verify(team(service), token_of(url), now) for name, url in actions.items()}
    assert {name: (claim.delivery_id, claim.action) for name, claim in claims.items()} == {
        "ack_url": (delivery_id, "ack"),
        "snooze_url": (delivery_id, "snooze"),
    }


def test_a_webhook_carries_the_links_signed_with_the_rest_of_its_body(
    service: Service, clock: FixedClock, receiver: HttpReceiver
) -> None:
    ann = person(service, "Ann")
    remind(service, ann, "webhook", receiver.url("/team-hook"))

    [delivery] = deliver_the_slot(service, clock)

    [hook] = receiver.requests
    body = json.loads(hook.body)
    assert (body["delivery_id"], body["kind"]) == (delivery.id, "scheduled")
    assert "recipient" not in body  # a reminder for its owner alone
    assert_links_for(service, body["actions"], delivery.id)
    secret = team(service).webhook_secret.encode()
    assert hook.headers["x-reminder-signature"] == (
        "sha256=" + hmac.new(secret, hook.body, hashlib.sha256).hexdigest()
    )
    # The link acts for the reminder's owner, once.
    acknowledged = service.bus.handle(FollowActionLink(token=token_of(body["actions"]["ack_url"])))
    assert (acknowledged.id, stored(service, delivery.id).acknowledged_by) == (delivery.id, ann.id)


def test_a_slack_post_ends_with_the_links(
    service: Service, clock: FixedClock, receiver: HttpReceiver
) -> None:
    remind(service, person(service, "Ann"), "slack", receiver.url(SLACK_PATH))

    [delivery] = deliver_the_slot(service, clock)

    document = json.loads(receiver.requests[0].body)
    actions = document["blocks"][-1]["text"]["text"]
    links = re.fullmatch(r"Acknowledge: <([^|>]+)\|acknowledge> · Snooze: <([^|>]+)\|snooze>", actions)
    assert links is not None, actions
    urls = {"ack_url": links[1], "snooze_url": links[2]}
    assert_links_for(service, urls, delivery.id)
    assert document["text"].endswith(actions)


def test_an_email_to_a_recipient_is_addressed_to_them_and_carries_their_links(
    service: Service, clock: FixedClock, smtp_server: SmtpServer
) -> None:
    ann, bob = person(service, "Ann"), person(service, "Bob")
    remind(service, ann, "email", recipients=[bob.id])

    [delivery] = deliver_the_slot(service, clock)

    assert delivery.recipient_id == bob.id
    [mail] = smtp_server.handler.mails
    assert mail.rcpt_tos == ["bob@example.com"]
    assert mail.message["To"] == "Bob <bob@example.com>"
    text = mail.part("plain")
    links = re.fullmatch(r"Join the call\n\nAcknowledge: (\S+)\nSnooze 10 minutes: (\S+)\n", text)
    assert links is not None, text
    urls = {"ack_url": links[1], "snooze_url": links[2]}
    assert_links_for(service, urls, delivery.id)
    page = mail.part("html")
    for url in urls.values():
        assert f'href="{url}"' in page
    # The snooze link snoozes Bob's delivery, for Bob.
    snooze = service.bus.handle(FollowActionLink(token=token_of(urls["snooze_url"]), minutes=30))
    assert (snooze.kind, snooze.parent_delivery_id, snooze.recipient_id) == (
        DeliveryKind.SNOOZE,
        delivery.id,
        bob.id,
    )
    assert snooze.scheduled_for == clock.now() + timedelta(minutes=30)


def test_a_webhook_names_the_recipient_and_signs_the_links(receiver: HttpReceiver) -> None:
    channel = WebhookChannel(secret=SECRET, timeout=TIMEOUT, allow_private_targets=True)
    notification = make_notification(
        "webhook",
        receiver.url(),
        kind="repeat",
        recipient_id="u-0002",
        recipient_name="Bob",
        recipient_email="bob@example.com",
        actions=ACTIONS,
    )
    try:
        channel.send(notification)
    finally:
        channel.close()

    [hook] = receiver.requests
    body = json.loads(hook.body)
    assert body["kind"] == "repeat"
    assert body["recipient"] == {"id": "u-0002", "name": "Bob", "email": "bob@example.com"}
    assert body["actions"] == ACTIONS
    expected = "sha256=" + hmac.new(SECRET.encode(), hook.body, hashlib.sha256).hexdigest()
    assert hook.headers["x-reminder-signature"] == expected


@pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")
def test_an_apprise_message_ends_with_the_links(receiver: HttpReceiver) -> None:
    channel = AppriseChannel(timeout=TIMEOUT, allow_private_targets=True)

    channel.send(make_notification("apprise", f"json://{HOST}:{receiver.port}/apprise", actions=ACTIONS))

    message = json.loads(receiver.requests[0].body)["message"]
    assert message.endswith(f"\n\nAcknowledge: {ACTIONS['ack_url']}\nSnooze: {ACTIONS['snooze_url']}"), (
        message
    )


def test_the_log_channels_never_write_the_links_down(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    fields: dict[str, Any] = {
        "kind": "snooze",
        "recipient_id": "u-0002",
        "recipient_email": "bob@example.com",
        "actions": ACTIONS,
    }

    LogChannel().send(make_notification("log", **fields))
    LogEmailChannel().send(make_notification("email", **fields))

    delivered, emailed = caplog.records
    assert (delivered.__dict__["kind"], delivered.__dict__["recipient_id"]) == ("snooze", "u-0002")
    assert (emailed.__dict__["kind"], emailed.__dict__["recipient_id"]) == ("snooze", "u-0002")
    assert emailed.__dict__["to"] == "bob@example.com"
    assert_no_secret(["ack-token", "snooze-token"], caplog.records)
