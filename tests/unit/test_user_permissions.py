"""Who may read and change users: a member reads their team and changes their own name, email and
time zone; only an admin adds, deletes, deactivates and promotes; another team sees nothing."""

from __future__ import annotations

from typing import Any

import pytest

from application import views
from application.commands import CreateUser, DeleteUser, UpdateUser, UserPatch
from domain.errors import Forbidden, NotFound
from domain.roles import Role
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import admin
from tests.unit.people import Person, outsider


def stored(service: Service, user: User) -> User:
    return views.get_user(service.uow_factory, admin(service), user.id)


def update(service: Service, person: Person, user: User, **changes: Any) -> User:
    updated: User = service.bus.handle(
        UpdateUser(actor=person.actor, user_id=user.id, changes=UserPatch.model_validate(changes))
    )
    return updated


def test_a_member_reads_every_user_of_their_team_and_no_other(
    service: Service, ann: Person, bob: Person
) -> None:
    stranger = outsider(service)

    page = views.list_users(service.uow_factory, ann.actor, limit=10, offset=0)

    assert [user.email for user in page.items] == ["admin@example.com", "ann@example.com", "bob@example.com"]
    assert views.get_user(service.uow_factory, ann.actor, bob.user.id).name == "Bob"
    with pytest.raises(NotFound) as raised:
        views.get_user(service.uow_factory, ann.actor, stranger.user.id)
    assert raised.value.message == f"user {stranger.user.id!r} was not found"


def test_a_member_changes_their_own_name_email_and_time_zone(service: Service, ann: Person) -> None:
    update(service, ann, ann.user, name="Ann Lee", email="ann.lee@example.com", timezone="Europe/Berlin")

    saved = stored(service, ann.user)
    assert (saved.name, saved.email, saved.timezone) == ("Ann Lee", "ann.lee@example.com", "Europe/Berlin")


@pytest.mark.parametrize("changes", [{"role": Role.ADMIN}, {"active": False}], ids=["role", "active"])
def test_a_member_may_not_change_their_own_role_or_active_flag(
    service: Service, ann: Person, changes: dict[str, Any]
) -> None:
    with pytest.raises(Forbidden):
        update(service, ann, ann.user, name="Ann Lee", **changes)

    saved = stored(service, ann.user)
    assert (saved.name, saved.role, saved.active, saved.version) == ("Ann", Role.MEMBER, True, 1)


def test_a_member_may_not_change_another_user(service: Service, ann: Person, bob: Person) -> None:
    with pytest.raises(Forbidden):
        update(service, ann, bob.user, name="Robert")

    assert stored(service, bob.user).name == "Bob"


def test_a_member_may_neither_add_nor_delete_users(service: Service, ann: Person, bob: Person) -> None:
    with pytest.raises(Forbidden):
        service.bus.handle(CreateUser(actor=ann.actor, name="Cat", email="cat@example.com"))
    with pytest.raises(Forbidden):
        service.bus.handle(DeleteUser(actor=ann.actor, user_id=bob.user.id))

    page = views.list_users(service.uow_factory, ann.actor, limit=10, offset=0)
    assert [user.name for user in page.items] == ["Team Admin", "Ann", "Bob"]


def test_an_admin_adds_promotes_deactivates_and_deletes_users(service: Service) -> None:
    boss = admin(service)
    cat: User = service.bus.handle(CreateUser(actor=boss, name="Cat", email="cat@example.com"))

    service.bus.handle(UpdateUser(actor=boss, user_id=cat.id, changes=UserPatch(role=Role.ADMIN)))
    assert stored(service, cat).role is Role.ADMIN
    service.bus.handle(UpdateUser(actor=boss, user_id=cat.id, changes=UserPatch(active=False)))
    assert stored(service, cat).active is False
    service.bus.handle(DeleteUser(actor=boss, user_id=cat.id))

    with pytest.raises(NotFound):
        stored(service, cat)


def test_an_admin_of_another_team_finds_none_of_this_teams_users(service: Service, ann: Person) -> None:
    stranger = outsider(service)

    with pytest.raises(NotFound) as changing:
        update(service, stranger, ann.user, name="Hacked")
    with pytest.raises(NotFound) as deleting:
        service.bus.handle(DeleteUser(actor=stranger.actor, user_id=ann.user.id))
    with pytest.raises(NotFound) as missing:
        service.bus.handle(
            UpdateUser(actor=stranger.actor, user_id="no-such-user", changes=UserPatch(name="x"))
        )

    # Another team's user is answered exactly like an id that does not exist.
    for raised in (changing, deleting):
        assert (raised.value.entity, raised.value.message) == ("user", f"user {ann.user.id!r} was not found")
    assert missing.value.message == "user 'no-such-user' was not found"
    assert stored(service, ann.user).name == "Ann"
    others = views.list_users(service.uow_factory, stranger.actor, limit=10, offset=0)
    assert [user.email for user in others.items] == ["boss@other.example"]
