"""Domain events: facts in the past tense, carrying ids and timezone-aware UTC datetimes."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TeamCreated(Event):
    team_id: str


class WebhookSecretRotated(Event):
    team_id: str


class ApiKeyCreated(Event):
    key_id: str
    user_id: str


class ApiKeyRevoked(Event):
    key_id: str
    user_id: str


class UserCreated(Event):
    user_id: str


class UserUpdated(Event):
    user_id: str
    changed: tuple[str, ...]


class UserDeleted(Event):
    user_id: str


class ReminderCreated(Event):
    reminder_id: str
    owner_id: str
    next_run_at: AwareDatetime | None


class ReminderUpdated(Event):
    reminder_id: str
    changed: tuple[str, ...]
    next_run_at: AwareDatetime | None


class ReminderDeleted(Event):
    reminder_id: str
    owner_id: str


class ReminderDue(Event):
    """A slot fired and its pending delivery is in the ledger, waiting to be sent."""

    reminder_id: str
    delivery_id: str
    scheduled_for: AwareDatetime


class OccurrenceMissed(Event):
    """A slot was too old to send when it fired; the ledger records it as missed."""

    reminder_id: str
    delivery_id: str
    scheduled_for: AwareDatetime
    channel: str


class DeliveryQueued(Event):
    """A delivery was put in the queue to be sent at once (on demand, or again after failing)."""

    delivery_id: str
    reminder_id: str


class DeliverySucceeded(Event):
    delivery_id: str
    reminder_id: str
    channel: str
    # Every attempt on record, and those made by this send (a retried delivery has earlier ones).
    attempts: int
    attempts_made: int
    scheduled_for: AwareDatetime | None
    # When the delivery's first attempt began (lateness is measured from it) and when it was recorded sent.
    first_attempt_at: AwareDatetime
    sent_at: AwareDatetime
    # How it left when not through the channel's own service ("log": an email logged without SMTP).
    via: str | None = None
    # When a delivery held back by its recipient's quiet hours was due to go (lateness runs from it).
    deferred_until: AwareDatetime | None = None


class DeliveryAcknowledged(Event):
    delivery_id: str
    reminder_id: str
    user_id: str


class DeliveryFailed(Event):
    delivery_id: str
    reminder_id: str
    channel: str
    attempts: int
    attempts_made: int
    scheduled_for: AwareDatetime | None
    reason: str


class DeliveryRetryScheduled(Event):
    """An attempt failed for a reason that may pass; the delivery is due again at `next_attempt_at`."""

    delivery_id: str
    reminder_id: str
    channel: str
    attempts: int
    attempts_made: int
    scheduled_for: AwareDatetime | None
    reason: str
    next_attempt_at: AwareDatetime


class DeliveryCancelled(Event):
    """A delivery was dropped unsent because it can never be sent (its reminder or owner is gone)."""

    delivery_id: str
    reminder_id: str
    channel: str
    scheduled_for: AwareDatetime | None
    reason: str


class ClaimExpired(Event):
    """A worker's claim outlived its lease (the worker died or hung); the delivery is queued again."""

    delivery_id: str
    reminder_id: str
    channel: str
    worker: str
