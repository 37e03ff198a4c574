"""Commands: what a caller asks the service to do, in the imperative. Frozen; unknown fields are refused."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar
from zoneinfo import available_timezones

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from domain.schedule import Frequency

# The schemas say what the domain accepts, so a client can validate before sending.
_NOT_BLANK = r"\S"
_TEMPLATE = r"^(?=[\s\S]*\S)(?:[^{}]|\{\{|\}\}|\{(?:owner_name|title|scheduled_for_local|timezone|date)\})*$"
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=_NOT_BLANK)]
Email = Annotated[str, Field(min_length=3, max_length=254, json_schema_extra={"format": "email"})]
Title = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=_TEMPLATE,
        description="Text with optional placeholders {owner_name}, {title}, {scheduled_for_local}, "
        "{timezone}, {date}; {{ and }} stand for literal braces.",
    ),
]
Message = Annotated[str, Field(min_length=1, max_length=4000, pattern=_TEMPLATE)]
ChannelName = Annotated[str, Field(min_length=1, max_length=50)]
Target = Annotated[str, Field(min_length=1, max_length=2000)]
TimeOfDay = Annotated[
    str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", examples=["09:30", "17:45:00"])
]


def _list_time_zones(schema: dict[str, Any]) -> None:
    # Evaluated when the OpenAPI document is built, never at import time.
    schema["enum"] = sorted(available_timezones())


Timezone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        examples=["UTC", "Europe/Berlin"],
        description="An IANA time zone name.",
        json_schema_extra=_list_time_zones,
    ),
]
Weekday = Annotated[int, Field(ge=0, le=6, description="0=Monday .. 6=Sunday")]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", regex_engine="python-re")


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
    nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        # Defaults are not validated, so this sees only a null the caller sent.
        if value is None and info.field_name not in cls.nullable:
            raise ValueError("must not be null")
        return value

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class CreateUser(Command):
    name: Name
    email: Email
    active: bool = True


class UserPatch(Patch):
    name: Name | None = None
    email: Email | None = None
    active: bool | None = None


class UpdateUser(Command):
    user_id: Id
    changes: UserPatch


class DeleteUser(Command):
    user_id: Id


class CreateReminder(Command):
    owner_id: Id
    title: Title
    message: Message
    channel: ChannelName = "log"
    target: Target | None = None
    time_of_day: TimeOfDay
    frequency: Frequency
    weekdays: list[Weekday] = Field(default_factory=list, max_length=7)
    date: dt.date | None = None
    timezone: Timezone = "UTC"
    active: bool = True


class ReminderPatch(Patch):
    nullable: ClassVar[frozenset[str]] = frozenset({"target", "date"})

    title: Title | None = None
    message: Message | None = None
    channel: ChannelName | None = None
    target: Target | None = None
    time_of_day: TimeOfDay | None = None
    frequency: Frequency | None = None
    weekdays: list[Weekday] | None = Field(default=None, max_length=7)
    date: dt.date | None = None
    timezone: Timezone | None = None
    active: bool | None = None


class UpdateReminder(Command):
    reminder_id: Id
    changes: ReminderPatch


class DeleteReminder(Command):
    reminder_id: Id


class SendReminderNow(Command):
    reminder_id: Id


class CheckDueReminders(Command):
    now: AwareDatetime


class DeliverNotification(Command):
    delivery_id: Id


class RetryDelivery(Command):
    delivery_id: Id
