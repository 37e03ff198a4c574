"""A due reminder on each real channel, from the scheduler's tick through the delivery queue to the peer,
through the real bus."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest

from adapters.apprise_channel import AppriseChannel
from application import views
from application.channels import NotificationChannel
from application.commands import CheckDueReminders, CreateReminder, CreateUser
from domain.delivery import DeliveryStatus
from domain.schedule import Frequency
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import START, FixedClock, admin, make_service, run_queue, team_of
from tests.integration.conftest import TIMEOUT, local_channels
from tests.integration.peers import HOST, HttpReceiver, SmtpServer

SECRET = "e2e-webhook-secret"
SLACK_PATH = "/services/T0123ABCD/B0456EFGH/xQ7vR2mK9pL4sT8wY3zA6bC1"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def channels(smtp_server: SmtpServer) -> Iterator[dict[str, NotificationChannel]]:
    with local_channels(smtp_server, secret=SECRET) as real:
        yield {**real, "apprise": AppriseChannel(timeout=TIMEOUT, allow_private_targets=True)}


@pytest.fixture
def service(clock: FixedClock, channels: dict[str, NotificationChannel]) -> Service:
    return make_service(clock=clock, channels=channels)


def remind(service: Service, owner: User, channel: str, target: str | None = None) -> str:
    reminder = service.bus.handle(
        CreateReminder(
            actor=admin(service),
            owner_id=owner.id,
            title=f"Standup via {channel}",
            message="Hello {owner_name}, it is {scheduled_for_local} ({timezone})",
            channel=channel,
            target=target,
            time_of_day="10:00",
            timezone="Europe/Berlin",
            frequency=Frequency.DAILY,
        )
    )
    return str(reminder.id)


@pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")
def test_a_due_reminder_reaches_every_real_channel_once(
    service: Service, clock: FixedClock, smtp_server: SmtpServer, receiver: HttpReceiver
) -> None:
    owner: User = service.bus.handle(CreateUser(actor=admin(service), name="Ann", email="ann@example.com"))
    reminders = {
        "email": remind(service, owner, "email"),
        "webhook": remind(service, owner, "webhook", receiver.url("/team-hook")),
        "slack": remind(service, owner, "slack", receiver.url(SLACK_PATH)),
        "apprise": remind(service, owner, "apprise", f"json://{HOST}:{receiver.port}/apprise"),
    }

    clock.advance(hours=1, minutes=1)  # 10:00 in Berlin is 09:00 UTC
    service.bus.handle(CheckDueReminders(now=clock.now()))
    run_queue(service)

    [mail] = smtp_server.handler.mails
    assert mail.rcpt_tos == ["ann@example.com"]
    assert mail.message["Subject"] == "Standup via email"
    assert mail.part("plain") == "Hello Ann, it is 2026-01-05 10:00 (Europe/Berlin)\n"

    by_path = {request.path: request for request in receiver.requests}
    assert sorted(by_path) == sorted(["/team-hook", SLACK_PATH, "/apprise"])
    assert len(receiver.requests) == 3
    hook = by_path["/team-hook"]
    # Signed with the owner's team's secret, not the channel's own.
    team_secret = team_of(service).team.webhook_secret
    expected_signature = "sha256=" + hmac.new(team_secret.encode(), hook.body, hashlib.sha256).hexdigest()
    assert hook.headers["x-reminder-signature"] == expected_signature
    assert hook.headers["idempotency-key"] == f"{reminders['webhook']}:2026-01-05T09:00:00+00:00"
    assert json.loads(hook.body)["scheduled_for"] == "2026-01-05T09:00:00+00:00"
    assert json.loads(by_path[SLACK_PATH].body)["blocks"][0]["text"]["text"].startswith("*Standup via slack*")
    assert json.loads(by_path["/apprise"].body)["title"] == "Standup via apprise"

    deliveries = views.list_deliveries(service.uow_factory, admin(service), limit=10, offset=0).items
    # Every one went through its real peer (the email over SMTP), so none says it went another way.
    assert sorted(
        (d.channel, d.reminder_id, d.status, len(d.attempts), d.error, d.via) for d in deliveries
    ) == sorted((channel, rid, DeliveryStatus.SENT, 1, None, None) for channel, rid in reminders.items())
