"""The API's response bodies, built from domain objects. Request bodies are the commands themselves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from application.repositories import Page
from domain.audience import LocalTime
from domain.delivery import Delivery, DeliveryKind, DeliveryStatus
from domain.quiet_hours import QuietHours
from domain.redaction import redact
from domain.reminder import Reminder
from domain.roles import Role
from domain.schedule import Frequency
from domain.user import User
from entrypoints.http.problems import ErrorBody

# ISO 8601 with an explicit UTC offset ("+00:00"), never a bare "Z".
Timestamp = Annotated[
    dt.datetime,
    PlainSerializer(lambda moment: moment.astimezone(dt.UTC).isoformat(), return_type=str),
    Field(json_schema_extra={"format": "date-time"}),
]

T = TypeVar("T", bound=BaseModel)
# Ids as the service issues them, for the document's examples.
_AN_ID = "5f0c9a2b7d1e4c3f8a6b0d2e4f1a3c5b"
A_USER_ID = "0b6e0c1f2a3d4e5f9c8b7a6d5e4f3a2b"


def _clock_time(at: dt.time) -> str:
    """ "09:30", or "09:30:15" when the seconds matter."""
    return at.strftime("%H:%M:%S" if at.second else "%H:%M")


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class QuietHoursOut(Out):
    """In the user's own time zone; `end` is exclusive, and one at or before `start` ends the next day."""

    start: str = Field(examples=["22:00"])
    end: str = Field(examples=["07:00"])
    weekdays: list[int] = Field(
        description="The days a quiet window starts on: 0=Monday .. 6=Sunday.", examples=[[0, 1, 2, 3, 4]]
    )

    @classmethod
    def of(cls, quiet: QuietHours | None) -> QuietHoursOut | None:
        if quiet is None:
            return None
        return cls(start=_clock_time(quiet.start), end=_clock_time(quiet.end), weekdays=list(quiet.weekdays))


class UserOut(Out):
    id: str
    team_id: str
    name: str
    email: str
    role: Role
    timezone: str = Field(description="New reminders of this user default to this IANA time zone.")
    active: bool
    quiet_hours: QuietHoursOut | None = Field(
        description="When nothing reaches this user: a delivery due then waits until they end (deferred). "
        "null: no quiet hours.",
        examples=[{"start": "22:00", "end": "07:00", "weekdays": [0, 1, 2, 3, 4, 5, 6]}, None],
    )
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            team_id=user.team_id,
            name=user.name,
            email=user.email,
            role=user.role,
            timezone=user.timezone,
            active=user.active,
            quiet_hours=QuietHoursOut.of(user.quiet_hours),
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class RepeatOut(Out):
    every_minutes: int = Field(description="Minutes after each send, 1 to 1440.", examples=[15])
    max_times: int = Field(description="At most this many more times, 1 to 10.", examples=[3])


class ReminderOut(Out):
    id: str
    owner_id: str
    title: str
    message: str
    channel: str
    target: str | None = Field(description="The channel's address; secrets in it are masked.")
    time_of_day: str | None = Field(
        description="The local time it fires; null for a cron schedule, whose expression holds the time.",
        examples=["09:30", None],
    )
    frequency: Frequency
    weekdays: list[int]
    date: dt.date | None
    timezone: str
    rrule: str | None = Field(
        description="The RFC 5545 recurrence rule of an rrule schedule; null otherwise.",
        examples=["FREQ=MONTHLY;BYDAY=2TU", None],
    )
    cron: str | None = Field(
        description="The five-field cron expression of a cron schedule; null otherwise.",
        examples=["0 9 * * 1-5", None],
    )
    starts_on: dt.date | None = Field(
        description="The first local date it may fire on (for rrule: what COUNT and INTERVAL count from).",
        examples=["2030-01-06", None],
    )
    ends_on: dt.date | None = Field(
        description="The last local date it may fire on, inclusive.", examples=["2030-12-31", None]
    )
    skip_dates: list[dt.date] = Field(
        description="Local dates on which it does not fire.", examples=[["2030-12-25", "2030-12-26"]]
    )
    recipients: Literal["owner", "team"] | list[str] = Field(
        description='Who it reaches: "owner", "team" (every active user of the team at each slot), or '
        "these users of the team.",
        examples=["owner", "team", [A_USER_ID]],
    )
    local_time: LocalTime = Field(
        description='"reminder": every recipient at time_of_day in the reminder\'s time zone; "recipient": '
        "at time_of_day in each recipient's own time zone.",
        examples=["reminder", "recipient"],
    )
    repeat_until_ack: RepeatOut | None = Field(
        description="Until a delivery is acknowledged, deliver it again every_minutes after the last send, "
        "at most max_times more times; null: deliver once.",
        examples=[{"every_minutes": 15, "max_times": 3}, None],
    )
    active: bool
    next_run_at: Timestamp | None
    last_run_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, reminder: Reminder) -> ReminderOut:
        schedule = reminder.schedule
        at = schedule.time_of_day
        repeat = reminder.repeat_until_ack
        return cls(
            id=reminder.id,
            owner_id=reminder.owner_id,
            title=reminder.title,
            message=reminder.message,
            channel=reminder.channel,
            target=redact(reminder.target) if reminder.target else None,
            time_of_day=None if at is None else _clock_time(at),
            frequency=schedule.frequency,
            weekdays=list(schedule.weekdays),
            date=schedule.date,
            timezone=schedule.timezone,
            rrule=schedule.rrule,
            cron=schedule.cron,
            starts_on=schedule.starts_on,
            ends_on=schedule.ends_on,
            skip_dates=list(schedule.skip_dates),
            recipients=reminder.recipients.stored(),
            local_time=reminder.local_time,
            repeat_until_ack=(
                None
                if repeat is None
                else RepeatOut(every_minutes=repeat.every_minutes, max_times=repeat.max_times)
            ),
            active=reminder.active,
            next_run_at=reminder.next_run_at,
            last_run_at=reminder.last_run_at,
            created_at=reminder.created_at,
            updated_at=reminder.updated_at,
        )


