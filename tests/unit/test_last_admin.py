"""A team keeps at least one active admin: its last one cannot be demoted, deactivated or deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from application import views
from application.commands import DeleteUser, UpdateUser, UserPatch
from domain.actor import Actor
from domain.errors import LastAdmin, StaleVersion
from domain.roles import Role
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import admin, make_service, team_of
from tests.unit.people import join
from tests.unit.world import InterleavingStore


def demote(service: Service, actor: Actor, user_id: str) -> Any:
    changes = UserPatch(role=Role.MEMBER)
    return service.bus.handle(UpdateUser(actor=actor, user_id=user_id, changes=changes))


def deactivate(service: Service, actor: Actor, user_id: str) -> Any:
    changes = UserPatch(active=False)
    return service.bus.handle(UpdateUser(actor=actor, user_id=user_id, changes=changes))


def delete(service: Service, actor: Actor, user_id: str) -> Any:
    return service.bus.handle(DeleteUser(actor=actor, user_id=user_id))


REMOVALS = [demote, deactivate, delete]


def active_admins(service: Service) -> list[str]:
    page = views.list_users(
        service.uow_factory, admin(service), limit=10, offset=0, active=True, role=Role.ADMIN
    )
    return [user.email for user in page.items]


def stored(service: Service, user: User) -> User:
    return views.get_user(service.uow_factory, admin(service), user.id)


@pytest.mark.parametrize("removal", REMOVALS)
def test_the_last_active_admin_stays(service: Service, removal: Callable[[Service, Actor, str], Any]) -> None:
    boss = team_of(service).admin
    join(service, "ann@example.com")

    with pytest.raises(LastAdmin):
        removal(service, admin(service), boss.id)

    assert active_admins(service) == ["admin@example.com"]
    assert stored(service, boss).version == boss.version


@pytest.mark.parametrize("removal", REMOVALS)
def test_with_two_admins_either_may_go_but_not_both(
    service: Service, removal: Callable[[Service, Actor, str], Any]
) -> None:
    second = join(service, "second@example.com", role=Role.ADMIN)

    removal(service, admin(service), second.user.id)

    assert active_admins(service) == ["admin@example.com"]
    with pytest.raises(LastAdmin):
        removal(service, admin(service), team_of(service).admin.id)


def test_an_admin_may_step_down_while_another_stays(service: Service) -> None:
    second = join(service, "second@example.com", role=Role.ADMIN)

    demote(service, admin(service), team_of(service).admin.id)

    assert active_admins(service) == ["second@example.com"]
    with pytest.raises(LastAdmin):
        demote(service, second.actor, second.user.id)


@pytest.mark.parametrize("removal", REMOVALS)
def test_a_deactivated_admin_does_not_count(
    service: Service, removal: Callable[[Service, Actor, str], Any]
) -> None:
    dormant = join(service, "dormant@example.com", role=Role.ADMIN)
    deactivate(service, admin(service), dormant.user.id)

    with pytest.raises(LastAdmin):
        removal(service, admin(service), team_of(service).admin.id)

    assert active_admins(service) == ["admin@example.com"]
    assert stored(service, dormant.user).role is Role.ADMIN


def test_two_admins_demoting_each_other_at_once_cannot_both_succeed() -> None:
    store = InterleavingStore()
    service = make_service(store=store)
    first = admin(service)
    second = join(service, "second@example.com", role=Role.ADMIN)
    # The second admin's demotion of the first reaches the store just before the first's of the second.
    store.before_next_commit.append(lambda: demote(service, second.actor, first.user_id or ""))

    with pytest.raises(StaleVersion):
        demote(service, first, second.user.id)

    assert active_admins(service) == ["second@example.com"]
