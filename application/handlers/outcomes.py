"""Event subscribers that make every delivery outcome visible: one log line and the metrics."""

from __future__ import annotations

import logging

from application.metrics import Metrics
from application.unit_of_work import UnitOfWork
from domain.events import DeliveryFailed, DeliverySucceeded, OccurrenceMissed

log = logging.getLogger("reminders.delivery")


def record_sent(event: DeliverySucceeded, uow: UnitOfWork, *, metrics: Metrics) -> None:
    """Every sent delivery is logged and counted, with its lateness."""
    lateness = (event.sent_at - event.scheduled_for).total_seconds() if event.scheduled_for else None
    metrics.delivery_finished(
        channel=event.channel, outcome="sent", attempts=event.attempts, lateness_seconds=lateness
    )
    log.info(
        "delivery sent",
        extra={
            "outcome": "sent",
            "reminder_id": event.reminder_id,
            "delivery_id": event.delivery_id,
            "channel": event.channel,
            "scheduled_for": event.scheduled_for.isoformat() if event.scheduled_for else None,
            "attempts": event.attempts,
            "lateness_seconds": lateness,
            "error": None,
        },
    )


def record_failed(event: DeliveryFailed, uow: UnitOfWork, *, metrics: Metrics) -> None:
    """Every failed delivery is logged as a warning and counted."""
    metrics.delivery_finished(
        channel=event.channel, outcome="failed", attempts=event.attempts, lateness_seconds=None
    )
    log.warning(
        "delivery failed",
        extra={
            "outcome": "failed",
            "reminder_id": event.reminder_id,
            "delivery_id": event.delivery_id,
            "channel": event.channel,
            "scheduled_for": event.scheduled_for.isoformat() if event.scheduled_for else None,
            "attempts": event.attempts,
            "error": event.reason,
        },
    )


def record_missed(event: OccurrenceMissed, uow: UnitOfWork, *, metrics: Metrics) -> None:
    """A missed slot is never silent: it is logged and counted."""
    metrics.slot_missed(channel=event.channel)
    log.warning(
        "slot missed",
        extra={
            "outcome": "missed",
            "reminder_id": event.reminder_id,
            "delivery_id": event.delivery_id,
            "channel": event.channel,
            "scheduled_for": event.scheduled_for.isoformat(),
            "attempts": 0,
            "error": "slot was older than the grace period when it fired",
        },
    )
