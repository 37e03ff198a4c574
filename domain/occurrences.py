"""A schedule's slots in order: its rule's local times, within its first and last day, mapped to instants.

Each kind of schedule gives local (naive) wall-clock times in order; here they are kept to starts_on and
ends_on, marked when they fall on skip_dates, and mapped to instants by domain.wall_clock. That mapping
never goes backwards, so the first local times that map strictly after the moment asked about are the
next slots, and local times that map to an instant already given (several times in one gap) are dropped.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from domain.cron_rule import cron_walls
from domain.frequency import Frequency
from domain.recurrence import recurrence
from domain.rule_text import check_rule
from domain.wall_clock import require_aware, resolve_wall

if TYPE_CHECKING:
    from domain.schedule import Schedule

_DAY = timedelta(days=1)


def walk(schedule: Schedule, after: datetime, *, listing_skipped: bool) -> Iterator[tuple[datetime, bool]]:
    """(instant, skipped) for each slot strictly after `after`, in order, no instant twice; slots on
    skip_dates only when `listing_skipped`. Ends with the series."""
    require_aware(after)
    zone = schedule.zone
    begin = after.astimezone(zone).replace(tzinfo=None)
    if schedule.frequency is not Frequency.CRON:
        # A day early, as a gap may move the previous local day's time past `after`; the instants
        # are filtered below. Cron, which may fire every minute, starts on time.
        begin -= _DAY
    first_day, last_day = schedule.starts_on, schedule.ends_on
    if first_day is not None:
        begin = max(begin, datetime.combine(first_day, time.min))
    until = check_rule(schedule.rrule).until_utc if schedule.rrule is not None else None
    last = after
    while True:
        resume: datetime | None = None
        for wall in _walls(schedule, begin):
            day = wall.date()
            if last_day is not None and day > last_day:
                return
            if first_day is not None and day < first_day:
                continue
            skipped = _skips(schedule.skip_dates, day)
            if skipped and not listing_skipped:
                if schedule.frequency is Frequency.CRON:  # many times a day: go on from the next day
                    resume = datetime.combine(day + _DAY, time.min)
                    break
                continue
            at = resolve_wall(wall, zone)
            if until is not None and at > until:
                return
            if at > last:
                last = at
                yield at, skipped
        if resume is None:
            return
        begin = resume


def _walls(schedule: Schedule, begin: datetime) -> Iterator[datetime]:
    """The local (naive) times the schedule's rule gives from about `begin` on, in order."""
    if schedule.frequency is Frequency.CRON:
        assert schedule.cron is not None  # guaranteed by Schedule.__post_init__
        return cron_walls(schedule.cron, begin)
    at = schedule.time_of_day
    assert at is not None  # guaranteed by Schedule.__post_init__
    if schedule.frequency is Frequency.RRULE:
        assert schedule.rrule is not None
        assert schedule.starts_on is not None
        return recurrence(schedule.rrule, schedule.starts_on, at).walls(begin)
    if schedule.frequency is Frequency.ONCE:
        assert schedule.date is not None
        return iter((datetime.combine(schedule.date, at),))
    return _days(begin.date(), at, schedule.weekdays)


def _days(first: dt.date, at: time, weekdays: tuple[int, ...]) -> Iterator[datetime]:
    """Every day from `first` on at `at`, or only those on `weekdays` when there are some."""
    day = first
    while day < dt.date.max:
        if not weekdays or day.weekday() in weekdays:
            yield datetime.combine(day, at)
        day += _DAY


def _skips(skip_dates: tuple[dt.date, ...], day: dt.date) -> bool:
    if not skip_dates:
        return False
    index = bisect_left(skip_dates, day)
    return index < len(skip_dates) and skip_dates[index] == day
