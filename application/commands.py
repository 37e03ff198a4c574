"""Commands: what a caller asks the service to do, in the imperative. Frozen; unknown fields are refused."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, Strict

from domain.actor import SYSTEM, Actor
from domain.audience import LocalTime
from domain.delivery import Attempt
from domain.roles import Role
from domain.schedule import Frequency, time_zone_names
from domain.text import NOT_IN_A_LINE, NOT_IN_A_MESSAGE
from domain.user import EMAIL_PATTERN

# The schemas say what the domain accepts, so a client can validate before sending.
# Text is stored in PostgreSQL too, which cannot hold a NUL character, so no text field takes one;
# names, titles and messages take no control characters either (domain/text.py).
_NOT_BLANK = rf"^[^{NOT_IN_A_LINE}]*[^\s{NOT_IN_A_LINE}][^{NOT_IN_A_LINE}]*$"
_NO_NUL = r"^[^\x00]*$"
_PLACEHOLDER = r"\{(?:owner_name|title|scheduled_for_local|timezone|date)\}"


def _template(refused: str) -> str:
    """Optional leading blanks, then at least one visible piece: text, an escaped brace or a placeholder."""
    piece = rf"\{{\{{|\}}\}}|{_PLACEHOLDER}"
    return rf"^[^\S{refused}]*(?:[^{{}}\s{refused}]|{piece})(?:[^{{}}{refused}]|{piece})*$"


Name = Annotated[str, Field(min_length=1, max_length=200, pattern=_NOT_BLANK)]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN)]
Title = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=_template(NOT_IN_A_LINE),
        description="Text with optional placeholders {owner_name}, {title}, {scheduled_for_local}, "
        "{timezone}, {date}; {{ and }} stand for literal braces.",
    ),
]
Message = Annotated[str, Field(min_length=1, max_length=4000, pattern=_template(NOT_IN_A_MESSAGE))]
ChannelName = Annotated[str, Field(min_length=1, max_length=50, pattern=_NO_NUL)]
Target = Annotated[str, Field(min_length=1, max_length=2000, pattern=_NO_NUL)]
TimeOfDay = Annotated[
    str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", examples=["09:30", "17:45:00"])
]


def _list_time_zones(schema: dict[str, Any]) -> None:
    # Evaluated when the OpenAPI document is built, never at import time.
    schema["enum"] = sorted(time_zone_names())


Timezone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        examples=["UTC", "Europe/Berlin"],
        description="An IANA time zone name, one of those listed.",
        json_schema_extra=_list_time_zones,
    ),
]


def _integral(value: Any) -> Any:
    # JSON does not tell 1 from 1.0, and JSON Schema calls both integers; 1.5 and "1" stay refused.
    return int(value) if isinstance(value, float) and value.is_integer() else value


Weekday = Annotated[
    int, Strict(), Field(ge=0, le=6, description="0=Monday .. 6=Sunday"), BeforeValidator(_integral)
]


def _each_day_once(schema: dict[str, Any]) -> None:
    # Documents the rule for clients; the domain enforces it (a repeated day is refused).
    schema["uniqueItems"] = True


Id = Annotated[str, Field(min_length=1)]
Minutes = Annotated[int, Strict(), Field(ge=1, le=1440), BeforeValidator(_integral)]


class QuietHoursIn(BaseModel):
    """Quiet hours in the user's own time zone: `end` is exclusive, and one at or before `start`
    ends the next day (22:00 to 07:00 is overnight). `weekdays` are the days a window starts on."""

    model_config = ConfigDict(frozen=True, extra="forbid", regex_engine="python-re")

    # Examples of their own: the time of day's would make a window ending when it starts, refused.
    start: TimeOfDay = Field(examples=["22:00"])
    end: TimeOfDay = Field(examples=["07:00"])
    weekdays: list[Weekday] = Field(
        default_factory=lambda: list(range(7)), min_length=1, max_length=7, json_schema_extra=_each_day_once
    )


class RepeatIn(BaseModel):
    """Deliver again every `every_minutes` until acknowledged, at most `max_times` more times."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    every_minutes: Minutes
    max_times: Annotated[int, Strict(), Field(ge=1, le=10), BeforeValidator(_integral)]