class AttemptOut(Out):
    number: int
    started_at: Timestamp
    duration_ms: float
    error: str | None


class DeliveryOut(Out):
    """One entry of the delivery ledger; also the SendResult of an on-demand send."""

    delivery_id: str
    reminder_id: str
    channel: str
    status: DeliveryStatus = Field(
        description="deferred: waiting, like pending, for the recipient's quiet hours to end.",
        examples=["sent", "deferred"],
    )
    kind: DeliveryKind = Field(
        description="scheduled: a slot of the schedule; manual: sent now on request; snooze: a snoozed "
        "delivery, due again; repeat: delivered again until acknowledged; alert: tells the owner that "
        "a delivery failed.",
        examples=["scheduled", "snooze"],
    )
    parent_delivery_id: str | None = Field(
        description="The delivery a snooze, repeat or alert follows; null for scheduled and manual ones.",
        examples=[None, _AN_ID],
    )
    recipient_id: str | None = Field(
        description="The user this delivery is for, when a reminder reaches several people each with "
        "their own delivery; null for the owner's own or a shared target's.",
        examples=[None, A_USER_ID],
    )
    acknowledged_at: Timestamp | None = Field(
        description="When it was first acknowledged; null until then.",
        examples=[None, "2030-12-10T08:05:00+00:00"],
    )
    acknowledged_by: str | None = Field(
        description="The id of the user who acknowledged it first.", examples=[None, A_USER_ID]
    )
    deferred_until: Timestamp | None = Field(
        description="Until when it waits for the recipient's quiet hours; null when it was not deferred.",
        examples=[None, "2030-12-10T06:00:00+00:00"],
    )
    reason: str | None = Field(
        description='Why it waits: "quiet_hours" for a deferred delivery; null otherwise.',
        examples=["quiet_hours", None],
    )
    scheduled_for: Timestamp | None = Field(
        description="The slot of a scheduled delivery; when a follow-up is due; null for a send-now."
    )
    sent_at: Timestamp | None
    first_attempt_at: Timestamp | None = Field(
        description="When the first attempt began; null until one is made. Never changes on retries."
    )
    next_attempt_at: Timestamp | None = Field(
        description="When a pending delivery is due to be tried (again); null once it is not waiting."
    )
    lateness_seconds: float | None = Field(
        description="Seconds from the slot (for a delivery deferred by quiet hours, from their end) to the "
        "start of the first attempt, once sent; null for send-now."
    )
    via: str | None = Field(
        description='How a sent delivery left when not through its channel: "log" for an email written to '
        "the log because no SMTP server is configured; null for a normal send."
    )
    attempts: int
    attempt_log: list[AttemptOut]
    error: str | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(
            delivery_id=delivery.id,
            reminder_id=delivery.reminder_id,
            channel=delivery.channel,
            status=delivery.status,
            kind=delivery.kind,
            parent_delivery_id=delivery.parent_delivery_id,
            recipient_id=delivery.recipient_id,
            acknowledged_at=delivery.acknowledged_at,
            acknowledged_by=delivery.acknowledged_by,
            deferred_until=delivery.deferred_until,
            reason=delivery.reason,
            scheduled_for=delivery.scheduled_for,
            sent_at=delivery.sent_at,
            first_attempt_at=delivery.first_attempt_at,
            next_attempt_at=delivery.next_attempt_at,
            lateness_seconds=delivery.lateness_seconds,
            via=delivery.via,
            attempts=len(delivery.attempts),
            attempt_log=[
                AttemptOut(
                    number=attempt.number,
                    started_at=attempt.started_at,
                    duration_ms=attempt.duration_ms,
                    error=attempt.error,
                )
                for attempt in delivery.attempts
            ],
            error=delivery.error,
        )


class PageOut(Out, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, page: Page[Any], item: Callable[[Any], T]) -> Self:
        items = [item(entry) for entry in page.items]
        return cls(items=items, total=page.total, limit=page.limit, offset=page.offset)


class UserPage(PageOut[UserOut]):
    pass


class ReminderPage(PageOut[ReminderOut]):
    pass


class DeliveryPage(PageOut[DeliveryOut]):
    pass


class CheckOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: str = Field(examples=["ok", "degraded", "unavailable"])
    reason: str | None = Field(None, description="Why a check is degraded.")


class HealthOut(Out):
    status: str = Field(
        examples=["ok", "degraded"], description="degraded: working, but a check says why not well."
    )
    reasons: list[str] = Field(default_factory=list, description="The degraded checks' reasons.")
    version: str
    checks: dict[str, CheckOut]


class UnhealthyOut(ErrorBody):
    """A 503 from /health: the one error shape, plus the health document naming the failing checks."""

    status: str = Field(examples=["unavailable"])
    version: str
    checks: dict[str, CheckOut]
