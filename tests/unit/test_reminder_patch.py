"""UpdateReminder as a partial change, through the bus: a field not sent keeps its value, for every
field and every frequency; a new frequency clears what only the old one used; a refused patch
changes nothing."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, time
from typing import Any

import pytest

from application import views
from application.channels import NotificationChannel
from application.commands import CreateReminder, CreateUser, ReminderPatch, UpdateReminder
from domain.errors import InvalidSchedule
from domain.events import Event
from domain.reminder import Reminder
from domain.schedule import Frequency
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, RecordingChannel, admin, make_service

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
CHRISTMAS_EVE = dt.date(2026, 12, 24)

# One reminder of each frequency, every field set to something other than its default.
SCHEDULES: dict[Frequency, dict[str, Any]] = {
    Frequency.ONCE: {"frequency": Frequency.ONCE, "date": CHRISTMAS_EVE},
    Frequency.DAILY: {"frequency": Frequency.DAILY},
    Frequency.WEEKLY: {"frequency": Frequency.WEEKLY, "weekdays": [0, 3]},
}
# A new value for each field, as sent and as the reminder then holds it.
CHANGES: list[tuple[str, Any, Any]] = [
    ("title", "Retro", "Retro"),
    ("message", "Bring notes", "Bring notes"),
    ("channel", "pager", "pager"),
    ("target", "#other", "#other"),
    ("time_of_day", "10:30", time(10, 30)),
    ("timezone", "America/New_York", "America/New_York"),
    ("active", False, False),
]
ONLY_FOR: dict[Frequency, list[tuple[str, Any, Any]]] = {
    Frequency.ONCE: [("date", "2026-12-31", dt.date(2026, 12, 31))],
    Frequency.DAILY: [],
    Frequency.WEEKLY: [("weekdays", [4, 1], (1, 4))],
}
CASES = [
    pytest.param(frequency, field, sent, held, id=f"{frequency.value}-{field}")
    for frequency in SCHEDULES
    for field, sent, held in [*CHANGES, *ONLY_FOR[frequency], ("frequency", frequency, frequency)]
]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def service(clock: FixedClock, events: list[Event]) -> Service:
    channels: dict[str, NotificationChannel] = {
        "chat": RecordingChannel(takes_target=True),
        "pager": RecordingChannel(takes_target=True),
    }
    return make_service(clock=clock, channels=channels, events=events)


@pytest.fixture
def owner_id(service: Service) -> str:
    user: User = service.bus.handle(CreateUser(actor=admin(service), name="Ann", email="ann@example.com"))
    return user.id


def create(service: Service, owner_id: str, frequency: Frequency, **fields: Any) -> Reminder:
    values: dict[str, Any] = {
        "title": "Stand-up",
        "message": "Join the call",
        "channel": "chat",
        "target": "#team",
        "time_of_day": "09:00",
        "timezone": "Europe/Berlin",
        **SCHEDULES[frequency],
        **fields,
    }
    reminder: Reminder = service.bus.handle(CreateReminder(actor=admin(service), owner_id=owner_id, **values))
    return reminder


def patch(service: Service, reminder: Reminder, **changes: Any) -> Reminder:
    command = UpdateReminder(
        actor=admin(service), reminder_id=reminder.id, changes=ReminderPatch.model_validate(changes)
    )
    updated: Reminder = service.bus.handle(command)
    return updated


def stored(service: Service, reminder: Reminder) -> Reminder:
    return views.get_reminder(service.uow_factory, admin(service), reminder.id)


def visible(reminder: Reminder) -> dict[str, Any]:
    """Every field a caller can set, as the reminder holds it."""
    schedule = reminder.schedule
    return {
        "title": reminder.title,
        "message": reminder.message,
        "channel": reminder.channel,
        "target": reminder.target,
        "time_of_day": schedule.time_of_day,
        "frequency": schedule.frequency,
        "weekdays": schedule.weekdays,
        "date": schedule.date,
        "timezone": schedule.timezone,
        "active": reminder.active,
    }


@pytest.mark.parametrize(("frequency", "field", "sent", "held"), CASES)
def test_a_patch_changes_the_field_it_names_and_keeps_every_other(
    service: Service, clock: FixedClock, owner_id: str, frequency: Frequency, field: str, sent: Any, held: Any
) -> None:
    reminder = create(service, owner_id, frequency)
    before = visible(stored(service, reminder))
    clock.advance(minutes=5)

    patch(service, reminder, **{field: sent})

    saved = stored(service, reminder)
    assert visible(saved) == {**before, field: held}
    if not saved.active:
        assert saved.next_run_at is None
    else:
        assert saved.next_run_at == saved.schedule.next_occurrence(clock.now())


def test_moving_the_time_of_a_christmas_reminder_keeps_christmas(service: Service, owner_id: str) -> None:
    reminder = create(service, owner_id, Frequency.ONCE, timezone="UTC")

    updated = patch(service, reminder, time_of_day="10:00")

    assert updated.schedule.date == CHRISTMAS_EVE
    assert updated.next_run_at == datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
    assert stored(service, reminder).next_run_at == updated.next_run_at


@pytest.mark.parametrize(
    ("frequency", "changes", "weekdays", "date"),
    [
        pytest.param(Frequency.ONCE, {"frequency": "daily"}, (), None, id="once-daily-clears-the-date"),
        pytest.param(
            Frequency.ONCE,
            {"frequency": "weekly", "weekdays": [2]},
            (2,),
            None,
            id="once-weekly-clears-the-date",
        ),
        pytest.param(
            Frequency.WEEKLY, {"frequency": "daily"}, (), None, id="weekly-daily-clears-the-weekdays"
        ),
        pytest.param(
            Frequency.WEEKLY,
            {"frequency": "once", "date": "2026-02-01"},
            (),
            dt.date(2026, 2, 1),
            id="weekly-once-clears-the-weekdays",
        ),
        # 09:00 in Berlin is 08:00 UTC, not ahead of the clock any more: the next one is tomorrow's.
        pytest.param(
            Frequency.DAILY,
            {"frequency": "once"},
            (),
            dt.date(2026, 1, 6),
            id="daily-once-takes-the-next-one",
        ),
    ],
)
def test_a_new_frequency_clears_what_only_the_old_one_used(
    service: Service,
    owner_id: str,
    frequency: Frequency,
    changes: dict[str, Any],
    weekdays: tuple[int, ...],
    date: dt.date | None,
) -> None:
    reminder = create(service, owner_id, frequency)
    before = visible(stored(service, reminder))

    patch(service, reminder, **changes)

    saved = stored(service, reminder)
    expected = {**before, "frequency": Frequency(changes["frequency"]), "weekdays": weekdays, "date": date}
    assert visible(saved) == expected
    assert saved.next_run_at == saved.schedule.next_occurrence(START)


@pytest.mark.parametrize(
    ("frequency", "changes", "field"),
    [
        pytest.param(
            Frequency.DAILY, {"frequency": "weekly"}, "weekdays", id="daily-weekly-without-weekdays"
        ),
        pytest.param(
            Frequency.ONCE,
            {"frequency": "weekly", "title": "Retro"},
            "weekdays",
            id="once-weekly-without-weekdays",
        ),
        pytest.param(
            Frequency.WEEKLY, {"frequency": "daily", "weekdays": [1]}, "weekdays", id="daily-with-weekdays"
        ),
        pytest.param(
            Frequency.ONCE, {"frequency": "daily", "date": "2026-12-25"}, "date", id="daily-with-a-date"
        ),
        pytest.param(
            Frequency.DAILY, {"weekdays": [1], "title": "Retro"}, "weekdays", id="weekdays-on-daily"
        ),
        pytest.param(Frequency.WEEKLY, {"date": "2026-12-25"}, "date", id="date-on-weekly"),
        pytest.param(
            Frequency.ONCE, {"date": "2026-01-04", "title": "Retro"}, "date", id="once-into-the-past"
        ),
    ],
)
def test_a_refused_patch_names_the_field_and_changes_nothing(
    service: Service,
    clock: FixedClock,
    owner_id: str,
    events: list[Event],
    frequency: Frequency,
    changes: dict[str, Any],
    field: str,
) -> None:
    reminder = create(service, owner_id, frequency)
    before = stored(service, reminder)
    events.clear()
    clock.advance(minutes=5)

    with pytest.raises(InvalidSchedule) as caught:
        patch(service, reminder, **changes)

    assert caught.value.field == field
    after = stored(service, reminder)
    assert visible(after) == visible(before)
    assert (after.next_run_at, after.updated_at, after.version) == (
        before.next_run_at,
        before.updated_at,
        before.version,
    )
    assert events == []
