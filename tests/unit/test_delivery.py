"""Delivery: a job of the queue, claimed by one worker at a time, and closed by the claim's holder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from domain.delivery import Attempt, Delivery, DeliveryStatus
from domain.errors import Conflict
from domain.events import (
    DeliveryCancelled,
    DeliveryFailed,
    DeliveryQueued,
    DeliveryRetryScheduled,
    DeliverySucceeded,
)
from tests.unit.delivery_builders import (
    LEASE,
    NOW,
    SLOT,
    attempt,
    cancelled,
    claimed,
    failed,
    missed,
    pending,
    sent,
)

# -- opening and claiming -------------------------------------------------------------------------


def test_a_new_delivery_waits_in_the_queue_due_at_once() -> None:
    delivery = Delivery.open(
        reminder_id="r-1", team_id="t-1", owner_id="u-1", channel="log", scheduled_for=SLOT, now=NOW
    )

    assert (delivery.status, delivery.next_attempt_at, delivery.attempts) == (DeliveryStatus.PENDING, NOW, ())
    # A scheduled slot is announced by the reminder that fired it, not by the delivery.
    assert delivery.pull_events() == []


def test_a_delivery_sent_on_demand_announces_itself_to_the_workers() -> None:
    delivery = Delivery.open(
        reminder_id="r-1", team_id="t-1", owner_id="u-1", channel="log", scheduled_for=None, now=NOW
    )

    assert delivery.pull_events() == [DeliveryQueued(delivery_id=delivery.id, reminder_id="r-1")]


def test_a_missed_slot_is_recorded_with_a_reason_and_never_queued() -> None:
    delivery = missed()

    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.MISSED, None)
    assert delivery.error == "slot was older than the grace period when it fired"
    assert delivery.status.finished


def test_a_claim_holds_the_delivery_for_one_worker_until_its_lease_ends() -> None:
    delivery = pending()

    token = delivery.claim("w-1", NOW, lease=LEASE)

    assert delivery.status is DeliveryStatus.SENDING
    assert not delivery.status.finished
    assert (delivery.claimed_by, delivery.claimed_at, delivery.lease_expires_at) == ("w-1", NOW, NOW + LEASE)
    assert (delivery.claim_token, delivery.next_attempt_at) == (token, None)
    assert delivery.holds(token, NOW + LEASE - timedelta(microseconds=1))
    assert not delivery.holds(token, NOW + LEASE)
    assert not delivery.holds("someone else's token", NOW)


def test_a_claimed_delivery_cannot_be_claimed_again() -> None:
    delivery, token = claimed()

    with pytest.raises(Conflict):
        delivery.claim("w-2", NOW + timedelta(seconds=1), lease=LEASE)

    assert (delivery.claimed_by, delivery.claim_token) == ("w-1", token)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(sent, id="sent"),
        pytest.param(failed, id="failed"),
        pytest.param(missed, id="missed"),
        pytest.param(cancelled, id="cancelled"),
    ],
)
def test_a_finished_delivery_cannot_be_claimed(make: Callable[[], Delivery]) -> None:
    delivery = make()
    status = delivery.status

    with pytest.raises(Conflict):
        delivery.claim("w-2", NOW + timedelta(days=1), lease=LEASE)

    assert delivery.status is status


def test_a_delivery_waiting_for_its_retry_cannot_be_claimed_before_it_is_due() -> None:
    delivery, token = claimed()
    due = NOW + timedelta(seconds=30)
    delivery.retry_later(token, attempt(1, "timeout"), now=NOW, at=due)

    with pytest.raises(Conflict):
        delivery.claim("w-2", due - timedelta(microseconds=1), lease=LEASE)
    delivery.claim("w-2", due, lease=LEASE)

    assert (delivery.status, delivery.claimed_by) == (DeliveryStatus.SENDING, "w-2")


# -- outcomes of a held claim ---------------------------------------------------------------------


def test_success_marks_it_sent_and_frees_the_claim() -> None:
    delivery, token = claimed()
    at = SLOT + timedelta(seconds=42)

    delivery.succeed(token, attempt(at=NOW), now=at)

    assert (delivery.status, delivery.sent_at, delivery.error) == (DeliveryStatus.SENT, at, None)
    assert delivery.attempts == (attempt(at=NOW),)
    assert (delivery.first_attempt_at, delivery.via) == (NOW, None)
    assert (delivery.claimed_by, delivery.claim_token, delivery.lease_expires_at) == (None, None, None)
    assert delivery.next_attempt_at is None
    assert not delivery.holds(token, at)
    assert delivery.pull_events() == [
        DeliverySucceeded(
            delivery_id=delivery.id,
            reminder_id="r-1",
            channel="log",
            attempts=1,
            attempts_made=1,
            scheduled_for=SLOT,
            first_attempt_at=NOW,
            sent_at=at,
            via=None,
        )
    ]


def test_a_failure_for_good_marks_it_failed_with_the_error() -> None:
    delivery, token = claimed()

    delivery.fail(token, attempt(1, "401 unauthorised"), now=NOW)

    assert (delivery.status, delivery.error, delivery.sent_at) == (
        DeliveryStatus.FAILED,
        "401 unauthorised",
        None,
    )
    assert delivery.status.finished
    assert delivery.claim_token is None
    assert delivery.pull_events() == [
        DeliveryFailed(
            delivery_id=delivery.id,
            reminder_id="r-1",
            channel="log",
            attempts=1,
            attempts_made=1,
            scheduled_for=SLOT,
            reason="401 unauthorised",
        )
    ]


def test_a_failure_that_may_pass_puts_it_back_in_the_queue_for_later() -> None:
    delivery, token = claimed()
    due = NOW + timedelta(seconds=8)

    delivery.retry_later(token, attempt(1, "503 busy"), now=NOW, at=due)

    assert (delivery.status, delivery.next_attempt_at, delivery.error) == (
        DeliveryStatus.PENDING,
        due,
        "503 busy",
    )
    assert delivery.attempts == (attempt(1, "503 busy"),)
    assert (delivery.claimed_by, delivery.claim_token) == (None, None)
    assert delivery.pull_events() == [
        DeliveryRetryScheduled(
            delivery_id=delivery.id,
            reminder_id="r-1",
            channel="log",
            attempts=1,
            attempts_made=1,
            scheduled_for=SLOT,
            reason="503 busy",
            next_attempt_at=due,
        )
    ]


@pytest.mark.parametrize(
    ("delay", "due_in"),
    [pytest.param(None, timedelta(0), id="at-once"), pytest.param(2.0, timedelta(seconds=2), id="later")],
)
def test_a_released_claim_goes_back_unsent_with_nothing_on_record(
    delay: float | None, due_in: timedelta
) -> None:
    delivery, token = claimed()
    later = NOW + timedelta(seconds=1)

    delivery.release(token, now=later, at=None if delay is None else later + timedelta(seconds=delay))

    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.PENDING, later + due_in)
    assert (delivery.attempts, delivery.error, delivery.claim_token) == ((), None, None)
    assert delivery.pull_events() == []


def test_a_claim_whose_reminder_is_gone_is_cancelled_with_the_reason() -> None:
    delivery, token = claimed()

    delivery.cancel("the reminder was deleted", token=token, now=NOW)

    assert (delivery.status, delivery.error, delivery.attempts) == (
        DeliveryStatus.CANCELLED,
        "the reminder was deleted",
        (),
    )
    assert delivery.status.finished
    assert delivery.pull_events() == [
        DeliveryCancelled(
            delivery_id=delivery.id,
            reminder_id="r-1",
            channel="log",
            scheduled_for=SLOT,
            reason="the reminder was deleted",
        )
    ]


# -- lateness -------------------------------------------------------------------------------------


def test_lateness_is_the_time_from_slot_to_the_start_of_the_first_attempt() -> None:
    delivery, token = claimed()
    started = SLOT + timedelta(seconds=42, milliseconds=500)
    assert delivery.lateness_seconds is None  # not sent yet

    # The receiver took 3 s to answer: that is not lateness.
    delivery.succeed(token, attempt(at=started), now=started + timedelta(seconds=3))

    assert (delivery.first_attempt_at, delivery.sent_at) == (started, started + timedelta(seconds=3))
    assert delivery.lateness_seconds == 42.5


def test_the_first_attempt_start_is_kept_through_retries_and_new_rounds() -> None:
    delivery, token = claimed()
    first, second, third = (NOW + timedelta(minutes=minutes) for minutes in (0, 1, 10))

    delivery.retry_later(token, attempt(1, "timeout", at=first), now=first, at=second)
    assert (delivery.first_attempt_at, delivery.lateness_seconds) == (first, None)
    token = delivery.claim("w-2", second, lease=LEASE)
    delivery.fail(token, attempt(2, "timeout", at=second), now=second)
    delivery.reopen(third)
    token = delivery.claim("w-3", third, lease=LEASE)
    delivery.succeed(token, attempt(3, at=third), now=third + timedelta(seconds=2))

    assert delivery.first_attempt_at == first
    assert delivery.lateness_seconds == (first - SLOT).total_seconds()
    [succeeded] = delivery.pull_events()[-1:]
    assert isinstance(succeeded, DeliverySucceeded)
    assert (succeeded.first_attempt_at, succeeded.sent_at) == (first, third + timedelta(seconds=2))


def test_a_claim_given_back_unsent_sets_no_first_attempt() -> None:
    delivery, token = claimed()

    delivery.release(token, now=NOW)

    assert delivery.first_attempt_at is None


# -- how it went ----------------------------------------------------------------------------------


def test_a_delivery_sent_through_a_stand_in_records_how_it_went() -> None:
    delivery, token = claimed()

    delivery.succeed(token, Attempt(1, NOW, 1.0, via="log"), now=NOW)

    assert (delivery.status, delivery.via) == (DeliveryStatus.SENT, "log")
    [succeeded] = delivery.pull_events()
    assert isinstance(succeeded, DeliverySucceeded)
    assert succeeded.via == "log"


def test_a_delivery_sent_on_demand_has_no_lateness() -> None:
    delivery, token = claimed(pending(scheduled_for=None))

    delivery.succeed(token, attempt(), now=NOW)

    assert delivery.lateness_seconds is None
