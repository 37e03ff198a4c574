"""The notification channel port: how a rendered reminder leaves the service.

A channel raises TransientChannelError for failures worth retrying (timeouts, connection errors,
overloaded peers) and PermanentChannelError for the rest; the sender owns retries. Error messages
must already be free of secrets: they are stored, logged and returned to clients.

A channel that hands a notification to a stand-in instead of its own service says so: `send`
returns how it went (VIA_LOG for the email channel without an SMTP server), and the delivery
records it. A normal send returns None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol

# `send`'s answer when the notification was only written to the log.
VIA_LOG: Final = "log"


@dataclass(frozen=True, slots=True)
class Notification:
    delivery_id: str
    reminder_id: str
    channel: str
    title: str
    message: str
    scheduled_for: datetime | None
    owner_id: str
    owner_name: str
    owner_email: str
    target: str | None
    # The same on every attempt of one delivery, so receivers can drop duplicates.
    idempotency_key: str
    # The owner's team's webhook signing secrets, newest first (two during a rotation).
    signing_secrets: tuple[str, ...] = ()
    # scheduled, manual, snooze, repeat or alert (domain.delivery.DeliveryKind).
    kind: str = "scheduled"
    # The person it is for, when it is one of several recipients of a team reminder; else None.
    recipient_id: str | None = None
    recipient_name: str | None = None
    recipient_email: str | None = None
    # Signed links that acknowledge or snooze the delivery without an API key: "ack_url",
    # "snooze_url". Empty for an alert and where no public address is known.
    actions: Mapping[str, str] = field(default_factory=dict)

    @property
    def to_name(self) -> str:
        """Whom a personal channel (email, the log) addresses: the recipient, else the owner."""
        return self.recipient_name or self.owner_name

    @property
    def to_email(self) -> str:
        return self.recipient_email or self.owner_email


class ChannelError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransientChannelError(ChannelError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentChannelError(ChannelError):
    pass


class NotificationChannel(Protocol):
    def validate_target(self, target: str | None) -> None:
        """Raise domain.errors.InvalidTarget when `target` cannot address this channel."""
        ...

    def peer(self, target: str | None) -> str | None:
        """The host a send to `target` talks to, so workers can limit sends in flight to one host;
        None for a channel that talks to no other host."""
        ...

    def send(self, notification: Notification) -> str | None:
        """Send one attempt; None when it went out through the channel's own service, else how it
        went instead (VIA_LOG). Raises ChannelError when it did not go out."""
        ...


Channels = Mapping[str, NotificationChannel]
