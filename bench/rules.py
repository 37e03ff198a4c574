"""What expanding a schedule costs: µs per `Schedule.next_occurrence` for each kind of schedule, and what
that makes at 1M reminders.

    python -m bench.rules [--calls 20000] [--repeat 5]

Each case asks one schedule for its next slot after `--calls` moments spread over 14 months after
2026-01-05 (every 31 minutes), the way the scheduler asks after each slot it fires. Rules start on
`starts_on` one or ten years earlier, so each call fast-forwards over the series' past.

"Cold" cases give every call a schedule of its own (another time of day), after clearing the
domain's caches, so each call parses and sets up its rule again, as when more distinct rules are
due than the caches hold (4,096 rules; a counted rule's end is cached for 65,536); they make a tenth
of the calls. "In each recipient's zone" cases call `schedule.in_zone(zone)` first, as a reminder
in each recipient's own time does per recipient.

The table extrapolates: one call per reminder for 1M reminders (what computing every `next_run_at`
costs, e.g. creating or re-planning them all), and two per due reminder for a tick of 1,000
(`Reminder.fire` asks twice for a reminder of its owner). See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bench import machine
from domain import recurrence
from domain.schedule import Frequency, Schedule

T0 = datetime(2026, 1, 5, tzinfo=UTC)
YEAR_BACK = date(2025, 1, 6)
TEN_YEARS_BACK = date(2016, 1, 4)
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Europe/London", "Australia/Sydney")
STEP = timedelta(minutes=31)
REMINDERS = 1_000_000
DUE = 1_000
CALLS_PER_FIRE = 2


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    build: Callable[[int], Schedule]  # the schedule for call i (one for all calls unless cold)
    cold: bool = False
    zones: bool = False  # in each recipient's zone: in_zone first, a zone per call in turn


def _at(i: int) -> str:
    """A distinct time of day for each i (up to a day's seconds), for cold cases."""
    seconds = (8 * 3600 + i) % 86400
    return f"{seconds // 3600:02}:{seconds // 60 % 60:02}:{seconds % 60:02}"


def _schedule(
    frequency: Frequency,
    *,
    at: str | None = "09:00",
    zone: str = "Europe/Berlin",
    rrule: str | None = None,
    cron: str | None = None,
    weekdays: tuple[int, ...] = (),
    starts_on: date | None = None,
) -> Schedule:
    return Schedule.build(
        time_of_day=at,
        frequency=frequency,
        timezone=zone,
        weekdays=weekdays,
        rrule=rrule,
        cron=cron,
        starts_on=starts_on,
        now=T0,
    )


def _rule(text: str, starts_on: date = YEAR_BACK) -> Callable[[int], Schedule]:
    return lambda i: _schedule(Frequency.RRULE, rrule=text, starts_on=starts_on)


def _cold_rule(text: str, starts_on: date = YEAR_BACK) -> Callable[[int], Schedule]:
    return lambda i: _schedule(Frequency.RRULE, at=_at(i), rrule=text, starts_on=starts_on)


WORKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
COUNTED = "FREQ=WEEKLY;BYDAY=MO;COUNT=500"
LONG_COUNT = "FREQ=DAILY;COUNT=1000"

CASES = (
    Case("daily, UTC", lambda i: _schedule(Frequency.DAILY, zone="UTC")),
    Case("daily, Europe/Berlin", lambda i: _schedule(Frequency.DAILY)),
    Case("weekly Mon-Fri", lambda i: _schedule(Frequency.WEEKLY, weekdays=(0, 1, 2, 3, 4))),
    Case("rrule FREQ=DAILY;INTERVAL=2, from a year back", _rule("FREQ=DAILY;INTERVAL=2")),
    Case(f"rrule {WORKDAYS}, from a year back", _rule(WORKDAYS)),
    Case(f"rrule {WORKDAYS}, from ten years back", _rule(WORKDAYS, TEN_YEARS_BACK)),
    Case("rrule FREQ=MONTHLY;BYMONTHDAY=5", _rule("FREQ=MONTHLY;BYMONTHDAY=5")),
    Case(
        "rrule last workday of the month (BYSETPOS=-1)",
        _rule(WORKDAYS.replace("WEEKLY", "MONTHLY") + ";BYSETPOS=-1"),
    ),
    Case(f"rrule {COUNTED}, from a year back", _rule(COUNTED)),
    Case(f"rrule {LONG_COUNT}, from a year back", _rule(LONG_COUNT)),
    Case("cron 0 9 * * *", lambda i: _schedule(Frequency.CRON, at=None, cron="0 9 * * *")),
    Case("cron 0 9 * * 1-5", lambda i: _schedule(Frequency.CRON, at=None, cron="0 9 * * 1-5")),
    Case("cron 30 8 1 * * (monthly)", lambda i: _schedule(Frequency.CRON, at=None, cron="30 8 1 * *")),
    Case("cold: daily", lambda i: _schedule(Frequency.DAILY, at=_at(i)), cold=True),
    Case(f"cold: rrule {WORKDAYS}", _cold_rule(WORKDAYS), cold=True),
    Case(f"cold: rrule {COUNTED}", _cold_rule(COUNTED), cold=True),
    Case(f"cold: rrule {LONG_COUNT}", _cold_rule(LONG_COUNT), cold=True),
    Case("in each recipient's zone: daily", lambda i: _schedule(Frequency.DAILY), zones=True),
    Case(f"in each recipient's zone: rrule {WORKDAYS}", _rule(WORKDAYS), zones=True),
    Case(
        "in each recipient's zone: cron 0 9 * * 1-5",
        lambda i: _schedule(Frequency.CRON, at=None, cron="0 9 * * 1-5"),
        zones=True,
    ),
)


def _clear_caches() -> None:
    recurrence.recurrence.cache_clear()
    recurrence._counted_end.cache_clear()


def time_case(case: Case, calls: int) -> float:
    """Seconds per call, the schedules built beforehand (not timed)."""
    if case.cold:
        calls = max(1, calls // 10)
    afters = [T0 + STEP * i for i in range(calls)]
    schedules = [case.build(i) for i in range(calls)] if case.cold else [case.build(0)] * calls
    zones = [ZONES[i % len(ZONES)] for i in range(calls)]
    found = 0
    if case.cold:
        _clear_caches()
    began = time.perf_counter()
    if case.zones:
        for schedule, zone, after in zip(schedules, zones, afters, strict=True):
            found += schedule.in_zone(zone).next_occurrence(after) is not None
    else:
        for schedule, after in zip(schedules, afters, strict=True):
            found += schedule.next_occurrence(after) is not None
    elapsed = time.perf_counter() - began
    if found != calls:
        raise RuntimeError(f"{case.name}: {calls - found} calls found no next slot")
    return elapsed / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rules", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20_000, help="calls per case and round")
    parser.add_argument("--repeat", type=int, default=5, help="rounds per case (the median is shown)")
    args = parser.parse_args(argv)
    for name, value in machine.describe().items():
        print(f"{name}: {value}")
    print(f"calls per case and round: {args.calls:,}; rounds: {args.repeat}\n")
    print(
        f"| schedule | µs per call (median) | min | s for {REMINDERS:,} reminders "
        f"| ms per tick of {DUE:,} due ({CALLS_PER_FIRE} calls each) |"
    )
    print("|---|---:|---:|---:|---:|")
    for case in CASES:
        rounds = [time_case(case, args.calls) for _ in range(args.repeat)]
        per_call = statistics.median(rounds)
        print(
            f"| {case.name} | {per_call * 1e6:.1f} | {min(rounds) * 1e6:.1f} | {per_call * REMINDERS:.1f} "
            f"| {per_call * DUE * CALLS_PER_FIRE * 1000:.1f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