RRule = Annotated[
    str,
    Field(
        min_length=1,
        max_length=500,
        pattern=_NO_NUL,
        description="An RFC 5545 recurrence rule: FREQ of DAILY, WEEKLY, MONTHLY or YEARLY; the rule "
        "chooses days and time_of_day the time (BYHOUR, BYMINUTE and BYSECOND are refused).",
        examples=["FREQ=MONTHLY;BYDAY=2TU", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"],
    ),
]
Cron = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=_NO_NUL,
        description="A five-field cron expression, in the reminder's time zone.",
        examples=["0 9 * * 1-5"],
    ),
]
UserIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=500)
]
Recipients = Annotated[
    Literal["owner", "team"] | UserIds,
    Field(
        description='"owner" (the owner alone), "team" (every active user of the team at each slot), '
        "or a list of user ids of the team.",
        examples=["owner", "team"],
    ),
]
SkipDates = Annotated[
    list[dt.date], Field(max_length=366, description="Local dates on which it does not fire.")
]


class Body(BaseModel):
    """What a client sends: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", regex_engine="python-re")


class Command(Body):
    pass


class ActorCommand(Command):
    """A command someone gives: the actor is who, and the policy decides whether they may."""

    actor: Actor


@dataclass(frozen=True, slots=True)
class HeldClaim:
    delivery_id: str
    token: str


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """One attempt of a claimed delivery, as the worker saw it."""

    delivery_id: str
    token: str
    attempt: Attempt
    transient: bool = False
    retry_after: float | None = None


def _null_only_where_allowed(schema: dict[str, Any], model: type[Any]) -> None:
    nullable: frozenset[str] = getattr(model, "nullable", frozenset())
    for name, prop in schema.get("properties", {}).items():
        if name in nullable:
            continue
        prop.pop("default", None)
        options = [option for option in prop.pop("anyOf", []) if option.get("type") != "null"]
        if len(options) == 1:
            prop.update(options[0])
        elif options:
            prop["anyOf"] = options


class Patch(BaseModel):
    """A partial update: only the fields a caller sent count; null is refused unless a field allows it."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", regex_engine="python-re", json_schema_extra=_null_only_where_allowed
    )
    # Fields whose type admits null. The others default to an unvalidated None that only means
    # "not sent": a null the caller sends fails their type check.
    nullable: ClassVar[frozenset[str]] = frozenset()

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class NewUser(Body):
    name: Name
    email: Email
    role: Role = Role.MEMBER
    timezone: Timezone = Field(default="UTC", description="New reminders of this user default to it.")
    active: bool = True
    quiet_hours: QuietHoursIn | None = None


class CreateUser(NewUser, ActorCommand):
    pass


_UNSENT: Any = None


class UserPatch(Patch):
    nullable: ClassVar[frozenset[str]] = frozenset({"quiet_hours"})

    quiet_hours: QuietHoursIn | None = None
    name: Name = _UNSENT
    email: Email = _UNSENT
    role: Role = _UNSENT
    timezone: Timezone = _UNSENT
    active: bool = _UNSENT


class UpdateUser(ActorCommand):
    user_id: Id
    changes: UserPatch


class DeleteUser(ActorCommand):
    user_id: Id


class NewSchedule(Body):
    """When a reminder fires and for whom: the fields a schedule preview takes, and a new reminder too."""

    owner_id: Id | None = Field(default=None, description="Defaults to the caller.")
    time_of_day: TimeOfDay | None = Field(default=None, description="Required, except with cron.")
    frequency: Frequency
    weekdays: list[Weekday] = Field(default_factory=list, max_length=7, json_schema_extra=_each_day_once)
    date: dt.date | None = None
    timezone: Timezone | None = Field(default=None, description="Defaults to the owner's time zone.")
    rrule: RRule | None = None
    cron: Cron | None = None
    starts_on: dt.date | None = Field(
        default=None, description="The first local date (for rrule: what COUNT and INTERVAL count from)."
    )
    ends_on: dt.date | None = Field(default=None, description="The last local date, inclusive.")
    skip_dates: SkipDates = Field(default_factory=list)
    recipients: Recipients = "owner"
    local_time: LocalTime = Field(
        default=LocalTime.REMINDER,
        description='"recipient": time_of_day in each recipient\'s own time zone.',
    )


class NewReminder(NewSchedule):
    title: Title
    message: Message
    channel: ChannelName = "log"
    target: Target | None = None
    active: bool = True
    repeat_until_ack: RepeatIn | None = None


class CreateReminder(NewReminder, ActorCommand):
    pass


