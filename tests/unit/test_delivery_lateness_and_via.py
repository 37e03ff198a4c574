"""What the ledger, the log and the metrics say about a sent delivery: how late it was (from the slot to
the start of its first attempt, so a receiver slow to answer does not count), and how it went (an
email logged for want of an SMTP server is recorded `via` "log").

Driven through the real bus over the memory store with a fixed clock; the queue is run inline.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from adapters.log_email_channel import LogEmailChannel
from application.channels import Notification, NotificationChannel, TransientChannelError
from domain.delivery import DeliveryStatus
from domain.events import DeliverySucceeded, Event
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, MetricsRecorder, RecordingChannel, make_service, run_queue
from tests.unit.world import SLOT, add_owner, create_reminder, ledger, send_now, stored, tick

ANSWER = timedelta(seconds=3, milliseconds=570)  # how long the slow receiver takes to answer


class SlowChannel(RecordingChannel):
    """A recording channel whose receiver takes ANSWER on the fixed clock to answer each attempt."""

    def __init__(self, clock: FixedClock) -> None:
        super().__init__()
        self.clock = clock

    def send(self, notification: Notification) -> None:
        self.clock.advance(seconds=ANSWER.total_seconds())
        super().send(notification)


@pytest.fixture
def slow(clock: FixedClock) -> SlowChannel:
    return SlowChannel(clock)


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def service(
    clock: FixedClock,
    slow: SlowChannel,
    team: RecordingChannel,
    metrics: MetricsRecorder,
    events: list[Event],
) -> Service:
    channels: dict[str, NotificationChannel] = {"slow": slow, "team": team, "email": LogEmailChannel()}
    return make_service(clock=clock, channels=channels, metrics=metrics, events=events)


@pytest.fixture
def owner(service: Service) -> User:
    return add_owner(service)


def sent_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "reminders.delivery" and r.getMessage() == "delivery sent"]


def succeeded(events: list[Event]) -> list[DeliverySucceeded]:
    return [event for event in events if isinstance(event, DeliverySucceeded)]


# -- lateness --------------------------------------------------------------------------------------


def test_a_receiver_slow_to_answer_does_not_make_the_delivery_late(
    service: Service,
    owner: User,
    clock: FixedClock,
    metrics: MetricsRecorder,
    events: list[Event],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="reminders.delivery")
    create_reminder(service, owner, channel="slow")
    clock.current = fired_at = SLOT + timedelta(seconds=2)
    tick(service, fired_at)

    run_queue(service)

    [delivery] = ledger(service)
    assert delivery.status is DeliveryStatus.SENT
    assert (delivery.first_attempt_at, delivery.sent_at) == (fired_at, fired_at + ANSWER)
    assert delivery.lateness_seconds == 2.0
    assert metrics.lateness == [2.0]
    [line] = sent_lines(caplog)
    assert line.__dict__["lateness_seconds"] == 2.0
    [event] = succeeded(events)
    assert (event.first_attempt_at, event.sent_at) == (fired_at, fired_at + ANSWER)


def test_lateness_runs_to_the_first_attempt_however_many_retries_follow(
    service: Service, owner: User, clock: FixedClock, slow: SlowChannel, metrics: MetricsRecorder
) -> None:
    create_reminder(service, owner, channel="slow")
    slow.failures = [TransientChannelError("timeout 1"), TransientChannelError("timeout 2")]
    clock.current = fired_at = SLOT + timedelta(seconds=2)
    tick(service, fired_at)

    run_queue(service)

    [delivery] = ledger(service)
    assert [(a.started_at, a.error) for a in delivery.attempts] == [
        (fired_at, "timeout 1"),
        (fired_at + ANSWER, "timeout 2"),
        (fired_at + 2 * ANSWER, None),
    ]
    assert (delivery.status, delivery.first_attempt_at, delivery.sent_at) == (
        DeliveryStatus.SENT,
        fired_at,
        fired_at + 3 * ANSWER,
    )
    assert delivery.lateness_seconds == 2.0
    assert metrics.lateness == [2.0]


def test_a_delivery_waiting_in_the_queue_has_no_first_attempt_yet(service: Service, owner: User) -> None:
    create_reminder(service, owner, channel="slow")
    tick(service, SLOT)

    [delivery] = ledger(service)

    assert (delivery.status, delivery.first_attempt_at, delivery.lateness_seconds) == (
        DeliveryStatus.PENDING,
        None,
        None,
    )


# -- via -------------------------------------------------------------------------------------------


def test_an_email_without_an_smtp_server_is_recorded_as_sent_via_the_log(
    service: Service, owner: User, events: list[Event], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    delivery = send_now(service, create_reminder(service, owner, channel="email"))

    run_queue(service)

    saved = stored(service, delivery.id)
    assert (saved.status, saved.via) == (DeliveryStatus.SENT, "log")
    assert [attempt.via for attempt in saved.attempts] == ["log"]
    [line] = sent_lines(caplog)
    assert line.__dict__["via"] == "log"
    assert [event.via for event in succeeded(events)] == ["log"]
    [logged] = [r for r in caplog.records if r.name == "reminders.channel.email"]
    assert logged.__dict__["to"] == "ann@example.com"


def test_a_send_through_the_channel_itself_has_no_via(
    service: Service, owner: User, team: RecordingChannel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="reminders.delivery")
    delivery = send_now(service, create_reminder(service, owner, channel="team"))

    run_queue(service)

    saved = stored(service, delivery.id)
    assert (saved.status, saved.via, len(team.sent)) == (DeliveryStatus.SENT, None, 1)
    [line] = sent_lines(caplog)
    assert "via" not in line.__dict__
