"""Row <-> aggregate, in one place: the domain never sees a row and the tables never see an aggregate."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Table

from adapters.sql import tables
from domain.aggregate import Aggregate
from domain.api_key import ApiKey
from domain.audience import LocalTime, Recipients, RepeatUntilAck
from domain.audit import AuditEntry
from domain.delivery import Attempt, Delivery, DeliveryKind, DeliveryStatus
from domain.link_use import LinkUse
from domain.quiet_hours import quiet_hours_from
from domain.reminder import Reminder
from domain.roles import Role
from domain.schedule import Frequency, Schedule
from domain.sign_in_link import SignInLink
from domain.team import Team
from domain.user import User
from domain.web_session import WebSession

Row = Mapping[Any, Any]


class Prefixed(Mapping[str, Any]):
    """One table's columns in a row that joins several, each labelled `prefix` + its name."""

    def __init__(self, row: Row, prefix: str) -> None:
        self._row = row
        self._prefix = prefix

    def __getitem__(self, name: str) -> Any:
        return self._row[self._prefix + name]

    def __iter__(self) -> Iterator[str]:
        start = len(self._prefix)
        return (str(label)[start:] for label in self._row if str(label).startswith(self._prefix))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def table_of(aggregate: Aggregate) -> Table:
    if isinstance(aggregate, Team):
        return tables.teams
    if isinstance(aggregate, ApiKey):
        return tables.api_keys
    if isinstance(aggregate, AuditEntry):
        return tables.audit_entries
    if isinstance(aggregate, User):
        return tables.users
    if isinstance(aggregate, Reminder):
        return tables.reminders
    if isinstance(aggregate, Delivery):
        return tables.deliveries
    if isinstance(aggregate, LinkUse):
        return tables.action_link_uses
    if isinstance(aggregate, WebSession):
        return tables.web_sessions
    if isinstance(aggregate, SignInLink):
        return tables.sign_in_links
    raise TypeError(f"not stored here: {type(aggregate).__name__}")


# Fields stored in more than one column; every other field is the column of its name.
_FIELD_COLUMNS = {
    "schedule": (
        "time_of_day",
        "frequency",
        "timezone",
        "weekdays",
        "date",
        "rrule",
        "cron",
        "starts_on",
        "ends_on",
        "skip_dates",
    )
}


def columns_of(fields: frozenset[str]) -> tuple[str, ...]:
    """The columns that hold `fields` (an update writes these alone, and the version), sorted."""
    columns = {column for field in fields for column in _FIELD_COLUMNS.get(field, (field,))}
    return tuple(sorted(columns | {"version"}))


def to_row(aggregate: Aggregate) -> dict[str, Any]:
    """Every column but `seq`, which the database assigns."""
    if isinstance(aggregate, Team | ApiKey | AuditEntry | LinkUse | WebSession | SignInLink):
        return _plain_row(aggregate)
    if isinstance(aggregate, User):
        return _user_row(aggregate)
    if isinstance(aggregate, Reminder):
        return _reminder_row(aggregate)
    if isinstance(aggregate, Delivery):
        return _delivery_row(aggregate)
    raise TypeError(f"not stored here: {type(aggregate).__name__}")


def _plain_row(aggregate: Team | ApiKey | AuditEntry | LinkUse | WebSession | SignInLink) -> dict[str, Any]:
    """Aggregates whose every field is the column of its name."""
    return {name: value for name, value in vars(aggregate).items() if name != "_events"}


def team_from(row: Row) -> Team:
    return Team(**_plain_fields(tables.teams, row))


def api_key_from(row: Row) -> ApiKey:
    return ApiKey(**_plain_fields(tables.api_keys, row))


def audit_entry_from(row: Row) -> AuditEntry:
    return AuditEntry(**_plain_fields(tables.audit_entries, row))


def link_use_from(row: Row) -> LinkUse:
    return LinkUse(**_plain_fields(tables.action_link_uses, row))


def web_session_from(row: Row) -> WebSession:
    return WebSession(**_plain_fields(tables.web_sessions, row))


def sign_in_link_from(row: Row) -> SignInLink:
    return SignInLink(**_plain_fields(tables.sign_in_links, row))


def _plain_fields(table: Table, row: Row) -> dict[str, Any]:
    return {column.name: row[column.name] for column in table.c if column.name != "seq"}


def _user_row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "team_id": user.team_id,
        "name": user.name,
        "email": user.email,
        "role": user.role.value,
        "timezone": user.timezone,
        "active": user.active,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "quiet_hours": None if user.quiet_hours is None else user.quiet_hours.as_dict(),
        "active_since": user.active_since,
        "version": user.version,
    }


