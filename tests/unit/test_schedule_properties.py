"""Properties of every kind of schedule over many IANA zones and the years 2020-2040.

The reference here is deliberately plain: the library's own full expansion in local time (dateutil from
starts_on, never fast-forwarded; cronsim; a loop over days), each local time mapped to an instant by
brute force (the first instant showing that wall-clock time, or the first whole minute after the clocks
jumped over it). The schedule must give the same slots, strictly increasing, each on its local time or
at the jump, and fire exactly once across every daylight-saving transition of those years.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from functools import cache
from itertools import islice, takewhile
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim
from dateutil.rrule import rrule, rrulestr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.recurrence import recurrence
from domain.rule_text import check_rule
from domain.schedule import Frequency, Schedule

# Half-hour and 45-minute offsets, a 30-minute DST, DST at midnight, in Ramadan, of two hours, negative
# DST, and zones that changed their rules within these years (Apia, Tehran, Mexico City, Cairo, Nuuk).
ZONES = [
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/St_Johns",
    "Europe/Berlin",
    "America/New_York",
    "Pacific/Apia",
    "Africa/Casablanca",
    "Australia/Adelaide",
    "Pacific/Chatham",
    "America/Havana",
    "America/Santiago",
    "Europe/Dublin",
    "Antarctica/Troll",
    "Asia/Tehran",
    "America/Mexico_City",
    "Africa/Cairo",
    "America/Nuuk",
    "Asia/Gaza",
    "Pacific/Kiritimati",
    "UTC",
]
FIRST_YEAR, LAST_YEAR = 2020, 2040
STEPS = 12
MINUTE = timedelta(minutes=1)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the reference --------------------------------------------------------------------------------


def wall_of(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def reference_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant whose local wall-clock time is `wall`; for a time the clocks jump over, the
    first whole minute after the jump (every transition of these years falls on a whole minute)."""
    readings = [wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    shown = [moment for moment in readings if wall_of(moment, zone) == wall]
    if shown:
        return min(shown)
    moment = min(readings).replace(second=0, microsecond=0)
    while wall_of(moment, zone) < wall:
        moment += MINUTE
    return moment


def reference_slots(
    schedule: Schedule, walls: Iterator[datetime], after: datetime, count: int
) -> list[tuple[datetime, bool]]:
    """(instant, skipped) for the first `count` slots after `after`, from all of the rule's local times."""
    zone = ZoneInfo(schedule.timezone)
    until = check_rule(schedule.rrule).until_utc if schedule.rrule else None
    after_wall = wall_of(after, zone) - timedelta(days=2)
    found: list[tuple[datetime, bool]] = []
    for wall in walls:
        if wall < after_wall or (schedule.starts_on and wall.date() < schedule.starts_on):
            continue
        if schedule.ends_on and wall.date() > schedule.ends_on:
            break
        instant = reference_instant(wall, zone)
        if until is not None and instant > until:
            break
        if instant > after and (not found or instant > found[-1][0]):
            found.append((instant, wall.date() in schedule.skip_dates))
            if len(found) == count:
                break
    return found


def rule_walls(schedule: Schedule) -> Iterator[datetime]:
    """dateutil's own expansion from starts_on, with the rule's UNTIL applied as the schedule reads it."""
    assert schedule.rrule is not None
    assert schedule.starts_on is not None
    assert schedule.time_of_day is not None
    text = check_rule(schedule.rrule)
    parts = [part for part in text.text.split(";") if not part.startswith("UNTIL=")]
    expansion = rrulestr(";".join(parts), dtstart=datetime.combine(schedule.starts_on, schedule.time_of_day))
    for wall in expansion:
        if text.until_local is not None and wall > text.until_local:
            return
        if wall.year > LAST_YEAR + 60:
            return
        yield wall


def day_walls(schedule: Schedule, first: dt.date) -> Iterator[datetime]:
    assert schedule.time_of_day is not None
    day = first
    while day.year <= LAST_YEAR + 10:
        if not schedule.weekdays or day.weekday() in schedule.weekdays:
            yield datetime.combine(day, schedule.time_of_day)
        day += timedelta(days=1)


def walk(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    while len(found) < count:
        upcoming = schedule.next_occurrence(after)
        if upcoming is None:
            break
        found.append(upcoming)
        after = upcoming
    return found


def assert_on_its_wall_clock_time(instant: datetime, wall: datetime, zone: ZoneInfo) -> None:
    """On the local time itself, at its first occurrence, or at the jump over it."""
    shown = instant.astimezone(zone)
    if shown.replace(tzinfo=None) == wall:
        assert shown.fold == 0, "a repeated time fires at its first occurrence"
    else:
        assert wall_of(instant - timedelta(seconds=1), zone) < wall < shown.replace(tzinfo=None)


# --- strategies -----------------------------------------------------------------------------------

DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
# Times around the transitions of these zones (00:00 to 04:00, and late evening) are the interesting ones.
times = st.one_of(
    st.builds(time, st.integers(0, 3), st.sampled_from([0, 15, 30, 45])),
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
)
first_days = st.dates(dt.date(FIRST_YEAR, 1, 1), dt.date(LAST_YEAR - 2, 12, 31))


@st.composite
def rule_texts(draw: st.DrawFn, first: dt.date) -> str:
    frequency = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={frequency}"]
    interval = draw(st.integers(1, 4))
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(DAYS))}")
    some_days = st.lists(st.sampled_from(DAYS), min_size=1, max_size=5, unique=True).map(",".join)
    if frequency == "DAILY":
        if draw(st.booleans()):
            parts.append(f"BYDAY={draw(some_days)}")
        if draw(st.booleans()):
            months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=4, unique=True))
            parts.append("BYMONTH=" + ",".join(map(str, months)))
    elif frequency == "WEEKLY":
        if draw(st.booleans()):
            days = draw(some_days)
            parts.append(f"BYDAY={days}")
            if draw(st.booleans()):
                most = days.count(",") + 1
                parts.append(f"BYSETPOS={draw(st.integers(-most, most).filter(bool))}")
    elif frequency == "MONTHLY":
        kind = draw(st.sampled_from(["nth", "monthday", "setpos", "plain"]))
        if kind == "nth":
            nth = draw(st.lists(st.sampled_from([1, 2, 3, 4, -1, -2]), min_size=1, max_size=2, unique=True))
            parts.append("BYDAY=" + ",".join(f"{n}{draw(st.sampled_from(DAYS))}" for n in nth))
        elif kind == "monthday":
            month_days = draw(
                st.lists(st.sampled_from([1, 2, 15, 28, 29, 30, 31, -1, -2]), min_size=1, max_size=3)
            )
            parts.append("BYMONTHDAY=" + ",".join(map(str, dict.fromkeys(month_days))))
        elif kind == "setpos":
            parts.append(f"BYDAY={draw(some_days)}")
            parts.append(f"BYSETPOS={draw(st.sampled_from([1, 2, -1, -2]))}")
    else:
        kind = draw(st.sampled_from(["monthday", "nth", "yearday", "weekno", "plain"]))
        if kind == "monthday":
            month = draw(st.integers(1, 12))
            parts.append(f"BYMONTH={month};BYMONTHDAY={draw(st.sampled_from([1, 13, 28, -1]))}")
        elif kind == "nth":
            month = draw(st.integers(1, 12))
            parts.append(
                f"BYMONTH={month};BYDAY={draw(st.sampled_from([1, 2, -1]))}{draw(st.sampled_from(DAYS))}"
            )
        elif kind == "yearday":
            parts.append(f"BYYEARDAY={draw(st.sampled_from([1, 60, 100, 200, 365, -1, -100]))}")
        elif kind == "weekno":
            parts.append(f"BYWEEKNO={draw(st.sampled_from([1, 10, 26, 52, -1]))};BYDAY={draw(some_days)}")
    ending = draw(st.sampled_from(["open", "open", "count", "until-date", "until-local", "until-utc"]))
    last = first + timedelta(days=draw(st.integers(0, 3000)))
    if ending == "count":
        parts.append(f"COUNT={draw(st.integers(1, 40))}")
    elif ending == "until-date":
        parts.append(f"UNTIL={last:%Y%m%d}")
    elif ending == "until-local":
        parts.append(f"UNTIL={last:%Y%m%d}T{draw(times):%H%M%S}")
    elif ending == "until-utc":
        parts.append(f"UNTIL={last:%Y%m%d}T{draw(times):%H%M%S}Z")
    return ";".join(parts)


