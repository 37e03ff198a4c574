"""The Schedule value object: a local wall-clock time, a frequency and an IANA zone.

Daylight saving is decided once, here:
- a wall-clock time that does not exist on a spring-forward day fires at the first valid
  instant after the gap (the moment the clocks jump);
- a wall-clock time that occurs twice on a fall-back day fires once, at its first occurrence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import Enum, StrEnum
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from domain.errors import InvalidSchedule, quoted

# fullmatch and ASCII digits: `$` would let a trailing newline through and `\d` any Unicode digit.
_TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?")


class Keep(Enum):
    """Marks a field a schedule revision leaves as it is (None is a value there: "no date")."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


class Frequency(StrEnum):
    ONCE = "once"
    DAILY = "daily"
    WEEKLY = "weekly"


def parse_time_of_day(value: str) -> time:
    match = _TIME_OF_DAY.fullmatch(value)
    if match is None:
        raise InvalidSchedule("time_of_day", "time_of_day must be HH:MM or HH:MM:SS (24-hour)")
    hours, minutes, seconds = match.groups()
    return time(int(hours), int(minutes), int(seconds or 0))


# Files of the zone database that name no place, though ZoneInfo may load them: Factory (a
# placeholder), localtime (the machine's own zone), posixrules (defaults for POSIX TZ strings), and
# the copies of the whole database under posix/ and right/ (the latter counting leap seconds).
_NOT_PLACES = frozenset({"Factory", "localtime", "posixrules"})
_COPIES = ("posix/", "right/")


@cache
def time_zone_names() -> frozenset[str]:
    """The IANA time zone names a schedule accepts: the ones the API documents, and no others."""
    return frozenset(
        name for name in available_timezones() if name not in _NOT_PLACES and not name.startswith(_COPIES)
    )


def check_zone_name(name: str) -> None:
    """InvalidSchedule unless `name` is one of time_zone_names()."""
    if name not in time_zone_names():
        raise InvalidSchedule("timezone", f"unknown time zone {quoted(name)}")


def _open_zone(name: str) -> ZoneInfo:
    # Lenient on purpose: a schedule stored before the list above narrowed must still load.
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule("timezone", f"unknown time zone {quoted(name)}") from None


def check_timezone(name: str) -> str:
    """The name itself, once known to be a time zone this service accepts."""
    check_zone_name(name)
    return name


def require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes in the domain must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Schedule:
    time_of_day: time
    frequency: Frequency
    timezone: str = "UTC"
    weekdays: tuple[int, ...] = ()
    date: dt.date | None = None

    def __post_init__(self) -> None:
        _open_zone(self.timezone)
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

    @classmethod
    def build(
        cls,
        *,
        time_of_day: str,
        frequency: Frequency,
        timezone: str = "UTC",
        weekdays: Sequence[int] = (),
        on_date: dt.date | None = None,
        now: datetime,
    ) -> Schedule:
        """Parse and validate; a once schedule without a date takes the next occurrence after `now`."""
        check_zone_name(timezone)
        return cls._assemble(parse_time_of_day(time_of_day), frequency, timezone, weekdays, on_date, now)

    def revise(
        self,
        *,
        time_of_day: str | Keep = KEEP,
        frequency: Frequency | Keep = KEEP,
        timezone: str | Keep = KEEP,
        weekdays: Sequence[int] | Keep = KEEP,
        on_date: dt.date | Keep | None = KEEP,
        now: datetime,
    ) -> Schedule:
        """This schedule with the given fields changed and every other one kept.

        A new frequency clears what only the old one used (the date of a once schedule, the
        weekdays of a weekly one); what it needs and this schedule cannot give must come with it:
        weekdays for weekly. A once schedule without a date takes the next occurrence, as in `build`.
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
            self.time_of_day if isinstance(time_of_day, Keep) else parse_time_of_day(time_of_day),
            new_frequency,
            self.timezone if isinstance(timezone, Keep) else timezone,
            weekdays,
            on_date,
            now,
        )

    @classmethod
    def _assemble(
        cls,
        at: time,
        frequency: Frequency,
        timezone: str,
        weekdays: Sequence[int],
        on_date: dt.date | None,
        now: datetime,
    ) -> Schedule:
        if len(set(weekdays)) != len(weekdays):
            raise InvalidSchedule("weekdays", "weekdays must not repeat a day")
        zone = _open_zone(timezone)
        if frequency is Frequency.ONCE and on_date is None:
            today = now.astimezone(zone).date()
            first = _resolve_local(today, at, zone)
            on_date = today if first > now else today + timedelta(days=1)
        return cls(at, frequency, timezone, tuple(sorted(set(weekdays))), on_date)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def next_occurrence(self, after: datetime) -> datetime | None:
        """The first occurrence strictly after `after`, in UTC; None once a once-schedule has passed."""
        require_aware(after)
        zone = self.zone
        if self.frequency is Frequency.ONCE:
            assert self.date is not None  # guaranteed by __post_init__
            only = _resolve_local(self.date, self.time_of_day, zone)
            return only if only > after else None
        # Start a day early: a gap can move an occurrence of the previous local day past `after`.
        day = after.astimezone(zone).date() - timedelta(days=1)
        for offset in range(9):
            candidate_day = day + timedelta(days=offset)
            if self.frequency is Frequency.WEEKLY and candidate_day.weekday() not in self.weekdays:
                continue
            candidate = _resolve_local(candidate_day, self.time_of_day, zone)
            if candidate > after:
                return candidate
        raise AssertionError("a daily or weekly schedule always has an occurrence within 9 days")

    def next_unsent_occurrence(self, after: datetime, *, last_slot: datetime | None) -> datetime | None:
        """Like `next_occurrence`, but a daily or weekly schedule skips the local date of `last_slot`
        (the newest slot already sent): it is sent at most once per local date, however it is moved.

        A once schedule is a new one-off whenever it is set, so `last_slot` does not bind it.
        """
        upcoming = self.next_occurrence(after)
        if upcoming is None or last_slot is None or self.frequency is Frequency.ONCE:
            return upcoming
        zone = self.zone
        if upcoming.astimezone(zone).date() == last_slot.astimezone(zone).date():
            # At most one occurrence per local date (see the daylight-saving rules above).
            return self.next_occurrence(upcoming)
        return upcoming


def _resolve_local(day: dt.date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant a local wall-clock time stands for, with the DST rules above."""
    wall = datetime.combine(day, at)
    try:
        first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    except OverflowError:
        raise InvalidSchedule("date", "the date is out of range") from None
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first  # exists; fold=0 is the first of two occurrences on a fall-back day
    return _end_of_gap(wall, zone)


def _end_of_gap(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clocks jump over `wall`: the first valid instant after the gap."""
    # fold=1 maps a missing time with the offset from before the jump, fold=0 with the one after,
    # so the jump lies between them; bisect to the second.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    low, high = min(low, high), max(low, high)
    before = low.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)
