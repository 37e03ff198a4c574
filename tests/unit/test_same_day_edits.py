"""Schedule edits after a slot was sent, through the bus: a daily or weekly reminder is never sent a
second time on the same local date, however its schedule moves; a once reminder set again is a new
one-off. The scheduler and the queue run inline on the fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from application import views
from application.commands import ReminderPatch, UpdateReminder
from domain.delivery import DeliveryStatus
from domain.reminder import Reminder
from domain.schedule import Frequency
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, RecordingChannel, admin
from tests.unit.world import create_reminder, ledger, send_now, tick_and_send


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in January 2026, UTC; the 5th is a Monday."""
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def patch(
    service: Service, clock: FixedClock, when: datetime, reminder: Reminder, **changes: Any
) -> Reminder:
    clock.current = when
    command = UpdateReminder(
        actor=admin(service), reminder_id=reminder.id, changes=ReminderPatch.model_validate(changes)
    )
    updated: Reminder = service.bus.handle(command)
    return updated


def next_run(service: Service, reminder: Reminder) -> datetime | None:
    return views.get_reminder(service.uow_factory, admin(service), reminder.id).next_run_at


def sent_slots(team: RecordingChannel) -> list[datetime | None]:
    return [notification.scheduled_for for notification in team.sent]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"time_of_day": "11:00"}, at(6, 11), id="later-today-waits-for-tomorrow"),
        pytest.param({"time_of_day": "09:30"}, at(6, 9, 30), id="later-but-already-past"),
        pytest.param({"time_of_day": "08:00"}, at(6, 8), id="earlier-as-normal"),
        pytest.param({"timezone": "America/New_York"}, at(6, 14), id="new-zone-later-today"),
        pytest.param({"active": False}, None, id="deactivated"),
    ],
)
def test_moving_a_daily_reminder_after_it_was_sent_never_sends_it_again_that_day(
    service: Service,
    clock: FixedClock,
    owner: User,
    team: RecordingChannel,
    changes: dict[str, Any],
    expected: datetime | None,
) -> None:
    reminder = create_reminder(service, owner)
    tick_and_send(service, clock, at(5, 9))

    patch(service, clock, at(5, 10), reminder, **changes)

    assert next_run(service, reminder) == expected
    for moment in (at(5, 11), at(5, 14), at(5, 23, 59)):
        tick_and_send(service, clock, moment)
    assert sent_slots(team) == [at(5, 9)]


def test_the_moved_reminder_is_sent_the_next_day_at_its_new_time(
    service: Service, clock: FixedClock, owner: User, team: RecordingChannel
) -> None:
    reminder = create_reminder(service, owner)
    tick_and_send(service, clock, at(5, 9))
    patch(service, clock, at(5, 10), reminder, time_of_day="11:00")

    tick_and_send(service, clock, at(5, 11))
    tick_and_send(service, clock, at(6, 11))

    assert sent_slots(team) == [at(5, 9), at(6, 11)]
    assert next_run(service, reminder) == at(7, 11)


def test_a_second_edit_the_same_day_still_counts_the_slot_sent(
    service: Service, clock: FixedClock, owner: User
) -> None:
    reminder = create_reminder(service, owner)
    tick_and_send(service, clock, at(5, 9))
    patch(service, clock, at(5, 10), reminder, time_of_day="11:00")

    patch(service, clock, at(5, 10, 30), reminder, time_of_day="12:00")

    assert next_run(service, reminder) == at(6, 12)


@pytest.mark.parametrize(
    ("fired_at", "edited_at", "expected"),
    [
        pytest.param(None, at(5, 8, 30), at(5, 11), id="not-sent-yet-today"),
        pytest.param(at(4, 9), at(5, 8, 30), at(5, 11), id="sent-yesterday"),
    ],
)
def test_moving_a_reminder_not_yet_sent_today_keeps_todays_slot(
    service: Service,
    clock: FixedClock,
    owner: User,
    team: RecordingChannel,
    fired_at: datetime | None,
    edited_at: datetime,
    expected: datetime,
) -> None:
    clock.current = at(4, 8)
    reminder = create_reminder(service, owner)
    if fired_at is not None:
        tick_and_send(service, clock, fired_at)

    patch(service, clock, edited_at, reminder, time_of_day="11:00")

    assert next_run(service, reminder) == expected
    tick_and_send(service, clock, expected)
    assert sent_slots(team)[-1] == expected


def test_a_reminder_created_after_todays_time_may_be_moved_later_today(
    service: Service, clock: FixedClock, owner: User
) -> None:
    clock.current = at(5, 10)
    reminder = create_reminder(service, owner)
    assert reminder.next_run_at == at(6, 9)

    patch(service, clock, at(5, 10, 5), reminder, time_of_day="11:00")

    assert next_run(service, reminder) == at(5, 11)