@st.composite
def rule_schedules(draw: st.DrawFn) -> Schedule:
    first = draw(first_days)
    return Schedule(
        draw(times),
        Frequency.RRULE,
        draw(st.sampled_from(ZONES)),
        rrule=draw(rule_texts(first)),
        starts_on=first,
    )


def afters(first: dt.date) -> st.SearchStrategy[datetime]:
    """A moment from just before the first day to years after it, still within the years tested."""
    days = (dt.date(LAST_YEAR, 12, 31) - first).days
    return st.builds(
        lambda offset, seconds: (
            datetime.combine(first, time(), tzinfo=UTC) + timedelta(days=offset, seconds=seconds)
        ),
        st.integers(-2, days),
        st.integers(0, 86399),
    )


# --- calendar rules against dateutil's own expansion ----------------------------------------------


def takes(walls: Iterator[datetime], count: int) -> list[datetime]:
    """At most `count` of `walls`, within the years any expansion here is followed to."""
    return list(islice(takewhile(lambda wall: wall.year <= LAST_YEAR + 60, walls), count))


def begins(first: dt.date) -> st.SearchStrategy[datetime]:
    """Local moments after the first day: anywhere in 15 years, or close to where a week or a month
    begins, where a fast-forward that lost the period's alignment would show."""
    start = datetime.combine(first, time())
    monday = start - timedelta(days=first.weekday())
    return st.one_of(
        st.integers(0, 15 * 366 * 1440).map(lambda minutes: start + timedelta(minutes=minutes)),
        st.tuples(st.integers(1, 700), st.integers(-3 * 1440, 9 * 1440)).map(
            lambda week: max(start, monday + timedelta(weeks=week[0], minutes=week[1]))
        ),
        st.tuples(st.integers(1, 180), st.integers(-3 * 1440, 9 * 1440)).map(
            lambda month: max(start, _month_start(first, month[0]) + timedelta(minutes=month[1]))
        ),
    )


