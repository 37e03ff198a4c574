"""Schedule.revise (a partial change keeps every field it does not name), next_unsent_occurrence
(a daily or weekly schedule is sent at most once per local date, however it is moved), and
Reminder.update applying both."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

import pytest

from domain.errors import InvalidSchedule
from domain.events import ReminderUpdated
from domain.reminder import Reminder
from domain.schedule import Frequency, Schedule

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
BERLIN = "Europe/Berlin"
CHRISTMAS_EVE = dt.date(2026, 12, 24)

ONCE = Schedule(time(9, 0), Frequency.ONCE, BERLIN, date=CHRISTMAS_EVE)
DAILY = Schedule(time(9, 0), Frequency.DAILY, BERLIN)
WEEKLY = Schedule(time(9, 0), Frequency.WEEKLY, BERLIN, weekdays=(0, 3))


@pytest.mark.parametrize("schedule", [ONCE, DAILY, WEEKLY], ids=lambda s: s.frequency.value)
@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"time_of_day": "10:30"}, "time_of_day", time(10, 30)),
        ({"time_of_day": "10:30:15"}, "time_of_day", time(10, 30, 15)),
        ({"timezone": "America/New_York"}, "timezone", "America/New_York"),
    ],
)
def test_a_revision_changes_only_what_it_names(
    schedule: Schedule, change: dict[str, Any], field: str, expected: Any
) -> None:
    revised = schedule.revise(now=NOW, **change)

    assert revised == replace(schedule, **{field: expected})


@pytest.mark.parametrize("schedule", [ONCE, DAILY, WEEKLY], ids=lambda s: s.frequency.value)
def test_naming_the_current_frequency_keeps_date_and_weekdays(schedule: Schedule) -> None:
    assert schedule.revise(frequency=schedule.frequency, now=NOW) == schedule


def test_a_once_schedule_keeps_its_date_when_its_time_moves() -> None:
    assert ONCE.revise(time_of_day="10:00", now=NOW).date == CHRISTMAS_EVE


@pytest.mark.parametrize(
    ("schedule", "change", "expected"),
    [
        pytest.param(
            ONCE,
            {"frequency": Frequency.DAILY},
            Schedule(time(9, 0), Frequency.DAILY, BERLIN),
            id="once-daily",
        ),
        pytest.param(
            ONCE,
            {"frequency": Frequency.WEEKLY, "weekdays": [4]},
            Schedule(time(9, 0), Frequency.WEEKLY, BERLIN, weekdays=(4,)),
            id="once-weekly",
        ),
        pytest.param(
            WEEKLY,
            {"frequency": Frequency.DAILY},
            Schedule(time(9, 0), Frequency.DAILY, BERLIN),
            id="weekly-daily",
        ),
        pytest.param(
            WEEKLY,
            {"frequency": Frequency.ONCE, "on_date": dt.date(2026, 2, 1)},
            Schedule(time(9, 0), Frequency.ONCE, BERLIN, date=dt.date(2026, 2, 1)),
            id="weekly-once-with-a-date",
        ),
        # 09:00 in Berlin is 08:00 UTC: not ahead of NOW any more, so tomorrow.
        pytest.param(
            DAILY,
            {"frequency": Frequency.ONCE},
            Schedule(time(9, 0), Frequency.ONCE, BERLIN, date=dt.date(2026, 1, 6)),
            id="daily-once-next-occurrence",
        ),
        pytest.param(
            ONCE,
            {"on_date": None},
            Schedule(time(9, 0), Frequency.ONCE, BERLIN, date=dt.date(2026, 1, 6)),
            id="null-date-is-the-next-occurrence",
        ),
    ],
)
def test_a_new_frequency_clears_what_only_the_old_one_used(
    schedule: Schedule, change: dict[str, Any], expected: Schedule
) -> None:
    assert schedule.revise(now=NOW, **change) == expected


@pytest.mark.parametrize(
    ("schedule", "change", "field"),
    [
        pytest.param(DAILY, {"frequency": Frequency.WEEKLY}, "weekdays", id="daily-weekly-without-weekdays"),
        pytest.param(ONCE, {"frequency": Frequency.WEEKLY}, "weekdays", id="once-weekly-without-weekdays"),
        pytest.param(
            DAILY, {"frequency": Frequency.WEEKLY, "weekdays": []}, "weekdays", id="weekly-with-no-weekdays"
        ),
        pytest.param(
            WEEKLY, {"frequency": Frequency.DAILY, "weekdays": [1]}, "weekdays", id="old-weekdays-sent"
        ),
        pytest.param(
            ONCE, {"frequency": Frequency.DAILY, "on_date": CHRISTMAS_EVE}, "date", id="old-date-sent"
        ),
        pytest.param(DAILY, {"weekdays": [1]}, "weekdays", id="weekdays-on-daily"),
        pytest.param(WEEKLY, {"on_date": CHRISTMAS_EVE}, "date", id="date-on-weekly"),
    ],
)
def test_a_revision_the_new_frequency_cannot_use_is_refused(
    schedule: Schedule, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        schedule.revise(now=NOW, **change)

    assert caught.value.field == field
    assert " " in caught.value.message


def test_switching_to_weekly_without_weekdays_says_to_send_them() -> None:
    with pytest.raises(InvalidSchedule) as caught:
        DAILY.revise(frequency=Frequency.WEEKLY, now=NOW)

    assert caught.value.message == "weekdays are required when the frequency changes to weekly"


# --- next_unsent_occurrence -----------------------------------------------------------------------

SENT_AT_NINE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TEN = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def utc_daily(at: time) -> Schedule:
    return Schedule(at, Frequency.DAILY)


@pytest.mark.parametrize(
    ("schedule", "last_slot", "expected"),
    [
        pytest.param(utc_daily(time(11, 0)), None, datetime(2026, 1, 5, 11, 0, tzinfo=UTC), id="never-sent"),
        pytest.param(
            utc_daily(time(11, 0)), SENT_AT_NINE, datetime(2026, 1, 6, 11, 0, tzinfo=UTC), id="later-same-day"
        ),
        pytest.param(
            utc_daily(time(8, 0)),
            SENT_AT_NINE,
            datetime(2026, 1, 6, 8, 0, tzinfo=UTC),
            id="earlier-as-normal",
        ),
        pytest.param(
            utc_daily(time(11, 0)),
            datetime(2026, 1, 4, 9, 0, tzinfo=UTC),
            datetime(2026, 1, 5, 11, 0, tzinfo=UTC),
            id="sent-yesterday",
        ),
        pytest.param(
            Schedule(time(11, 0), Frequency.WEEKLY, weekdays=(0, 2)),
            SENT_AT_NINE,
            datetime(2026, 1, 7, 11, 0, tzinfo=UTC),
            id="weekly-skips-to-its-next-weekday",
        ),
        pytest.param(
            Schedule(time(11, 0), Frequency.ONCE, date=dt.date(2026, 1, 5)),
            SENT_AT_NINE,
            datetime(2026, 1, 5, 11, 0, tzinfo=UTC),
            id="once-is-a-new-one-off",
        ),
    ],
)
def test_a_daily_or_weekly_schedule_skips_the_local_date_already_sent(
    schedule: Schedule, last_slot: datetime | None, expected: datetime
) -> None:
    assert schedule.next_unsent_occurrence(TEN, last_slot=last_slot) == expected


def test_the_local_date_is_the_schedules_not_utcs() -> None:
    # 00:30 in Los Angeles on 5 January is 08:30 UTC; 23:00 there the same day is 07:00 UTC on the 6th.
    schedule = Schedule(time(23, 0), Frequency.DAILY, "America/Los_Angeles")
    sent = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)

    upcoming = schedule.next_unsent_occurrence(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), last_slot=sent)

    assert upcoming == datetime(2026, 1, 7, 7, 0, tzinfo=UTC)


def test_a_slot_sent_at_the_spring_forward_jump_still_holds_its_local_date() -> None:
    # 02:30 does not exist in Berlin on 29 March 2026: it fired at the jump, 03:00 CEST (01:00 UTC).
    schedule = Schedule(time(4, 0), Frequency.DAILY, BERLIN)
    sent = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)

    upcoming = schedule.next_unsent_occurrence(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), last_slot=sent)

    assert upcoming == datetime(2026, 3, 30, 2, 0, tzinfo=UTC)  # 04:00 CEST the next day


# --- Reminder.update with the slot already sent ----------------------------------------------------


def daily_reminder() -> Reminder:
    reminder = Reminder.create(
        team_id="t-1",
        owner_id="u-1",
        title="Stand-up",
        message="Join the call",
        channel="log",
        target=None,
        schedule=utc_daily(time(9, 0)),
        active=True,
        now=NOW,
    )
    reminder.pull_events()
    return reminder


def test_an_edit_after_todays_slot_was_sent_moves_to_the_next_date() -> None:
    reminder = daily_reminder()

    reminder.update({"schedule": utc_daily(time(11, 0))}, now=TEN, last_slot=SENT_AT_NINE)

    assert reminder.next_run_at == datetime(2026, 1, 6, 11, 0, tzinfo=UTC)
    assert reminder.pull_events() == [
        ReminderUpdated(reminder_id=reminder.id, changed=("schedule",), next_run_at=reminder.next_run_at)
    ]


def test_a_refused_edit_leaves_the_reminder_as_it_was() -> None:
    reminder = daily_reminder()
    past = Schedule(time(9, 0), Frequency.ONCE, date=dt.date(2026, 1, 4))

    with pytest.raises(InvalidSchedule):
        reminder.update({"title": "Retro", "schedule": past}, now=TEN)

    assert (reminder.title, reminder.schedule, reminder.next_run_at, reminder.updated_at) == (
        "Stand-up",
        utc_daily(time(9, 0)),
        datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        NOW,
    )
    assert reminder.pull_events() == []
