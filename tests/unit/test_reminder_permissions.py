"""Who may act on reminders: a member on their own, an admin on everyone's in the team; another
team's reminder is answered exactly like one that does not exist."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from application import views
from application.commands import (
    CreateReminder,
    DeleteReminder,
    ReminderPatch,
    SendReminderNow,
    UpdateReminder,
)
from domain.actor import Actor
from domain.delivery import Delivery
from domain.errors import Forbidden, NotFound
from domain.reminder import Reminder
from domain.schedule import Frequency
from entrypoints.bootstrap import Service
from tests.fakes import admin
from tests.unit.people import Person, outsider, reminder_of


def titles_of(service: Service, person: Person) -> list[str]:
    page = views.list_reminders_of(service.uow_factory, admin(service), person.user.id, limit=10, offset=0)
    return [reminder.title for reminder in page.items]


# Each action says, when allowed, what it did to the reminder.
def read(service: Service, actor: Actor, reminder_id: str) -> str:
    return views.get_reminder(service.uow_factory, actor, reminder_id).title


def rename(service: Service, actor: Actor, reminder_id: str) -> str:
    changes = ReminderPatch(title="Renamed")
    service.bus.handle(UpdateReminder(actor=actor, reminder_id=reminder_id, changes=changes))
    return views.get_reminder(service.uow_factory, admin(service), reminder_id).title


def delete(service: Service, actor: Actor, reminder_id: str) -> str:
    service.bus.handle(DeleteReminder(actor=actor, reminder_id=reminder_id))
    try:
        views.get_reminder(service.uow_factory, admin(service), reminder_id)
    except NotFound:
        return "deleted"
    return "still there"


def send_now(service: Service, actor: Actor, reminder_id: str) -> str:
    delivery: Delivery = service.bus.handle(SendReminderNow(actor=actor, reminder_id=reminder_id))
    return f"queued {delivery.status}" if delivery.reminder_id == reminder_id else "queued another"


ACTIONS = [read, rename, delete, send_now]


def test_a_members_new_reminder_is_their_own_by_default(service: Service, ann: Person) -> None:
    reminder = reminder_of(service, ann)

    assert reminder.owner_id == ann.user.id
    assert titles_of(service, ann) == ["Standup"]


def test_a_member_may_not_create_a_reminder_for_someone_else(
    service: Service, ann: Person, bob: Person
) -> None:
    with pytest.raises(Forbidden):
        reminder_of(service, ann, owner_id=bob.user.id)

    assert titles_of(service, bob) == []


def test_an_admin_creates_reminders_for_anyone_in_the_team(service: Service, ann: Person) -> None:
    reminder: Reminder = service.bus.handle(
        CreateReminder(
            actor=admin(service),
            owner_id=ann.user.id,
            title="Review",
            message="Look at the board",
            time_of_day="10:00",
            frequency=Frequency.DAILY,
        )
    )

    assert reminder.owner_id == ann.user.id
    assert titles_of(service, ann) == ["Review"]


@pytest.mark.parametrize("action", ACTIONS)
def test_a_member_may_not_touch_another_members_reminder(
    service: Service, ann: Person, bob: Person, action: Callable[[Service, Actor, str], str]
) -> None:
    reminder = reminder_of(service, bob)

    with pytest.raises(Forbidden):
        action(service, ann.actor, reminder.id)

    assert titles_of(service, bob) == ["Standup"]
    assert views.list_deliveries(service.uow_factory, admin(service), limit=10, offset=0).total == 0


@pytest.mark.parametrize(
    ("action", "outcome"),
    [(read, "Standup"), (rename, "Renamed"), (delete, "deleted"), (send_now, "queued pending")],
)
def test_a_member_and_an_admin_act_on_the_members_own_reminder(
    service: Service, ann: Person, action: Callable[[Service, Actor, str], str], outcome: str
) -> None:
    for actor in (ann.actor, admin(service)):
        reminder = reminder_of(service, ann)

        assert action(service, actor, reminder.id) == outcome


def test_a_member_may_not_list_another_members_reminders(service: Service, ann: Person, bob: Person) -> None:
    reminder_of(service, bob)

    with pytest.raises(Forbidden):
        views.list_reminders_of(service.uow_factory, ann.actor, bob.user.id, limit=10, offset=0)


@pytest.mark.parametrize("action", ACTIONS)
def test_another_teams_reminder_looks_like_one_that_does_not_exist(
    service: Service, ann: Person, action: Callable[[Service, Actor, str], str]
) -> None:
    reminder = reminder_of(service, ann)
    stranger = outsider(service)

    with pytest.raises(NotFound) as theirs:
        action(service, stranger.actor, reminder.id)
    with pytest.raises(NotFound) as missing:
        action(service, stranger.actor, "no-such-reminder")

    assert (theirs.value.entity, theirs.value.message) == (
        "reminder",
        f"reminder {reminder.id!r} was not found",
    )
    assert (missing.value.entity, missing.value.message) == (
        "reminder",
        "reminder 'no-such-reminder' was not found",
    )
    assert read(service, ann.actor, reminder.id) == "Standup"


def test_another_team_may_not_create_reminders_for_this_teams_users(service: Service, ann: Person) -> None:
    stranger = outsider(service)

    with pytest.raises(NotFound) as raised:
        reminder_of(service, stranger, owner_id=ann.user.id)

    assert (raised.value.entity, raised.value.entity_id) == ("user", ann.user.id)
    assert titles_of(service, ann) == []
