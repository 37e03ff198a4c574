"""The Delivery aggregate: one entry of the occurrence ledger, a job of the delivery queue, and the record
of its attempts.

A pending delivery is the outbox: nothing is sent that was not first recorded here. Its life:

    pending --claim--> sending --succeed--> sent
       ^                  |----fail-------> failed --reopen--> pending
       |                  |----retry_later / release / expire--> pending (with a next attempt time)
       +--- cancel (the reminder is gone) --> cancelled;  a slot too old to send is opened as missed.

A delivery whose slot falls in its recipient's quiet hours is opened `deferred`: it waits like a
pending one, until the quiet hours end, and is claimed and sent the same way. A waiting follow-up
(a snooze or a repeat) is withdrawn, `cancelled`, when its delivery is acknowledged first.

Kinds: `scheduled` (a slot of the reminder's schedule: the ledger), `manual` (send-now), and three
follow-ups that name the delivery they follow in `parent_delivery_id`: `snooze` (asked for by the
recipient), `repeat` (repeat-until-acknowledged) and `alert` (tells the owner a delivery failed).

A claim holds a token and a lease. Only the holder of the current token may record an outcome, and
only before its lease ends: a worker that died, hung or lost its lease cannot overwrite the work of
the one that took the delivery over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.aggregate import Aggregate
from domain.errors import ClaimLost, Conflict, DeliveryNotRetryable
from domain.events import (
    ClaimExpired,
    DeliveryAcknowledged,
    DeliveryCancelled,
    DeliveryFailed,
    DeliveryQueued,
    DeliveryRetryScheduled,
    DeliverySucceeded,
)
from domain.ids import new_id


def lateness_seconds(scheduled_for: datetime | None, first_attempt_at: datetime) -> float | None:
    """How late a slot's delivery started: from the slot to its first attempt; None without a slot."""
    return None if scheduled_for is None else (first_attempt_at - scheduled_for).total_seconds()


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DEFERRED = "deferred"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    MISSED = "missed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self not in (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED, DeliveryStatus.SENDING)

    @property
    def waiting(self) -> bool:
        """In the queue, not yet claimed: due at its next_attempt_at."""
        return self in (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED)


# The statuses the queue claims from, for the stores' queries.
WAITING = (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED)
# A delivery that reached its recipient, or failed to, may be snoozed: sent again a while later.
SNOOZABLE = frozenset({DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.MISSED})


