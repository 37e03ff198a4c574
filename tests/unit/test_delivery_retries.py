"""Retries are scheduled in the queue, never slept on: one attempt per claim, the next one due later.

Each attempt is on record as soon as it ends; the retry policy bounds how many a round makes, and
retrying a failed delivery starts a new round under the same idempotency key.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import pytest

from application.channels import PermanentChannelError, TransientChannelError
from application.retry_policy import RetryPolicy
from domain.delivery import Delivery, DeliveryStatus
from domain.errors import Conflict, DeliveryNotRetryable, NotFound
from domain.events import DeliveryFailed, DeliveryQueued, DeliveryRetryScheduled
from tests.fakes import RecordingChannel, attempt_all, claim, run_queue
from tests.unit.world import START, World, create_reminder, ledger, retry, send_now, tick, world

QUARTER_SECOND = timedelta(milliseconds=250)


def errors(delivery: Delivery) -> list[tuple[int, str | None]]:
    return [(attempt.number, attempt.error) for attempt in delivery.attempts]


def test_a_transient_failure_frees_the_worker_and_is_retried_when_due() -> None:
    w = world(retry_policy=RetryPolicy(attempts=4, base_seconds=1, max_seconds=10))
    w.team.failures = [TransientChannelError("timeout")]
    delivery = w.send_now()

    [recorded] = run_queue(w.service)

    # One attempt, then the worker moved on: nothing is due at the clock's time any more.
    recorded_at = START + QUARTER_SECOND
    assert len(w.team.tried) == 1
    waiting = w.stored(delivery.id)
    assert (recorded.status, waiting.status, waiting.error) == (
        DeliveryStatus.PENDING,
        DeliveryStatus.PENDING,
        "timeout",
    )
    assert waiting.next_attempt_at is not None
    assert recorded_at < waiting.next_attempt_at <= recorded_at + timedelta(seconds=1)
    assert (w.metrics.retries, w.metrics.outcomes) == (["team"], [])

    w.clock.current = waiting.next_attempt_at
    run_queue(w.service)

    sent = w.stored(delivery.id)
    assert (sent.status, errors(sent)) == (DeliveryStatus.SENT, [(1, "timeout"), (2, None)])
    assert sent.attempts[1].started_at == waiting.next_attempt_at
    assert w.metrics.outcomes == [("team", "sent", 1)]


def test_a_failing_peer_delays_only_its_own_deliveries() -> None:
    ops = RecordingChannel()
    w = world(retry_policy=RetryPolicy(attempts=4, base_seconds=1, max_seconds=30), channels={"ops": ops})
    w.team.failures = [TransientChannelError("503 busy", retry_after=10)]
    failing = w.send_now()
    healthy = send_now(w.service, create_reminder(w.service, w.owner, channel="ops"))

    run_queue(w.service)

    assert w.stored(healthy.id).status is DeliveryStatus.SENT
    assert len(ops.sent) == 1
    waiting = w.stored(failing.id)
    assert (waiting.status, waiting.next_attempt_at) == (
        DeliveryStatus.PENDING,
        START + QUARTER_SECOND + timedelta(seconds=10),
    )


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        pytest.param(3.0, timedelta(seconds=3), id="as-asked"),
        pytest.param(60.0, timedelta(seconds=10), id="capped"),
        pytest.param(0.0, timedelta(0), id="at-once"),
    ],
)
def test_retry_after_is_honoured_within_the_cap(retry_after: float, wait: timedelta) -> None:
    w = world(retry_policy=RetryPolicy(attempts=4, base_seconds=5, max_seconds=10))
    w.team.failures = [TransientChannelError("429", retry_after=retry_after)]
    delivery = w.send_now()

    [recorded] = attempt_all(w.service, claim(w.service))

    assert recorded.next_attempt_at == START + QUARTER_SECOND + wait
    assert w.stored(delivery.id).next_attempt_at == START + QUARTER_SECOND + wait


@pytest.mark.parametrize(
    ("jitter", "waits"),
    [
        pytest.param(lambda low, high: high, [1.0, 2.0, 4.0, 5.0, 5.0], id="top-of-window"),
        pytest.param(lambda low, high: (low + high) / 2, [0.5, 1.0, 2.0, 2.5, 2.5], id="mid-window"),
    ],
)
def test_each_wait_is_jittered_within_a_doubling_window_up_to_the_cap(
    monkeypatch: pytest.MonkeyPatch, jitter: Callable[[float, float], float], waits: list[float]
) -> None:
    # Full jitter draws each wait uniformly from [0, base * 2 ** (n - 1)], capped; pin the draw.
    monkeypatch.setattr(random, "uniform", jitter)
    w = world(retry_policy=RetryPolicy(attempts=6, base_seconds=1, max_seconds=5))
    w.team.failures = [TransientChannelError("timeout") for _ in range(5)]
    delivery = w.send_now()
    seen = []

    for _ in range(5):
        run_queue(w.service)
        waiting = w.stored(delivery.id)
        assert waiting.next_attempt_at is not None
        seen.append((waiting.next_attempt_at - w.clock.current).total_seconds())
        w.clock.current = waiting.next_attempt_at

    assert seen == waits
    assert len(w.team.tried) == 5


def test_the_attempts_stop_at_the_policys_limit_and_the_delivery_fails() -> None:
    w = world(retry_policy=RetryPolicy(attempts=3, base_seconds=1, max_seconds=5))
    w.team.failures = [TransientChannelError(f"busy {n}", retry_after=2) for n in range(1, 6)]
    delivery = w.send_now()
    w.events.clear()

    for _ in range(5):
        run_queue(w.service)
        w.clock.advance(seconds=2)

    failed = w.stored(delivery.id)
    assert (failed.status, failed.error, failed.next_attempt_at) == (DeliveryStatus.FAILED, "busy 3", None)
    assert errors(failed) == [(1, "busy 1"), (2, "busy 2"), (3, "busy 3")]
    assert len(w.team.tried) == 3
    assert (w.metrics.retries, w.metrics.outcomes) == (["team", "team"], [("team", "failed", 1)])
    assert [type(e) for e in w.events] == [DeliveryRetryScheduled, DeliveryRetryScheduled, DeliveryFailed]
    assert w.events[-1] == DeliveryFailed(
        delivery_id=delivery.id,
        reminder_id=w.reminder.id,
        channel="team",
        attempts=3,
        attempts_made=3,
        scheduled_for=None,
        reason="busy 3",
    )


def test_a_delivery_in_progress_shows_each_attempt_as_soon_as_it_ends() -> None:
    w = world(retry_policy=RetryPolicy(attempts=4, base_seconds=1, max_seconds=30))
    w.team.failures = [TransientChannelError("timeout"), TransientChannelError("503", retry_after=20)]
    delivery = w.send_now()
    seen = []

    for _ in range(3):
        started = w.clock.current
        run_queue(w.service)
        now = w.stored(delivery.id)
        seen.append((now.status, errors(now), now.error))
        assert now.attempts[-1].started_at == started
        assert now.attempts[-1].duration_ms == 250.0
        if now.next_attempt_at is not None:
            w.clock.current = now.next_attempt_at

    assert seen == [
        (DeliveryStatus.PENDING, [(1, "timeout")], "timeout"),
        (DeliveryStatus.PENDING, [(1, "timeout"), (2, "503")], "503"),
        (DeliveryStatus.SENT, [(1, "timeout"), (2, "503"), (3, None)], None),
    ]


# -- RetryDelivery: a new round for a failed delivery -------------------------------------------


def test_retrying_a_failed_delivery_queues_a_new_round_under_the_same_key() -> None:
    w = world()  # four attempts a round, each retry due at once
    w.team.failures = [TransientChannelError(f"timeout {n}") for n in range(1, 8)]
    tick(w.service, w.clock.advance(hours=1))
    run_queue(w.service)
    [failed] = ledger(w.service)
    assert (failed.status, len(failed.attempts)) == (DeliveryStatus.FAILED, 4)
    retried_at = w.clock.advance(minutes=10)
    w.events.clear()

    queued = retry(w.service, failed.id)

    assert (queued.id, queued.status, queued.next_attempt_at) == (
        failed.id,
        DeliveryStatus.PENDING,
        retried_at,
    )
    assert (queued.error, len(queued.attempts)) == (None, 4)
    assert len(w.team.tried) == 4  # queued, not sent by the request
    assert w.events == [DeliveryQueued(delivery_id=failed.id, reminder_id=w.reminder.id)]
    assert w.service.signals.wait_for_work(0)

    run_queue(w.service)

    # The new round gets four attempts of its own: three more timeouts, then the send.
    sent = w.stored(failed.id)
    assert sent.status is DeliveryStatus.SENT
    assert errors(sent) == [*((n, f"timeout {n}") for n in range(1, 8)), (8, None)]
    assert sent.attempts[4].started_at == retried_at
    assert {n.idempotency_key for n in w.team.tried} == {f"{w.reminder.id}:2026-01-05T09:00:00+00:00"}
    assert len(w.team.tried) == 8
    # Between the two: the failure alert to the owner, through their email (logged: no SMTP server).
    assert w.metrics.outcomes == [("team", "failed", 1), ("email", "sent", 1), ("team", "sent", 1)]
    assert len(w.metrics.retries) == 6


def sent_delivery(w: World) -> Delivery:
    delivery = w.send_now()
    run_queue(w.service)
    return delivery


def sending_delivery(w: World) -> Delivery:
    delivery = w.send_now()
    claim(w.service)
    return delivery


def missed_delivery(w: World) -> Delivery:
    tick(w.service, w.clock.advance(hours=2))
    [missed] = ledger(w.service)
    return missed


def retrying_delivery(w: World) -> Delivery:
    w.team.failures = [TransientChannelError("timeout", retry_after=30)]
    return sent_delivery(w)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda w: w.send_now(), id="queued"),
        pytest.param(sending_delivery, id="sending"),
        pytest.param(retrying_delivery, id="retrying"),
        pytest.param(sent_delivery, id="sent"),
        pytest.param(missed_delivery, id="missed"),
    ],
)
def test_only_a_failed_delivery_can_be_retried(make: Callable[[World], Delivery]) -> None:
    w = world(retry_policy=RetryPolicy(attempts=4, base_seconds=1, max_seconds=60))
    delivery = make(w)
    before = w.stored(delivery.id)
    tried = len(w.team.tried)

    with pytest.raises(DeliveryNotRetryable) as refused:
        retry(w.service, delivery.id)

    assert isinstance(refused.value, Conflict)  # answered 409 over HTTP
    after = w.stored(delivery.id)
    assert (after.status, after.attempts, after.next_attempt_at, after.version) == (
        before.status,
        before.attempts,
        before.next_attempt_at,
        before.version,
    )
    assert len(w.team.tried) == tried


def test_a_retried_delivery_that_fails_for_good_again_can_be_retried_again() -> None:
    w = world()
    w.team.failures = [PermanentChannelError("410 gone"), PermanentChannelError("410 still gone")]
    delivery = sent_delivery(w)
    retry(w.service, delivery.id)
    run_queue(w.service)

    again = retry(w.service, delivery.id)
    run_queue(w.service)

    assert again.status is DeliveryStatus.PENDING
    sent = w.stored(delivery.id)
    assert (sent.status, errors(sent)) == (
        DeliveryStatus.SENT,
        [(1, "410 gone"), (2, "410 still gone"), (3, None)],
    )


def test_retry_of_an_unknown_delivery_is_not_found() -> None:
    w = world()

    with pytest.raises(NotFound):
        retry(w.service, "missing")
