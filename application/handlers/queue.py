"""The delivery queue's handlers: claim due work, record each attempt, and recover lost claims.

The deliveries table is the queue. A worker claims a batch in one commit, sends each claimed
delivery once, and records the attempts in another; a failure that may pass is rescheduled by the
retry policy, never slept on, so a slow or failing peer holds up only its own deliveries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.action_links import ActionLinks
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
from application.follow_ups import plan_follow_ups
from application.handlers.answers import ACKNOWLEDGED_FIRST
from application.metrics import Metrics
from application.notifications import build_notification
from application.retry_policy import RetryPolicy
from application.unit_of_work import UnitOfWork
from domain.delivery import Delivery, DeliveryKind, DeliveryStatus
from domain.errors import Conflict, NotFound

log = logging.getLogger(__name__)
# How often one outcome is read and recorded again when concurrent changes refuse its commit.
_ALONE_ATTEMPTS = 3
# Follow-ups whose parent the claim reads: a repeat stops once it is acknowledged, an alert names it.
_WITH_PARENT = frozenset({DeliveryKind.REPEAT, DeliveryKind.ALERT})

REMINDER_GONE = "the reminder was deleted before it could be sent"
OWNER_INACTIVE = "the reminder's owner was deactivated before it could be sent"
RECIPIENT_GONE = "the recipient was deleted or deactivated before it could be sent"


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed delivery, ready to send: what to send, and the claim its outcome must carry."""

    delivery_id: str
    token: str
    notification: Notification
    attempt_number: int
    lease_expires_at: datetime


def claim_deliveries(
    command: ClaimDeliveries,
    uow: UnitOfWork,
    *,
    clock: Clock,
    metrics: Metrics,
    links: ActionLinks | None = None,
) -> list[Job]:
    """Due deliveries are claimed in one commit. One whose reminder, owner or recipient is gone is
    cancelled, and so is a repeat whose delivery was acknowledged meanwhile. `links` adds the
    signed acknowledge and snooze links to what is sent."""
    lease = timedelta(seconds=command.lease_seconds)
    with uow:
        now = clock.now()
        due = uow.deliveries.claimable(now, limit=command.limit)
        if not due:
            return []
        reminders = uow.reminders.get_many({delivery.reminder_id for delivery in due})
        people = uow.users.get_many(
            {reminder.owner_id for reminder in reminders.values()}
            | {delivery.recipient_id for delivery in due if delivery.recipient_id}
        )
        teams = uow.teams.get_many({person.team_id for person in people.values()})
        parents = uow.deliveries.get_many(
            {d.parent_delivery_id for d in due if d.kind in _WITH_PARENT and d.parent_delivery_id}
        )
        jobs = []
        waits = [(now - (delivery.next_attempt_at or now)).total_seconds() for delivery in due]
        for delivery in due:
            token = delivery.claim(command.worker, now, lease=lease)
            reminder = reminders.get(delivery.reminder_id)
            owner = people.get(reminder.owner_id) if reminder is not None else None
            if reminder is None or owner is None:
                delivery.cancel(REMINDER_GONE, token=token, now=now)
                continue
            if not owner.active:
                delivery.cancel(OWNER_INACTIVE, token=token, now=now)
                continue
            recipient = people.get(delivery.recipient_id) if delivery.recipient_id else None
            if delivery.recipient_id and (recipient is None or not recipient.active):
                delivery.cancel(RECIPIENT_GONE, token=token, now=now)
                continue
            parent = parents.get(delivery.parent_delivery_id or "")
            if delivery.kind is DeliveryKind.REPEAT and parent is not None and parent.acknowledged_at:
                delivery.cancel(ACKNOWLEDGED_FIRST, token=token, now=now)
                continue
            team = teams.get(owner.team_id)
            secrets = team.signing_secrets(now) if team is not None else ()
            actions = (
                links.urls(team, delivery.id, now)
                if links is not None and team is not None and delivery.kind is not DeliveryKind.ALERT
                else None
            )
            try:
                notification = build_notification(
                    delivery,
                    reminder,
                    owner,
                    now=now,
                    signing_secrets=secrets,
                    recipient=recipient,
                    actions=actions,
                    failed=parent if delivery.kind is DeliveryKind.ALERT else None,
                )
            except Exception as error:
                # One reminder that cannot be rendered must not hold up the rest of the queue.
                log.exception("a delivery could not be rendered", extra={"delivery_id": delivery.id})
                delivery.cancel(
                    f"the reminder could not be rendered ({type(error).__name__})", token=token, now=now
                )
                continue
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
        now = clock.now()
        recorded, late = _record(uow, command.outcomes, now, policy)
        plan_follow_ups(uow, recorded, now)
        try:
            uow.commit()
        except Conflict:
            log.info("a batch of outcomes was refused; recording them one by one")
        else:
            _refused(late)
            return recorded
    recorded = []
    for outcome in command.outcomes:
        recorded.extend(_record_alone(uow, outcome, clock, policy))
    return recorded