def _month_start(first: dt.date, months: int) -> datetime:
    index = first.month - 1 + months
    return datetime(first.year + index // 12, index % 12 + 1, 1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_forwarded_expansion_gives_exactly_the_full_expansion(data: st.DataObject) -> None:
    # In local time, before any zone: the times from any moment on equal the full expansion's from there.
    schedule = data.draw(rule_schedules())
    assert schedule.rrule is not None
    assert schedule.starts_on is not None
    assert schedule.time_of_day is not None
    first_begin = data.draw(begins(schedule.starts_on))
    checks = [first_begin + timedelta(days=day) for day in range(14)]
    full: list[datetime] = []
    for wall in takewhile(lambda wall: wall.year <= LAST_YEAR + 60, rule_walls(schedule)):
        full.append(wall)
        if sum(1 for later in full[-13:] if later >= checks[-1]) > 12:
            break
    rule = recurrence(schedule.rrule, schedule.starts_on, schedule.time_of_day)

    for begin in checks:
        assert takes(rule.walls(begin), 12) == [wall for wall in full if wall >= begin][:12], begin


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;BYSETPOS=1",
        "FREQ=WEEKLY;INTERVAL=3;WKST=SU;BYDAY=SU,TU,SA;BYSETPOS=-1",
        "FREQ=WEEKLY;INTERVAL=2",
        "FREQ=MONTHLY;INTERVAL=2",
        "FREQ=MONTHLY;INTERVAL=5;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2",
        "FREQ=YEARLY;INTERVAL=2",
        "FREQ=YEARLY;INTERVAL=3;BYWEEKNO=1;BYDAY=MO",
        "FREQ=DAILY;INTERVAL=4;BYDAY=MO,FR",
    ],
)
def test_fast_forward_from_every_day_of_several_periods(text: str) -> None:
    # Exhaustive where it is cheap: seven first days (one per weekday), and every day of the next years.
    for offset in range(7):
        first = dt.date(2021, 3, 1) + timedelta(days=offset)
        full = list(islice(rrulestr(text, dtstart=datetime.combine(first, time(9))), 400))
        rule = recurrence(text, first, time(9))
        for day in range(0, 3 * 366, 3):
            begin = datetime.combine(first + timedelta(days=day), time())
            assert takes(rule.walls(begin), 5) == [wall for wall in full if wall >= begin][:5], (first, begin)


@PROPERTY
@given(data=st.data())
def test_rule_slots_match_the_full_expansion_mapped_to_instants(data: st.DataObject) -> None:
    schedule = data.draw(rule_schedules())
    assert schedule.starts_on is not None
    after = data.draw(afters(schedule.starts_on))
    zone = ZoneInfo(schedule.timezone)

    expected = reference_slots(schedule, rule_walls(schedule), after, STEPS)
    found = walk(schedule, after, STEPS)

    assert found == [instant for instant, _ in expected]
    assert all(earlier < later for earlier, later in zip([after, *found], found, strict=False))
    if len(expected) < STEPS:
        assert schedule.next_occurrence(found[-1] if found else after) is None
    for instant, wall in zip(found, _walls_of(schedule, found), strict=True):
        assert_on_its_wall_clock_time(instant, wall, zone)


