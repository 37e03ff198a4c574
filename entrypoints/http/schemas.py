"""The API's response bodies, built from domain objects. Request bodies are the commands themselves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from application.repositories import Page
from domain.delivery import Delivery, DeliveryStatus
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


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class UserOut(Out):
    id: str
    team_id: str
    name: str
    email: str
    role: Role
    timezone: str = Field(description="New reminders of this user default to this IANA time zone.")
    active: bool
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
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class ReminderOut(Out):
    id: str
    owner_id: str
    title: str
    message: str
    channel: str
    target: str | None = Field(description="The channel's address; secrets in it are masked.")
    time_of_day: str = Field(examples=["09:30"])
    frequency: Frequency
    weekdays: list[int]
    date: dt.date | None
    timezone: str
    active: bool
    next_run_at: Timestamp | None
    last_run_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, reminder: Reminder) -> ReminderOut:
        schedule = reminder.schedule
        at = schedule.time_of_day
        return cls(
            id=reminder.id,
            owner_id=reminder.owner_id,
            title=reminder.title,
            message=reminder.message,
            channel=reminder.channel,
            target=redact(reminder.target) if reminder.target else None,
            time_of_day=at.strftime("%H:%M:%S" if at.second else "%H:%M"),
            frequency=schedule.frequency,
            weekdays=list(schedule.weekdays),
            date=schedule.date,
            timezone=schedule.timezone,
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
    status: DeliveryStatus
    scheduled_for: Timestamp | None
    sent_at: Timestamp | None
    first_attempt_at: Timestamp | None = Field(
        description="When the first attempt began; null until one is made. Never changes on retries."
    )
    next_attempt_at: Timestamp | None = Field(
        description="When a pending delivery is due to be tried (again); null once it is not waiting."
    )
    lateness_seconds: float | None = Field(
        description="Seconds from the slot to the start of the first attempt, once sent; null for send-now."
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
