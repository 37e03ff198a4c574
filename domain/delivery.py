"""The Delivery aggregate: one entry of the occurrence ledger and the record of its attempts.

A pending delivery is the outbox: nothing is sent that was not first recorded here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.aggregate import Aggregate
from domain.errors import Conflict, DeliveryNotRetryable
from domain.events import DeliveryFailed, DeliverySucceeded
from domain.ids import new_id

# Longer than any send can take: 4 attempts with their timeouts and the longest backoffs.
CLAIM_LEASE = timedelta(minutes=15)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class Attempt:
    number: int
    started_at: datetime
    duration_ms: float
    error: str | None = None


@dataclass(eq=False, kw_only=True)
class Delivery(Aggregate):
    id: str
    reminder_id: str
    channel: str
    status: DeliveryStatus
    # None for a delivery sent on demand rather than for a scheduled slot.
    scheduled_for: datetime | None
    created_at: datetime
    sent_at: datetime | None = None
    attempts: tuple[Attempt, ...] = ()
    error: str | None = None
    # Set while a sender owns the delivery, so two workers never send the same one.
    claimed_at: datetime | None = None

    @classmethod
    def open(
        cls,
        *,
        reminder_id: str,
        channel: str,
        scheduled_for: datetime | None,
        now: datetime,
        missed: bool = False,
    ) -> Delivery:
        return cls(
            id=new_id(),
            reminder_id=reminder_id,
            channel=channel,
            status=DeliveryStatus.MISSED if missed else DeliveryStatus.PENDING,
            scheduled_for=scheduled_for,
            created_at=now,
            error="slot was older than the grace period when it fired" if missed else None,
        )

    @property
    def lateness_seconds(self) -> float | None:
        if self.sent_at is None or self.scheduled_for is None:
            return None
        return (self.sent_at - self.scheduled_for).total_seconds()

    def claim(self, now: datetime) -> None:
        """Take the delivery for sending; a second claimant is refused while the claim is fresh.

        A claim older than CLAIM_LEASE belongs to a worker that died or lost its outcome, so the
        delivery is taken over rather than left pending forever.
        """
        fresh = self.claimed_at is not None and now - self.claimed_at < CLAIM_LEASE
        if self.status is not DeliveryStatus.PENDING or fresh:
            raise Conflict(f"delivery {self.id!r} is not waiting to be sent")
        self.claimed_at = now

    def record_outcome(self, attempts: list[Attempt], *, error: str | None, now: datetime) -> None:
        """Close the delivery after its attempts: sent when the last one succeeded, else failed."""
        self.attempts = (*self.attempts, *attempts)
        self.claimed_at = None
        common = {
            "delivery_id": self.id,
            "reminder_id": self.reminder_id,
            "channel": self.channel,
            "attempts": len(self.attempts),
            "attempts_made": len(attempts),
            "scheduled_for": self.scheduled_for,
        }
        if error is None:
            self.status, self.sent_at, self.error = DeliveryStatus.SENT, now, None
            self._record(DeliverySucceeded(**common, sent_at=now))
        else:
            self.status, self.error = DeliveryStatus.FAILED, error
            self._record(DeliveryFailed(**common, reason=error))

    def reopen(self) -> None:
        """A failed delivery goes back to pending so it can be sent again; its attempts stay on record."""
        if self.status is not DeliveryStatus.FAILED:
            raise DeliveryNotRetryable(self.id, self.status.value)
        self.status, self.error, self.claimed_at = DeliveryStatus.PENDING, None, None
