"""Schedule: parsing, validation, and when occurrences fall, across both daylight-saving transitions."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.errors import InvalidSchedule
from domain.schedule import Frequency, Schedule, parse_time_of_day

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
HOUR = timedelta(hours=1)


def daily(at: str, zone: str = "UTC") -> Schedule:
    return Schedule.build(time_of_day=at, frequency=Frequency.DAILY, timezone=zone, now=NOW)


def weekly(at: str, zone: str, weekdays: tuple[int, ...]) -> Schedule:
    return Schedule.build(
        time_of_day=at, frequency=Frequency.WEEKLY, timezone=zone, weekdays=weekdays, now=NOW
    )


def walk(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    """The next `count` occurrences, each found by asking for the one after the previous."""
    occurrences: list[datetime] = []
    for _ in range(count):
        upcoming = schedule.next_occurrence(after)
        assert upcoming is not None
        occurrences.append(upcoming)
        after = upcoming
    return occurrences


def offset(moment: datetime, zone: str) -> timedelta:
    local_offset = moment.astimezone(ZoneInfo(zone)).utcoffset()
    assert local_offset is not None
    return local_offset


# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("00:00", time(0, 0)),
        ("07:30", time(7, 30)),
        ("23:59", time(23, 59)),
        ("07:30:15", time(7, 30, 15)),
        ("23:59:59", time(23, 59, 59)),
    ],
)
def test_time_of_day_accepts_hh_mm_and_hh_mm_ss(raw: str, expected: time) -> None:
    assert parse_time_of_day(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "24:00",
        "9:30",
        "12:60",
        "aa",
        "",
        "12",
        "12:30:60",
        "12:30:5",
        "7:30:00",
        "12.30",
        " 12:30",
        "12:30 ",
        "12:30\n",
        "12:30:00:00",
        "1\u0662:30",  # an Arabic-Indic digit is not an HH digit
    ],
)
def test_malformed_time_of_day_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        parse_time_of_day(raw)
    assert caught.value.field == "time_of_day"


def test_build_rejects_a_malformed_time_of_day() -> None:
    with pytest.raises(InvalidSchedule) as caught:
        Schedule.build(time_of_day="25:00", frequency=Frequency.DAILY, now=NOW)
    assert caught.value.field == "time_of_day"


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "Europe/Berlin ", "../etc/passwd", "EST+5"])
def test_unknown_time_zone_is_rejected(zone: str) -> None:
    with pytest.raises(InvalidSchedule) as direct:
        Schedule(time(9), Frequency.DAILY, zone)
    with pytest.raises(InvalidSchedule) as built:
        daily("09:00", zone)
    assert direct.value.field == built.value.field == "timezone"


def test_known_iana_zone_is_accepted() -> None:
    assert Schedule(time(9), Frequency.DAILY, "America/New_York").timezone == "America/New_York"


def test_weekly_schedule_needs_weekdays() -> None:
    with pytest.raises(InvalidSchedule) as direct:
        Schedule(time(9), Frequency.WEEKLY, "UTC")
    with pytest.raises(InvalidSchedule) as built:
        weekly("09:00", "UTC", ())
    assert direct.value.field == built.value.field == "weekdays"


@pytest.mark.parametrize("weekdays", [(7,), (-1,), (0, 7), (6, 8)])
def test_weekdays_are_0_to_6(weekdays: tuple[int, ...]) -> None:
    with pytest.raises(InvalidSchedule) as direct:
        Schedule(time(9), Frequency.WEEKLY, "UTC", weekdays)
    with pytest.raises(InvalidSchedule) as built:
        weekly("09:00", "UTC", weekdays)
    assert direct.value.field == built.value.field == "weekdays"


def test_monday_and_sunday_are_valid_weekdays() -> None:
    assert weekly("09:00", "UTC", (6, 0)).weekdays == (0, 6)


@pytest.mark.parametrize("frequency", [Frequency.DAILY, Frequency.ONCE])
def test_weekdays_apply_to_weekly_schedules_only(frequency: Frequency) -> None:
    with pytest.raises(InvalidSchedule) as direct:
        Schedule(time(9), frequency, "UTC", (0,), dt.date(2026, 3, 3))
    with pytest.raises(InvalidSchedule) as built:
        Schedule.build(
            time_of_day="09:00", frequency=frequency, weekdays=[0], on_date=dt.date(2026, 3, 3), now=NOW
        )
    assert direct.value.field == built.value.field == "weekdays"


def test_once_schedule_needs_a_date() -> None:
    with pytest.raises(InvalidSchedule) as caught:
        Schedule(time(9), Frequency.ONCE, "UTC")
    assert caught.value.field == "date"


@pytest.mark.parametrize(("frequency", "weekdays"), [(Frequency.DAILY, ()), (Frequency.WEEKLY, (0,))])
def test_date_applies_to_once_schedules_only(frequency: Frequency, weekdays: tuple[int, ...]) -> None:
    with pytest.raises(InvalidSchedule) as direct:
        Schedule(time(9), frequency, "UTC", weekdays, dt.date(2026, 3, 3))
    with pytest.raises(InvalidSchedule) as built:
        Schedule.build(
            time_of_day="09:00",
            frequency=frequency,
            weekdays=weekdays,
            on_date=dt.date(2026, 3, 3),
            now=NOW,
        )
    assert direct.value.field == built.value.field == "date"


# --- once without a date ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "zone", "now", "expected"),
    [
        # 03:00 UTC on 8 March is still 7 March, 19:00, in Los Angeles.
        ("20:00", "America/Los_Angeles", datetime(2026, 3, 8, 3, 0, tzinfo=UTC), dt.date(2026, 3, 7)),
        ("18:00", "America/Los_Angeles", datetime(2026, 3, 8, 3, 0, tzinfo=UTC), dt.date(2026, 3, 8)),
        # Exactly now is not ahead any more.
        ("19:00", "America/Los_Angeles", datetime(2026, 3, 8, 3, 0, tzinfo=UTC), dt.date(2026, 3, 8)),
        # 20:00 UTC on 7 March is already 8 March, 05:00, in Tokyo.
        ("06:00", "Asia/Tokyo", datetime(2026, 3, 7, 20, 0, tzinfo=UTC), dt.date(2026, 3, 8)),
        ("04:00", "Asia/Tokyo", datetime(2026, 3, 7, 20, 0, tzinfo=UTC), dt.date(2026, 3, 9)),
    ],
)
def test_once_without_date_takes_today_in_its_zone_if_still_ahead_else_tomorrow(
    at: str, zone: str, now: datetime, expected: dt.date
) -> None:
    schedule = Schedule.build(time_of_day=at, frequency=Frequency.ONCE, timezone=zone, now=now)
    assert schedule.date == expected


def test_once_with_a_date_keeps_it() -> None:
    schedule = Schedule.build(
        time_of_day="09:00", frequency=Frequency.ONCE, on_date=dt.date(2026, 6, 1), now=NOW
    )
    assert schedule.date == dt.date(2026, 6, 1)


# --- next occurrence ----------------------------------------------------------------------------


def test_next_occurrence_is_strictly_after() -> None:
    schedule = daily("09:00")
    assert schedule.next_occurrence(datetime(2026, 3, 2, 8, 59, 59, tzinfo=UTC)) == datetime(
        2026, 3, 2, 9, 0, tzinfo=UTC
    )
    assert schedule.next_occurrence(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) == datetime(
        2026, 3, 3, 9, 0, tzinfo=UTC
    )


def test_next_occurrence_is_in_utc_whatever_the_zone_of_after() -> None:
    schedule = daily("09:00", "Europe/Berlin")
    after = datetime(2026, 3, 2, 20, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 11:00 UTC, 12:00 in Berlin
    upcoming = schedule.next_occurrence(after)
    assert upcoming == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert upcoming is not None
    assert upcoming.utcoffset() == timedelta(0)
    assert upcoming.tzname() == "UTC"


@pytest.mark.parametrize(
    ("zone", "after", "expected"),
    [
        # 02:00 UTC on 3 March is still 2 March, 18:00, in Los Angeles: today's 20:00 is ahead.
        (
            "America/Los_Angeles",
            datetime(2026, 3, 3, 2, 0, tzinfo=UTC),
            datetime(2026, 3, 3, 4, 0, tzinfo=UTC),
        ),
        # 12:00 UTC on 2 March is already 3 March, 01:00, in Auckland: today's 20:00 is 3 March's.
        ("Pacific/Auckland", datetime(2026, 3, 2, 12, 0, tzinfo=UTC), datetime(2026, 3, 3, 7, 0, tzinfo=UTC)),
    ],
)
def test_next_occurrence_counts_days_in_the_schedule_zone(
    zone: str, after: datetime, expected: datetime
) -> None:
    assert daily("20:00", zone).next_occurrence(after) == expected


def test_weekly_occurs_only_on_its_weekdays() -> None:
    schedule = weekly("09:00", "UTC", (0, 3))  # Mondays and Thursdays
    assert walk(schedule, datetime(2026, 3, 3, 12, 0, tzinfo=UTC), 3) == [
        datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 12, 9, 0, tzinfo=UTC),
    ]


def test_once_occurs_once_and_then_never() -> None:
    schedule = Schedule(time(9), Frequency.ONCE, "Europe/Berlin", date=dt.date(2026, 3, 10))
    only = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    assert schedule.next_occurrence(NOW) == only
    assert schedule.next_occurrence(only - timedelta(seconds=1)) == only
    assert schedule.next_occurrence(only) is None
    assert schedule.next_occurrence(datetime(2026, 4, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    "schedule",
    [
        Schedule(time(9), Frequency.DAILY, "UTC"),
        Schedule(time(9), Frequency.WEEKLY, "UTC", (0,)),
        Schedule(time(9), Frequency.ONCE, "UTC", date=dt.date(2026, 3, 10)),
    ],
)
def test_next_occurrence_refuses_naive_datetimes(schedule: Schedule) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule.next_occurrence(datetime(2026, 3, 2, 8, 0))


# --- daylight saving ----------------------------------------------------------------------------


def test_missing_time_on_spring_forward_day_fires_when_the_clocks_jump() -> None:
    # New York, 8 March 2026: 02:00 EST becomes 03:00 EDT, so 02:30 never happens.
    schedule = daily("02:30", "America/New_York")
    upcoming = schedule.next_occurrence(datetime(2026, 3, 8, 0, 0, tzinfo=UTC))
    assert upcoming == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert upcoming is not None
    local = upcoming.astimezone(schedule.zone)
    assert (local.date(), local.time(), local.utcoffset()) == (dt.date(2026, 3, 8), time(3, 0), -4 * HOUR)


def test_repeated_time_on_fall_back_day_fires_once_at_its_first_occurrence() -> None:
    # New York, 1 November 2026: 02:00 EDT becomes 01:00 EST, so 01:30 happens twice.
    schedule = daily("01:30", "America/New_York")
    first = schedule.next_occurrence(datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert first is not None
    assert schedule.next_occurrence(first) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "at", "after", "expected", "shift"),
    [
        pytest.param(
            "America/New_York",
            "02:30",
            datetime(2026, 3, 6, 12, 0, tzinfo=UTC),
            [
                datetime(2026, 3, 7, 7, 30, tzinfo=UTC),  # 02:30 EST
                datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # 03:00 EDT: 02:30 does not exist
                datetime(2026, 3, 9, 6, 30, tzinfo=UTC),  # 02:30 EDT
            ],
            HOUR,
            id="new-york-spring-in-the-gap",
        ),
        pytest.param(
            "America/New_York",
            "09:00",
            datetime(2026, 3, 6, 15, 0, tzinfo=UTC),
            [
                datetime(2026, 3, 7, 14, 0, tzinfo=UTC),
                datetime(2026, 3, 8, 13, 0, tzinfo=UTC),
                datetime(2026, 3, 9, 13, 0, tzinfo=UTC),
            ],
            HOUR,
            id="new-york-spring",
        ),
        pytest.param(
            "America/New_York",
            "01:30",
            datetime(2026, 10, 30, 12, 0, tzinfo=UTC),
            [
                datetime(2026, 10, 31, 5, 30, tzinfo=UTC),  # 01:30 EDT
                datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # the first 01:30, still EDT
                datetime(2026, 11, 2, 6, 30, tzinfo=UTC),  # 01:30 EST
            ],
            -HOUR,
            id="new-york-fall-ambiguous",
        ),
        pytest.param(
            "America/New_York",
            "09:00",
            datetime(2026, 10, 30, 15, 0, tzinfo=UTC),
            [
                datetime(2026, 10, 31, 13, 0, tzinfo=UTC),
                datetime(2026, 11, 1, 14, 0, tzinfo=UTC),
                datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
            ],
            -HOUR,
            id="new-york-fall",
        ),
        pytest.param(
            "Europe/Berlin",
            "02:30",
            datetime(2026, 3, 27, 12, 0, tzinfo=UTC),
            [
                datetime(2026, 3, 28, 1, 30, tzinfo=UTC),  # 02:30 CET
                datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 03:00 CEST: 02:30 does not exist
                datetime(2026, 3, 30, 0, 30, tzinfo=UTC),  # 02:30 CEST
            ],
            HOUR,
            id="berlin-spring-in-the-gap",
        ),
        pytest.param(
            "Europe/Berlin",
            "09:00",
            datetime(2026, 3, 27, 12, 0, tzinfo=UTC),
            [
                datetime(2026, 3, 28, 8, 0, tzinfo=UTC),
                datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
                datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
            ],
            HOUR,
            id="berlin-spring",
        ),
        pytest.param(
            "Europe/Berlin",
            "02:30",
            datetime(2026, 10, 23, 12, 0, tzinfo=UTC),
            [
                datetime(2026, 10, 24, 0, 30, tzinfo=UTC),  # 02:30 CEST
                datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # the first 02:30, still CEST
                datetime(2026, 10, 26, 1, 30, tzinfo=UTC),  # 02:30 CET
            ],
            -HOUR,
            id="berlin-fall-ambiguous",
        ),
        pytest.param(
            "Europe/Berlin",
            "09:00",
            datetime(2026, 10, 23, 12, 0, tzinfo=UTC),
            [
                datetime(2026, 10, 24, 7, 0, tzinfo=UTC),
                datetime(2026, 10, 25, 8, 0, tzinfo=UTC),
                datetime(2026, 10, 26, 8, 0, tzinfo=UTC),
            ],
            -HOUR,
            id="berlin-fall",
        ),
    ],
)
def test_daily_occurrences_across_a_transition(
    zone: str, at: str, after: datetime, expected: list[datetime], shift: timedelta
) -> None:
    occurrences = walk(daily(at, zone), after, len(expected))
    assert occurrences == expected
    assert offset(occurrences[-1], zone) - offset(occurrences[0], zone) == shift


@pytest.mark.parametrize(
    ("zone", "at", "after", "expected", "shift"),
    [
        pytest.param(
            "America/New_York",
            "02:30",
            datetime(2026, 2, 25, 0, 0, tzinfo=UTC),
            [
                datetime(2026, 3, 1, 7, 30, tzinfo=UTC),
                datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
                datetime(2026, 3, 15, 6, 30, tzinfo=UTC),
            ],
            HOUR,
            id="new-york-spring-sundays-in-the-gap",
        ),
        pytest.param(
            "America/New_York",
            "09:00",
            datetime(2026, 10, 20, 0, 0, tzinfo=UTC),
            [
                datetime(2026, 10, 25, 13, 0, tzinfo=UTC),
                datetime(2026, 11, 1, 14, 0, tzinfo=UTC),
                datetime(2026, 11, 8, 14, 0, tzinfo=UTC),
            ],
            -HOUR,
            id="new-york-fall-sundays",
        ),
        pytest.param(
            "Europe/Berlin",
            "09:00",
            datetime(2026, 3, 20, 0, 0, tzinfo=UTC),
            [
                datetime(2026, 3, 22, 8, 0, tzinfo=UTC),
                datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
                datetime(2026, 4, 5, 7, 0, tzinfo=UTC),
            ],
            HOUR,
            id="berlin-spring-sundays",
        ),
        pytest.param(
            "Europe/Berlin",
            "02:30",
            datetime(2026, 10, 15, 0, 0, tzinfo=UTC),
            [
                datetime(2026, 10, 18, 0, 30, tzinfo=UTC),
                datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
                datetime(2026, 11, 1, 1, 30, tzinfo=UTC),
            ],
            -HOUR,
            id="berlin-fall-sundays-ambiguous",
        ),
    ],
)
def test_weekly_occurrences_across_a_transition(
    zone: str, at: str, after: datetime, expected: list[datetime], shift: timedelta
) -> None:
    occurrences = walk(weekly(at, zone, (6,)), after, len(expected))
    assert occurrences == expected
    assert offset(occurrences[-1], zone) - offset(occurrences[0], zone) == shift


@pytest.mark.parametrize(
    ("zone", "at", "start", "expected"),
    [
        pytest.param(
            "America/New_York",
            "01:30",
            datetime(2026, 10, 31, 12, 0, tzinfo=UTC),
            {datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 11, 2, 6, 30, tzinfo=UTC)},
            id="new-york",
        ),
        pytest.param(
            "Europe/Berlin",
            "02:30",
            datetime(2026, 10, 24, 12, 0, tzinfo=UTC),
            {datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 26, 1, 30, tzinfo=UTC)},
            id="berlin",
        ),
    ],
)
def test_ambiguous_time_never_fires_twice(
    zone: str, at: str, start: datetime, expected: set[datetime]
) -> None:
    schedule = daily(at, zone)
    # Ask from every five minutes up to the day after the fall-back, the second pass of the
    # repeated hour included: no answer may be the repeated wall-clock time's second occurrence.
    answers: set[datetime] = set()
    after = start
    while after < max(expected):
        upcoming = schedule.next_occurrence(after)
        assert upcoming is not None
        assert upcoming > after
        answers.add(upcoming)
        after += timedelta(minutes=5)
    assert answers == expected


def test_walking_across_fall_back_yields_one_occurrence_per_local_day() -> None:
    schedule = daily("01:30", "America/New_York")
    occurrences = walk(schedule, datetime(2026, 10, 29, 12, 0, tzinfo=UTC), 6)
    local_days = [moment.astimezone(schedule.zone).date() for moment in occurrences]
    assert local_days == [dt.date(2026, 10, 30) + timedelta(days=n) for n in range(6)]


def test_once_schedule_in_the_gap_fires_when_the_clocks_jump() -> None:
    schedule = Schedule(time(2, 30), Frequency.ONCE, "Europe/Berlin", date=dt.date(2026, 3, 29))
    assert schedule.next_occurrence(NOW) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_once_schedule_on_the_repeated_hour_does_not_fire_again_on_its_second_pass() -> None:
    schedule = Schedule(time(1, 30), Frequency.ONCE, "America/New_York", date=dt.date(2026, 11, 1))
    assert schedule.next_occurrence(NOW) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert schedule.next_occurrence(datetime(2026, 11, 1, 5, 30, tzinfo=UTC)) is None
