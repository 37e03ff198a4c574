"""Quiet hours: the part of a person's day (in their own time zone) when nothing should reach them.

A window starts at `start` on one of its `weekdays` and ends at `end`, which is exclusive; an `end`
at or before `start` ends on the next local day (22:00 to 07:00 runs through the night). A delivery
whose slot falls inside a window waits until the window ends; nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.errors import InvalidInput
from domain.schedule import parse_time_of_day
from domain.wall_clock import require_aware, resolve_local

EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time
    end: time
    weekdays: tuple[int, ...] = EVERY_DAY

    @classmethod
    def build(cls, *, start: str, end: str, weekdays: tuple[int, ...] | None = None) -> QuietHours:
        days = EVERY_DAY if weekdays is None else tuple(sorted(set(weekdays)))
        if weekdays is not None and len(days) != len(weekdays):
            # As for a schedule's weekdays (and as the API documents): a repeat is a mistake to point out.
            raise InvalidInput("quiet_hours.weekdays", "quiet_hours.weekdays must not repeat a day")
        if not days:
            raise InvalidInput("quiet_hours.weekdays", "quiet_hours.weekdays needs at least one day")
        if any(day < 0 or day > 6 for day in days):
            raise InvalidInput("quiet_hours.weekdays", "quiet_hours.weekdays are 0 (Monday) to 6 (Sunday)")
        begins = _time("quiet_hours.start", start)
        ends = _time("quiet_hours.end", end)
        if begins == ends:
            raise InvalidInput("quiet_hours.end", "quiet_hours.end must differ from quiet_hours.start")
        return cls(begins, ends, days)

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "weekdays": list(self.weekdays),
        }

    def ends_after(self, moment: datetime, zone: ZoneInfo) -> datetime | None:
        """When the window holding `moment` ends (UTC), or None when `moment` is not in quiet hours.

        Windows are laid on local days, so "22:00 to 07:00" keeps meaning that across daylight
        saving; a start or end that falls in a spring-forward gap counts from the jump.
        """
        require_aware(moment)
        local_day = moment.astimezone(zone).date()
        # A window that began yesterday evening may still hold `moment`.
        for day in (local_day - timedelta(days=1), local_day):
            if day.weekday() not in self.weekdays:
                continue
            begins = resolve_local(day, self.start, zone)
            end_day = day if self.end > self.start else day + timedelta(days=1)
            ends = resolve_local(end_day, self.end, zone)
            if begins <= moment < ends:
                return ends.astimezone(UTC)
        return None


def _time(field: str, value: str) -> time:
    try:
        return parse_time_of_day(value)
    except InvalidInput:
        raise InvalidInput(field, f"{field} must be HH:MM, for example 22:00") from None


def quiet_hours_from(data: dict[str, object] | None) -> QuietHours | None:
    """The stored form back into the value (None: no quiet hours)."""
    if data is None:
        return None
    weekdays = data.get("weekdays")
    return QuietHours.build(
        start=str(data["start"]),
        end=str(data["end"]),
        weekdays=tuple(int(day) for day in weekdays) if isinstance(weekdays, list) else None,
    )
