"""Reminder: when it runs next, what an edit changes, and what firing puts in the ledger."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from domain.delivery import DeliveryStatus
from domain.errors import InvalidInput, InvalidSchedule, InvalidTemplate
from domain.events import OccurrenceMissed, ReminderCreated, ReminderDeleted, ReminderDue, ReminderUpdated
from domain.reminder import Reminder
from domain.schedule import Frequency, Schedule

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
GRACE = timedelta(minutes=5)
DAILY_NINE = Schedule(time(9, 0), Frequency.DAILY, "UTC")


def once(day: dt.date, at: time = time(9, 0)) -> Schedule:
    return Schedule(at, Frequency.ONCE, "UTC", date=day)


def make_reminder(
    *,
    schedule: Schedule = DAILY_NINE,
    active: bool = True,
    now: datetime = NOW,
    title: str = "Stand-up",
    message: str = "Hi {owner_name}, {title} at {scheduled_for_local}",
) -> Reminder:
    return Reminder.create(
        team_id="t-1",
        owner_id="u-1",
        title=title,
        message=message,
        channel="log",
        target=None,
        schedule=schedule,
        active=active,
        now=now,
    )


def text(field: str, value: str) -> dict[str, Any]:
    return {field: value}


def quiet(reminder: Reminder) -> Reminder:
    reminder.pull_events()
    return reminder


# --- create -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 2, 8, 0, tzinfo=UTC), datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
        (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime(2026, 3, 3, 9, 0, tzinfo=UTC)),
        (datetime(2026, 3, 2, 23, 0, tzinfo=UTC), datetime(2026, 3, 3, 9, 0, tzinfo=UTC)),
    ],
)
def test_create_schedules_the_first_run_after_now(now: datetime, expected: datetime) -> None:
    reminder = make_reminder(now=now)
    assert reminder.next_run_at == expected
    assert reminder.last_run_at is None
    assert reminder.pull_events() == [
        ReminderCreated(reminder_id=reminder.id, owner_id="u-1", next_run_at=expected)
    ]


def test_create_uses_the_schedule_zone() -> None:
    # 08:00 UTC is 09:00 in Berlin, so today's 09:00 is not ahead any more.
    reminder = make_reminder(schedule=Schedule(time(9, 0), Frequency.DAILY, "Europe/Berlin"))
    assert reminder.next_run_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_an_inactive_reminder_has_no_next_run() -> None:
    reminder = make_reminder(active=False)
    assert reminder.next_run_at is None
    assert reminder.pull_events() == [
        ReminderCreated(reminder_id=reminder.id, owner_id="u-1", next_run_at=None)
    ]
    assert reminder.fire(datetime(2026, 3, 9, 9, 0, tzinfo=UTC), grace=GRACE) == []


@pytest.mark.parametrize(
    ("day", "at"),
    [
        pytest.param(dt.date(2026, 3, 1), time(9, 0), id="yesterday"),
        pytest.param(dt.date(2026, 3, 2), time(7, 59), id="earlier-today"),
        pytest.param(dt.date(2026, 3, 2), time(8, 0), id="right-now"),
    ],
)
def test_a_once_reminder_in_the_past_is_refused(day: dt.date, at: time) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        make_reminder(schedule=once(day, at))
    assert caught.value.field == "date"


@pytest.mark.parametrize(("field", "value"), [("title", ""), ("title", "   "), ("message", "\n")])
def test_blank_title_or_message_is_refused(field: str, value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_reminder(**text(field, value))
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("field", "value"), [("title", "{title[0]}"), ("message", "Hi {owner_name.__class__}")]
)
def test_a_bad_template_is_refused(field: str, value: str) -> None:
    with pytest.raises(InvalidTemplate) as caught:
        make_reminder(**text(field, value))
    assert caught.value.field == field


# --- update -------------------------------------------------------------------------------------


def test_changing_the_schedule_recomputes_the_next_run() -> None:
    reminder = quiet(make_reminder())
    later = NOW + timedelta(minutes=30)
    reminder.update({"schedule": Schedule(time(7, 0), Frequency.DAILY, "UTC")}, now=later)
    assert reminder.next_run_at == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
    assert reminder.updated_at == later
    assert reminder.pull_events() == [
        ReminderUpdated(reminder_id=reminder.id, changed=("schedule",), next_run_at=reminder.next_run_at)
    ]


def test_the_event_names_only_the_fields_that_changed() -> None:
    reminder = quiet(make_reminder())
    reminder.update({"title": "Stand-up", "message": "Standing up now", "schedule": DAILY_NINE}, now=NOW)
    assert reminder.pull_events() == [
        ReminderUpdated(
            reminder_id=reminder.id, changed=("message",), next_run_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        )
    ]
    assert reminder.message == "Standing up now"


def test_an_edit_that_changes_nothing_records_nothing() -> None:
    reminder = quiet(make_reminder())
    reminder.update({"title": "Stand-up", "active": True}, now=NOW + timedelta(hours=1))
    assert reminder.pull_events() == []
    assert reminder.updated_at == NOW


def test_deactivating_clears_the_next_run_and_reactivating_computes_it_from_then() -> None:
    reminder = quiet(make_reminder())
    reminder.update({"active": False}, now=NOW)
    assert reminder.next_run_at is None
    reactivated_at = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    reminder.update({"active": True}, now=reactivated_at)
    assert reminder.next_run_at == datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    assert [event.changed for event in reminder.pull_events() if isinstance(event, ReminderUpdated)] == [
        ("active",),
        ("active",),
    ]


def test_a_text_edit_keeps_the_next_run() -> None:
    reminder = quiet(make_reminder())
    reminder.update({"title": "Daily stand-up"}, now=datetime(2026, 3, 2, 8, 30, tzinfo=UTC))
    assert reminder.next_run_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("title", " ", InvalidInput),
        ("message", "", InvalidInput),
        ("title", "{title!r}", InvalidTemplate),
        ("message", "{nope}", InvalidTemplate),
    ],
)
def test_an_edit_with_blank_or_bad_text_is_refused_and_changes_nothing(
    field: str, value: str, error: type[InvalidInput]
) -> None:
    reminder = quiet(make_reminder())
    before = getattr(reminder, field)
    with pytest.raises(error) as caught:
        reminder.update({field: value}, now=NOW)
    assert caught.value.field == field
    assert getattr(reminder, field) == before
    assert reminder.pull_events() == []


def test_moving_a_once_reminder_into_the_past_is_refused() -> None:
    reminder = quiet(make_reminder(schedule=once(dt.date(2026, 3, 10))))
    with pytest.raises(InvalidSchedule):
        reminder.update({"schedule": once(dt.date(2026, 3, 1))}, now=NOW)


def test_delete_records_reminder_deleted() -> None:
    reminder = quiet(make_reminder())
    reminder.delete()
    assert reminder.pull_events() == [ReminderDeleted(reminder_id=reminder.id, owner_id="u-1")]


# --- fire ---------------------------------------------------------------------------------------


def test_nothing_happens_before_the_slot() -> None:
    reminder = quiet(make_reminder())
    assert reminder.fire(datetime(2026, 3, 2, 8, 59, 59, tzinfo=UTC), grace=GRACE) == []
    assert reminder.next_run_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert reminder.last_run_at is None
    assert reminder.pull_events() == []


@pytest.mark.parametrize("late", [timedelta(0), timedelta(minutes=2), GRACE])
def test_a_due_slot_within_grace_opens_one_pending_delivery(late: timedelta) -> None:
    reminder = quiet(make_reminder())
    slot = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    now = slot + late
    [delivery] = reminder.fire(now, grace=GRACE)
    assert delivery.status is DeliveryStatus.PENDING
    assert (delivery.reminder_id, delivery.channel, delivery.scheduled_for) == (reminder.id, "log", slot)
    assert reminder.pull_events() == [
        ReminderDue(reminder_id=reminder.id, delivery_id=delivery.id, scheduled_for=slot)
    ]
    assert reminder.last_run_at == now
    assert reminder.next_run_at == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def test_a_slot_fires_once() -> None:
    reminder = quiet(make_reminder())
    now = datetime(2026, 3, 2, 9, 1, tzinfo=UTC)
    assert len(reminder.fire(now, grace=GRACE)) == 1
    assert reminder.fire(now, grace=GRACE) == []


def test_a_slot_older_than_grace_is_recorded_as_missed() -> None:
    reminder = quiet(make_reminder())
    slot = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    [delivery] = reminder.fire(slot + GRACE + timedelta(seconds=1), grace=GRACE)
    assert delivery.status is DeliveryStatus.MISSED
    assert reminder.pull_events() == [
        OccurrenceMissed(reminder_id=reminder.id, delivery_id=delivery.id, scheduled_for=slot, channel="log")
    ]
    assert reminder.next_run_at == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def test_a_once_reminder_goes_inactive_after_firing() -> None:
    reminder = quiet(make_reminder(schedule=once(dt.date(2026, 3, 4))))
    now = datetime(2026, 3, 4, 9, 0, 30, tzinfo=UTC)
    [delivery] = reminder.fire(now, grace=GRACE)
    assert delivery.status is DeliveryStatus.PENDING
    assert reminder.active is False
    assert reminder.next_run_at is None
    assert reminder.fire(datetime(2026, 3, 5, 9, 0, tzinfo=UTC), grace=GRACE) == []


def test_after_a_long_gap_older_slots_are_missed_and_the_newest_is_sent_within_grace() -> None:
    reminder = quiet(make_reminder())
    now = datetime(2026, 3, 5, 9, 1, tzinfo=UTC)  # three days late for Monday's 09:00
    deliveries = reminder.fire(now, grace=GRACE)
    slots = [datetime(2026, 3, day, 9, 0, tzinfo=UTC) for day in (2, 3, 4, 5)]
    assert [(d.scheduled_for, d.status) for d in deliveries] == [
        (slots[0], DeliveryStatus.MISSED),
        (slots[1], DeliveryStatus.MISSED),
        (slots[2], DeliveryStatus.MISSED),
        (slots[3], DeliveryStatus.PENDING),
    ]
    assert reminder.pull_events() == [
        *(
            OccurrenceMissed(
                reminder_id=reminder.id, delivery_id=d.id, scheduled_for=d.scheduled_for, channel="log"
            )
            for d in deliveries[:3]
        ),
        ReminderDue(reminder_id=reminder.id, delivery_id=deliveries[3].id, scheduled_for=slots[3]),
    ]
    assert reminder.next_run_at == datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    assert reminder.last_run_at == now


def test_after_a_long_gap_the_newest_slot_is_missed_too_when_older_than_grace() -> None:
    reminder = quiet(make_reminder())
    now = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    deliveries = reminder.fire(now, grace=GRACE)
    assert [d.scheduled_for for d in deliveries] == [
        datetime(2026, 3, day, 9, 0, tzinfo=UTC) for day in (2, 3, 4, 5)
    ]
    assert {d.status for d in deliveries} == {DeliveryStatus.MISSED}
    events = reminder.pull_events()
    assert all(isinstance(event, OccurrenceMissed) for event in events)
    assert len(events) == 4
    assert reminder.next_run_at == datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
