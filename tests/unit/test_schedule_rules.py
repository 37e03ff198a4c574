"""Calendar rules and cron on a schedule: what is taken and what is refused (in words, naming the field),
the fields every schedule may have (starts_on, ends_on, skip_dates), revising between frequencies, the
same rule in another zone, previews, and why a schedule with nothing to come is refused."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.errors import InvalidSchedule
from domain.schedule import Frequency, Schedule, Slot

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
BERLIN = "Europe/Berlin"
ONCE_IN_THE_PAST = (
    "a once reminder must be scheduled in the future; send a date and time_of_day still to come"
)


def rule(text: str, **fields: Any) -> Schedule:
    fields.setdefault("time_of_day", "09:00")
    fields.setdefault("timezone", BERLIN)
    return Schedule.build(frequency=Frequency.RRULE, rrule=text, now=NOW, **fields)


def cron(expression: str, **fields: Any) -> Schedule:
    fields.setdefault("timezone", BERLIN)
    return Schedule.build(time_of_day=None, frequency=Frequency.CRON, cron=expression, now=NOW, **fields)


def refusal(build: Any) -> tuple[str, str]:
    with pytest.raises(InvalidSchedule) as refused:
        build()
    message = refused.value.message
    assert " " in message
    assert not any(mark in message for mark in ("\\d", "(?", "[0-9", "^", "$"))  # words, never a pattern
    return refused.value.field, message


# --- rules taken ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("FREQ=MONTHLY;BYDAY=2TU", "FREQ=MONTHLY;BYDAY=2TU"),
        ("rrule:freq=monthly;byday=2tu", "FREQ=MONTHLY;BYDAY=2TU"),
        (
            "  FREQ=MONTHLY; BYDAY=MO,TU,WE,TH,FR; BYSETPOS=-1 ",
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        ),
        ("FREQ=DAILY;INTERVAL=3", "FREQ=DAILY;INTERVAL=3"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"),
        ("FREQ=WEEKLY;BYDAY=MO,TH;COUNT=10", "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=10"),
        ("FREQ=WEEKLY;UNTIL=20261231", "FREQ=WEEKLY;UNTIL=20261231"),
        ("FREQ=WEEKLY;UNTIL=20261231T170000", "FREQ=WEEKLY;UNTIL=20261231T170000"),
        ("FREQ=WEEKLY;UNTIL=20261231T170000Z", "FREQ=WEEKLY;UNTIL=20261231T170000Z"),
        ("FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO;WKST=SU", "FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO;WKST=SU"),
    ],
)
def test_a_rule_is_stored_normalised(written: str, stored: str) -> None:
    schedule = rule(written)

    assert schedule.rrule == stored
    assert schedule == rule(stored)


def test_an_rrule_schedule_starts_today_in_its_zone_unless_told() -> None:
    late_evening = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # already 2 March in Tokyo

    tokyo = Schedule.build(
        time_of_day="09:00",
        frequency=Frequency.RRULE,
        rrule="FREQ=DAILY",
        timezone="Asia/Tokyo",
        now=late_evening,
    )

    assert tokyo.starts_on == dt.date(2026, 3, 2)
    assert rule("FREQ=DAILY", starts_on=dt.date(2025, 1, 1)).starts_on == dt.date(2025, 1, 1)


def test_a_stored_rule_loads_as_it_was_saved() -> None:
    saved = rule("FREQ=MONTHLY;BYDAY=2TU", starts_on=dt.date(2025, 5, 1), skip_dates=[dt.date(2026, 5, 12)])

    loaded = Schedule(
        time(9),
        Frequency.RRULE,
        BERLIN,
        rrule="FREQ=MONTHLY;BYDAY=2TU",
        starts_on=dt.date(2025, 5, 1),
        skip_dates=(dt.date(2026, 5, 12),),
    )

    assert loaded == saved


# --- rules refused ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "rrule must not be empty; write a rule such as FREQ=MONTHLY;BYDAY=2TU"),
        ("FREQ=HOURLY", "rrule FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("FREQ=MINUTELY;INTERVAL=15", "rrule FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("FREQ=SECONDLY", "rrule FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("FREQ=FORTNIGHTLY", "rrule FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("INTERVAL=2", "rrule needs FREQ: DAILY, WEEKLY, MONTHLY or YEARLY"),
        (
            "FREQ=DAILY;BYHOUR=9",
            "rrule must not hold BYHOUR, BYMINUTE or BYSECOND: time_of_day sets the time",
        ),
        (
            "FREQ=DAILY;BYMINUTE=30",
            "rrule must not hold BYHOUR, BYMINUTE or BYSECOND: time_of_day sets the time",
        ),
        (
            "FREQ=DAILY;BYSECOND=0",
            "rrule must not hold BYHOUR, BYMINUTE or BYSECOND: time_of_day sets the time",
        ),
        (
            "DTSTART:20260101T090000\nRRULE:FREQ=DAILY",
            "rrule must not hold DTSTART: the series starts on starts_on",
        ),
        ("FREQ=DAILY;DTSTART=20260101", "rrule must not hold DTSTART: the series starts on starts_on"),
        ("FREQ=DAILY\nEXDATE:20260101", "rrule holds one rule and no other property such as EXDATE"),
        ("FREQ=DAILY;X-NAME=1", "rrule part 'X-NAME' is not an RFC 5545 rule part"),
        ("FREQ=DAILY;BYEASTER=0", "rrule part 'BYEASTER' is not an RFC 5545 rule part"),
        ("FREQ=DAILY;", "rrule parts are NAME=VALUE pairs separated by semicolons"),
        ("FREQ=DAILY;FREQ=WEEKLY", "rrule names FREQ more than once"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20261231", "rrule may hold COUNT or UNTIL, not both"),
        ("FREQ=DAILY;UNTIL=tomorrow", "rrule UNTIL must be a local date (YYYYMMDD), a local date and time"),
        ("FREQ=DAILY;UNTIL=1", "rrule UNTIL must be a local date (YYYYMMDD), a local date and time"),
        ("FREQ=DAILY;UNTIL=20261301", "rrule UNTIL must be a local date (YYYYMMDD), a local date and time"),
        ("FREQ=DAILY;INTERVAL=0", "rrule INTERVAL must be at least 1"),
        ("FREQ=YEARLY;INTERVAL=101", "rrule INTERVAL must be at most 100 with FREQ=YEARLY (a hundred years)"),
        ("FREQ=MONTHLY;INTERVAL=1201", "rrule INTERVAL must be at most 1200 with FREQ=MONTHLY"),
        ("FREQ=DAILY;COUNT=0", "rrule COUNT must be 1 to 1000; for a longer series use UNTIL or ends_on"),
        ("FREQ=DAILY;COUNT=5000", "rrule COUNT must be 1 to 1000; for a longer series use UNTIL or ends_on"),
        ("FREQ=DAILY;COUNT=1_0", "rrule may use only letters, digits and the characters ; = , + -"),
        ("FREQ=MONTHLY;BYMONTHDAY=\u0661", "rrule may use only letters, digits and the characters ; = , + -"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "rrule BYMONTHDAY values must be -31 to 31, and not 0"),
        ("FREQ=MONTHLY;BYMONTHDAY=0,5", "rrule BYMONTHDAY values must be -31 to 31, and not 0"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "rrule BYMONTHDAY values must be -31 to 31, and not 0"),
        ("FREQ=YEARLY;BYMONTH=13", "rrule BYMONTH values must be 1 to 12, and not 0"),
        ("FREQ=YEARLY;BYYEARDAY=367", "rrule BYYEARDAY values must be -366 to 366, and not 0"),
        ("FREQ=YEARLY;BYWEEKNO=54;BYDAY=MO", "rrule BYWEEKNO values must be -53 to 53, and not 0"),
        (
            "FREQ=MONTHLY;BYDAY=XX",
            "rrule 'FREQ=MONTHLY;BYDAY=XX' is not a valid recurrence rule: invalid 'BYDAY'",
        ),
        ("FREQ=WEEKLY;BYDAY=2MO", "rrule BYDAY may carry a number (such as 2TU) only with FREQ=MONTHLY or"),
        ("FREQ=MONTHLY;BYWEEKNO=2", "rrule BYWEEKNO and BYYEARDAY go only with FREQ=YEARLY"),
        ("FREQ=DAILY;BYYEARDAY=100", "rrule BYWEEKNO and BYYEARDAY go only with FREQ=YEARLY"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", "rrule BYMONTHDAY does not go with FREQ=WEEKLY"),
        ("FREQ=MONTHLY;BYSETPOS=1", "rrule BYSETPOS needs another BY part, such as BYDAY, to choose from"),
        ("FREQ=DAILY;BYDAY=MO;BYSETPOS=1", "rrule BYSETPOS does not go with FREQ=DAILY"),
        (
            "FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=3",
            "rrule BYSETPOS values must be -2 to 2: no week has more days",
        ),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=32", "rrule BYSETPOS values must be -31 to 31: no month has more"),
    ],
)
def test_a_rule_the_service_does_not_take_is_refused_in_words(text: str, message: str) -> None:
    field, said = refusal(lambda: rule(text))

    assert field == "rrule"
    assert said.startswith(message)


def test_an_rrule_schedule_needs_its_rule_its_time_and_its_first_day() -> None:
    assert refusal(lambda: rule(None))[0] == "rrule"  # type: ignore[arg-type]
    assert refusal(lambda: rule("FREQ=DAILY", time_of_day=None)) == (
        "time_of_day",
        "time_of_day is required when the frequency is rrule",
    )
    loaded_without_start = refusal(lambda: Schedule(time(9), Frequency.RRULE, BERLIN, rrule="FREQ=DAILY"))
    assert loaded_without_start == (
        "starts_on",
        "an rrule schedule needs starts_on, the day its series starts",
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"frequency": Frequency.DAILY, "rrule": "FREQ=DAILY"},
            "rrule",
            "rrule applies to rrule schedules only",
        ),
        (
            {"frequency": Frequency.WEEKLY, "weekdays": [0], "cron": "0 9 * * *"},
            "cron",
            "cron applies to cron",
        ),
        (
            {"frequency": Frequency.CRON, "time_of_day": "09:00", "cron": "0 9 * * *"},
            "time_of_day",
            "time_of_day is not taken with a cron schedule: the cron expression sets the time",
        ),
        (
            {"frequency": Frequency.CRON, "time_of_day": None},
            "cron",
            "a cron schedule needs a cron expression",
        ),
        (
            {"frequency": Frequency.DAILY, "time_of_day": None},
            "time_of_day",
            "time_of_day is required when the frequency",
        ),
    ],
)
def test_fields_the_frequency_does_not_use_or_lacks_are_named(
    fields: dict[str, Any], field: str, message: str
) -> None:
    fields.setdefault("time_of_day", "09:00")

    refused = refusal(lambda: Schedule.build(now=NOW, **fields))

    assert refused[0] == field
    assert refused[1].startswith(message)


# --- cron ---------------------------------------------------------------------------------------------


def test_cron_is_stored_with_single_spaces_and_has_no_time_of_day() -> None:
    schedule = cron("  0  9 * *   mon-fri ")

    assert (schedule.cron, schedule.time_of_day) == ("0 9 * * MON-FRI", None)
    assert schedule.next_occurrence(NOW) == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # 09:00 CET


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 9 * *", "cron must have exactly five fields (minute, hour, day of month, month, day of week)"),
        ("0 0 9 * * *", "cron must have exactly five fields"),
        ("@daily", "cron must have exactly five fields"),
        ("61 9 * * *", "the minute field of cron '61 9 * * *' is not valid"),
        ("0 24 * * *", "the hour field of cron '0 24 * * *' is not valid"),
        ("0 9 32 * *", "the day of month field of cron '0 9 32 * *' is not valid"),
        ("0 9 * 13 *", "the month field of cron '0 9 * 13 *' is not valid"),
        ("0 9 * * 8", "the day of week field of cron '0 9 * * 8' is not valid"),
        ("0 9 30 2 *", "cron '0 9 30 2 *' never fires: none of its months has that day of the month"),
        ("0 9 31 4,6 *", "cron '0 9 31 4,6 *' never fires"),
    ],
)
def test_a_cron_expression_the_service_cannot_read_or_that_never_fires_is_refused(
    expression: str, message: str
) -> None:
    field, said = refusal(lambda: cron(expression))

    assert field == "cron"
    assert said.startswith(message)


# --- starts_on, ends_on, skip_dates -------------------------------------------------------------------


def test_skip_dates_are_kept_sorted_and_unique() -> None:
    christmas, boxing_day = dt.date(2026, 12, 25), dt.date(2026, 12, 26)

    schedule = Schedule.build(
        time_of_day="09:00",
        frequency=Frequency.DAILY,
        skip_dates=[boxing_day, christmas, boxing_day],
        now=NOW,
    )

    assert schedule.skip_dates == (christmas, boxing_day)
    assert Schedule(time(9), Frequency.DAILY, skip_dates=(boxing_day, christmas)).skip_dates == (
        christmas,
        boxing_day,
    )


def test_at_most_366_skip_dates() -> None:
    year = [dt.date(2028, 1, 1) + dt.timedelta(days=n) for n in range(367)]

    assert (
        len(
            Schedule.build(
                time_of_day="09:00", frequency=Frequency.DAILY, skip_dates=year[:366], now=NOW
            ).skip_dates
        )
        == 366
    )
    assert refusal(
        lambda: Schedule.build(time_of_day="09:00", frequency=Frequency.DAILY, skip_dates=year, now=NOW)
    ) == ("skip_dates", "skip_dates holds at most 366 dates")


def test_ends_on_before_starts_on_is_refused() -> None:
    assert refusal(
        lambda: Schedule.build(
            time_of_day="09:00",
            frequency=Frequency.DAILY,
            starts_on=dt.date(2026, 5, 2),
            ends_on=dt.date(2026, 5, 1),
            now=NOW,
        )
    ) == ("ends_on", "ends_on must not be before starts_on")
    same_day = Schedule.build(
        time_of_day="09:00",
        frequency=Frequency.DAILY,
        starts_on=dt.date(2026, 5, 1),
        ends_on=dt.date(2026, 5, 1),
        now=NOW,
    )
    assert [slot.local.date() for slot in same_day.slots(NOW, count=5)] == [dt.date(2026, 5, 1)]


@pytest.mark.parametrize("frequency", [Frequency.WEEKLY, Frequency.RRULE, Frequency.CRON])
def test_every_kind_of_schedule_honours_its_first_and_last_day_and_its_skipped_days(
    frequency: Frequency,
) -> None:
    options: dict[Frequency, dict[str, Any]] = {
        Frequency.WEEKLY: {"time_of_day": "09:00", "weekdays": [0, 1, 2, 3, 4, 5, 6]},
        Frequency.RRULE: {"time_of_day": "09:00", "rrule": "FREQ=DAILY"},
        Frequency.CRON: {"time_of_day": None, "cron": "0 9 * * *"},
    }
    fields = options[frequency]
    schedule = Schedule.build(
        frequency=frequency,
        timezone=BERLIN,
        starts_on=dt.date(2026, 4, 1),
        ends_on=dt.date(2026, 4, 5),
        skip_dates=[dt.date(2026, 4, 3)],
        now=NOW,
        **fields,
    )

    slots = schedule.slots(NOW, count=10)

    assert [(slot.local.day, slot.skipped) for slot in slots] == [
        (1, False),
        (2, False),
        (3, True),
        (4, False),
        (5, False),
    ]


def test_a_once_schedule_on_a_skipped_date_never_fires() -> None:
    once = Schedule(
        time(9), Frequency.ONCE, BERLIN, date=dt.date(2026, 4, 3), skip_dates=(dt.date(2026, 4, 3),)
    )

    assert once.next_occurrence(NOW) is None
    assert [slot.skipped for slot in once.slots(NOW, count=3)] == [True]
    assert refusal(lambda: once.require_future(NOW))[0] == "skip_dates"


# --- revising -----------------------------------------------------------------------------------------

DAILY = Schedule(time(9), Frequency.DAILY, BERLIN, ends_on=dt.date(2026, 12, 31))
MONTHLY = Schedule(
    time(9), Frequency.RRULE, BERLIN, rrule="FREQ=MONTHLY;BYDAY=2TU", starts_on=dt.date(2026, 1, 1)
)
WORKDAYS = Schedule(None, Frequency.CRON, BERLIN, cron="0 9 * * 1-5")


@pytest.mark.parametrize(
    ("schedule", "change", "expected"),
    [
        pytest.param(
            DAILY,
            {"frequency": Frequency.RRULE, "rrule": "FREQ=DAILY;INTERVAL=2"},
            Schedule(
                time(9),
                Frequency.RRULE,
                BERLIN,
                rrule="FREQ=DAILY;INTERVAL=2",
                starts_on=dt.date(2026, 3, 2),
                ends_on=dt.date(2026, 12, 31),
            ),
            id="daily-to-rrule-starts-today-keeps-ends_on",
        ),
        pytest.param(
            MONTHLY,
            {"frequency": Frequency.DAILY},
            Schedule(time(9), Frequency.DAILY, BERLIN, starts_on=dt.date(2026, 1, 1)),
            id="rrule-to-daily-drops-the-rule",
        ),
        pytest.param(
            DAILY,
            {"frequency": Frequency.CRON, "cron": "30 8 * * *"},
            Schedule(None, Frequency.CRON, BERLIN, cron="30 8 * * *", ends_on=dt.date(2026, 12, 31)),
            id="daily-to-cron-drops-the-time",
        ),
        pytest.param(
            WORKDAYS,
            {"frequency": Frequency.WEEKLY, "weekdays": [0], "time_of_day": "10:00"},
            Schedule(time(10), Frequency.WEEKLY, BERLIN, weekdays=(0,)),
            id="cron-to-weekly-with-a-time",
        ),
        pytest.param(
            MONTHLY,
            {"rrule": "FREQ=MONTHLY;BYDAY=-1FR", "time_of_day": "16:00"},
            Schedule(
                time(16),
                Frequency.RRULE,
                BERLIN,
                rrule="FREQ=MONTHLY;BYDAY=-1FR",
                starts_on=dt.date(2026, 1, 1),
            ),
            id="a-new-rule-keeps-its-first-day",
        ),
        pytest.param(
            MONTHLY,
            {"starts_on": None},
            Schedule(
                time(9),
                Frequency.RRULE,
                BERLIN,
                rrule="FREQ=MONTHLY;BYDAY=2TU",
                starts_on=dt.date(2026, 3, 2),
            ),
            id="no-first-day-is-today",
        ),
        pytest.param(
            WORKDAYS,
            {"cron": "0 10 * * 1-5", "skip_dates": [dt.date(2026, 4, 6)]},
            Schedule(None, Frequency.CRON, BERLIN, cron="0 10 * * 1-5", skip_dates=(dt.date(2026, 4, 6),)),
            id="cron-moves",
        ),
        pytest.param(
            DAILY,
            {"ends_on": None},
            Schedule(time(9), Frequency.DAILY, BERLIN),
            id="no-end",
        ),
    ],
)
def test_a_revision_between_frequencies_keeps_what_the_new_one_uses(
    schedule: Schedule, change: dict[str, Any], expected: Schedule
) -> None:
    assert schedule.revise(now=NOW, **change) == expected


@pytest.mark.parametrize(
    ("schedule", "change", "field", "message"),
    [
        (
            DAILY,
            {"frequency": Frequency.RRULE},
            "rrule",
            "rrule is required when the frequency changes to rrule",
        ),
        (DAILY, {"frequency": Frequency.CRON}, "cron", "cron is required when the frequency changes to cron"),
        (
            WORKDAYS,
            {"frequency": Frequency.DAILY},
            "time_of_day",
            "time_of_day is required when the frequency changes to daily",
        ),
        (WORKDAYS, {"time_of_day": "09:00"}, "time_of_day", "time_of_day is not taken with a cron schedule"),
        (DAILY, {"rrule": "FREQ=DAILY"}, "rrule", "rrule applies to rrule schedules only"),
        (MONTHLY, {"frequency": Frequency.DAILY, "rrule": "FREQ=DAILY"}, "rrule", "rrule applies to rrule"),
        (MONTHLY, {"rrule": "FREQ=HOURLY"}, "rrule", "rrule FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"),
        (MONTHLY, {"ends_on": dt.date(2025, 12, 31)}, "ends_on", "ends_on must not be before starts_on"),
    ],
)
def test_a_revision_the_new_frequency_cannot_use_is_refused_naming_the_field(
    schedule: Schedule, change: dict[str, Any], field: str, message: str
) -> None:
    refused = refusal(lambda: schedule.revise(now=NOW, **change))

    assert refused[0] == field
    assert refused[1].startswith(message)


# --- another zone ---------------------------------------------------------------------------------------


def test_in_another_zone_the_rule_keeps_its_local_times() -> None:
    nine_berlin = rule("FREQ=WEEKLY;BYDAY=MO", starts_on=dt.date(2026, 1, 1))

    nine_new_york = nine_berlin.in_zone("America/New_York")

    assert nine_new_york.timezone == "America/New_York"
    assert nine_new_york.next_occurrence(NOW) == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert nine_berlin.next_occurrence(NOW) == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # NOW is 09:00 there
    assert nine_berlin.in_zone(BERLIN) is nine_berlin


def test_in_another_zone_a_utc_until_stays_that_instant_and_a_local_one_stays_local() -> None:
    # Daily at 09:00 from 1 March; the last day is 3 March either way, read differently.
    in_utc = rule("FREQ=DAILY;UNTIL=20260303T120000Z", starts_on=dt.date(2026, 3, 1))
    local = rule("FREQ=DAILY;UNTIL=20260303T090000", starts_on=dt.date(2026, 3, 1))
    after = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    tokyo_by_utc = [slot.local.isoformat() for slot in in_utc.in_zone("Asia/Tokyo").slots(after, count=5)]
    new_york_by_utc = [
        slot.local.isoformat() for slot in in_utc.in_zone("America/New_York").slots(after, count=5)
    ]
    new_york_local = [
        slot.local.isoformat() for slot in local.in_zone("America/New_York").slots(after, count=5)
    ]

    # 09:00 in Tokyo on 3 March is 00:00 UTC, before the UTC UNTIL: it fires.
    assert tokyo_by_utc == ["2026-03-02T09:00:00+09:00", "2026-03-03T09:00:00+09:00"]
    # 09:00 in New York on 3 March is 14:00 UTC, after it: it does not.
    assert new_york_by_utc == ["2026-03-01T09:00:00-05:00", "2026-03-02T09:00:00-05:00"]
    # A local UNTIL is 09:00 on 3 March wherever the rule is read.
    assert new_york_local == [
        "2026-03-01T09:00:00-05:00",
        "2026-03-02T09:00:00-05:00",
        "2026-03-03T09:00:00-05:00",
    ]


# --- previews ---------------------------------------------------------------------------------------------


def test_a_slot_has_the_instant_in_utc_and_the_same_instant_on_the_local_clock() -> None:
    schedule = Schedule(time(2, 30), Frequency.DAILY, BERLIN)

    slots = schedule.slots(datetime(2026, 3, 28, 12, 0, tzinfo=UTC), count=2)

    assert slots == [
        Slot(
            at=datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
            local=datetime(2026, 3, 29, 3, 0, tzinfo=ZoneInfo(BERLIN)),
            skipped=False,
        ),
        Slot(
            at=datetime(2026, 3, 30, 0, 30, tzinfo=UTC),
            local=datetime(2026, 3, 30, 2, 30, tzinfo=ZoneInfo(BERLIN)),
            skipped=False,
        ),
    ]
    assert slots[0].local.isoformat() == "2026-03-29T03:00:00+02:00"
    assert slots[0].at.tzinfo is UTC


def test_a_preview_is_strictly_after_and_stops_when_the_series_ends() -> None:
    three = rule("FREQ=DAILY;COUNT=3", starts_on=dt.date(2026, 3, 2))
    first = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    assert [slot.at for slot in three.slots(first, count=10)] == [
        datetime(2026, 3, 3, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 4, 8, 0, tzinfo=UTC),
    ]
    assert three.slots(first, count=0) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        three.slots(datetime(2026, 3, 2, 8, 0), count=1)


def test_cron_and_rules_may_fire_twice_on_a_local_date() -> None:
    twice_a_day = cron("0 9,17 * * *")
    sent_at_nine = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    assert twice_a_day.next_unsent_occurrence(sent_at_nine, last_slot=sent_at_nine) == datetime(
        2026, 3, 2, 16, 0, tzinfo=UTC
    )


# --- nothing to come ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "field", "message"),
    [
        (Schedule(time(9), Frequency.ONCE, BERLIN, date=dt.date(2026, 3, 1)), "date", ONCE_IN_THE_PAST),
        (
            Schedule(time(9), Frequency.DAILY, BERLIN, ends_on=dt.date(2026, 3, 1)),
            "ends_on",
            "ends_on (2026-03-01) is before the next occurrence (2026-03-03): the schedule has no future",
        ),
        (
            Schedule(
                time(9),
                Frequency.DAILY,
                BERLIN,
                ends_on=dt.date(2026, 3, 3),
                skip_dates=(dt.date(2026, 3, 2), dt.date(2026, 3, 3)),
            ),
            "skip_dates",
            "every occurrence to come falls on one of skip_dates: the schedule has no future occurrence",
        ),
        (
            Schedule(
                time(9),
                Frequency.RRULE,
                BERLIN,
                rrule="FREQ=DAILY;UNTIL=20260301",
                starts_on=dt.date(2026, 1, 1),
            ),
            "rrule",
            "the rrule's UNTIL is in the past: the rule has no future occurrence",
        ),
        (
            Schedule(
                time(9), Frequency.RRULE, BERLIN, rrule="FREQ=DAILY;COUNT=5", starts_on=dt.date(2026, 1, 1)
            ),
            "rrule",
            "all 5 occurrences of the rrule (its COUNT) are in the past",
        ),
        (
            Schedule(
                time(9),
                Frequency.RRULE,
                BERLIN,
                rrule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
                starts_on=dt.date(2026, 1, 1),
            ),
            "rrule",
            "no date to come matches the rrule within 100 years: it has no future occurrence",
        ),
        (
            Schedule(
                time(9),
                Frequency.RRULE,
                BERLIN,
                rrule="FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25;UNTIL=20260601",
                starts_on=dt.date(2026, 1, 1),
            ),
            "rrule",
            "no date between now and the rrule's UNTIL matches it: the rule has no future occurrence",
        ),
        (
            # Every seventh day from a Thursday is never a Monday.
            Schedule(
                time(9),
                Frequency.RRULE,
                BERLIN,
                rrule="FREQ=DAILY;INTERVAL=7;BYDAY=MO",
                starts_on=dt.date(2026, 1, 1),
            ),
            "rrule",
            "no date to come matches the rrule within 100 years: it has no future occurrence",
        ),
        (
            Schedule(
                time(9),
                Frequency.RRULE,
                BERLIN,
                rrule="FREQ=DAILY",
                starts_on=dt.date(2026, 1, 1),
                ends_on=dt.date(2026, 2, 1),
            ),
            "ends_on",
            "ends_on (2026-02-01) is before the next occurrence (2026-03-03)",
        ),
        (
            Schedule(None, Frequency.CRON, BERLIN, cron="0 9 * * *", ends_on=dt.date(2026, 3, 1)),
            "ends_on",
            "ends_on (2026-03-01) is before the next occurrence (2026-03-03)",
        ),
    ],
)
def test_a_schedule_with_nothing_to_come_is_refused_naming_what_to_change(
    schedule: Schedule, field: str, message: str
) -> None:
    refused = refusal(lambda: schedule.require_future(NOW))

    assert refused[0] == field
    assert refused[1].startswith(message)
    assert schedule.next_occurrence(NOW) is None


@pytest.mark.parametrize(
    "schedule",
    [DAILY, MONTHLY, WORKDAYS, Schedule(time(9), Frequency.ONCE, BERLIN, date=dt.date(2026, 3, 3))],
    ids=["daily", "rrule", "cron", "once"],
)
def test_a_schedule_with_something_to_come_gives_its_next_slot(schedule: Schedule) -> None:
    assert schedule.require_future(NOW) == schedule.next_occurrence(NOW)


def test_building_does_not_require_a_future_a_paused_reminder_may_keep_an_ended_rule() -> None:
    ended = rule("FREQ=DAILY;UNTIL=20250101", starts_on=dt.date(2024, 12, 1))

    assert ended.next_occurrence(NOW) is None