def _walls_of(schedule: Schedule, instants: list[datetime]) -> list[datetime]:
    """The rule's local time behind each instant: the latest one mapping to it."""
    zone = ZoneInfo(schedule.timezone)
    walls = []
    for instant in instants:
        shown = wall_of(instant, zone)
        if schedule.time_of_day is not None:
            candidate = datetime.combine(shown.date(), schedule.time_of_day)
            if reference_instant(candidate, zone) != instant:
                candidate -= timedelta(days=1)  # a gap across midnight moved it to the next day
            walls.append(candidate)
        else:
            walls.append(shown)
    return walls


@PROPERTY
@given(
    zone=st.sampled_from(ZONES),
    at=times,
    first=first_days,
    weekdays=st.lists(st.integers(0, 6), max_size=7, unique=True),
    skipped=st.lists(st.integers(0, 30), max_size=8),
    ends_after=st.one_of(st.none(), st.integers(0, 60)),
    data=st.data(),
)
def test_daily_and_weekly_slots_match_a_plain_loop_over_days(
    zone: str,
    at: time,
    first: dt.date,
    weekdays: list[int],
    skipped: list[int],
    ends_after: int | None,
    data: st.DataObject,
) -> None:
    after = data.draw(afters(first))
    start = wall_of(after, ZoneInfo(zone)).date()
    schedule = Schedule(
        at,
        Frequency.WEEKLY if weekdays else Frequency.DAILY,
        zone,
        tuple(sorted(weekdays)),
        starts_on=first,
        ends_on=None if ends_after is None else max(start, first) + timedelta(days=ends_after),
        skip_dates=tuple(start + timedelta(days=n) for n in skipped),
    )
    walls = day_walls(schedule, max(first, start - timedelta(days=2)))

    expected = reference_slots(schedule, walls, after, STEPS)

    assert [(slot.at, slot.skipped) for slot in schedule.slots(after, count=STEPS)] == expected
    fired = [instant for instant, skip in expected if not skip]
    assert walk(schedule, after, len(fired)) == fired


CRONS = ["*/15 * * * *", "0 * * * *", "30 2 * * *", "0 0 * * *", "45 1-3 * * 0", "0 9 * * 1-5", "0 9 L * *"]


@PROPERTY
@given(zone=st.sampled_from(ZONES), expression=st.sampled_from(CRONS), data=st.data())
def test_cron_slots_match_cronsims_local_times_mapped_to_instants(
    zone: str, expression: str, data: st.DataObject
) -> None:
    after = data.draw(afters(dt.date(FIRST_YEAR, 1, 1)))
    schedule = Schedule(None, Frequency.CRON, zone, cron=expression)
    begin = wall_of(after, ZoneInfo(zone)) - timedelta(days=2)

    expected = reference_slots(schedule, iter(CronSim(expression, begin)), after, 3 * STEPS)

    assert walk(schedule, after, 3 * STEPS) == [instant for instant, _ in expected]


# --- every daylight-saving transition of the years tested ------------------------------------------


@cache
def transitions(zone_name: str) -> list[datetime]:
    """Every instant in 2020-2040 at which the zone's offset changes (to the minute)."""
    zone = ZoneInfo(zone_name)
    found = []
    moment = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    end = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)
    step = timedelta(hours=6)
    while moment < end:
        later = moment + step
        if moment.astimezone(zone).utcoffset() != later.astimezone(zone).utcoffset():
            low, high = moment, later
            while high - low > MINUTE:
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(high)
        moment = later
    return found


