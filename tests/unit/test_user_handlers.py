"""User commands, driven through the real bus over the memory store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from application import views
from application.commands import CreateReminder, CreateUser, DeleteUser, UpdateUser, UserPatch
from domain.errors import DuplicateEmail, NotFound
from domain.events import Event, ReminderDeleted, UserCreated, UserDeleted, UserUpdated
from domain.reminder import Reminder
from domain.schedule import Frequency
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, admin, make_service, team_of

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def service(clock: FixedClock, events: list[Event]) -> Service:
    """A service whose test team (and its admin, who gives every command here) already exists."""
    service = make_service(clock=clock, events=events)
    team_of(service)
    events.clear()
    return service


def user_ids(service: Service, *, active: bool | None = None) -> list[str]:
    """The team's users, oldest first: the admin, then those the test created."""
    page = views.list_users(service.uow_factory, admin(service), limit=10, offset=0, active=active)
    return [user.id for user in page.items]


def create_user(service: Service, email: str, *, name: str = "Ann", active: bool = True) -> User:
    user: User = service.bus.handle(CreateUser(actor=admin(service), name=name, email=email, active=active))
    return user


def create_reminder(service: Service, owner: User, title: str) -> Reminder:
    reminder: Reminder = service.bus.handle(
        CreateReminder(
            actor=admin(service),
            owner_id=owner.id,
            title=title,
            message="Hi",
            time_of_day="09:00",
            frequency=Frequency.DAILY,
        )
    )
    return reminder


def titles_of(service: Service, owner: User) -> list[str]:
    page = views.list_reminders_of(service.uow_factory, admin(service), owner.id, limit=50, offset=0)
    return [reminder.title for reminder in page.items]


def test_create_user_stores_a_normalised_user(service: Service, events: list[Event]) -> None:
    user = create_user(service, "Ann.Lee@Example.COM", name="  Ann Lee ")

    stored = views.get_user(service.uow_factory, admin(service), user.id)
    assert (stored.name, stored.email, stored.active) == ("Ann Lee", "ann.lee@example.com", True)
    assert stored.created_at == stored.updated_at == START
    assert stored.version == 1
    assert events == [UserCreated(user_id=user.id)]


def test_create_user_can_start_inactive(service: Service) -> None:
    user = create_user(service, "ann@example.com", active=False)

    assert views.get_user(service.uow_factory, admin(service), user.id).active is False
    assert user_ids(service, active=True) == [admin(service).user_id]


def test_create_user_refuses_an_email_in_use_in_any_case(service: Service, events: list[Event]) -> None:
    first = create_user(service, "ann@example.com")

    with pytest.raises(DuplicateEmail):
        create_user(service, "ANN@Example.com", name="Impostor")

    assert user_ids(service) == [admin(service).user_id, first.id]
    assert events == [UserCreated(user_id=first.id)]


def test_create_user_refuses_an_invalid_email(service: Service) -> None:
    with pytest.raises(ValidationError) as raised:
        create_user(service, "not-an-email")

    assert raised.value.errors()[0]["loc"] == ("email",)
    assert user_ids(service) == [admin(service).user_id]


def test_update_user_changes_the_sent_fields_only(
    service: Service, clock: FixedClock, events: list[Event]
) -> None:
    user = create_user(service, "ann@example.com")
    later = clock.advance(hours=2)
    events.clear()

    service.bus.handle(
        UpdateUser(
            actor=admin(service),
            user_id=user.id,
            changes=UserPatch(name="Ann Lee", email="Ann.Lee@example.com"),
        )
    )

    stored = views.get_user(service.uow_factory, admin(service), user.id)
    assert (stored.name, stored.email, stored.active) == ("Ann Lee", "ann.lee@example.com", True)
    assert stored.created_at == START
    assert stored.updated_at == later == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert stored.version == 2
    assert events == [UserUpdated(user_id=user.id, changed=("name", "email"))]


def test_update_user_that_changes_nothing_is_not_an_update(
    service: Service, clock: FixedClock, events: list[Event]
) -> None:
    user = create_user(service, "ann@example.com")
    clock.advance(hours=1)
    events.clear()

    service.bus.handle(
        UpdateUser(actor=admin(service), user_id=user.id, changes=UserPatch(email="ANN@example.com"))
    )

    stored = views.get_user(service.uow_factory, admin(service), user.id)
    assert (stored.updated_at, stored.version) == (START, 1)
    assert events == []


def test_update_user_deactivates(service: Service) -> None:
    user = create_user(service, "ann@example.com")

    service.bus.handle(UpdateUser(actor=admin(service), user_id=user.id, changes=UserPatch(active=False)))

    assert user_ids(service, active=False) == [user.id]


def test_update_of_an_unknown_user_is_not_found(service: Service) -> None:
    with pytest.raises(NotFound) as raised:
        service.bus.handle(UpdateUser(actor=admin(service), user_id="nobody", changes=UserPatch(name="X")))

    assert (raised.value.entity, raised.value.entity_id) == ("user", "nobody")


def test_update_user_refuses_another_users_email(service: Service) -> None:
    ann = create_user(service, "ann@example.com")
    create_user(service, "bob@example.com", name="Bob")

    with pytest.raises(DuplicateEmail):
        service.bus.handle(
            UpdateUser(
                actor=admin(service),
                user_id=ann.id,
                changes=UserPatch(name="Ann Lee", email="BOB@example.com"),
            )
        )

    stored = views.get_user(service.uow_factory, admin(service), ann.id)
    assert (stored.name, stored.email, stored.version) == ("Ann", "ann@example.com", 1)


def test_delete_user_deletes_their_reminders_and_no_one_elses(service: Service, events: list[Event]) -> None:
    ann = create_user(service, "ann@example.com")
    bob = create_user(service, "bob@example.com", name="Bob")
    standup = create_reminder(service, ann, "Standup")
    review = create_reminder(service, ann, "Review")
    create_reminder(service, bob, "Bob's standup")
    events.clear()

    service.bus.handle(DeleteUser(actor=admin(service), user_id=ann.id))

    with pytest.raises(NotFound):
        views.get_user(service.uow_factory, admin(service), ann.id)
    for reminder in (standup, review):
        with pytest.raises(NotFound):
            views.get_reminder(service.uow_factory, admin(service), reminder.id)
    assert titles_of(service, bob) == ["Bob's standup"]
    assert user_ids(service) == [admin(service).user_id, bob.id]
    assert events[0] == UserDeleted(user_id=ann.id)
    assert sorted(events[1:], key=repr) == sorted(
        [
            ReminderDeleted(reminder_id=standup.id, owner_id=ann.id),
            ReminderDeleted(reminder_id=review.id, owner_id=ann.id),
        ],
        key=repr,
    )


def test_a_deleted_users_email_is_free_again(service: Service) -> None:
    ann = create_user(service, "ann@example.com")
    service.bus.handle(DeleteUser(actor=admin(service), user_id=ann.id))

    again = create_user(service, "ann@example.com", name="New Ann")

    assert views.get_user(service.uow_factory, admin(service), again.id).name == "New Ann"


def test_delete_of_an_unknown_user_is_not_found(service: Service, events: list[Event]) -> None:
    with pytest.raises(NotFound):
        service.bus.handle(DeleteUser(actor=admin(service), user_id="nobody"))

    assert events == []