class ReminderPatch(Patch):
    """Changes to a reminder: a field not sent keeps its value. A new frequency clears the date of a
    once reminder and the weekdays of a weekly one; changing to weekly needs weekdays. A null date
    means the next occurrence of time_of_day."""

    nullable: ClassVar[frozenset[str]] = frozenset(
        {"target", "date", "rrule", "cron", "starts_on", "ends_on", "repeat_until_ack", "time_of_day"}
    )

    title: Title = _UNSENT
    message: Message = _UNSENT
    channel: ChannelName = _UNSENT
    target: Target | None = None
    time_of_day: TimeOfDay | None = None
    frequency: Frequency = _UNSENT
    weekdays: list[Weekday] = Field(default=_UNSENT, max_length=7, json_schema_extra=_each_day_once)
    date: dt.date | None = None
    timezone: Timezone = _UNSENT
    active: bool = _UNSENT
    rrule: RRule | None = None
    cron: Cron | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    skip_dates: SkipDates = _UNSENT
    recipients: Recipients = _UNSENT
    local_time: LocalTime = _UNSENT
    repeat_until_ack: RepeatIn | None = None


class UpdateReminder(ActorCommand):
    reminder_id: Id
    changes: ReminderPatch


class DeleteReminder(ActorCommand):
    reminder_id: Id


class SendReminderNow(ActorCommand):
    reminder_id: Id


class NewSnooze(Body):
    """Snooze for `minutes`, or until a moment at most 7 days ahead; exactly one of the two."""

    minutes: Minutes | None = None
    until: AwareDatetime | None = Field(default=None, examples=["2026-12-01T09:00:00+01:00"])


class SnoozeDelivery(NewSnooze, ActorCommand):
    delivery_id: Id


class AcknowledgeDelivery(ActorCommand):
    delivery_id: Id


class FollowActionLink(Command):
    """Act through a signed link from a message: the link is the permission, used once.
    A snooze link may say for how long (default 10 minutes)."""

    token: Annotated[str, Field(min_length=1, max_length=1000)]
    minutes: Minutes | None = None


# The web app's sign-in: the key, a link's token and a session's token are secrets, kept out of reprs.
Secret = Annotated[str, Field(min_length=1, max_length=1000, repr=False)]


class StartWebSession(Command):
    """Sign in to the web app with an API key; the cookie then holds a session token, never the key."""

    api_key: Secret


class SendSignInLinks(Command):
    """Mail a one-time sign-in link to each active user with this address, in whichever team; the
    answer is the same whether there is one, so it tells nobody who has an account."""

    email: Email
    # Where the web app is reached, without a trailing slash: the links point there.
    base_url: Annotated[str, Field(min_length=1, max_length=2000, pattern=_NO_NUL)]


class RedeemSignInLink(Command):
    """Sign in with an emailed link: it works once, within its lifetime."""

    token: Secret


class EndWebSession(Command):
    """Sign out: the session stops working at once; ending it again changes nothing."""

    token: Secret


class NewKey(Body):
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=_NOT_BLANK)]


class CreateApiKey(NewKey, ActorCommand):
    user_id: Id


class RevokeApiKey(ActorCommand):
    key_id: Id


class RotateWebhookSecret(ActorCommand):
    """A new signing secret for the actor's team; the old one keeps signing for a day."""


class CreateTeam(ActorCommand):
    """A team with its first admin and an API key for them (the operator's command line)."""

    actor: Actor = SYSTEM
    name: Name
    admin_name: Name
    admin_email: Email
    webhook_secret: str | None = None


class StartFirstTeam(ActorCommand):
    """On first start: the default team and an admin with a key, unless the store already has an admin."""

    actor: Actor = SYSTEM
    webhook_secret: str | None = None


class CheckDueReminders(Command):
    now: AwareDatetime


class RetryDelivery(ActorCommand):
    delivery_id: Id


class ClaimDeliveries(Command):
    """Take up to `limit` due deliveries for `worker` to send, each for `lease_seconds`."""

    worker: Id
    limit: int = Field(ge=1)
    lease_seconds: float = Field(gt=0)


class RecordOutcomes(Command):
    """The attempts a worker made, each recorded only if its claim is still held."""

    outcomes: list[AttemptOutcome]


class ReleaseClaims(Command):
    """Give claims back unsent, due again after `delay_seconds`; `reason` says why (for metrics)."""

    claims: list[HeldClaim]
    delay_seconds: float = Field(0.0, ge=0)
    reason: str


class ExpireLeases(Command):
    """Put deliveries whose claim outlived its lease back in the queue (at most `limit`)."""

    limit: int = Field(ge=1)


class PruneDeliveries(Command):
    """Delete up to `limit` finished deliveries created before `before`, up to `limit` records
    of action links used before `links_used_before` (those links have expired since), and up to
    `limit` each of the web sessions and sign-in links that ended or expired before `sign_ins_before`."""

    before: AwareDatetime
    limit: int = Field(ge=1)
    links_used_before: AwareDatetime | None = None
    sign_ins_before: AwareDatetime | None = None
