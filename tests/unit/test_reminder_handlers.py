"""Reminder commands, driven through the real bus over the memory store."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from pydantic import ValidationError

from application import views
from application.commands import (
    CheckDueReminders,
    CreateReminder,
    CreateUser,
    DeleteReminder,
    ReminderPatch,
    SendReminderNow,
    UpdateReminder,
)
from domain.errors import (
    InactiveOwner,
    InvalidSchedule,
    InvalidTarget,
    InvalidTemplate,
    NotFound,
    UnknownChannel,
)
from domain.events import Event, ReminderCreated, ReminderDeleted, ReminderUpdated
from domain.reminder import Reminder
from domain.schedule import Frequency
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, RecordingChannel, admin, make_service

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def chat() -> RecordingChannel:
    return RecordingChannel(takes_target=True)


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def service(clock: FixedClock, chat: RecordingChannel, events: list[Event]) -> Service:
    return make_service(clock=clock, channels={"chat": chat}, events=events)


@pytest.fixture
def owner(service: Service) -> User:
    user: User = service.bus.handle(CreateUser(actor=admin(service), name="Ann", email="ann@example.com"))
    return user


def create(service: Service, owner_id: str, **fields: Any) -> Reminder:
    values: dict[str, Any] = {
        "title": "Standup",
        "message": "Join the call",
        "time_of_day": "09:00",
        "frequency": Frequency.DAILY,
        **fields,
    }
    reminder: Reminder = service.bus.handle(CreateReminder(actor=admin(service), owner_id=owner_id, **values))
    return reminder


def update(service: Service, reminder: Reminder, **changes: Any) -> Reminder:
    updated: Reminder = service.bus.handle(
        UpdateReminder(actor=admin(service), reminder_id=reminder.id, changes=ReminderPatch(**changes))
    )
    return updated


def stored(service: Service, reminder: Reminder) -> Reminder:
    return views.get_reminder(service.uow_factory, admin(service), reminder.id)


def reminder_count(service: Service, owner: User) -> int:
    return views.list_reminders_of(service.uow_factory, admin(service), owner.id, limit=10, offset=0).total


# -- CreateReminder ------------------------------------------------------------------------------


def test_create_reminder_stores_it_with_its_next_run(
    service: Service, owner: User, events: list[Event]
) -> None:
    events.clear()

    reminder = create(service, owner.id, timezone="America/New_York")

    saved = stored(service, reminder)
    assert (saved.owner_id, saved.title, saved.message, saved.channel, saved.target) == (
        owner.id,
        "Standup",
        "Join the call",
        "log",
        None,
    )
    assert saved.schedule.time_of_day == time(9, 0)
    assert saved.schedule.timezone == "America/New_York"
    # 09:00 in New York in January is 14:00 UTC, still ahead of 08:00 UTC today.
    assert saved.next_run_at == datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
    assert (saved.active, saved.last_run_at, saved.created_at) == (True, None, START)
    assert events == [
        ReminderCreated(reminder_id=reminder.id, owner_id=owner.id, next_run_at=saved.next_run_at)
    ]


def test_a_daily_time_already_past_today_runs_tomorrow(service: Service, owner: User) -> None:
    reminder = create(service, owner.id, time_of_day="07:59")

    assert stored(service, reminder).next_run_at == datetime(2026, 1, 6, 7, 59, tzinfo=UTC)


def test_a_weekly_reminder_runs_on_the_next_listed_weekday(service: Service, owner: User) -> None:
    reminder = create(service, owner.id, frequency=Frequency.WEEKLY, weekdays=[4, 2])

    saved = stored(service, reminder)
    assert saved.schedule.weekdays == (2, 4)
    assert saved.next_run_at == datetime(2026, 1, 7, 9, 0, tzinfo=UTC)  # Wednesday


@pytest.mark.parametrize(
    ("time_of_day", "expected"),
    [
        ("09:00", datetime(2026, 1, 5, 9, 0, tzinfo=UTC)),
        ("07:00", datetime(2026, 1, 6, 7, 0, tzinfo=UTC)),
    ],
)
def test_a_once_reminder_without_a_date_takes_the_next_occurrence(
    service: Service, owner: User, time_of_day: str, expected: datetime
) -> None:
    reminder = create(service, owner.id, frequency=Frequency.ONCE, time_of_day=time_of_day)

    saved = stored(service, reminder)
    assert saved.schedule.date == expected.date()
    assert saved.next_run_at == expected


def test_a_once_reminder_in_the_past_is_refused(service: Service, owner: User) -> None:
    with pytest.raises(InvalidSchedule):
        create(service, owner.id, frequency=Frequency.ONCE, date=date(2026, 1, 4))

    assert reminder_count(service, owner) == 0


def test_create_reminder_for_an_unknown_owner_is_not_found(service: Service) -> None:
    with pytest.raises(NotFound) as raised:
        create(service, "nobody")

    assert (raised.value.entity, raised.value.entity_id) == ("user", "nobody")


def test_create_reminder_for_an_inactive_owner_is_refused(service: Service) -> None:
    inactive: User = service.bus.handle(
        CreateUser(actor=admin(service), name="Old", email="old@example.com", active=False)
    )

    with pytest.raises(InactiveOwner):
        create(service, inactive.id)

    assert reminder_count(service, inactive) == 0


def test_create_reminder_with_an_unknown_channel_is_refused(service: Service, owner: User) -> None:
    with pytest.raises(UnknownChannel) as raised:
        create(service, owner.id, channel="pager")

    assert raised.value.field == "channel"
    assert "chat, email, log" in raised.value.message
    assert reminder_count(service, owner) == 0


def test_a_channel_without_targets_refuses_one(service: Service, owner: User) -> None:
    with pytest.raises(InvalidTarget):
        create(service, owner.id, channel="log", target="#general")

    assert reminder_count(service, owner) == 0


def test_a_channel_with_targets_requires_one(service: Service, owner: User) -> None:
    with pytest.raises(InvalidTarget):
        create(service, owner.id, channel="chat")

    reminder = create(service, owner.id, channel="chat", target="#team")

    assert (stored(service, reminder).channel, stored(service, reminder).target) == ("chat", "#team")
    assert reminder_count(service, owner) == 1


def test_an_unknown_timezone_is_refused(service: Service, owner: User) -> None:
    with pytest.raises(InvalidSchedule) as raised:
        create(service, owner.id, timezone="Mars/Olympus_Mons")

    assert raised.value.field == "timezone"
    assert reminder_count(service, owner) == 0


def test_a_weekly_reminder_needs_weekdays(service: Service, owner: User) -> None:
    with pytest.raises(InvalidSchedule) as raised:
        create(service, owner.id, frequency=Frequency.WEEKLY)

    assert raised.value.field == "weekdays"
    assert reminder_count(service, owner) == 0


def test_an_unknown_placeholder_is_refused(service: Service, owner: User) -> None:
    # The command's schema may already refuse it; the domain refuses it in any case.
    with pytest.raises((InvalidTemplate, ValidationError)):
        create(service, owner.id, message="Hello {owner.email}")

    assert reminder_count(service, owner) == 0


# -- UpdateReminder ------------------------------------------------------------------------------


def test_a_new_time_recomputes_the_next_run(
    service: Service, owner: User, clock: FixedClock, events: list[Event]
) -> None:
    reminder = create(service, owner.id)
    later = clock.advance(minutes=30)
    events.clear()

    update(service, reminder, time_of_day="10:15")

    saved = stored(service, reminder)
    assert saved.next_run_at == datetime(2026, 1, 5, 10, 15, tzinfo=UTC)
    assert saved.updated_at == later
    assert events == [
        ReminderUpdated(reminder_id=reminder.id, changed=("schedule",), next_run_at=saved.next_run_at)
    ]


def test_a_new_timezone_recomputes_the_next_run(service: Service, owner: User) -> None:
    reminder = create(service, owner.id)

    update(service, reminder, timezone="Asia/Tokyo")

    # 09:00 in Tokyo is 00:00 UTC, already past today: tomorrow's.
    assert stored(service, reminder).next_run_at == datetime(2026, 1, 6, 0, 0, tzinfo=UTC)


def test_weekly_to_daily_drops_the_weekdays(service: Service, owner: User) -> None:
    reminder = create(service, owner.id, frequency=Frequency.WEEKLY, weekdays=[2])
    assert stored(service, reminder).next_run_at == datetime(2026, 1, 7, 9, 0, tzinfo=UTC)

    update(service, reminder, frequency=Frequency.DAILY)

    saved = stored(service, reminder)
    assert (saved.schedule.frequency, saved.schedule.weekdays) == (Frequency.DAILY, ())
    assert saved.next_run_at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_daily_to_weekly_needs_weekdays(service: Service, owner: User) -> None:
    reminder = create(service, owner.id)

    with pytest.raises(InvalidSchedule):
        update(service, reminder, frequency=Frequency.WEEKLY)
    update(service, reminder, frequency=Frequency.WEEKLY, weekdays=[3])

    assert stored(service, reminder).next_run_at == datetime(2026, 1, 8, 9, 0, tzinfo=UTC)  # Thursday


def test_a_title_change_leaves_the_schedule_alone(service: Service, owner: User, events: list[Event]) -> None:
    reminder = create(service, owner.id)
    events.clear()

    update(service, reminder, title="Daily standup")

    saved = stored(service, reminder)
    assert (saved.title, saved.next_run_at) == ("Daily standup", datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    assert events == [
        ReminderUpdated(reminder_id=reminder.id, changed=("title",), next_run_at=saved.next_run_at)
    ]


def test_a_channel_change_validates_the_target(service: Service, owner: User) -> None:
    reminder = create(service, owner.id)

    with pytest.raises(InvalidTarget):
        update(service, reminder, channel="chat")
    assert stored(service, reminder).channel == "log"

    update(service, reminder, channel="chat", target="#team")
    assert (stored(service, reminder).channel, stored(service, reminder).target) == ("chat", "#team")

    with pytest.raises(InvalidTarget):
        update(service, reminder, channel="log")
    update(service, reminder, channel="log", target=None)
    assert (stored(service, reminder).channel, stored(service, reminder).target) == ("log", None)


def test_a_target_change_alone_is_validated_against_the_current_channel(
    service: Service, owner: User
) -> None:
    reminder = create(service, owner.id, channel="chat", target="#team")

    with pytest.raises(InvalidTarget):
        update(service, reminder, target=None)

    assert stored(service, reminder).target == "#team"


def test_a_change_to_an_unknown_channel_is_refused(service: Service, owner: User) -> None:
    reminder = create(service, owner.id)

    with pytest.raises(UnknownChannel):
        update(service, reminder, channel="pager")

    assert stored(service, reminder).channel == "log"


def test_deactivating_clears_the_next_run_and_stops_it_firing(
    service: Service, owner: User, clock: FixedClock
) -> None:
    reminder = create(service, owner.id)

    update(service, reminder, active=False)
    assert stored(service, reminder).next_run_at is None
    tick = service.bus.handle(CheckDueReminders(now=clock.advance(hours=2)))

    assert (tick.due, tick.fired) == (0, 0)
    assert views.list_deliveries(service.uow_factory, admin(service), limit=10, offset=0).total == 0


def test_reactivating_schedules_from_now(service: Service, owner: User, clock: FixedClock) -> None:
    reminder = create(service, owner.id)
    update(service, reminder, active=False)
    clock.advance(hours=2)

    update(service, reminder, active=True)

    assert stored(service, reminder).next_run_at == datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


def test_update_of_an_unknown_reminder_is_not_found(service: Service) -> None:
    with pytest.raises(NotFound) as raised:
        service.bus.handle(
            UpdateReminder(actor=admin(service), reminder_id="missing", changes=ReminderPatch(title="X"))
        )

    assert raised.value.entity == "reminder"


# -- DeleteReminder ------------------------------------------------------------------------------


def test_a_deleted_reminder_is_gone_and_never_fires(
    service: Service, owner: User, clock: FixedClock, events: list[Event]
) -> None:
    reminder = create(service, owner.id)
    kept = create(service, owner.id, title="Kept")
    events.clear()

    service.bus.handle(DeleteReminder(actor=admin(service), reminder_id=reminder.id))

    assert events == [ReminderDeleted(reminder_id=reminder.id, owner_id=owner.id)]
    with pytest.raises(NotFound):
        stored(service, reminder)
    tick = service.bus.handle(CheckDueReminders(now=clock.advance(hours=1)))
    assert (tick.due, tick.fired) == (1, 1)
    [delivery] = views.list_deliveries(service.uow_factory, admin(service), limit=10, offset=0).items
    assert delivery.reminder_id == kept.id


def test_a_deleted_reminders_deliveries_stay_on_record(service: Service, owner: User) -> None:
    reminder = create(service, owner.id)
    delivery = service.bus.handle(SendReminderNow(actor=admin(service), reminder_id=reminder.id))

    service.bus.handle(DeleteReminder(actor=admin(service), reminder_id=reminder.id))

    assert views.get_delivery(service.uow_factory, admin(service), delivery.id).reminder_id == reminder.id


def test_delete_of_an_unknown_reminder_is_not_found(service: Service) -> None:
    with pytest.raises(NotFound):
        service.bus.handle(DeleteReminder(actor=admin(service), reminder_id="missing"))
