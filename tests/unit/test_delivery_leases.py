"""A claim no longer held: only the current holder, within its lease, may record an outcome; an ended
lease puts the delivery back in the queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from domain.delivery import Delivery, DeliveryStatus
from domain.errors import ClaimLost, Conflict
from domain.events import ClaimExpired
from tests.unit.delivery_builders import LEASE, NOW, attempt, claimed, pending, sent

OUTCOMES: list[tuple[str, Callable[[Delivery, str, datetime], None]]] = [
    ("succeed", lambda d, token, now: d.succeed(token, attempt(), now=now)),
    ("fail", lambda d, token, now: d.fail(token, attempt(1, "x"), now=now)),
    ("retry_later", lambda d, token, now: d.retry_later(token, attempt(1, "x"), now=now, at=now)),
    ("release", lambda d, token, now: d.release(token, now=now)),
    ("cancel", lambda d, token, now: d.cancel("gone", token=token, now=now)),
]


@pytest.mark.parametrize("record", [pytest.param(fn, id=name) for name, fn in OUTCOMES])
@pytest.mark.parametrize(
    ("token_of", "at"),
    [
        pytest.param(lambda token: "not-the-token", NOW, id="wrong-token"),
        pytest.param(lambda token: token, NOW + LEASE, id="lease-ended"),
    ],
)
def test_an_outcome_without_the_current_claim_is_refused_and_changes_nothing(
    record: Callable[[Delivery, str, datetime], None],
    token_of: Callable[[str], str],
    at: datetime,
) -> None:
    delivery, token = claimed()

    with pytest.raises(ClaimLost) as refused:
        record(delivery, token_of(token), at)

    assert refused.value.delivery_id == delivery.id
    assert isinstance(refused.value, Conflict)
    assert (delivery.status, delivery.attempts, delivery.claim_token) == (DeliveryStatus.SENDING, (), token)
    assert delivery.pull_events() == []


def test_after_a_claim_expires_only_the_new_holder_may_record_the_outcome() -> None:
    delivery, first = claimed()
    later = NOW + LEASE
    delivery.expire(later)
    second = delivery.claim("w-2", later, lease=LEASE)

    with pytest.raises(ClaimLost):
        delivery.succeed(first, attempt(1), now=later)
    delivery.fail(second, attempt(1, "refused"), now=later)

    assert (delivery.status, delivery.error) == (DeliveryStatus.FAILED, "refused")
    assert delivery.attempts == (attempt(1, "refused"),)


def test_an_expired_claim_goes_back_to_the_queue_due_at_once_and_names_its_worker() -> None:
    delivery, token = claimed()
    later = NOW + LEASE + timedelta(seconds=3)

    delivery.expire(later)

    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.PENDING, later)
    assert (delivery.claimed_by, delivery.claim_token, delivery.lease_expires_at) == (None, None, None)
    assert not delivery.holds(token, later)
    assert delivery.pull_events() == [
        ClaimExpired(delivery_id=delivery.id, reminder_id="r-1", channel="log", worker="w-1")
    ]


def test_a_claim_whose_lease_has_not_ended_does_not_expire() -> None:
    delivery, token = claimed()

    with pytest.raises(Conflict):
        delivery.expire(NOW + LEASE - timedelta(microseconds=1))

    assert delivery.holds(token, NOW)
    assert delivery.pull_events() == []


@pytest.mark.parametrize("make", [pytest.param(pending, id="pending"), pytest.param(sent, id="sent")])
def test_only_a_claimed_delivery_can_expire(make: Callable[[], Delivery]) -> None:
    delivery = make()
    status = delivery.status

    with pytest.raises(Conflict):
        delivery.expire(NOW + timedelta(days=1))

    assert delivery.status is status
