"""Event subscribers that make every delivery outcome visible: one log line and the metrics."""

from __future__ import annotations

import logging
from datetime import datetime

from application.metrics import Metrics
from application.unit_of_work import UnitOfWork
from domain.delivery import lateness_seconds
from domain.events import (
    ClaimExpired,
    DeliveryCancelled,
    DeliveryFailed,
    DeliveryRetryScheduled,
    DeliverySucceeded,
    OccurrenceMissed,
)

log = logging.getLogger("reminders.delivery")

_MISSED_REASON = "slot was older than the grace period when it fired"


def _log_outcome(
    level: int,
    outcome: str,
    event: DeliverySucceeded | DeliveryFailed | DeliveryRetryScheduled | DeliveryCancelled | OccurrenceMissed,
    *,
    scheduled_for: datetime | None,
    attempts: int,
    error: str | None,
    **more: object,
) -> None:
    if not log.isEnabledFor(level):
        return
    log.log(
        level,
        "delivery %s",
        outcome,
        extra={
            "outcome": outcome,
            "reminder_id": event.reminder_id,
            "delivery_id": event.delivery_id,
            "channel": event.channel,
            "scheduled_for": scheduled_for.isoformat() if scheduled_for else None,
            "attempts": attempts,
            "error": error,
            **more,
        },
    )


def record_sent(event: DeliverySucceeded, uow: UnitOfWork, *, metrics: Metrics) -> None:
    """Every sent delivery is logged and counted, with its lateness: from the slot to its first attempt
    (from the end of its recipient's quiet hours, for a delivery that waited for them)."""
    lateness = lateness_seconds(event.deferred_until or event.scheduled_for, event.first_attempt_at)
    metrics.delivery_finished(channel=event.channel, outcome="sent", attempts=1, lateness_seconds=lateness)
    _log_outcome(
        logging.INFO,
        "sent",
        event,
        scheduled_for=event.scheduled_for,
        attempts=event.attempts,
        error=None,
        lateness_seconds=lateness,
        # Only a send through a stand-in says how it went ("log": the email was logged, not mailed).
        **({"via": event.via} if event.via else {}),
    )


def record_failed(event: DeliveryFailed, uow: UnitOfWork, *, metrics: Metrics) -> None:
    """Every failed delivery is logged as a warning and counted."""
    metrics.delivery_finished(channel=event.channel, outcome="failed", attempts=1, lateness_seconds=None)
    _log_outcome(
        logging.WARNING,
        "failed",
        event,
        scheduled_for=event.scheduled_for,
        attempts=event.attempts,
        error=event.reason,
    )


def record_retry(event: DeliveryRetryScheduled, uow: UnitOfWork, *, metrics: Metrics) -> None:
    """A failed attempt that will be tried again is logged with when, and counted."""
    metrics.retry_scheduled(channel=event.channel)
    _log_outcome(
        logging.WARNING,
        "retrying",
        event,
        scheduled_for=event.scheduled_for,
        attempts=event.attempts,
        error=event.reason,
        next_attempt_at=event.next_attempt_at.isoformat(),
    )


def record_cancelled(event: DeliveryCancelled, uow: UnitOfWork, *, metrics: Metrics) -> None:
    """A delivery dropped unsent is logged and counted."""
    metrics.delivery_finished(channel=event.channel, outcome="cancelled", attempts=0, lateness_seconds=None)
    _log_outcome(
        logging.WARNING, "cancelled", event, scheduled_for=event.scheduled_for, attempts=0, error=event.reason
    )


def record_expired_claim(event: ClaimExpired, uow: UnitOfWork, *, metrics: Metrics) -> None:
    """A claim that outlived its lease means a worker died or hung: say which, and count it."""
    metrics.lease_expired(channel=event.channel)
    log.warning(
        "delivery claim expired; queued again",
        extra={"delivery_id": event.delivery_id, "reminder_id": event.reminder_id, "worker": event.worker},
    )


def record_missed(event: OccurrenceMissed, uow: UnitOfWork, *, metrics: Metrics) -> None:
    """A missed slot is never silent: it is logged and counted."""
    metrics.slot_missed(channel=event.channel)
    _log_outcome(
        logging.WARNING, "missed", event, scheduled_for=event.scheduled_for, attempts=0, error=_MISSED_REASON
    )
