"""Rounds: a failed delivery reopens for a new round of attempts, keeping the ones on record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from domain.delivery import Delivery, DeliveryStatus
from domain.errors import DeliveryNotRetryable
from domain.events import DeliveryQueued, DeliverySucceeded
from tests.unit.delivery_builders import (
    LEASE,
    NOW,
    attempt,
    cancelled,
    claimed,
    failed,
    missed,
    pending,
    sent,
)


def test_a_failed_delivery_reopens_for_a_new_round_keeping_its_attempts() -> None:
    delivery = failed(tries=3)
    later = NOW + timedelta(minutes=10)

    delivery.reopen(later)

    assert (delivery.status, delivery.error, delivery.next_attempt_at) == (
        DeliveryStatus.PENDING,
        None,
        later,
    )
    assert [a.number for a in delivery.attempts] == [1, 2, 3]
    assert delivery.round_attempts == 0
    assert delivery.pull_events() == [DeliveryQueued(delivery_id=delivery.id, reminder_id="r-1")]


def test_a_new_round_counts_only_its_own_attempts() -> None:
    delivery = failed(tries=3)
    later = NOW + timedelta(minutes=10)
    delivery.reopen(later)
    delivery.pull_events()

    token = delivery.claim("w-1", later, lease=LEASE)
    delivery.retry_later(token, attempt(4, "timeout", at=later), now=later, at=later)
    assert delivery.round_attempts == 1
    token = delivery.claim("w-1", later, lease=LEASE)
    delivery.succeed(token, attempt(5, at=later), now=later)

    assert delivery.round_attempts == 2
    *_, succeeded = delivery.pull_events()
    assert isinstance(succeeded, DeliverySucceeded)
    assert (succeeded.attempts, succeeded.attempts_made) == (5, 2)
    assert [a.number for a in delivery.attempts] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(pending, id="pending"),
        pytest.param(lambda: claimed()[0], id="sending"),
        pytest.param(sent, id="sent"),
        pytest.param(missed, id="missed"),
        pytest.param(cancelled, id="cancelled"),
    ],
)
def test_only_a_failed_delivery_can_be_reopened(make: Callable[[], Delivery]) -> None:
    delivery = make()
    status = delivery.status

    with pytest.raises(DeliveryNotRetryable):
        delivery.reopen(NOW)

    assert delivery.status is status
