"""A reminder's state as people see it: active, paused (a slot still to come) or ended (none left)."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, time, timedelta

import pytest

from domain.reminder import Reminder
from domain.reminder_state import reminder_state
from domain.schedule import Frequency, Schedule

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
GRACE = timedelta(minutes=5)
TODAY = NOW.date()


def make_reminder(schedule: Schedule, *, active: bool = True) -> Reminder:
    return Reminder.create(
        team_id="t-1",
        owner_id="u-1",
        title="Stand-up",
        message="Join the call",
        channel="log",
        target=None,
        schedule=schedule,
        active=active,
        now=NOW,
    )


def paused(reminder: Reminder) -> Reminder:
    reminder.update({"active": False}, now=NOW)
    return reminder


def daily(*, ends_on: dt.date | None = None) -> Schedule:
    return Schedule(time(9, 0), Frequency.DAILY, "UTC", ends_on=ends_on)


def rule(text: str) -> Schedule:
    return Schedule.build(time_of_day="09:00", frequency=Frequency.RRULE, rrule=text, now=NOW)


def test_an_active_reminder_is_active() -> None:
    assert reminder_state(make_reminder(daily()), NOW) == "active"


def test_an_active_reminder_stays_active_even_with_no_slot_left_to_see() -> None:
    # The scheduler ends a series when it fires its last slot; until then it is active.
    reminder = make_reminder(daily(ends_on=TODAY))

    assert reminder_state(reminder, NOW + timedelta(days=3)) == "active"


def test_a_paused_reminder_with_slots_to_come_is_paused() -> None:
    reminder = paused(make_reminder(daily()))

    assert reminder_state(reminder, NOW) == "paused"
    assert reminder_state(reminder, NOW + timedelta(days=400)) == "paused"


def test_a_paused_reminder_created_inactive_is_paused() -> None:
    assert reminder_state(make_reminder(daily(), active=False), NOW) == "paused"


def test_a_once_reminder_that_fired_has_ended() -> None:
    reminder = make_reminder(Schedule(time(9, 0), Frequency.ONCE, "UTC", date=TODAY))
    fired_at = NOW.replace(hour=9)

    reminder.fire(fired_at, grace=GRACE)

    assert reminder.active is False
    assert reminder_state(reminder, fired_at) == "ended"


def test_a_paused_once_reminder_is_paused_before_its_day_and_ended_after_it() -> None:
    reminder = paused(make_reminder(Schedule(time(9, 0), Frequency.ONCE, "UTC", date=TODAY)))

    assert reminder_state(reminder, NOW) == "paused"
    assert reminder_state(reminder, NOW.replace(hour=8, minute=59)) == "paused"
    assert reminder_state(reminder, NOW.replace(hour=9)) == "ended"  # its one slot is now: none to come


@pytest.mark.parametrize("text", ["FREQ=DAILY;COUNT=2", "FREQ=DAILY;UNTIL=20260303T235959Z"])
def test_a_rule_past_its_count_or_until_has_ended(text: str) -> None:
    reminder = paused(make_reminder(rule(text)))

    # Slots on 2 and 3 March at 09:00; none after.
    assert reminder_state(reminder, datetime(2026, 3, 3, 8, 0, tzinfo=UTC)) == "paused"
    assert reminder_state(reminder, datetime(2026, 3, 3, 10, 0, tzinfo=UTC)) == "ended"


def test_a_rule_that_ran_out_while_firing_has_ended() -> None:
    reminder = make_reminder(rule("FREQ=DAILY;COUNT=2"))
    for day in (2, 3):
        reminder.fire(datetime(2026, 3, day, 9, 0, tzinfo=UTC), grace=GRACE)

    assert reminder.active is False
    assert reminder_state(reminder, datetime(2026, 3, 3, 9, 0, 1, tzinfo=UTC)) == "ended"


def test_a_schedule_past_its_ends_on_has_ended() -> None:
    reminder = paused(make_reminder(daily(ends_on=TODAY + timedelta(days=1))))

    assert reminder_state(reminder, NOW + timedelta(days=1)) == "paused"
    assert reminder_state(reminder, NOW + timedelta(days=2)) == "ended"