def test_a_slot_sent_just_after_local_midnight_counts_for_its_own_date(
    service: Service, clock: FixedClock, owner: User, team: RecordingChannel
) -> None:
    # The 23:58 slot of the 5th goes out late, on the 6th; the 6th has had no slot of its own yet.
    reminder = create_reminder(service, owner, time_of_day="23:58")
    tick_and_send(service, clock, at(6, 0, 1))
    assert sent_slots(team) == [at(5, 23, 58)]

    patch(service, clock, at(6, 8), reminder, time_of_day="09:00")

    assert next_run(service, reminder) == at(6, 9)


def test_a_missed_slot_does_not_count_as_sent(
    service: Service, clock: FixedClock, owner: User, team: RecordingChannel
) -> None:
    reminder = create_reminder(service, owner)
    tick_and_send(service, clock, at(5, 9, 30))  # the service was down at 09:00: beyond the grace period
    assert [delivery.status for delivery in ledger(service)] == [DeliveryStatus.MISSED]

    patch(service, clock, at(5, 9, 40), reminder, time_of_day="10:00")
    tick_and_send(service, clock, at(5, 10))

    assert sent_slots(team) == [at(5, 10)]


def test_sending_on_demand_neither_counts_nor_hides_the_slot_sent(
    service: Service, clock: FixedClock, owner: User, team: RecordingChannel
) -> None:
    reminder = create_reminder(service, owner)
    clock.current = at(5, 8, 30)
    send_now(service, reminder)
    patch(service, clock, at(5, 8, 40), reminder, time_of_day="09:30")
    assert next_run(service, reminder) == at(5, 9, 30)

    tick_and_send(service, clock, at(5, 9, 30))
    # More sends on demand than the ledger hands over in one page.
    for _ in range(25):
        send_now(service, reminder)
    patch(service, clock, at(5, 10), reminder, time_of_day="11:00")

    assert next_run(service, reminder) == at(6, 11)


def test_reactivating_after_a_move_still_counts_the_slot_sent(
    service: Service, clock: FixedClock, owner: User
) -> None:
    reminder = create_reminder(service, owner)
    tick_and_send(service, clock, at(5, 9))
    patch(service, clock, at(5, 9, 30), reminder, active=False)
    patch(service, clock, at(5, 9, 40), reminder, time_of_day="11:00")
    assert next_run(service, reminder) is None

    patch(service, clock, at(5, 10), reminder, active=True)

    assert next_run(service, reminder) == at(6, 11)


def test_the_local_date_is_the_reminders_own(service: Service, clock: FixedClock, owner: User) -> None:
    # Los Angeles is UTC-8: 00:30 there on the 5th is 08:30 UTC; 23:00 there is 07:00 UTC the next day.
    reminder = create_reminder(service, owner, time_of_day="00:30", timezone="America/Los_Angeles")
    tick_and_send(service, clock, at(5, 8, 30))

    patch(service, clock, at(5, 9), reminder, time_of_day="23:00")

    assert next_run(service, reminder) == at(7, 7)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"time_of_day": "11:00"}, at(12, 11), id="same-weekday-waits-a-week"),
        pytest.param({"time_of_day": "11:00", "weekdays": [0, 2]}, at(7, 11), id="next-listed-weekday"),
        pytest.param({"weekdays": [0, 1]}, at(6, 9), id="a-later-date-as-normal"),
    ],
)
def test_a_weekly_reminder_moved_on_the_day_it_was_sent_waits_for_its_next_date(
    service: Service,
    clock: FixedClock,
    owner: User,
    team: RecordingChannel,
    changes: dict[str, Any],
    expected: datetime,
) -> None:
    reminder = create_reminder(service, owner, frequency=Frequency.WEEKLY, weekdays=[0])
    tick_and_send(service, clock, at(5, 9))

    patch(service, clock, at(5, 10), reminder, **changes)

    assert next_run(service, reminder) == expected
    tick_and_send(service, clock, at(5, 11))
    assert sent_slots(team) == [at(5, 9)]


def test_a_once_reminder_set_again_after_it_was_sent_is_a_new_one_off(
    service: Service, clock: FixedClock, owner: User, team: RecordingChannel
) -> None:
    reminder = create_reminder(service, owner, frequency=Frequency.ONCE, date="2026-01-05")
    tick_and_send(service, clock, at(5, 9))
    # Sending retires a once reminder; a new time alone leaves it retired.
    assert patch(service, clock, at(5, 10), reminder, time_of_day="11:00").next_run_at is None

    patch(service, clock, at(5, 10, 5), reminder, active=True)
    tick_and_send(service, clock, at(5, 11))

    assert sent_slots(team) == [at(5, 9), at(5, 11)]
