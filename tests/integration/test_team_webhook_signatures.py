"""Each team's webhooks are signed with that team's own secret, and both secrets sign for a day
after a rotation: checked on the bytes a real receiver got."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest

from adapters.webhook_channel import WebhookChannel
from application.commands import CreateReminder, RotateWebhookSecret, SendReminderNow
from application.handlers.teams import NewTeam
from domain.reminder import Reminder
from domain.schedule import Frequency
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, actor_of, make_service, new_team, run_queue
from tests.integration.conftest import TIMEOUT
from tests.integration.peers import HttpReceiver, Request


def verifies(request: Request, secret: str) -> bool:
    """What a receiver does: any of the header's comma-separated signatures made with `secret`."""
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    offered = request.headers.get("x-reminder-signature", "").split(",")
    return any(hmac.compare_digest(expected, value.strip()) for value in offered)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def service(clock: FixedClock) -> Iterator[Service]:
    # A channel secret of its own, which no team's webhook may be signed with.
    webhook = WebhookChannel(secret="channel-wide", timeout=TIMEOUT, allow_private_targets=True)
    yield make_service(clock=clock, channels={"webhook": webhook})
    webhook.close()


def webhook_reminder(service: Service, team: NewTeam, target: str) -> Reminder:
    reminder: Reminder = service.bus.handle(
        CreateReminder(
            actor=actor_of(team),
            title="Standup",
            message="Join the call",
            channel="webhook",
            target=target,
            time_of_day="09:00",
            frequency=Frequency.DAILY,
        )
    )
    return reminder


def send(service: Service, team: NewTeam, reminder: Reminder) -> None:
    service.bus.handle(SendReminderNow(actor=actor_of(team), reminder_id=reminder.id))
    run_queue(service)


def test_a_webhook_verifies_with_its_own_teams_secret_and_never_with_another_teams(
    service: Service, receiver: HttpReceiver
) -> None:
    acme, globex = new_team(service, "Acme", "ada@acme.test"), new_team(service, "Globex", "gus@globex.test")
    send(service, acme, webhook_reminder(service, acme, receiver.url("/acme")))
    send(service, globex, webhook_reminder(service, globex, receiver.url("/globex")))

    by_path = {request.path: request for request in receiver.requests}
    assert set(by_path) == {"/acme", "/globex"}
    assert acme.team.webhook_secret != globex.team.webhook_secret
    assert verifies(by_path["/acme"], acme.team.webhook_secret)
    assert not verifies(by_path["/acme"], globex.team.webhook_secret)
    assert verifies(by_path["/globex"], globex.team.webhook_secret)
    assert not verifies(by_path["/globex"], acme.team.webhook_secret)
    for request in by_path.values():
        assert not verifies(request, "channel-wide")


def test_after_a_rotation_both_signatures_are_sent_for_a_day_then_only_the_new_one(
    service: Service, receiver: HttpReceiver, clock: FixedClock
) -> None:
    acme = new_team(service, "Acme", "ada@acme.test")
    reminder = webhook_reminder(service, acme, receiver.url())
    old = acme.team.webhook_secret
    new: str = service.bus.handle(RotateWebhookSecret(actor=actor_of(acme)))

    send(service, acme, reminder)
    during = receiver.requests[-1]
    assert len(during.headers["x-reminder-signature"].split(",")) == 2
    assert verifies(during, new)
    assert verifies(during, old)

    clock.advance(hours=24, seconds=1)
    send(service, acme, reminder)
    after = receiver.requests[-1]
    assert len(after.headers["x-reminder-signature"].split(",")) == 1
    assert verifies(after, new)
    assert not verifies(after, old)
