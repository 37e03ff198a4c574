"""The Schedule value object: when a reminder fires, as local wall-clock times in an IANA zone.

A schedule is once, daily, weekly, an RFC 5545 rule (rrule) or a cron expression; any of them may
have a first day (starts_on), a last day (ends_on, inclusive) and local dates it skips (skip_dates).
Occurrences are computed in local time and mapped to instants with the daylight-saving rules of
domain.wall_clock: a time in a spring-forward gap fires at the jump, a repeated time fires once, at
its first occurrence; local times that map to the same instant fire once, so slots strictly increase.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from enum import Enum
from functools import lru_cache
from itertools import pairwise
from typing import Final
from zoneinfo import ZoneInfo

from domain.cron_rule import EXAMPLE as CRON_EXAMPLE
from domain.cron_rule import check_cron
from domain.errors import InvalidSchedule
from domain.frequency import Frequency
from domain.occurrences import walk
from domain.rule_text import EXAMPLE as RULE_EXAMPLE
from domain.rule_text import check_rule
from domain.schedule_ends import no_future_occurrence
from domain.time_zones import check_timezone, check_zone_name, open_zone, time_zone_names
from domain.wall_clock import require_aware
from domain.wall_clock import resolve_local as _resolve_local

__all__ = [
    "KEEP",
    "Frequency",
    "Keep",
    "Schedule",
    "Slot",
    "_resolve_local",
    "check_timezone",
    "check_zone_name",
    "parse_time_of_day",
    "require_aware",
    "time_zone_names",
]

# fullmatch and ASCII digits: `$` would let a trailing newline through and `\d` any Unicode digit.
_TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?")
MAX_SKIP_DATES = 366
_DAY = timedelta(days=1)
_CRON_SETS_THE_TIME = "time_of_day is not taken with a cron schedule: the cron expression sets the time"


class Keep(Enum):
    """Marks a field a schedule revision leaves as it is (None is a value there: "no date")."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


def parse_time_of_day(value: str) -> time:
    match = _TIME_OF_DAY.fullmatch(value)
    if match is None:
        raise InvalidSchedule("time_of_day", "time_of_day must be HH:MM or HH:MM:SS (24-hour)")
    hours, minutes, seconds = match.groups()
    return time(int(hours), int(minutes), int(seconds or 0))


def _time_for(frequency: Frequency, value: str | None) -> time | None:
    if frequency is Frequency.CRON:
        if value is not None:
            raise InvalidSchedule("time_of_day", _CRON_SETS_THE_TIME)
        return None
    if value is None:
        raise InvalidSchedule(
            "time_of_day", f"time_of_day is required when the frequency is {frequency.value}"
        )
    return parse_time_of_day(value)


@dataclass(frozen=True, slots=True)
class Slot:
    """One occurrence: the instant (UTC), the same instant on the schedule's local clock, and whether
    it falls on one of the schedule's skip_dates (listed in previews, never fired)."""

    at: datetime
    local: datetime
    skipped: bool


