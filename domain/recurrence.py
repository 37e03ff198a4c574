"""The local times a calendar rule gives, from its first day, found quickly whenever they are asked for.

dateutil lays a rule out period by period (days, weeks from WKST, months or years, INTERVAL apart) from
DTSTART, which is the schedule's starts_on at its time_of_day; COUNT and INTERVAL count from there.
Three things keep each question cheap, however old the series or odd the rule:

- the expansion starts on the first day of the period holding the moment asked about (a whole number
  of INTERVAL periods after the first one), not years ago at starts_on;
- dateutil checks UNTIL only against days it found, so a rule that finds none (30 February) would run
  on to the year 9999. The Gregorian calendar repeats every 400 years, weekdays included (146097 days
  are 20871 weeks), so the expansion runs 400 years times some whole number later, near the end of the
  calendar, where it must stop within a few centuries; its times are moved back;
- whether the rule's days can occur at all is checked once, over one whole 400-year cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from typing import Any

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY

from domain.rule_text import RuleText, check_rule, parse_rule

# A rule with no occurrence within about this long after the moment asked about is treated as over.
HORIZON_YEARS = 100
HORIZON = timedelta(days=36525)
_CYCLE_YEARS = 400
# Expansions start in the years 9400 to 9799: with INTERVAL within the horizon (see rule_text), the
# moment asked about and the horizon after it still fall before dateutil's last year.
_LATE_YEAR = 9400
_LAST = datetime(9999, 12, 31, 23, 59, 59)


def _moved(moment: datetime, years: int) -> datetime:
    return moment.replace(year=moment.year + years)


def _cycles_to_late(year: int) -> int:
    """Whole 400-year cycles, in years, that take `year` into the years 9400 to 9799."""
    return -((year - _LATE_YEAR) // _CYCLE_YEARS) * _CYCLE_YEARS


class Recurrence:
    """A checked rule from a given first day at a given time: the local (naive) times it gives."""

    __slots__ = ("_base", "_end", "_never", "_start", "_text")

    def __init__(self, text: RuleText, starts_on: dt.date, at: time, *, counted: bool = True) -> None:
        self._text = text
        self._start = datetime.combine(starts_on, at)
        defaults = _defaults(text, starts_on)
        parsed = parse_rule(text.text, self._start)
        self._base = parsed.replace(count=None, until=text.until_local, wkst=text.week_start, **defaults)
        self._never = _never_matches(text, tuple(sorted(defaults.items())))
        self._end: datetime | None = text.until_local
        if counted and text.count is not None:
            self._end = _counted_end(text, starts_on, at)

    def walls(self, begin: datetime) -> Iterator[datetime]:
        """The rule's local times at or after `begin`, in order, up to the horizon after it."""
        late, years = self._late_walls(begin)
        return (_moved(wall, -years) for wall in late)

    def _late_walls(self, begin: datetime) -> tuple[Iterator[datetime], int]:
        """The times `walls` gives, still `years` later (see the module's docstring), and `years`."""
        begin = max(begin, self._start)
        try:
            limit = begin + HORIZON
        except OverflowError:
            limit = _LAST
        if self._end is not None:
            limit = min(limit, self._end)
        if self._never or limit < begin:
            return iter(()), 0
        first = self._period_start(begin.date())
        start = self._start if first is None else datetime.combine(first, self._start.time())
        years = _cycles_to_late(start.year)
        try:
            late_limit = _moved(limit, years)
        except ValueError:  # past the year 9999 (the last years of the calendar): cut short there
            late_limit = _LAST
        rule = self._base.replace(dtstart=_moved(start, years), until=late_limit)
        return rule.xafter(_moved(begin, years), inc=True), years

    def _period_start(self, target: dt.date) -> dt.date | None:
        """The first day of the latest period at or before `target` that is a whole number of INTERVAL
        periods after the first one; None while `target` is still in the first period (which dateutil
        starts at DTSTART itself, not at the period's first day)."""
        start, every, frequency = self._start.date(), self._text.interval, self._text.frequency
        if frequency == DAILY:
            periods = (target - start).days // every
            return start + timedelta(days=periods * every) if periods > 0 else None
        if frequency == WEEKLY:
            week = start - timedelta(days=(start.weekday() - self._text.week_start) % 7)
            periods = (target - week).days // (7 * every)
            return week + timedelta(weeks=periods * every) if periods > 0 else None
        if frequency == MONTHLY:
            periods = ((target.year - start.year) * 12 + target.month - start.month) // every
            month = start.month - 1 + periods * every
            return dt.date(start.year + month // 12, month % 12 + 1, 1) if periods > 0 else None
        periods = (target.year - start.year) // every
        return dt.date(start.year + periods * every, 1, 1) if periods > 0 else None


def _defaults(text: RuleText, starts_on: dt.date) -> dict[str, Any]:
    """What dateutil takes from DTSTART when no part chooses the day, spelled out, so that a later
    DTSTART (see `Recurrence.walls`) keeps the first one's day, weekday and month."""
    defaults: dict[str, Any] = {}
    if text.day_from_start:
        if text.frequency in (MONTHLY, YEARLY):
            defaults["bymonthday"] = starts_on.day
        if text.frequency == WEEKLY:
            defaults["byweekday"] = starts_on.weekday()
        if text.month_from_start:
            defaults["bymonth"] = starts_on.month
    return defaults


@lru_cache(maxsize=4096)
def recurrence(text: str, starts_on: dt.date, at: time) -> Recurrence:
    """The rule `text` (already checked) from `starts_on` at `at`; cached, as the scheduler asks often."""
    return Recurrence(check_rule(text), starts_on, at)


@lru_cache(maxsize=65536)
def _counted_end(text: RuleText, starts_on: dt.date, at: time) -> datetime:
    """The local time of a counted series' last occurrence (before its start when it has none).

    Found once by expanding the series (COUNT bounds the work); with it, a counted rule is the same
    rule ending there, which `Recurrence.walls` can start anywhere.
    """
    start = datetime.combine(starts_on, at)
    assert text.count is not None
    late, years = Recurrence(text, starts_on, at, counted=False)._late_walls(start)
    last = None
    for last in islice(late, text.count):  # noqa: B007 - only the last one is wanted
        pass
    return start - timedelta(seconds=1) if last is None else _moved(last, -years)


@lru_cache(maxsize=4096)
def _never_matches(text: RuleText, defaults: tuple[tuple[str, Any], ...]) -> bool:
    """Whether no day of a whole 400-year cycle has what the rule's parts choose.

    Every day the rule gives is one of those a yearly rule with the same parts gives (the period and
    INTERVAL only narrow it, and BYSETPOS only picks among them), with the months spelled out for a
    monthly rule, so that "the second Tuesday" stays of a month. The cycle's last 400 years of the
    calendar bound dateutil's search.
    """
    if text.frequency == DAILY and text.day_from_start:
        return False  # every day, or every day of the months chosen
    months: Any = None
    if text.frequency == MONTHLY and not text.chooses_month:
        months = tuple(range(1, 13))
    cycle = datetime(10000 - _CYCLE_YEARS, 1, 1)
    parsed = parse_rule(text.text, cycle)
    overrides: dict[str, Any] = dict(defaults)
    if months is not None:
        overrides["bymonth"] = months
    probe = parsed.replace(
        freq=YEARLY, interval=1, count=None, until=None, bysetpos=None, wkst=text.week_start, **overrides
    )
    return next(iter(probe), None) is None
