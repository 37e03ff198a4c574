"""Delivery: one ledger entry, claimed by one sender, closed as sent or failed, retried only when failed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from domain.delivery import Attempt, Delivery, DeliveryStatus
from domain.errors import Conflict, DeliveryNotRetryable
from domain.events import DeliveryFailed, DeliverySucceeded

SLOT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = SLOT + timedelta(seconds=5)


def pending(*, scheduled_for: datetime | None = SLOT) -> Delivery:
    return Delivery.open(reminder_id="r-1", channel="log", scheduled_for=scheduled_for, now=NOW)


def attempts(count: int, *, error: str | None = None, first: int = 1) -> list[Attempt]:
    return [Attempt(number=first + n, started_at=NOW, duration_ms=12.5, error=error) for n in range(count)]


def sent(delivery: Delivery, at: datetime) -> Delivery:
    delivery.claim(at)
    delivery.record_outcome(attempts(1), error=None, now=at)
    return delivery


def failed(delivery: Delivery, *, tries: int = 3) -> Delivery:
    delivery.claim(NOW)
    delivery.record_outcome(attempts(tries, error="timeout"), error="timeout", now=NOW)
    delivery.pull_events()
    return delivery


def test_open_is_pending_and_open_missed_is_missed_with_a_reason() -> None:
    assert pending().status is DeliveryStatus.PENDING
    missed = Delivery.open(reminder_id="r-1", channel="log", scheduled_for=SLOT, now=NOW, missed=True)
    assert missed.status is DeliveryStatus.MISSED
    assert missed.error


def test_a_claimed_delivery_cannot_be_claimed_again() -> None:
    delivery = pending()
    delivery.claim(NOW)
    with pytest.raises(Conflict):
        delivery.claim(NOW + timedelta(seconds=1))


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: sent(pending(), NOW), id="sent"),
        pytest.param(lambda: failed(pending()), id="failed"),
        pytest.param(
            lambda: Delivery.open(reminder_id="r-1", channel="log", scheduled_for=SLOT, now=NOW, missed=True),
            id="missed",
        ),
    ],
)
def test_only_a_pending_delivery_can_be_claimed(make: Callable[[], Delivery]) -> None:
    delivery = make()
    with pytest.raises(Conflict):
        delivery.claim(NOW)


def test_success_marks_it_sent_and_records_the_attempt_count() -> None:
    delivery = pending()
    at = SLOT + timedelta(seconds=42)
    delivery.claim(at)
    delivery.record_outcome(
        [*attempts(2, error="refused"), Attempt(number=3, started_at=at, duration_ms=3.0)], error=None, now=at
    )
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.sent_at == at
    assert delivery.error is None
    assert len(delivery.attempts) == 3
    assert delivery.pull_events() == [
        DeliverySucceeded(
            delivery_id=delivery.id,
            reminder_id="r-1",
            channel="log",
            attempts=3,
            attempts_made=3,
            scheduled_for=SLOT,
            sent_at=at,
        )
    ]


def test_failure_marks_it_failed_with_the_error() -> None:
    delivery = pending()
    delivery.claim(NOW)
    delivery.record_outcome(attempts(4, error="connection refused"), error="connection refused", now=NOW)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.error == "connection refused"
    assert delivery.sent_at is None
    assert delivery.pull_events() == [
        DeliveryFailed(
            delivery_id=delivery.id,
            reminder_id="r-1",
            channel="log",
            attempts=4,
            attempts_made=4,
            scheduled_for=SLOT,
            reason="connection refused",
        )
    ]


def test_a_failed_delivery_reopens_keeping_its_attempts_and_can_be_sent() -> None:
    delivery = failed(pending(), tries=3)
    delivery.reopen()
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.error is None
    assert len(delivery.attempts) == 3
    later = NOW + timedelta(minutes=10)
    delivery.claim(later)
    delivery.record_outcome(attempts(1, first=4), error=None, now=later)
    [event] = delivery.pull_events()
    assert isinstance(event, DeliverySucceeded)
    assert event.attempts == 4
    assert [attempt.number for attempt in delivery.attempts] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(pending, id="pending"),
        pytest.param(lambda: sent(pending(), NOW), id="sent"),
        pytest.param(
            lambda: Delivery.open(reminder_id="r-1", channel="log", scheduled_for=SLOT, now=NOW, missed=True),
            id="missed",
        ),
    ],
)
def test_only_a_failed_delivery_can_be_reopened(make: Callable[[], Delivery]) -> None:
    delivery = make()
    status = delivery.status
    with pytest.raises(DeliveryNotRetryable):
        delivery.reopen()
    assert delivery.status is status


def test_lateness_is_the_time_from_slot_to_sending() -> None:
    delivery = pending()
    assert delivery.lateness_seconds is None  # not sent yet
    sent(delivery, SLOT + timedelta(seconds=42, milliseconds=500))
    assert delivery.lateness_seconds == 42.5


def test_a_delivery_sent_on_demand_has_no_lateness() -> None:
    delivery = sent(pending(scheduled_for=None), NOW)
    assert delivery.lateness_seconds is None
