"""The audit trail, fed by the unit of work: every change committed on someone's behalf becomes an
entry in the same commit, so there is never a change without its entry nor an entry without its
change. One mechanism for every aggregate; no handler writes an entry itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from typing import Any, Literal

from application.context import Acting
from domain.aggregate import Aggregate
from domain.api_key import ApiKey
from domain.audit import AuditEntry, Changes
from domain.delivery import Delivery, DeliveryKind, DeliveryStatus
from domain.reminder import Reminder
from domain.team import Team
from domain.user import User
from domain.web_session import WebSession

REDACTED = "[redacted]"
# Never shown, old or new: where a reminder sends to, and every secret.
_SECRET = frozenset(
    {"target", "webhook_secret", "previous_webhook_secret", "secret_hash", "link_secret", "token_hash"}
)
# Bookkeeping, not a change anyone made.
_UNTOLD = frozenset(
    {
        *("updated_at", "roster", "last_used_at", "version", "_events"),
        *("fired_through", "active_since", "last_alert_at", "sent_on", "last_seen_at"),
    }
)


@dataclass(frozen=True, slots=True)
class Change:
    """One aggregate a commit writes, and its fields before and after (for an update, those changed)."""

    aggregate: Aggregate
    kind: Literal["created", "updated", "deleted"]
    fields: dict[str, tuple[Any, Any]]


def audit_entries(changes: Iterable[Change], acting: Acting) -> list[AuditEntry]:
    entries = []
    for change in changes:
        described = _describe(change)
        if described is None:
            continue
        target_type, action = described
        fields = {name: pair for name, pair in change.fields.items() if name not in _UNTOLD}
        aggregate: Any = change.aggregate
        entries.append(
            AuditEntry.record(
                at=acting.at,
                team_id=aggregate.id if isinstance(aggregate, Team) else aggregate.team_id,
                actor_user_id=acting.actor.user_id,
                actor_key_id=acting.actor.key_id,
                action=action,
                target_type=target_type,
                target_id=aggregate.id,
                request_id=acting.request_id,
                changes=_as_json(fields),
            )
        )
    return entries


def _describe(change: Change) -> tuple[str, str] | None:
    """The target's type and the action's name; None for a write that is not worth an entry."""
    aggregate, kind, fields = change.aggregate, change.kind, change.fields
    if isinstance(aggregate, Team):
        if kind == "updated" and "webhook_secret" in fields:
            return "team", "team.webhook_secret_rotated"
        return ("team", f"team.{kind}") if kind != "updated" or set(fields) - _UNTOLD else None
    if isinstance(aggregate, User):
        return "user", _user_action(kind, fields)
    if isinstance(aggregate, ApiKey):
        if kind == "updated":
            return ("key", "key.revoked") if "revoked_at" in fields else None
        return "key", f"key.{kind}"
    if isinstance(aggregate, Reminder):
        return "reminder", f"reminder.{kind}"
    if isinstance(aggregate, WebSession):
        # Signing in and out of the web app; a session's use (last_seen_at) is not worth an entry.
        if kind == "created":
            return "session", "session.start"
        return ("session", "session.end") if kind == "updated" and "ended_at" in fields else None
    if isinstance(aggregate, Delivery):
        if kind == "created" and aggregate.kind is DeliveryKind.MANUAL:
            return "delivery", "reminder.sent_now"
        if kind == "created" and aggregate.kind is DeliveryKind.SNOOZE:
            return "delivery", "delivery.snoozed"
        if kind == "updated" and "acknowledged_at" in fields:
            return "delivery", "delivery.acknowledged"
        if kind == "updated" and fields.get("status", (None, None)) == (
            DeliveryStatus.FAILED,
            DeliveryStatus.PENDING,
        ):
            return "delivery", "delivery.retried"
    return None


def _user_action(kind: str, fields: dict[str, tuple[Any, Any]]) -> str:
    if kind != "updated":
        return f"user.{kind}"
    if "active" in fields:
        return "user.reactivated" if fields["active"][1] else "user.deactivated"
    if "role" in fields:
        return "user.role_changed"
    return "user.updated"


def _as_json(fields: dict[str, tuple[Any, Any]]) -> Changes:
    return {
        name: [REDACTED if old is not None else None, REDACTED if new is not None else None]
        if name in _SECRET
        else [_json(old), _json(new)]
        for name, (old, new) in fields.items()
    }


def _json(value: Any) -> Any:
    # Before the plain types: a StrEnum is a str too, and would be kept as the enum itself.
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)
