"""Why a schedule has no slot to come, said in words and pinned on the field a caller should change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from domain.errors import InvalidSchedule, quoted
from domain.frequency import Frequency
from domain.recurrence import HORIZON_YEARS
from domain.rule_text import check_rule
from domain.wall_clock import resolve_wall

if TYPE_CHECKING:
    from domain.schedule import Schedule

ONCE_IN_THE_PAST = (
    "a once reminder must be scheduled in the future; send a date and time_of_day still to come"
)
_NONE_TO_COME = "the schedule has no future occurrence"


def no_future_occurrence(schedule: Schedule, now: datetime) -> InvalidSchedule:
    """The error for a schedule with no slot after `now`: its rule is over (or never matches), or its
    ends_on or skip_dates leave nothing of it."""
    unbounded = replace(schedule, ends_on=None, skip_dates=())
    upcoming = unbounded.next_occurrence(now)
    if upcoming is None:
        return _rule_over(schedule, now)
    day = upcoming.astimezone(schedule.zone).date()
    if schedule.ends_on is not None and schedule.ends_on < day:
        message = f"ends_on ({schedule.ends_on}) is before the next occurrence ({day}): {_NONE_TO_COME}"
        return InvalidSchedule("ends_on", message)
    message = f"every occurrence to come falls on one of skip_dates: {_NONE_TO_COME}"
    return InvalidSchedule("skip_dates", message)


def _rule_over(schedule: Schedule, now: datetime) -> InvalidSchedule:
    if schedule.frequency is Frequency.ONCE:
        assert schedule.date is not None
        if schedule.starts_on is not None and schedule.date < schedule.starts_on:
            return InvalidSchedule("starts_on", f"starts_on is after the schedule's date: {_NONE_TO_COME}")
        return InvalidSchedule("date", ONCE_IN_THE_PAST)
    if schedule.frequency is Frequency.CRON:
        assert schedule.cron is not None
        message = f"cron {quoted(schedule.cron)} has no future occurrence: no time to come matches it"
        return InvalidSchedule("cron", message)
    if schedule.frequency is Frequency.RRULE:
        assert schedule.rrule is not None
        return InvalidSchedule("rrule", _rrule_over(schedule, now))
    return InvalidSchedule("frequency", _NONE_TO_COME)  # daily and weekly never end by themselves


def _rrule_over(schedule: Schedule, now: datetime) -> str:
    assert schedule.rrule is not None
    rule = check_rule(schedule.rrule)
    if rule.until_utc is not None and rule.until_utc <= now:
        return "the rrule's UNTIL is in the past: the rule has no future occurrence"
    if rule.until_local is not None:
        until = resolve_wall(rule.until_local.replace(microsecond=0), schedule.zone)
        if until <= now:
            return "the rrule's UNTIL is in the past: the rule has no future occurrence"
    if rule.count is not None and schedule.starts_on is not None:
        before_start = datetime.combine(schedule.starts_on - timedelta(days=2), time.min, tzinfo=UTC)
        if replace(schedule, ends_on=None, skip_dates=()).next_occurrence(before_start) is not None:
            return f"all {rule.count} occurrences of the rrule (its COUNT) are in the past"
    if rule.until_utc is not None or rule.until_local is not None:
        return "no date between now and the rrule's UNTIL matches it: the rule has no future occurrence"
    return f"no date to come matches the rrule within {HORIZON_YEARS} years: it has no future occurrence"