def user_from(row: Row) -> User:
    return User(
        id=row["id"],
        team_id=row["team_id"],
        name=row["name"],
        email=row["email"],
        role=Role(row["role"]),
        timezone=row["timezone"],
        active=row["active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        quiet_hours=quiet_hours_from(row["quiet_hours"]),
        active_since=row["active_since"],
        version=row["version"],
    )


def _reminder_row(reminder: Reminder) -> dict[str, Any]:
    schedule = reminder.schedule
    return {
        "id": reminder.id,
        "team_id": reminder.team_id,
        "owner_id": reminder.owner_id,
        "title": reminder.title,
        "message": reminder.message,
        "channel": reminder.channel,
        "target": reminder.target,
        "time_of_day": None if schedule.time_of_day is None else schedule.time_of_day.isoformat(),
        "frequency": schedule.frequency.value,
        "timezone": schedule.timezone,
        "weekdays": list(schedule.weekdays),
        "date": schedule.date,
        "rrule": schedule.rrule,
        "cron": schedule.cron,
        "starts_on": schedule.starts_on,
        "ends_on": schedule.ends_on,
        "skip_dates": [day.isoformat() for day in schedule.skip_dates],
        "recipients": reminder.recipients.stored(),
        "local_time": reminder.local_time.value,
        "repeat_until_ack": None
        if reminder.repeat_until_ack is None
        else reminder.repeat_until_ack.as_dict(),
        "active": reminder.active,
        "next_run_at": reminder.next_run_at,
        "last_run_at": reminder.last_run_at,
        "fired_through": reminder.fired_through,
        "last_alert_at": reminder.last_alert_at,
        "sent_on": {user_id: day.isoformat() for user_id, day in reminder.sent_on.items()},
        "created_at": reminder.created_at,
        "updated_at": reminder.updated_at,
        "version": reminder.version,
    }


def reminder_from(row: Row) -> Reminder:
    at = row["time_of_day"]
    schedule = Schedule(
        time_of_day=None if at is None else time.fromisoformat(at),
        frequency=Frequency(row["frequency"]),
        timezone=row["timezone"],
        weekdays=tuple(row["weekdays"]),
        date=row["date"],
        rrule=row["rrule"],
        cron=row["cron"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        skip_dates=tuple(date.fromisoformat(day) for day in row["skip_dates"]),
    )
    repeat = row["repeat_until_ack"]
    return Reminder(
        id=row["id"],
        team_id=row["team_id"],
        owner_id=row["owner_id"],
        title=row["title"],
        message=row["message"],
        channel=row["channel"],
        target=row["target"],
        schedule=schedule,
        recipients=Recipients.parse(row["recipients"]),
        local_time=LocalTime(row["local_time"]),
        repeat_until_ack=None if repeat is None else RepeatUntilAck(**repeat),
        active=row["active"],
        next_run_at=row["next_run_at"],
        last_run_at=row["last_run_at"],
        fired_through=row["fired_through"],
        last_alert_at=row["last_alert_at"],
        sent_on={user_id: date.fromisoformat(day) for user_id, day in (row["sent_on"] or {}).items()},
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


def _attempt_json(attempt: Attempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "started_at": attempt.started_at.isoformat(),
        "duration_ms": attempt.duration_ms,
        "error": attempt.error,
        "via": attempt.via,
    }


def _attempt_from(data: Mapping[str, Any]) -> Attempt:
    return Attempt(
        number=data["number"],
        started_at=datetime.fromisoformat(data["started_at"]),
        duration_ms=data["duration_ms"],
        error=data["error"],
        via=data.get("via"),  # absent from attempts recorded before 0003
    )


def _delivery_row(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "reminder_id": delivery.reminder_id,
        "team_id": delivery.team_id,
        "owner_id": delivery.owner_id,
        "channel": delivery.channel,
        "status": delivery.status.value,
        "kind": delivery.kind.value,
        "scheduled_for": delivery.scheduled_for,
        "parent_delivery_id": delivery.parent_delivery_id,
        "recipient_id": delivery.recipient_id,
        "acknowledged_at": delivery.acknowledged_at,
        "acknowledged_by": delivery.acknowledged_by,
        "deferred_until": delivery.deferred_until,
        "reason": delivery.reason,
        "created_at": delivery.created_at,
        "sent_at": delivery.sent_at,
        "first_attempt_at": delivery.first_attempt_at,
        "via": delivery.via,
        "attempts": [_attempt_json(attempt) for attempt in delivery.attempts],
        "error": delivery.error,
        "next_attempt_at": delivery.next_attempt_at,
        "claimed_by": delivery.claimed_by,
        "claimed_at": delivery.claimed_at,
        "lease_expires_at": delivery.lease_expires_at,
        "claim_token": delivery.claim_token,
        "round_start": delivery.round_start,
        "version": delivery.version,
    }


def delivery_from(row: Row) -> Delivery:
    return Delivery(
        id=row["id"],
        reminder_id=row["reminder_id"],
        team_id=row["team_id"],
        owner_id=row["owner_id"],
        channel=row["channel"],
        status=DeliveryStatus(row["status"]),
        kind=DeliveryKind(row["kind"]),
        scheduled_for=row["scheduled_for"],
        parent_delivery_id=row["parent_delivery_id"],
        recipient_id=row["recipient_id"],
        acknowledged_at=row["acknowledged_at"],
        acknowledged_by=row["acknowledged_by"],
        deferred_until=row["deferred_until"],
        reason=row["reason"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        first_attempt_at=row["first_attempt_at"],
        via=row["via"],
        attempts=tuple(_attempt_from(item) for item in row["attempts"]),
        error=row["error"],
        next_attempt_at=row["next_attempt_at"],
        claimed_by=row["claimed_by"],
        claimed_at=row["claimed_at"],
        lease_expires_at=row["lease_expires_at"],
        claim_token=row["claim_token"],
        round_start=row["round_start"],
        version=row["version"],
    )