@dataclass(frozen=True, slots=True)
class Schedule:
    time_of_day: time | None  # None exactly for cron, whose expression sets the time
    frequency: Frequency
    timezone: str = "UTC"
    weekdays: tuple[int, ...] = ()
    date: dt.date | None = None
    rrule: str | None = None  # normalised rule parts, e.g. FREQ=MONTHLY;BYDAY=2TU
    cron: str | None = None  # five fields
    starts_on: dt.date | None = None  # always set for rrule: its DTSTART's day
    ends_on: dt.date | None = None  # inclusive, local
    skip_dates: tuple[dt.date, ...] = ()  # local; kept sorted and unique

    def __post_init__(self) -> None:
        open_zone(self.timezone)
        if self.frequency is Frequency.CRON:
            if self.time_of_day is not None:
                raise InvalidSchedule("time_of_day", _CRON_SETS_THE_TIME)
        elif self.time_of_day is None:
            message = f"time_of_day is required when the frequency is {self.frequency.value}"
            raise InvalidSchedule("time_of_day", message)
        if self.frequency is Frequency.WEEKLY:
            if not self.weekdays:
                raise InvalidSchedule("weekdays", "a weekly schedule needs at least one weekday")
            if any(day < 0 or day > 6 for day in self.weekdays):
                raise InvalidSchedule("weekdays", "weekdays are 0 (Monday) to 6 (Sunday)")
        elif self.weekdays:
            raise InvalidSchedule("weekdays", "weekdays apply to weekly schedules only")
        if self.frequency is Frequency.ONCE:
            if self.date is None:
                raise InvalidSchedule("date", "a once schedule needs a date")
        elif self.date is not None:
            raise InvalidSchedule("date", "date applies to once schedules only")
        self._check_rules()
        self._check_days()

    def _check_rules(self) -> None:
        # Normalised here, so that equal rules compare equal however they were written.
        if self.frequency is Frequency.RRULE:
            if self.rrule is None:
                raise InvalidSchedule("rrule", f"an rrule schedule needs an rrule, such as {RULE_EXAMPLE}")
            object.__setattr__(self, "rrule", check_rule(self.rrule).text)
            if self.starts_on is None:
                message = "an rrule schedule needs starts_on, the day its series starts"
                raise InvalidSchedule("starts_on", message)
        elif self.rrule is not None:
            raise InvalidSchedule("rrule", "rrule applies to rrule schedules only")
        if self.frequency is Frequency.CRON:
            if self.cron is None:
                message = f"a cron schedule needs a cron expression, such as {CRON_EXAMPLE}"
                raise InvalidSchedule("cron", message)
            object.__setattr__(self, "cron", check_cron(self.cron))
        elif self.cron is not None:
            raise InvalidSchedule("cron", "cron applies to cron schedules only")

    def _check_days(self) -> None:
        if self.starts_on is not None and self.ends_on is not None and self.ends_on < self.starts_on:
            raise InvalidSchedule("ends_on", "ends_on must not be before starts_on")
        skip_dates = self.skip_dates
        if not isinstance(skip_dates, tuple) or any(a >= b for a, b in pairwise(skip_dates)):
            skip_dates = tuple(sorted(set(skip_dates)))
            object.__setattr__(self, "skip_dates", skip_dates)
        if len(skip_dates) > MAX_SKIP_DATES:
            raise InvalidSchedule("skip_dates", f"skip_dates holds at most {MAX_SKIP_DATES} dates")

    @classmethod
    def build(
        cls,
        *,
        time_of_day: str | None,
        frequency: Frequency,
        timezone: str = "UTC",
        weekdays: Sequence[int] | None = (),
        on_date: dt.date | None = None,
        rrule: str | None = None,
        cron: str | None = None,
        starts_on: dt.date | None = None,
        ends_on: dt.date | None = None,
        skip_dates: Sequence[dt.date] | None = (),
        now: datetime,
    ) -> Schedule:
        """Parse and validate; a once schedule without a date takes the next occurrence after `now`,
        an rrule schedule without starts_on starts on the day of `now` in its zone."""
        check_zone_name(timezone)
        return cls._assemble(
            _time_for(frequency, time_of_day),
            frequency,
            timezone,
            weekdays or (),
            on_date,
            rrule,
            cron,
            starts_on,
            ends_on,
            skip_dates or (),
            now,
        )

    def revise(
        self,
        *,
        time_of_day: str | Keep | None = KEEP,
        frequency: Frequency | Keep = KEEP,
        timezone: str | Keep = KEEP,
        weekdays: Sequence[int] | Keep | None = KEEP,
        on_date: dt.date | Keep | None = KEEP,
        rrule: str | Keep | None = KEEP,
        cron: str | Keep | None = KEEP,
        starts_on: dt.date | Keep | None = KEEP,
        ends_on: dt.date | Keep | None = KEEP,
        skip_dates: Sequence[dt.date] | Keep | None = KEEP,
        now: datetime,
    ) -> Schedule:
        """This schedule with the given fields changed and every other one kept.

        A new frequency clears what only the old one used (the date of a once schedule, the
        weekdays of a weekly one, the rule of an rrule or cron one, the time of day when it
        becomes cron); what it needs and this schedule cannot give must come with it: weekdays
        for weekly, the rule for rrule and cron, time_of_day when leaving cron. starts_on,
        ends_on and skip_dates apply to every frequency and stay. A once schedule without a date
        takes the next occurrence, and an rrule one without starts_on starts today, as in `build`.
        """
        new_frequency = self.frequency if isinstance(frequency, Keep) else frequency
        switched = new_frequency != self.frequency
        if isinstance(weekdays, Keep):
            if switched and new_frequency is Frequency.WEEKLY:
                message = "weekdays are required when the frequency changes to weekly"
                raise InvalidSchedule("weekdays", message)
            weekdays = () if switched else self.weekdays
        if isinstance(on_date, Keep):
            on_date = None if switched else self.date
        if not isinstance(timezone, Keep):
            check_zone_name(timezone)
        return self._assemble(
            self._revised_time(time_of_day, new_frequency),
            new_frequency,
            self.timezone if isinstance(timezone, Keep) else timezone,
            weekdays or (),
            on_date,
            _revised_rule("rrule", rrule, self.rrule, new_frequency, switched),
            _revised_rule("cron", cron, self.cron, new_frequency, switched),
            self.starts_on if isinstance(starts_on, Keep) else starts_on,
            self.ends_on if isinstance(ends_on, Keep) else ends_on,
            self.skip_dates if isinstance(skip_dates, Keep) else skip_dates or (),
            now,
        )

    def _revised_time(self, value: str | Keep | None, frequency: Frequency) -> time | None:
        if not isinstance(value, Keep):
            return _time_for(frequency, value)
        if frequency is Frequency.CRON:
            return None  # the cron expression sets the time
        if self.time_of_day is None:
            message = f"time_of_day is required when the frequency changes to {frequency.value}"
            raise InvalidSchedule("time_of_day", message)
        return self.time_of_day

    @classmethod
    def _assemble(
        cls,
        at: time | None,
        frequency: Frequency,
        timezone: str,
        weekdays: Sequence[int],
        on_date: dt.date | None,
        rrule: str | None,
        cron: str | None,
        starts_on: dt.date | None,
        ends_on: dt.date | None,
        skip_dates: Sequence[dt.date],
        now: datetime,
    ) -> Schedule:
        if len(set(weekdays)) != len(weekdays):
            raise InvalidSchedule("weekdays", "weekdays must not repeat a day")
        zone = open_zone(timezone)
        today = now.astimezone(zone).date()
        if frequency is Frequency.ONCE and on_date is None and at is not None:
            first = _resolve_local(today, at, zone)
            on_date = today if first > now else today + _DAY
        if frequency is Frequency.RRULE and starts_on is None:
            starts_on = today
        return cls(
            at,
            frequency,
            timezone,
            tuple(sorted(set(weekdays))),
            on_date,
            rrule,
            cron,
            starts_on,
            ends_on,
            tuple(skip_dates),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def in_zone(self, timezone: str) -> Schedule:
        """The same local rule on another zone's clock (a recipient's own time). Dates and local
        times (a local UNTIL too) are read in the new zone; an UNTIL in UTC stays that instant."""
        return self if timezone == self.timezone else _in_zone(self, timezone)

    def next_occurrence(self, after: datetime) -> datetime | None:
        """The first slot that fires strictly after `after`, in UTC; None once the series is over."""
        for at, _skipped in walk(self, after, listing_skipped=False):
            return at
        return None

    def slots(self, after: datetime, *, count: int) -> list[Slot]:
        """The next `count` slots strictly after `after`, those on skip_dates included and flagged;
        fewer when the series ends first."""
        listed: list[Slot] = []
        if count < 1:
            return listed
        zone = self.zone
        for at, skipped in walk(self, after, listing_skipped=True):
            listed.append(Slot(at=at, local=at.astimezone(zone), skipped=skipped))
            if len(listed) == count:
                break
        return listed

    def require_future(self, now: datetime) -> datetime:
        """The next slot after `now`; InvalidSchedule, naming the field to change, when there is none."""
        upcoming = self.next_occurrence(now)
        if upcoming is None:
            raise no_future_occurrence(self, now)
        return upcoming

    def next_unsent_occurrence(self, after: datetime, *, last_slot: datetime | None) -> datetime | None:
        """Like `next_occurrence`, but a daily or weekly schedule skips the local date of `last_slot`
        (the newest slot already sent): it is sent at most once per local date, however it is moved.

        A once schedule is a new one-off whenever it is set, so `last_slot` does not bind it; an
        rrule or cron schedule is its rule's, which may fire more than once a day.
        """
        upcoming = self.next_occurrence(after)
        if upcoming is None or last_slot is None:
            return upcoming
        if self.frequency not in (Frequency.DAILY, Frequency.WEEKLY):
            return upcoming
        zone = self.zone
        if upcoming.astimezone(zone).date() == last_slot.astimezone(zone).date():
            # At most one occurrence per local date (see the daylight-saving rules above).
            return self.next_occurrence(upcoming)
        return upcoming


def _revised_rule(
    field: str, value: str | Keep | None, current: str | None, frequency: Frequency, switched: bool
) -> str | None:
    if not isinstance(value, Keep):
        return value
    if not switched:
        return current
    if frequency.value == field:
        raise InvalidSchedule(field, f"{field} is required when the frequency changes to {field}")
    return None  # only the old frequency used it


@lru_cache(maxsize=4096)
def _in_zone(schedule: Schedule, timezone: str) -> Schedule:
    # Cached: a team reminder asks for each recipient's zone at every firing, and building a
    # schedule checks it again.
    return replace(schedule, timezone=timezone)
