"""The delivery queue's handlers: claim due work, record each attempt, and recover lost claims.

The deliveries table is the queue. A worker claims a batch in one commit, sends each claimed
delivery once, and records the attempts in another; a failure that may pass is rescheduled by the
retry policy, never slept on, so a slow or failing peer holds up only its own deliveries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.channels import Notification
from application.clock import Clock
from application.commands import (
    AttemptOutcome,
    ClaimDeliveries,
    ExpireLeases,
    PruneDeliveries,
    RecordOutcomes,
    ReleaseClaims,
)
from application.metrics import Metrics
from application.notifications import build_notification
from application.retry_policy import RetryPolicy
from application.unit_of_work import UnitOfWork
from domain.delivery import Delivery
from domain.errors import Conflict, NotFound

log = logging.getLogger(__name__)

REMINDER_GONE = "the reminder was deleted before it could be sent"


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed delivery, ready to send: what to send, and the claim its outcome must carry."""

    delivery_id: str
    token: str
    notification: Notification
    attempt_number: int
    lease_expires_at: datetime


def claim_deliveries(
    command: ClaimDeliveries, uow: UnitOfWork, *, clock: Clock, metrics: Metrics
) -> list[Job]:
    """Due deliveries are claimed in one commit; one whose reminder or owner is gone is cancelled."""
    lease = timedelta(seconds=command.lease_seconds)
    with uow:
        now = clock.now()
        due = uow.deliveries.claimable(now, limit=command.limit)
        if not due:
            return []
        reminders = uow.reminders.get_many({delivery.reminder_id for delivery in due})
        owners = uow.users.get_many({reminder.owner_id for reminder in reminders.values()})
        jobs = []
        waits = [(now - (delivery.next_attempt_at or now)).total_seconds() for delivery in due]
        for delivery in due:
            token = delivery.claim(command.worker, now, lease=lease)
            reminder = reminders.get(delivery.reminder_id)
            owner = owners.get(reminder.owner_id) if reminder is not None else None
            if reminder is None or owner is None:
                delivery.cancel(REMINDER_GONE, token=token, now=now)
                continue
            notification = build_notification(delivery, reminder, owner, now=now)
            jobs.append(Job(delivery.id, token, notification, len(delivery.attempts) + 1, now + lease))
        try:
            uow.commit()
        except Conflict:
            # Another worker changed one of them first (it can only happen without row locks, on a
            # store several workers share); they are still in the queue for the next claim.
            log.info("a claim was refused; claiming again", extra={"count": len(due)})
            return []
    metrics.deliveries_claimed(waits)
    return jobs


def record_outcomes(
    command: RecordOutcomes, uow: UnitOfWork, *, clock: Clock, policy: RetryPolicy
) -> list[Delivery]:
    """Each attempt is recorded if its claim still holds: sent, retried later, or failed for good.

    A late outcome (the lease ended, or another worker has the delivery now) is refused and logged;
    the delivery's current holder decides it.
    """
    with uow:
        recorded = _record(uow, command.outcomes, clock.now(), policy)
        try:
            uow.commit()
            return recorded
        except Conflict:
            log.info("a batch of outcomes was refused; recording them one by one")
    recorded = []
    for outcome in command.outcomes:
        with uow:
            one = _record(uow, [outcome], clock.now(), policy)
            try:
                uow.commit()
            except (Conflict, NotFound):
                _refused(outcome, "the delivery changed while its outcome was recorded")
                continue
            recorded.extend(one)
    return recorded


def _record(
    uow: UnitOfWork, outcomes: list[AttemptOutcome], now: datetime, policy: RetryPolicy
) -> list[Delivery]:
    deliveries = uow.deliveries.get_many({outcome.delivery_id for outcome in outcomes})
    recorded = []
    for outcome in outcomes:
        delivery = deliveries.get(outcome.delivery_id)
        if delivery is None or not delivery.holds(outcome.token, now):
            _refused(outcome, "the claim is no longer held (its lease ended or another worker took it)")
            continue
        attempt = outcome.attempt
        if attempt.error is None:
            delivery.succeed(outcome.token, attempt, now=now)
        elif outcome.transient and policy.allows_another(delivery.round_attempts + 1):
            at = policy.next_attempt_at(now, delivery.round_attempts + 1, retry_after=outcome.retry_after)
            delivery.retry_later(outcome.token, attempt, now=now, at=at)
        else:
            delivery.fail(outcome.token, attempt, now=now)
        recorded.append(delivery)
    return recorded


def _refused(outcome: AttemptOutcome, why: str) -> None:
    log.warning(
        "late outcome refused: %s",
        why,
        extra={
            "delivery_id": outcome.delivery_id,
            "attempt": outcome.attempt.number,
            "error": outcome.attempt.error,
        },
    )


def release_claims(command: ReleaseClaims, uow: UnitOfWork, *, clock: Clock, metrics: Metrics) -> int:
    """Claims given back unsent are due again after the delay; one no longer held is left alone."""
    with uow:
        now = clock.now()
        at = now + timedelta(seconds=command.delay_seconds)
        deliveries = uow.deliveries.get_many({claim.delivery_id for claim in command.claims})
        released = 0
        for claim in command.claims:
            delivery = deliveries.get(claim.delivery_id)
            if delivery is not None and delivery.holds(claim.token, now):
                delivery.release(claim.token, now=now, at=at)
                released += 1
        uow.commit()
    metrics.claims_released(released, reason=command.reason)
    return released


def expire_leases(command: ExpireLeases, uow: UnitOfWork, *, clock: Clock) -> int:
    """A claim that outlived its lease belongs to a worker that died or hung: the delivery is queued again."""
    with uow:
        now = clock.now()
        expired = uow.deliveries.expired_claims(now, limit=command.limit)
        for delivery in expired:
            delivery.expire(now)
        uow.commit()
    return len(expired)


def prune_deliveries(command: PruneDeliveries, uow: UnitOfWork) -> int:
    """Finished deliveries older than the retention period are deleted, a small batch at a time."""
    with uow:
        old = uow.deliveries.finished_before(command.before, limit=command.limit)
        for delivery in old:
            uow.deliveries.remove(delivery)
        try:
            uow.commit()
        except (Conflict, NotFound):
            log.info("deliveries changed while being pruned; trying again next time")
            return 0
    return len(old)
