"""Scheduled slots through the queue: retried like any delivery, failed for good, and sent again on request.

Driven through the real bus over the memory store with a fixed clock; the queue is run inline.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.channels import Notification, PermanentChannelError, TransientChannelError
from application.retry_policy import RetryPolicy
from domain.delivery import Delivery, DeliveryStatus
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, MetricsRecorder, RecordingChannel, make_service, run_queue
from tests.unit.world import (
    SLOT,
    add_owner,
    create_reminder,
    ledger,
    retry,
    send_now,
    stored,
    tick,
    tick_and_send,
)

SLOT_KEY_SUFFIX = ":2026-01-05T09:00:00+00:00"


def errors(delivery: Delivery) -> list[tuple[int, str | None]]:
    return [(attempt.number, attempt.error) for attempt in delivery.attempts]


@pytest.mark.parametrize("failures", [1, 2, 3])
def test_a_scheduled_delivery_is_sent_after_transient_failures(
    service: Service,
    owner: User,
    team: RecordingChannel,
    metrics: MetricsRecorder,
    clock: FixedClock,
    failures: int,
) -> None:
    create_reminder(service, owner)
    team.failures = [TransientChannelError(f"timeout {n}") for n in range(1, failures + 1)]

    tick_and_send(service, clock, SLOT)

    [delivery] = ledger(service)
    assert delivery.status is DeliveryStatus.SENT
    assert errors(delivery) == [*((n, f"timeout {n}") for n in range(1, failures + 1)), (failures + 1, None)]
    assert (len(team.tried), len(team.sent)) == (failures + 1, 1)
    assert (metrics.retries, metrics.outcomes) == (["team"] * failures, [("team", "sent", 1)])


def test_a_permanent_error_fails_a_scheduled_delivery_without_retrying(
    service: Service, owner: User, team: RecordingChannel, metrics: MetricsRecorder, clock: FixedClock
) -> None:
    create_reminder(service, owner)
    team.failures = [PermanentChannelError("404 no such room"), TransientChannelError("never reached")]

    tick_and_send(service, clock, SLOT)

    [delivery] = ledger(service)
    assert (delivery.status, delivery.error) == (DeliveryStatus.FAILED, "404 no such room")
    assert errors(delivery) == [(1, "404 no such room")]
    assert len(team.tried) == 1
    # The owner is told through their email (logged here: no SMTP server).
    assert (metrics.retries, metrics.outcomes) == ([], [("team", "failed", 1), ("email", "sent", 1)])


def test_a_scheduled_delivery_fails_after_four_transient_failures_and_retry_sends_it_under_the_same_key(
    service: Service, owner: User, team: RecordingChannel, metrics: MetricsRecorder, clock: FixedClock
) -> None:
    reminder = create_reminder(service, owner)
    team.failures = [TransientChannelError(f"timeout {n}") for n in range(1, 6)]
    tick_and_send(service, clock, SLOT)
    [failed] = ledger(service)
    assert (failed.status, failed.error) == (DeliveryStatus.FAILED, "timeout 4")
    assert errors(failed) == [(n, f"timeout {n}") for n in range(1, 5)]
    assert (len(team.tried), team.sent) == (4, [])
    retried_at = clock.advance(minutes=10)

    retry(service, failed.id)
    run_queue(service)

    [retried] = ledger(service)
    assert (retried.id, retried.status, retried.scheduled_for) == (failed.id, DeliveryStatus.SENT, SLOT)
    assert errors(retried) == [*((n, f"timeout {n}") for n in range(1, 6)), (6, None)]
    assert retried.attempts[4].started_at == retried_at
    # Lateness runs to the first attempt, made on time at the slot; the retries are in the attempt log.
    assert (retried.first_attempt_at, retried.sent_at, retried.lateness_seconds) == (SLOT, retried_at, 0.0)
    assert [n.idempotency_key for n in team.tried] == [reminder.id + SLOT_KEY_SUFFIX] * 6
    assert metrics.outcomes == [("team", "failed", 1), ("email", "sent", 1), ("team", "sent", 1)]


class BusyTwice(RecordingChannel):
    """Answers "busy" to the first two attempts of each delivery, asking for 2 s and then 9 s."""

    def send(self, notification: Notification) -> None:
        self.tried.append(notification)
        earlier = sum(1 for n in self.tried if n.delivery_id == notification.delivery_id) - 1
        if earlier < 2:
            raise TransientChannelError("busy", retry_after=(2, 9)[earlier])
        self.sent.append(notification)


def test_a_manual_send_is_retried_exactly_as_a_scheduled_one(
    clock: FixedClock, metrics: MetricsRecorder
) -> None:
    team = BusyTwice()
    service = make_service(
        clock=clock,
        channels={"team": team},
        metrics=metrics,
        retry_policy=RetryPolicy(attempts=3, base_seconds=1, max_seconds=5),
    )
    reminder = create_reminder(service, add_owner(service))
    clock.current = SLOT
    tick(service, SLOT)
    manual = send_now(service, reminder)
    [scheduled] = [d for d in ledger(service) if d.id != manual.id]
    steps = []

    for _ in range(3):
        run_queue(service)
        both = {(d.status, d.next_attempt_at, tuple(errors(d))) for d in ledger(service)}
        assert len(both) == 1, "the two deliveries were treated differently"
        [(status, due, _)] = both
        steps.append((status, due))
        clock.current = due or clock.current

    # The peer's Retry-After each time, the second capped at max_seconds.
    assert steps == [
        (DeliveryStatus.PENDING, SLOT + timedelta(seconds=2)),
        (DeliveryStatus.PENDING, SLOT + timedelta(seconds=7)),
        (DeliveryStatus.SENT, None),
    ]
    assert errors(stored(service, manual.id)) == [(1, "busy"), (2, "busy"), (3, None)]
    assert (manual.scheduled_for, scheduled.scheduled_for) == (None, SLOT)
    assert (metrics.retries, metrics.outcomes) == (["team"] * 4, [("team", "sent", 1)] * 2)