def _record_alone(
    uow: UnitOfWork, outcome: AttemptOutcome, clock: Clock, policy: RetryPolicy
) -> list[Delivery]:
    """One outcome in a commit of its own, read afresh each time a concurrent change refuses it (its
    reminder, changed by an edit or by another failure's alert): a claim still held is recorded."""
    for _ in range(_ALONE_ATTEMPTS):
        with uow:
            now = clock.now()
            one, late = _record(uow, [outcome], now, policy)
            plan_follow_ups(uow, one, now)
            try:
                uow.commit()
            except NotFound:
                late = [outcome]
            except Conflict:
                continue
            _refused(late)
            return one
    _refused([outcome])
    return []


def _record(
    uow: UnitOfWork, outcomes: list[AttemptOutcome], now: datetime, policy: RetryPolicy
) -> tuple[list[Delivery], list[AttemptOutcome]]:
    """The deliveries changed by the outcomes whose claim still holds, and the outcomes that came late."""
    deliveries = uow.deliveries.get_many({outcome.delivery_id for outcome in outcomes})
    recorded, late = [], []
    for outcome in outcomes:
        delivery = deliveries.get(outcome.delivery_id)
        if delivery is None or not delivery.holds(outcome.token, now):
            late.append(outcome)
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
    return recorded, late


def _refused(late: list[AttemptOutcome]) -> None:
    for outcome in late:
        log.warning(
            "late outcome refused: the claim is no longer held (its lease ended or another worker took it)",
            extra={
                "delivery_id": outcome.delivery_id,
                "attempt": outcome.attempt.number,
                "error": outcome.attempt.error,
            },
        )


def release_claims(command: ReleaseClaims, uow: UnitOfWork, *, clock: Clock, metrics: Metrics) -> int:
    """Claims given back unsent are due again after the delay; one no longer held is left alone."""
    tokens = {claim.delivery_id: claim.token for claim in command.claims}
    delay = timedelta(seconds=command.delay_seconds)

    def release(delivery: Delivery, now: datetime) -> bool:
        if not delivery.holds(tokens[delivery.id], now):
            return False
        delivery.release(tokens[delivery.id], now=now, at=now + delay)
        return True

    with uow:
        released = _change_all(uow, uow.deliveries.get_many(tokens).values(), release, clock.now())
    if released is None:
        log.info("a delivery changed while claims were released; releasing them one by one")
        released = _change_one_by_one(uow, list(tokens), release, clock)
    metrics.claims_released(released, reason=command.reason)
    return released


def expire_leases(command: ExpireLeases, uow: UnitOfWork, *, clock: Clock) -> int:
    """A claim that outlived its lease belongs to a worker that died or hung: the delivery is queued again."""

    def expire(delivery: Delivery, now: datetime) -> bool:
        if delivery.status is not DeliveryStatus.SENDING or not delivery.lease_ended(now):
            return False  # its holder recorded an outcome meanwhile
        delivery.expire(now)
        return True

    with uow:
        now = clock.now()
        expired = uow.deliveries.expired_claims(now, limit=command.limit)
        count = _change_all(uow, expired, expire, now)
    if count is None:
        log.info("a claim changed while leases were expired; expiring them one by one")
        count = _change_one_by_one(uow, [delivery.id for delivery in expired], expire, clock)
    return count


Change = Callable[[Delivery, datetime], bool]


def _change_all(uow: UnitOfWork, deliveries: Iterable[Delivery], change: Change, now: datetime) -> int | None:
    """Apply `change` to each and commit them together: how many changed, or None when the commit was
    refused because one of them changed meanwhile."""
    changed = sum(change(delivery, now) for delivery in deliveries)
    try:
        uow.commit()
    except Conflict:
        return None
    return changed


def _change_one_by_one(uow: UnitOfWork, delivery_ids: list[str], change: Change, clock: Clock) -> int:
    changed = 0
    for delivery_id in delivery_ids:
        with uow:
            delivery = uow.deliveries.get(delivery_id)
            if delivery is None or not change(delivery, clock.now()):
                continue
            try:
                uow.commit()
            except (Conflict, NotFound):
                continue
            changed += 1
    return changed


def prune_deliveries(command: PruneDeliveries, uow: UnitOfWork) -> int:
    """Finished deliveries older than the retention period are deleted, a small batch at a time;
    so are the records of used action links once the links have expired, and finished web
    sessions and expired sign-in links, when asked. Returns how many deliveries went."""
    with uow:
        old = uow.deliveries.finished_before(command.before, limit=command.limit)
        for delivery in old:
            uow.deliveries.remove(delivery)
        if command.links_used_before is not None:
            for use in uow.link_uses.used_before(command.links_used_before, limit=command.limit):
                uow.link_uses.remove(use)
        if command.sign_ins_before is not None:
            for session in uow.web_sessions.finished_before(command.sign_ins_before, limit=command.limit):
                uow.web_sessions.remove(session)
            for link in uow.sign_in_links.expired_before(command.sign_ins_before, limit=command.limit):
                uow.sign_in_links.remove(link)
        try:
            uow.commit()
        except (Conflict, NotFound):
            log.info("deliveries changed while being pruned; trying again next time")
            return 0
    return len(old)
