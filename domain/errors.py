"""Domain errors: every business rule that refuses a request raises one of these."""

from __future__ import annotations

from domain.ids import MAX_ID_LENGTH

# The most characters of a caller's input an error message quotes back.
ECHO_LIMIT = 100


def shortened(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text`, cut to at most `limit` characters with an ellipsis: for echoing a caller's input."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(value: str) -> str:
    """`value` quoted as Python writes it (control characters escaped), in at most ECHO_LIMIT characters."""
    shown = repr(value)
    return shown if len(shown) <= ECHO_LIMIT else shortened(shown[:-1], ECHO_LIMIT - 1) + shown[-1]


class DomainError(Exception):
    """Base of every error the domain and application rings raise on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """A value breaks a rule of the model; `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidSchedule(InvalidInput):
    """The schedule cannot produce occurrences as given."""


class InvalidTemplate(InvalidInput):
    """A title or message template uses an unknown or malformed placeholder."""


class InvalidTarget(InvalidInput):
    """The reminder's target does not suit its channel."""


class UnknownChannel(InvalidInput):
    """No channel of that name is configured."""


class NotFound(DomainError):
    """The entity does not exist (or no longer does)."""

    def __init__(self, entity: str, entity_id: str) -> None:
        # An id longer than any this service issues is not one of its ids: it is not quoted back.
        shown = f" {quoted(entity_id)}" if len(entity_id) <= MAX_ID_LENGTH else ""
        super().__init__(f"{entity}{shown} was not found")
        self.entity = entity
        self.entity_id = entity_id


class Conflict(DomainError):
    """The request contradicts the current state."""


class DuplicateEmail(Conflict):
    """Another user already has this email address (compared case-insensitively)."""

    def __init__(self) -> None:
        super().__init__("a user with this email already exists")


class InactiveOwner(Conflict):
    """Reminders can only be created for active users."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id!r} is inactive")


class StaleVersion(Conflict):
    """Someone else changed the aggregate since it was read (optimistic concurrency)."""

    def __init__(self, entity: str, entity_id: str) -> None:
        super().__init__(f"{entity} {entity_id!r} was changed concurrently; retry the request")


class DuplicateOccurrence(Conflict):
    """The ledger already holds a delivery for this reminder and slot."""

    def __init__(self, reminder_id: str) -> None:
        super().__init__(f"reminder {reminder_id!r} already has a delivery for that slot")


class DeliveryNotRetryable(Conflict):
    """Only a failed delivery can be sent again."""

    def __init__(self, delivery_id: str, status: str) -> None:
        super().__init__(f"delivery {delivery_id!r} is {status}; only failed deliveries are retried")


class ClaimLost(Conflict):
    """The outcome's claim is no longer current: its lease ended, or another worker took the delivery."""

    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"the claim on delivery {delivery_id!r} is no longer held")
        self.delivery_id = delivery_id


class Unauthorized(DomainError):
    """No valid API key: missing, malformed, unknown or revoked, or its user is deactivated."""


class NotSnoozable(Conflict):
    """Only a delivery that has reached its recipient, or failed to, can be snoozed."""

    def __init__(self, delivery_id: str, status: str) -> None:
        super().__init__(
            f"delivery {delivery_id!r} is {status}; only a sent, failed or missed delivery can be snoozed"
        )


class AlertNotAnswerable(Conflict):
    """A failure alert tells the owner about another delivery; it is not snoozed or acknowledged."""

    def __init__(self, delivery_id: str) -> None:
        super().__init__(
            f"delivery {delivery_id!r} is a failure alert; alerts are not snoozed or acknowledged"
        )


class Forbidden(DomainError):
    """The caller is known but may not do this (a member acting on another member's things)."""


class LastAdmin(Conflict):
    """A team must keep at least one active admin."""

    def __init__(self) -> None:
        super().__init__("a team must keep at least one active admin; make another user admin first")


class InactiveUser(Conflict):
    """The user is deactivated: their reminders are not sent."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id!r} is deactivated; reactivate them to send their reminders")


class SignInLinkRefused(DomainError):
    """A sign-in link works once and only for a short while; `used` says which rule refused it."""

    def __init__(self, *, used: bool) -> None:
        super().__init__(
            "this sign-in link was already used; ask for a new one"
            if used
            else "this sign-in link has expired; ask for a new one"
        )
        self.used = used
