"""Claims and leases: one worker holds a delivery at a time, and only its current holder decides it.

A late outcome (lease ended, or the delivery re-claimed) is refused; an expired claim goes back to
the queue; a released claim is due again after its delay.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pytest

from application import views
from application.channels import PermanentChannelError
from application.commands import ExpireLeases, HeldClaim, ReleaseClaims
from application.handlers import queue as queue_handlers
from application.notifications import build_notification
from application.repositories import QueueStats
from domain.delivery import DeliveryStatus
from domain.events import ClaimExpired
from tests.fakes import attempt_all, claim, run_queue
from tests.unit.world import START, InterleavingStore, World, create_reminder, send_now, world

LEASE = 60.0


def expire_leases(w: World, limit: int = 500) -> int:
    expired: int = w.service.bus.handle(ExpireLeases(limit=limit))
    return expired


def release(w: World, claims: Iterable[HeldClaim], *, delay: float = 0.0, reason: str = "shutdown") -> int:
    released: int = w.service.bus.handle(
        ReleaseClaims(claims=list(claims), delay_seconds=delay, reason=reason)
    )
    return released


def queued_at(w: World, *offsets: float) -> list[str]:
    """Queue one delivery at each offset (seconds from now), in that order; returns their ids."""
    ids = []
    for offset in offsets:
        w.clock.current = START + timedelta(seconds=offset)
        ids.append(w.send_now().id)
    return ids


def test_a_claim_takes_due_deliveries_earliest_first_up_to_its_limit() -> None:
    w = world()
    first, second, third = queued_at(w, 0, 10, 20)
    w.clock.current = START + timedelta(seconds=30)

    jobs = claim(w.service, worker="w-1", limit=2, lease_seconds=LEASE)

    assert [job.delivery_id for job in jobs] == [first, second]
    until = w.clock.current + timedelta(seconds=LEASE)
    assert {(job.attempt_number, job.lease_expires_at) for job in jobs} == {(1, until)}
    assert [job.notification.delivery_id for job in jobs] == [first, second]
    held = w.stored(first)
    assert (held.status, held.claimed_by, held.claim_token) == (DeliveryStatus.SENDING, "w-1", jobs[0].token)
    assert w.stored(third).status is DeliveryStatus.PENDING
    # Claim latency: how long each waited from being due to being claimed.
    assert w.metrics.claim_waits == [[30.0, 20.0]]
    assert [job.delivery_id for job in claim(w.service, worker="w-2")] == [third]
    assert claim(w.service, worker="w-3") == []


def test_a_delivery_held_by_one_worker_is_not_claimed_by_another() -> None:
    w = world()
    w.send_now()
    [job] = claim(w.service, worker="w-1")

    assert claim(w.service, worker="w-2") == []
    attempt_all(w.service, [job])
    assert run_queue(w.service, worker="w-2") == []
    assert len(w.team.tried) == 1


def test_the_queue_figures_count_waiting_due_and_claimed_deliveries() -> None:
    w = world()
    queued_at(w, 0, 10, 20, 40)
    w.clock.current = START + timedelta(seconds=30)
    claim(w.service, limit=1)

    stats = views.queue_stats(w.service.uow_factory, w.clock.current)

    assert stats == QueueStats(pending=3, due=2, in_flight=1, oldest_due_at=START + timedelta(seconds=10))


def test_an_outcome_after_the_lease_ended_is_refused_and_the_delivery_sent_again_under_its_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = world()
    delivery = w.send_now()
    jobs = claim(w.service, lease_seconds=LEASE)
    w.clock.advance(seconds=LEASE)  # the worker hung for the whole lease
    caplog.set_level(logging.WARNING, logger="application.handlers.queue")

    assert attempt_all(w.service, jobs) == []

    held = w.stored(delivery.id)
    assert (held.status, held.attempts, held.claim_token) == (DeliveryStatus.SENDING, (), jobs[0].token)
    [refused] = [r for r in caplog.records if r.getMessage().startswith("late outcome refused")]
    assert getattr(refused, "delivery_id", None) == delivery.id
    assert w.metrics.outcomes == []

    assert expire_leases(w) == 1
    run_queue(w.service, worker="w-2")

    sent = w.stored(delivery.id)
    assert (sent.status, [a.error for a in sent.attempts]) == (DeliveryStatus.SENT, [None])
    # At least once: the peer saw both sends, under one idempotency key.
    assert [n.idempotency_key for n in w.team.sent] == [f"{w.reminder.id}:{delivery.id}"] * 2
    assert w.metrics.outcomes == [("team", "sent", 1)]


@pytest.mark.parametrize("late_first", [True, False], ids=["late-outcome-first", "late-outcome-last"])
def test_once_another_worker_has_re_claimed_the_delivery_its_outcome_wins(late_first: bool) -> None:
    w = world()
    delivery = w.send_now()
    lost = claim(w.service, worker="w-1", lease_seconds=LEASE)
    w.clock.advance(seconds=LEASE + 1)
    expire_leases(w)
    taken = claim(w.service, worker="w-2", lease_seconds=LEASE)
    # w-1's send gets through; w-2's is refused by the peer for good.
    order = [(lost, None), (taken, "410 gone")] if late_first else [(taken, "410 gone"), (lost, None)]

    for jobs, error in order:
        w.team.failures = [PermanentChannelError(error)] if error else []
        attempt_all(w.service, jobs)

    decided = w.stored(delivery.id)
    assert (decided.status, decided.error, decided.sent_at) == (DeliveryStatus.FAILED, "410 gone", None)
    assert [a.error for a in decided.attempts] == ["410 gone"]
    assert w.metrics.outcomes == [("team", "failed", 1)]


def test_an_outcome_whose_claim_is_released_while_it_is_recorded_is_refused_and_the_rest_recorded() -> None:
    store = InterleavingStore()
    w = world(store=store)
    released, kept = queued_at(w, 0, 1)
    jobs = claim(w.service)
    [released_job] = [job for job in jobs if job.delivery_id == released]
    # The worker is stopping: it gives the claim back while its recorder writes the batch.
    store.before_next_commit.append(lambda: release(w, [HeldClaim(released, released_job.token)]))

    recorded = attempt_all(w.service, jobs)

    assert [d.id for d in recorded] == [kept]
    assert w.stored(kept).status is DeliveryStatus.SENT
    back = w.stored(released)
    assert (back.status, back.attempts) == (DeliveryStatus.PENDING, ())


# -- expiry and release ---------------------------------------------------------------------------


def test_expired_claims_go_back_to_the_queue_in_batches_and_are_sent_by_another_worker() -> None:
    w = world()
    ids = queued_at(w, 0, 0, 0)
    claim(w.service, worker="w-1", lease_seconds=LEASE)
    w.clock.advance(seconds=LEASE - 1)
    assert expire_leases(w) == 0
    w.clock.advance(seconds=1)
    w.events.clear()

    counts = [expire_leases(w, limit=2), expire_leases(w, limit=2), expire_leases(w, limit=2)]

    assert counts == [2, 1, 0]
    back = [w.stored(delivery_id) for delivery_id in ids]
    assert {(d.status, d.next_attempt_at, d.claimed_by) for d in back} == {
        (DeliveryStatus.PENDING, w.clock.current, None)
    }
    assert sorted(e.delivery_id for e in w.events if isinstance(e, ClaimExpired)) == sorted(ids)
    assert {e.worker for e in w.events if isinstance(e, ClaimExpired)} == {"w-1"}
    assert w.metrics.lease_expiries == ["team"] * 3
    run_queue(w.service, worker="w-2")
    assert {w.stored(delivery_id).status for delivery_id in ids} == {DeliveryStatus.SENT}


def test_released_claims_go_back_unsent_and_are_due_after_the_delay() -> None:
    w = world()
    ids = queued_at(w, 0, 0)
    jobs = claim(w.service)
    released_at = w.clock.current

    count = release(w, [HeldClaim(job.delivery_id, job.token) for job in jobs], delay=2.0, reason="busy_peer")

    assert count == 2
    back = [w.stored(delivery_id) for delivery_id in ids]
    assert {(d.status, d.next_attempt_at, d.attempts) for d in back} == {
        (DeliveryStatus.PENDING, released_at + timedelta(seconds=2), ())
    }
    assert w.metrics.released == [(2, "busy_peer")]
    assert claim(w.service) == []
    w.clock.advance(seconds=2)
    run_queue(w.service)
    assert {w.stored(delivery_id).status for delivery_id in ids} == {DeliveryStatus.SENT}
    assert len(w.team.tried) == 2


def test_a_claim_no_longer_held_is_not_released() -> None:
    w = world()
    delivery = w.send_now()
    [lost] = claim(w.service, worker="w-1", lease_seconds=LEASE)
    w.clock.advance(seconds=LEASE)
    expire_leases(w)
    [current] = claim(w.service, worker="w-2", lease_seconds=LEASE)

    count = release(w, [HeldClaim(delivery.id, lost.token)])

    assert count == 0
    held = w.stored(delivery.id)
    assert (held.status, held.claimed_by, held.claim_token) == (DeliveryStatus.SENDING, "w-2", current.token)
    assert w.metrics.released == [(0, "shutdown")]


def test_a_delivery_that_cannot_be_rendered_is_cancelled_and_the_rest_of_the_batch_is_claimed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world()
    other = create_reminder(w.service, w.owner, target="#other")
    broken = w.send_now()
    fine = send_now(w.service, other)
    real = build_notification

    def render(delivery: Any, reminder: Any, owner: Any, **options: Any) -> Any:
        if reminder.id == w.reminder.id:
            raise KeyError("a placeholder this release cannot fill")
        return real(delivery, reminder, owner, **options)

    monkeypatch.setattr(queue_handlers, "build_notification", render)

    jobs = claim(w.service)

    assert [job.delivery_id for job in jobs] == [fine.id]
    cancelled = w.stored(broken.id)
    assert cancelled.status is DeliveryStatus.CANCELLED
    assert cancelled.error == "the reminder could not be rendered (KeyError)"