NO_TRANSITIONS = ("UTC", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Kiritimati")
ZONES_WITH_TRANSITIONS = [zone for zone in ZONES if zone not in NO_TRANSITIONS]


@pytest.mark.parametrize("zone_name", ZONES_WITH_TRANSITIONS)
def test_a_daily_schedule_fires_once_per_local_day_across_every_transition(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    changes = transitions(zone_name)
    assert changes, "each of these zones changes its offset at least once in these years"
    for change in changes:
        before, after = wall_of(change - MINUTE, zone) + MINUTE, wall_of(change, zone)
        # The wall-clock times at the edges and inside the gap or the repeated span, and an hour away.
        lowest, highest = min(before, after), max(before, after)
        middle = lowest + (highest - lowest) / 2
        for wall in {lowest, middle, highest, lowest - timedelta(hours=1), highest + timedelta(hours=1)}:
            schedule = Schedule(wall.time().replace(second=0, microsecond=0), Frequency.DAILY, zone_name)
            start = datetime.combine(wall.date() - timedelta(days=2), time(), tzinfo=zone) - MINUTE
            found = walk(schedule, start, 4)
            local_days = [_day_of(schedule, instant) for instant in found]
            assert local_days == [wall.date() + timedelta(days=n - 2) for n in range(4)], (
                zone_name,
                change,
                wall,
            )
            for instant, day in zip(found, local_days, strict=True):
                assert instant == reference_instant(
                    datetime.combine(day, schedule.time_of_day or time()), zone
                )


def _day_of(schedule: Schedule, instant: datetime) -> dt.date:
    assert schedule.time_of_day is not None
    zone = ZoneInfo(schedule.timezone)
    shown = wall_of(instant, zone)
    wall = datetime.combine(shown.date(), schedule.time_of_day)
    return wall.date() if reference_instant(wall, zone) == instant else wall.date() - timedelta(days=1)


@pytest.mark.parametrize("zone_name", ZONES_WITH_TRANSITIONS)
def test_every_quarter_hour_fires_once_across_every_transition(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    schedule = Schedule(None, Frequency.CRON, zone_name, cron="*/15 * * * *")
    for change in transitions(zone_name):
        start = change - timedelta(hours=3)
        slots = schedule.slots(start, count=30)
        instants = [slot.at for slot in slots]
        assert instants == sorted(set(instants)), (zone_name, change)
        # Every quarter-hour wall-clock time of that stretch has its one slot, the skipped ones the jump.
        first_wall = wall_of(start, zone).replace(second=0, microsecond=0)
        walls = [first_wall + n * timedelta(minutes=1) for n in range(0, 24 * 60)]
        quarters = [wall for wall in walls if wall.minute % 15 == 0]
        expected = sorted({reference_instant(wall, zone) for wall in quarters})
        expected = [instant for instant in expected if instant > start][:30]
        assert instants == expected, (zone_name, change)
        for slot in slots:
            assert slot.local == slot.at.astimezone(zone)
            assert slot.local.utcoffset() == slot.at.astimezone(zone).utcoffset()


@PROPERTY
@given(zone=st.sampled_from(ZONES_WITH_TRANSITIONS), at=times, index=st.integers(0, 200), data=st.data())
def test_weekly_and_monthly_rules_fire_once_across_a_transition(
    zone: str, at: time, index: int, data: st.DataObject
) -> None:
    changes = transitions(zone)
    change = changes[index % len(changes)]
    local_day = wall_of(change, ZoneInfo(zone)).date()
    text = data.draw(
        st.sampled_from(
            [
                f"FREQ=WEEKLY;BYDAY={DAYS[local_day.weekday()]}",
                f"FREQ=MONTHLY;BYMONTHDAY={local_day.day}",
                "FREQ=DAILY",
            ]
        )
    )
    schedule = Schedule(at, Frequency.RRULE, zone, rrule=text, starts_on=dt.date(FIRST_YEAR, 1, 1))
    after = change - timedelta(days=40)

    expected = reference_slots(schedule, rule_walls(schedule), after, 4)

    assert walk(schedule, after, 4) == [instant for instant, _ in expected]


def test_the_reference_sees_each_kind_of_transition() -> None:
    # The tests above are only as good as the transitions they cross: gaps and overlaps of 30, 60 and
    # 120 minutes, and transitions at midnight.
    sizes = set()
    at_midnight = False
    for zone_name in ZONES_WITH_TRANSITIONS:
        zone = ZoneInfo(zone_name)
        for change in transitions(zone_name):
            before = (change - MINUTE).astimezone(zone).utcoffset()
            after = change.astimezone(zone).utcoffset()
            assert before is not None
            assert after is not None
            sizes.add(after - before)
            at_midnight = at_midnight or wall_of(change, zone).time() <= time(1)
    assert {timedelta(minutes=30), timedelta(minutes=-30), timedelta(hours=1), timedelta(hours=-1)} <= sizes
    assert timedelta(hours=2) in sizes
    assert at_midnight


def test_rule_is_read_by_dateutil_itself() -> None:
    # The expansion under test is dateutil's: a parsed rule from the schedule's text gives the same times.
    schedule = Schedule(
        time(9),
        Frequency.RRULE,
        "Europe/Berlin",
        rrule="FREQ=MONTHLY;BYDAY=2TU",
        starts_on=dt.date(2026, 1, 1),
    )
    parsed = rrulestr("FREQ=MONTHLY;BYDAY=2TU", dtstart=datetime(2026, 1, 1, 9))
    assert isinstance(parsed, rrule)
    expected = [reference_instant(wall, ZoneInfo("Europe/Berlin")) for wall in islice(parsed, 6)]
    assert walk(schedule, datetime(2025, 12, 31, tzinfo=UTC), 6) == expected