class DeliveryKind(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    SNOOZE = "snooze"
    REPEAT = "repeat"
    ALERT = "alert"


QUIET_HOURS = "quiet_hours"


@dataclass(frozen=True, slots=True)
class Attempt:
    number: int
    started_at: datetime
    duration_ms: float
    error: str | None = None
    # How a successful attempt left when not through the channel's own service: "log" for an email
    # written to the log because no SMTP server is configured; None for a normal send.
    via: str | None = None


@dataclass(eq=False, kw_only=True)
class Delivery(Aggregate):
    id: str
    reminder_id: str
    # The reminder's team and owner when the delivery was opened: its history outlives the reminder,
    # and lists are scoped by these.
    team_id: str
    owner_id: str | None
    channel: str
    status: DeliveryStatus
    # The slot, for a scheduled delivery; when it is due, for a follow-up; None for a send-now.
    scheduled_for: datetime | None
    created_at: datetime
    kind: DeliveryKind = DeliveryKind.SCHEDULED
    # The delivery a follow-up follows (a snooze's snoozed delivery; a repeat's or an alert's first).
    parent_delivery_id: str | None = None
    # The person this delivery is for, when it is one of several (a team reminder through email or
    # the log, or a slot in each recipient's own time); None when it is the owner's alone or for a target.
    recipient_id: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    # Quiet hours: until when a deferred delivery waits, and why.
    deferred_until: datetime | None = None
    reason: str | None = None
    sent_at: datetime | None = None
    # When the first attempt began; set once and kept through retries. Lateness is measured from it,
    # so a receiver slow to answer does not make a delivery look late.
    first_attempt_at: datetime | None = None
    # How the sent delivery left, when not through its channel's own service (see Attempt.via).
    via: str | None = None
    attempts: tuple[Attempt, ...] = ()
    error: str | None = None
    # When a pending delivery may next be claimed; None once it is no longer waiting.
    next_attempt_at: datetime | None = None
    # The claim: who holds it, since and until when, and the token its outcome must carry.
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    lease_expires_at: datetime | None = None
    claim_token: str | None = None
    # How many attempts were on record when the current round began (a retry starts a new round),
    # so the retry policy counts this round's attempts only.
    round_start: int = 0

    @classmethod
    def open(
        cls,
        *,
        reminder_id: str,
        team_id: str,
        owner_id: str | None,
        channel: str,
        scheduled_for: datetime | None,
        now: datetime,
        missed: bool = False,
        kind: DeliveryKind | None = None,
        parent_delivery_id: str | None = None,
        recipient_id: str | None = None,
        due_at: datetime | None = None,
        quiet_until: datetime | None = None,
    ) -> Delivery:
        """A new ledger entry: due at `due_at` (default now), or, inside quiet hours, deferred
        until `quiet_until`; a slot too old to send is opened missed."""
        if kind is None:
            kind = DeliveryKind.MANUAL if scheduled_for is None else DeliveryKind.SCHEDULED
        status = DeliveryStatus.PENDING
        if missed:
            status = DeliveryStatus.MISSED
        elif quiet_until is not None:
            status = DeliveryStatus.DEFERRED
        delivery = cls(
            id=new_id(),
            reminder_id=reminder_id,
            team_id=team_id,
            owner_id=owner_id,
            channel=channel,
            status=status,
            scheduled_for=scheduled_for,
            created_at=now,
            kind=kind,
            parent_delivery_id=parent_delivery_id,
            recipient_id=recipient_id,
            error="slot was older than the grace period when it fired" if missed else None,
            next_attempt_at=None if missed else quiet_until or due_at or now,
            deferred_until=quiet_until if not missed else None,
            reason=QUIET_HOURS if quiet_until is not None and not missed else None,
        )
        if kind is not DeliveryKind.SCHEDULED:
            delivery._record(DeliveryQueued(delivery_id=delivery.id, reminder_id=reminder_id))
        return delivery

    @property
    def recipient(self) -> str | None:
        """Who this delivery is for: its recipient, or the owner of a reminder for its owner alone."""
        return self.recipient_id or self.owner_id

    @property
    def answerable(self) -> bool:
        """Whether its recipient may snooze or acknowledge it: a failure alert tells the owner about
        another delivery, which may be someone else's to answer."""
        return self.kind is not DeliveryKind.ALERT

    @property
    def snoozable(self) -> bool:
        return self.answerable and self.status in SNOOZABLE

    @property
    def acknowledgeable(self) -> bool:
        """Answerable and not acknowledged yet (acknowledging again changes nothing)."""
        return self.answerable and self.acknowledged_at is None

    @property
    def retryable(self) -> bool:
        """Only a failed delivery goes back to the queue for a new round."""
        return self.status is DeliveryStatus.FAILED

    def follow_up(
        self,
        kind: DeliveryKind,
        *,
        due_at: datetime,
        now: datetime,
        channel: str | None = None,
        recipient_id: str | None = None,
        quiet_until: datetime | None = None,
    ) -> Delivery:
        """A snooze, repeat or alert of this delivery: a new delivery, waiting until `due_at`."""
        return Delivery.open(
            reminder_id=self.reminder_id,
            team_id=self.team_id,
            owner_id=self.owner_id,
            channel=channel or self.channel,
            scheduled_for=due_at,
            now=now,
            kind=kind,
            parent_delivery_id=self.id,
            recipient_id=self.recipient_id if recipient_id is None else recipient_id,
            due_at=due_at,
            quiet_until=quiet_until,
        )

    def acknowledge(self, user_id: str, now: datetime) -> bool:
        """Record who acknowledged it first, and when; False (nothing changes) when it already was."""
        if self.acknowledged_at is not None:
            return False
        self.acknowledged_at, self.acknowledged_by = now, user_id
        self._record(DeliveryAcknowledged(delivery_id=self.id, reminder_id=self.reminder_id, user_id=user_id))
        return True

    def defer_again(self, until: datetime | None, *, now: datetime) -> None:
        """Its recipient's quiet hours changed: a deferred delivery waits until `until` instead, or,
        with None (now is outside the new quiet hours), is due at once: its deferral then ended now,
        and stays on record with its reason."""
        if self.status is not DeliveryStatus.DEFERRED:
            raise Conflict(f"delivery {self.id!r} is {self.status.value}, not deferred")
        if until is None:
            self.status, self.deferred_until, self.next_attempt_at = DeliveryStatus.PENDING, now, now
        else:
            self.deferred_until = self.next_attempt_at = until

    def withdraw(self, reason: str, *, now: datetime) -> None:
        """A waiting delivery that must not be sent any more (acknowledged first) is cancelled."""
        if not self.status.waiting:
            raise Conflict(f"delivery {self.id!r} is {self.status.value}, not waiting to be sent")
        self._unclaim()
        self.status, self.error = DeliveryStatus.CANCELLED, reason
        self._record(
            DeliveryCancelled(
                delivery_id=self.id,
                reminder_id=self.reminder_id,
                channel=self.channel,
                scheduled_for=self.scheduled_for,
                reason=reason,
            )
        )

    @property
    def lateness_seconds(self) -> float | None:
        """From the slot (or the end of the quiet hours it waited for) to the start of the first
        attempt, once sent; None for an on-demand send."""
        if self.sent_at is None:
            return None
        # A delivery recorded as sent without an attempt (before attempts were kept) counts to sent_at.
        return lateness_seconds(
            self.deferred_until or self.scheduled_for, self.first_attempt_at or self.sent_at
        )

    @property
    def round_attempts(self) -> int:
        """Attempts made since the delivery was last (re)queued."""
        return len(self.attempts) - self.round_start

    def claim(self, worker: str, now: datetime, *, lease: timedelta) -> str:
        """Take a due pending delivery for sending until `now + lease`; returns the claim's token."""
        if not self.status.waiting:
            raise Conflict(f"delivery {self.id!r} is {self.status.value}, not waiting to be sent")
        if self.next_attempt_at is not None and self.next_attempt_at > now:
            raise Conflict(f"delivery {self.id!r} is not due until {self.next_attempt_at.isoformat()}")
        self.status, self.next_attempt_at = DeliveryStatus.SENDING, None
        self.claimed_by, self.claimed_at, self.lease_expires_at = worker, now, now + lease
        self.claim_token = new_id()
        return self.claim_token

    def lease_ended(self, now: datetime) -> bool:
        return self.lease_expires_at is not None and now >= self.lease_expires_at

    def holds(self, token: str, now: datetime) -> bool:
        """Whether `token` is the current claim and its lease has not ended."""
        return (
            self.status is DeliveryStatus.SENDING
            and self.claim_token == token
            and self.lease_expires_at is not None
            and now < self.lease_expires_at
        )

    def succeed(self, token: str, attempt: Attempt, *, now: datetime) -> None:
        self._check_claim(token, now)
        first_attempt_at = self._add(attempt)
        self._unclaim()
        self.status, self.sent_at, self.error, self.via = DeliveryStatus.SENT, now, None, attempt.via
        self._record(
            DeliverySucceeded(
                **self._facts(),
                first_attempt_at=first_attempt_at,
                sent_at=now,
                via=attempt.via,
                deferred_until=self.deferred_until,
            )
        )

    def fail(self, token: str, attempt: Attempt, *, now: datetime) -> None:
        """The attempt failed for good (a permanent error, or the round's last attempt)."""
        self._check_claim(token, now)
        self._add(attempt)
        self._unclaim()
        self.status, self.error = DeliveryStatus.FAILED, attempt.error
        self._record(DeliveryFailed(**self._facts(), reason=attempt.error or "failed"))

    def retry_later(self, token: str, attempt: Attempt, *, now: datetime, at: datetime) -> None:
        """The attempt failed but may succeed later: back in the queue, due again at `at`."""
        self._check_claim(token, now)
        self._add(attempt)
        self._unclaim()
        self.status, self.error, self.next_attempt_at = DeliveryStatus.PENDING, attempt.error, at
        self._record(DeliveryRetryScheduled(**self._facts(), reason=attempt.error or "", next_attempt_at=at))

    def release(self, token: str, *, now: datetime, at: datetime | None = None) -> None:
        """Give a claim back unsent (shutdown, or a peer too busy to take it now): due again at `at`."""
        self._check_claim(token, now)
        self._unclaim()
        self.status, self.next_attempt_at = DeliveryStatus.PENDING, at or now

    def expire(self, now: datetime) -> None:
        """A claim whose lease ended (its worker died or hung) goes back to the queue, due at once."""
        if self.status is not DeliveryStatus.SENDING or self.lease_expires_at is None:
            raise Conflict(f"delivery {self.id!r} is {self.status.value}, not being sent")
        if not self.lease_ended(now):
            raise Conflict(f"the claim on delivery {self.id!r} has not expired")
        holder = self.claimed_by or ""
        self._unclaim()
        self.status, self.next_attempt_at = DeliveryStatus.PENDING, now
        self._record(
            ClaimExpired(
                delivery_id=self.id, reminder_id=self.reminder_id, channel=self.channel, worker=holder
            )
        )

    def cancel(self, reason: str, *, token: str, now: datetime) -> None:
        """The claimed delivery can never be sent (its reminder or owner is gone)."""
        self._check_claim(token, now)
        self._unclaim()
        self.status, self.error = DeliveryStatus.CANCELLED, reason
        self._record(
            DeliveryCancelled(
                delivery_id=self.id,
                reminder_id=self.reminder_id,
                channel=self.channel,
                scheduled_for=self.scheduled_for,
                reason=reason,
            )
        )

    def reopen(self, now: datetime) -> None:
        """A failed delivery goes back to the queue for a new round; its attempts stay on record."""
        if not self.retryable:
            raise DeliveryNotRetryable(self.id, self.status.value)
        self.status, self.error, self.next_attempt_at = DeliveryStatus.PENDING, None, now
        self.round_start = len(self.attempts)
        self._record(DeliveryQueued(delivery_id=self.id, reminder_id=self.reminder_id))

    def _check_claim(self, token: str, now: datetime) -> None:
        if not self.holds(token, now):
            raise ClaimLost(self.id)

    def _add(self, attempt: Attempt) -> datetime:
        """Put the attempt on record; returns when the first attempt began."""
        self.attempts = (*self.attempts, attempt)
        if self.first_attempt_at is None:
            self.first_attempt_at = attempt.started_at
        return self.first_attempt_at

    def _unclaim(self) -> None:
        self.claimed_by = self.claimed_at = self.lease_expires_at = self.claim_token = None
        self.next_attempt_at = None

    def _facts(self) -> dict[str, object]:
        return {
            "delivery_id": self.id,
            "reminder_id": self.reminder_id,
            "channel": self.channel,
            "attempts": len(self.attempts),
            "attempts_made": self.round_attempts,
            "scheduled_for": self.scheduled_for,
        }
