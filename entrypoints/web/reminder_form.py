"""The reminder form's fields, and the API's bodies they make: a new reminder, the changes to one, or
the schedule a preview shows.

The form keeps every field as typed, so a refused post shows the person what they sent. Only the
fields the chosen frequency uses go into a body: a date left in a hidden block of a daily reminder
is not sent, and so refused by nothing. An edit sends only what differs from the reminder, so the
API's rules about a change (changing to weekly needs weekdays) speak in their own words.

A browser posts a textarea's line breaks as CR LF, and the API refuses a carriage return in a message:
the form reads every line break of the message as a plain newline, so a multi-line message is taken,
and an edit that leaves it alone does not send it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import astuple, dataclass, fields, replace
from typing import Any, Final

from starlette.datastructures import FormData

from application.commands import NewReminder, NewSchedule, ReminderPatch
from domain.audience import LocalTime
from domain.redaction import redact
from domain.reminder import Reminder
from entrypoints.web.forms import WHOLE, Problems, text, texts

FREQUENCIES: Final = (
    ("once", "Once"),
    ("daily", "Daily"),
    ("weekly", "Weekly"),
    ("rrule", "Calendar rule (RRULE)"),
    ("cron", "Cron"),
)
# The API's weekday numbers (0 is Monday), with their names.
WEEKDAYS: Final = tuple(
    enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))
)
RECIPIENT_CHOICES: Final = (("owner", "Only me"), ("users", "Some members"), ("team", "The whole team"))
# The schedule fields each frequency uses; every frequency also takes these.
USES: Final = {
    "once": ("date", "time_of_day"),
    "daily": ("time_of_day",),
    "weekly": ("weekdays", "time_of_day"),
    "rrule": ("rrule", "time_of_day"),
    "cron": ("cron",),
}
_EVERY_FREQUENCY: Final = ("timezone", "starts_on", "ends_on")
_TEXTS: Final = ("title", "message", "channel")
# The API's fields the page shows a message beside, in the form's order; a problem with any other
# field is the whole form's.
SHOWN: Final = (
    *("title", "message", "channel", "target", "frequency", "date", "time_of_day", "weekdays"),
    *("rrule", "cron", "timezone", "starts_on", "ends_on", "recipients", "local_time", "active"),
)
_SECONDS_ZERO = re.compile(r"^(\d\d:\d\d):00$")
_LINE_BREAK = re.compile(r"\r\n?")


_FINGERPRINT_LENGTH: Final = 32


@dataclass(frozen=True, slots=True)
class ReminderForm:
    """What the form holds, as text; checkboxes as the values checked."""

    title: str = ""
    message: str = ""
    channel: str = "log"
    target: str = ""
    frequency: str = "daily"
    date: str = ""
    time_of_day: str = "09:00"
    weekdays: tuple[str, ...] = ()
    timezone: str = "UTC"
    rrule: str = ""
    cron: str = ""
    starts_on: str = ""
    ends_on: str = ""
    recipients_choice: str = "owner"
    recipient_ids: tuple[str, ...] = ()
    local_time: bool = False
    active: bool = True
    # The reminder's owner, when editing: a preview shows their slots, not the viewer's.
    owner_id: str = ""
    # What the edit form showed, as one digest (`fingerprint`): a save refuses to undo a change to
    # these fields made since. Not the aggregate's version: each firing bumps that.
    version: str = ""

    @classmethod
    def read(cls, data: FormData) -> ReminderForm:
        values: dict[str, Any] = {}
        for field in fields(cls):
            if field.name in ("weekdays", "recipient_ids"):
                values[field.name] = tuple(texts(data, field.name))
            elif field.name in ("local_time", "active"):
                values[field.name] = field.name in data
            elif field.name in ("title", "message", "target"):
                raw = data.get(field.name)
                typed = raw if isinstance(raw, str) else ""  # typed text, kept whole
                values[field.name] = _LINE_BREAK.sub("\n", typed) if field.name == "message" else typed
            else:
                values[field.name] = text(data, field.name)
        return cls(**values)

    @classmethod
    def of(cls, reminder: Reminder) -> ReminderForm:
        """The form filled with a reminder, its target's secrets masked as the API shows it."""
        schedule = reminder.schedule
        recipients = reminder.recipients
        return cls(
            title=reminder.title,
            message=reminder.message,
            channel=reminder.channel,
            target=redact(reminder.target) if reminder.target else "",
            frequency=schedule.frequency.value,
            date=_iso(schedule.date),
            time_of_day="" if schedule.time_of_day is None else _clock(schedule.time_of_day.isoformat()),
            weekdays=tuple(str(day) for day in schedule.weekdays),
            timezone=schedule.timezone,
            rrule=schedule.rrule or "",
            cron=schedule.cron or "",
            starts_on=_iso(schedule.starts_on),
            ends_on=_iso(schedule.ends_on),
            recipients_choice=recipients.kind,
            recipient_ids=recipients.user_ids,
            local_time=reminder.local_time is LocalTime.RECIPIENT,
            active=reminder.active,
            owner_id=reminder.owner_id,
        ).fingerprinted()

    def fingerprinted(self) -> ReminderForm:
        shown = replace(self, version="")
        digest = hashlib.sha256(repr(astuple(shown)).encode()).hexdigest()[:_FINGERPRINT_LENGTH]
        return replace(self, version=digest)

    @property
    def says_what_it_showed(self) -> bool:
        """Whether the form carries a fingerprint at all (a tampered or truncated post does not)."""
        return len(self.version) == _FINGERPRINT_LENGTH and all(c in "0123456789abcdef" for c in self.version)

    @property
    def schedule_names(self) -> tuple[str, ...]:
        """The schedule fields this form's frequency uses (an unknown frequency: none but its own)."""
        return (*USES.get(self.frequency, ()), *_EVERY_FREQUENCY)

    def _value(self, name: str) -> Any:
        """A field as the API takes it: numbers for weekdays, the recipients in their one field."""
        if name == "weekdays":
            return [int(day) if day.isdecimal() and len(day) == 1 else day for day in self.weekdays]
        if name == "recipients":
            return list(self.recipient_ids) if self.recipients_choice == "users" else self.recipients_choice
        if name == "local_time":
            return LocalTime.RECIPIENT.value if self.local_time else LocalTime.REMINDER.value
        value = getattr(self, name)
        return value.strip() if name == "target" else value

    def _schedule(self) -> dict[str, Any]:
        """The schedule fields of the frequency, leaving out those left empty."""
        values: dict[str, Any] = {"frequency": self.frequency}
        for name in self.schedule_names:
            value = self._value(name)
            if value not in ("", []):
                values[name] = value
        values["recipients"] = self._value("recipients")
        values["local_time"] = self._value("local_time")
        return values

    def new_schedule(self) -> NewSchedule:
        """The body of a schedule preview; raises ValidationError as the API would."""
        owner = {"owner_id": self.owner_id} if self.owner_id else {}
        return NewSchedule.model_validate({**self._schedule(), **owner})

    def new_reminder(self) -> NewReminder:
        values = {name: self._value(name) for name in _TEXTS}
        target = self._value("target")
        if target:
            values["target"] = target
        return NewReminder.model_validate({**values, **self._schedule(), "active": self.active})

    def changes_from(self, current: ReminderForm) -> ReminderPatch:
        """The fields that differ from `current` (the reminder as a form), as the API's patch."""
        names = [*_TEXTS, "target", "frequency", *self.schedule_names, "local_time", "active"]
        changes = {
            name: self._patch_value(name)
            for name in names
            if _comparable(name, getattr(self, name)) != _comparable(name, getattr(current, name))
        }
        if self._audience != current._audience:
            changes["recipients"] = self._value("recipients")
        return ReminderPatch.model_validate(changes)

    @property
    def _audience(self) -> tuple[str, frozenset[str]]:
        """Who it reaches: members ticked in a hidden list count only when "Some members" is chosen."""
        chosen = frozenset(self.recipient_ids) if self.recipients_choice == "users" else frozenset()
        return self.recipients_choice, chosen

    def _patch_value(self, name: str) -> Any:
        value = self._value(name)
        # An emptied optional field is cleared (null); an emptied required one is refused as empty.
        if value == "" and name in ReminderPatch.nullable:
            return None
        return value


def _comparable(name: str, value: Any) -> Any:
    if name == "weekdays":
        return sorted(value)
    if name == "time_of_day":
        return _clock(value)
    if name == "target":
        return value.strip()
    return value


def _clock(value: str) -> str:
    """09:30:00 and 09:30 are the same time of day."""
    return _SECONDS_ZERO.sub(r"\1", value)


def _iso(value: object) -> str:
    return "" if value is None else str(value)


def on_page(problems: Problems) -> Problems:
    """Problems by the field the page shows them beside; any other field's are the whole form's."""
    placed: Problems = {}
    for name, messages in problems.items():
        placed.setdefault(name if name in SHOWN else WHOLE, []).extend(messages)
    order = (WHOLE, *SHOWN)
    return dict(sorted(placed.items(), key=lambda item: order.index(item[0])))
