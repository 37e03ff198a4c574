"""From a local wall-clock time to the instant it stands for, with the daylight-saving rules decided once:

- a wall-clock time that does not exist (a spring-forward gap) fires at the first valid instant
  after the gap, the moment the clocks jump;
- a wall-clock time that occurs twice (a fall-back overlap) fires once, at its first occurrence.

The mapping never goes backwards: a later wall-clock time never stands for an earlier instant, so
occurrences computed in local time and mapped here stay in order (several may share one instant).
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.errors import InvalidSchedule


def require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes in the domain must be timezone-aware")


def resolve_local(day: dt.date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant the wall-clock time `at` on `day` stands for, with the rules above."""
    return resolve_wall(datetime.combine(day, at), zone)


def resolve_wall(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant a naive local date and time stands for, with the rules above."""
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
