"""The failures other schedulers are known for, pinned: daylight-saving nights, 29 February, months too
short for their day, the last working day, counting from the first day, series that end, holidays."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.errors import InvalidSchedule
from domain.schedule import Frequency, Schedule

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def daily(at: str, zone: str, **fields: Any) -> Schedule:
    return Schedule.build(time_of_day=at, frequency=Frequency.DAILY, timezone=zone, now=NOW, **fields)


def rule(text: str, *, zone: str = BERLIN, at: str = "09:00", starts_on: dt.date | None = None) -> Schedule:
    return Schedule.build(
        time_of_day=at, frequency=Frequency.RRULE, rrule=text, timezone=zone, starts_on=starts_on, now=NOW
    )


def cron(expression: str, zone: str = BERLIN) -> Schedule:
    return Schedule.build(time_of_day=None, frequency=Frequency.CRON, cron=expression, timezone=zone, now=NOW)


def walk(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    for _ in range(count):
        upcoming = schedule.next_occurrence(after)
        if upcoming is None:
            break
        found.append(upcoming)
        after = upcoming
    return found


def local(moments: list[datetime], zone: str) -> list[str]:
    return [moment.astimezone(ZoneInfo(zone)).isoformat() for moment in moments]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- daylight saving --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "after", "expected"),
    [
        pytest.param(
            BERLIN,
            utc(2026, 3, 27, 12),
            ["2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"],
            id="berlin",
        ),
        pytest.param(
            NEW_YORK,
            utc(2026, 3, 7, 0),
            ["2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"],
            id="new-york",
        ),
    ],
)
def test_a_daily_0230_fires_once_on_the_spring_forward_night_at_the_jump(
    zone: str, after: datetime, expected: list[str]
) -> None:
    schedule = daily("02:30", zone)

    assert local(walk(schedule, after, 3), zone) == expected
    assert [slot.local.isoformat() for slot in schedule.slots(after, count=3)] == expected


@pytest.mark.parametrize(
    ("zone", "at", "after", "expected"),
    [
        pytest.param(
            NEW_YORK,
            "01:30",
            utc(2026, 10, 31, 12),
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
            id="new-york",
        ),
        pytest.param(
            BERLIN,
            "02:30",
            utc(2026, 10, 24, 12),
            ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
            id="berlin",
        ),
    ],
)
def test_a_time_repeated_on_the_fall_back_night_fires_once_at_its_first_occurrence(
    zone: str, at: str, after: datetime, expected: list[str]
) -> None:
    schedule = daily(at, zone)
    first = schedule.next_occurrence(after)
    assert first is not None

    assert local(walk(schedule, after, 2), zone) == expected
    # Asked again from inside the repeated hour, it does not fire on the second pass.
    assert schedule.next_occurrence(first + timedelta(minutes=30)) == schedule.next_occurrence(first)
    assert schedule.next_occurrence(first + timedelta(hours=1)) == schedule.next_occurrence(first)


@pytest.mark.parametrize("frequency", ["weekly", "rrule"])
@pytest.mark.parametrize(
    ("zone", "after", "expected"),
    [
        pytest.param(
            BERLIN,
            utc(2026, 3, 20),
            ["2026-03-22T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-04-05T02:30:00+02:00"],
            id="berlin-spring",
        ),
        pytest.param(
            BERLIN,
            utc(2026, 10, 20),
            ["2026-10-25T02:30:00+02:00", "2026-11-01T02:30:00+01:00", "2026-11-08T02:30:00+01:00"],
            id="berlin-fall",
        ),
        pytest.param(
            NEW_YORK,
            utc(2026, 3, 2),
            ["2026-03-08T03:00:00-04:00", "2026-03-15T02:30:00-04:00", "2026-03-22T02:30:00-04:00"],
            id="new-york-spring",
        ),
        pytest.param(
            NEW_YORK,
            utc(2026, 10, 26),
            ["2026-11-01T02:30:00-05:00", "2026-11-08T02:30:00-05:00", "2026-11-15T02:30:00-05:00"],
            id="new-york-fall",
        ),
    ],
)
def test_a_weekly_sunday_0230_crosses_both_transitions(
    frequency: str, zone: str, after: datetime, expected: list[str]
) -> None:
    if frequency == "weekly":
        schedule = Schedule.build(
            time_of_day="02:30", frequency=Frequency.WEEKLY, weekdays=[6], timezone=zone, now=NOW
        )
    else:
        schedule = rule("FREQ=WEEKLY;BYDAY=SU", zone=zone, at="02:30", starts_on=dt.date(2020, 1, 1))

    assert local(walk(schedule, after, 3), zone) == expected


def test_cron_in_a_gap_fires_once_at_the_jump() -> None:
    every_quarter = cron("*/15 * * * *")
    # Berlin, 29 March 2026: 02:00 CET becomes 03:00 CEST; 02:00 to 02:45 do not exist.
    slots = every_quarter.slots(utc(2026, 3, 29, 0, 30), count=4)

    assert [slot.local.isoformat() for slot in slots] == [
        "2026-03-29T01:45:00+01:00",
        "2026-03-29T03:00:00+02:00",  # 02:00, 02:15, 02:30, 02:45 and 03:00 itself: one slot
        "2026-03-29T03:15:00+02:00",
        "2026-03-29T03:30:00+02:00",
    ]
    half_past_two = cron("30 2 * * *")
    assert local(walk(half_past_two, utc(2026, 3, 28, 12), 2), BERLIN) == [
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00",
    ]


def test_cron_in_the_repeated_hour_fires_once() -> None:
    half_past_two = cron("30 2 * * *")

    assert local(walk(half_past_two, utc(2026, 10, 24, 12), 2), BERLIN) == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]
    every_quarter = cron("*/15 * * * *")
    slots = every_quarter.slots(utc(2026, 10, 24, 23, 50), count=6)
    assert [slot.local.isoformat() for slot in slots] == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:15:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:45:00+02:00",
        "2026-10-25T03:00:00+01:00",  # the second pass of 02:00 to 02:45 is not fired again
        "2026-10-25T03:15:00+01:00",
    ]


def test_cron_is_evaluated_in_its_zone() -> None:
    weekdays_at_nine = cron("0 9 * * 1-5", "Asia/Kolkata")

    # Friday 2 January 2026, then Monday the 5th: 09:00 in Kolkata is 03:30 UTC.
    assert walk(weekdays_at_nine, utc(2026, 1, 1, 12), 3) == [
        utc(2026, 1, 2, 3, 30),
        utc(2026, 1, 5, 3, 30),
        utc(2026, 1, 6, 3, 30),
    ]


# --- calendar rules ---------------------------------------------------------------------------------


def test_29_february_fires_only_in_leap_years() -> None:
    leap_day = rule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", starts_on=dt.date(2025, 1, 1))

    assert local(walk(leap_day, NOW, 4), BERLIN) == [
        "2028-02-29T09:00:00+01:00",
        "2032-02-29T09:00:00+01:00",
        "2036-02-29T09:00:00+01:00",
        "2040-02-29T09:00:00+01:00",
    ]


def test_30_february_never_fires_and_is_refused_when_it_must() -> None:
    never = rule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30")

    assert never.next_occurrence(NOW) is None
    with pytest.raises(InvalidSchedule) as refused:
        never.require_future(NOW)
    assert refused.value.field == "rrule"
    assert "no future occurrence" in refused.value.message


def test_day_31_skips_the_months_too_short_for_it() -> None:
    thirty_first = rule("FREQ=MONTHLY;BYMONTHDAY=31", starts_on=dt.date(2026, 1, 1))

    days = [moment.astimezone(ZoneInfo(BERLIN)).date() for moment in walk(thirty_first, NOW, 7)]
    assert days == [
        dt.date(2026, 1, 31),
        dt.date(2026, 3, 31),
        dt.date(2026, 5, 31),
        dt.date(2026, 7, 31),
        dt.date(2026, 8, 31),
        dt.date(2026, 10, 31),
        dt.date(2026, 12, 31),
    ]


def test_the_last_working_day_of_each_month() -> None:
    last_working_day = rule("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", starts_on=dt.date(2026, 1, 1))

    days = [moment.astimezone(ZoneInfo(BERLIN)).date() for moment in walk(last_working_day, NOW, 12)]
    assert [day.isoformat() for day in days] == [
        "2026-01-30",
        "2026-02-27",
        "2026-03-31",
        "2026-04-30",
        "2026-05-29",
        "2026-06-30",
        "2026-07-31",
        "2026-08-31",
        "2026-09-30",
        "2026-10-30",
        "2026-11-30",
        "2026-12-31",
    ]


def test_every_second_tuesday() -> None:
    second_tuesday = rule("FREQ=MONTHLY;BYDAY=2TU", starts_on=dt.date(2023, 5, 17))

    assert local(walk(second_tuesday, NOW, 3), BERLIN) == [
        "2026-01-13T09:00:00+01:00",
        "2026-02-10T09:00:00+01:00",
        "2026-03-10T09:00:00+01:00",
    ]


def test_an_interval_counts_from_starts_on_not_from_now() -> None:
    # 1 January 2026 is day 0; every third day from it: the 4th, 7th, 10th, whatever `after` is.
    every_third_day = rule("FREQ=DAILY;INTERVAL=3", starts_on=dt.date(2026, 1, 1))

    days = [moment.astimezone(ZoneInfo(BERLIN)).day for moment in walk(every_third_day, utc(2026, 1, 2), 3)]
    assert days == [4, 7, 10]
    years_later = walk(every_third_day, utc(2029, 6, 1), 1)[0].astimezone(ZoneInfo(BERLIN)).date()
    assert (years_later - dt.date(2026, 1, 1)).days % 3 == 0


def test_count_ends_the_series() -> None:
    three_mondays = rule("FREQ=WEEKLY;BYDAY=MO;COUNT=3", starts_on=dt.date(2026, 1, 1))

    found = walk(three_mondays, NOW, 10)
    assert local(found, BERLIN) == [
        "2026-01-05T09:00:00+01:00",
        "2026-01-12T09:00:00+01:00",
        "2026-01-19T09:00:00+01:00",
    ]
    assert three_mondays.next_occurrence(found[-1]) is None
    assert len(three_mondays.slots(NOW, count=10)) == 3
    with pytest.raises(InvalidSchedule) as refused:
        three_mondays.require_future(found[-1])
    assert refused.value.field == "rrule"
    assert "COUNT" in refused.value.message


def test_until_in_the_past_is_refused_when_it_must() -> None:
    over = rule("FREQ=DAILY;UNTIL=20251231T235959Z", starts_on=dt.date(2025, 12, 1))

    assert over.next_occurrence(NOW) is None
    with pytest.raises(InvalidSchedule) as refused:
        over.require_future(NOW)
    assert refused.value.field == "rrule"
    assert "UNTIL" in refused.value.message


def test_skip_dates_are_not_fired_but_are_listed() -> None:
    schedule = daily("09:00", BERLIN, skip_dates=[dt.date(2026, 12, 25), dt.date(2026, 12, 24)])
    after = utc(2026, 12, 23, 12)

    assert local(walk(schedule, after, 2), BERLIN) == [
        "2026-12-26T09:00:00+01:00",
        "2026-12-27T09:00:00+01:00",
    ]
    assert [(slot.local.date().day, slot.skipped) for slot in schedule.slots(after, count=4)] == [
        (24, True),
        (25, True),
        (26, False),
        (27, False),
    ]


def test_ends_on_is_inclusive() -> None:
    schedule = daily("09:00", BERLIN, ends_on=dt.date(2026, 1, 3))

    assert local(walk(schedule, NOW, 5), BERLIN) == [
        "2026-01-02T09:00:00+01:00",
        "2026-01-03T09:00:00+01:00",
    ]
    with pytest.raises(InvalidSchedule) as refused:
        schedule.require_future(utc(2026, 1, 3, 12))
    assert refused.value.field == "ends_on"


def test_a_whole_year_of_skipped_minutes_does_not_stall_a_cron_schedule() -> None:
    holidays = [dt.date(2026, 1, 1) + timedelta(days=n) for n in range(366)]  # through 1 January 2027
    every_minute = Schedule(None, Frequency.CRON, BERLIN, cron="* * * * *", skip_dates=tuple(holidays))

    assert every_minute.next_occurrence(NOW) == datetime(2027, 1, 2, 0, 0, tzinfo=ZoneInfo(BERLIN))


def test_a_schedule_starting_later_waits_for_its_first_day() -> None:
    schedule = Schedule(time(9), Frequency.DAILY, BERLIN, starts_on=dt.date(2026, 2, 1))

    assert schedule.next_occurrence(NOW) == utc(2026, 2, 1, 8)
