"""An audit entry goes with its change, in the same commit: a refused change leaves neither. Work
nobody asked for in person (the scheduler, the delivery queue, recording a key's use) is not audited."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from datetime import timedelta

import pytest

from adapters.memory import MemoryUnitOfWork
from application import views
from application.commands import Command, CreateUser, UpdateUser, UserPatch
from application.unit_of_work import StoreUnavailable
from domain.delivery import DeliveryStatus
from domain.errors import DomainError, DuplicateEmail, LastAdmin, StaleVersion
from domain.roles import Role
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, admin, make_service
from tests.unit.people import join, signed_in, trail
from tests.unit.world import SLOT, InterleavingStore, ledger, tick_and_send, world


def entry_ids(service: Service) -> list[str]:
    return [entry.id for entry in trail(service)]


def users(service: Service) -> list[tuple[str, str, Role, bool, int]]:
    page = views.list_users(service.uow_factory, admin(service), limit=10, offset=0)
    return [(u.name, u.email, u.role, u.active, u.version) for u in page.items]


def a_user_with_the_admins_email(service: Service) -> Command:
    return CreateUser(actor=admin(service), name="Twin", email="ADMIN@example.com")


def the_only_admin_demoted(service: Service) -> Command:
    boss = admin(service)
    return UpdateUser(actor=boss, user_id=boss.user_id or "", changes=UserPatch(role=Role.MEMBER))


def a_member_taking_the_admins_email(service: Service) -> Command:
    ann = join(service, "ann@example.com", name="Ann")
    changes = UserPatch(name="Ann Lee", email="admin@example.com")
    return UpdateUser(actor=ann.actor, user_id=ann.user.id, changes=changes)


@pytest.mark.parametrize(
    ("refused", "error"),
    [
        (a_user_with_the_admins_email, DuplicateEmail),
        (the_only_admin_demoted, LastAdmin),
        (a_member_taking_the_admins_email, DuplicateEmail),
    ],
)
def test_a_refused_change_leaves_no_entry(
    service: Service, refused: Callable[[Service], Command], error: type[DomainError]
) -> None:
    command = refused(service)
    entries_before, users_before = entry_ids(service), users(service)

    with pytest.raises(error):
        service.bus.handle(command)

    assert (entry_ids(service), users(service)) == (entries_before, users_before)


def rename_admin(service: Service, name: str) -> None:
    boss = admin(service)
    service.bus.handle(UpdateUser(actor=boss, user_id=boss.user_id or "", changes=UserPatch(name=name)))


def test_a_commit_the_store_refuses_records_neither_the_change_nor_its_entry() -> None:
    store = InterleavingStore()
    service = make_service(store=store)
    before = entry_ids(service)

    def refuse() -> None:
        raise StoreUnavailable("the database went away")

    store.before_next_commit.append(refuse)

    with pytest.raises(StoreUnavailable):
        rename_admin(service, "Renamed")

    assert entry_ids(service) == before
    boss = admin(service)
    assert views.get_user(service.uow_factory, boss, boss.user_id or "").name == "Team Admin"


def test_a_change_that_loses_a_race_leaves_only_the_winners_change_and_no_entry_of_its_own() -> None:
    store = InterleavingStore()
    service = make_service(store=store)
    boss = admin(service)
    before = entry_ids(service)

    def rename_directly() -> None:
        # Someone else's change, committed outside this command (and so not audited).
        with MemoryUnitOfWork(store) as uow:
            user = uow.users.get(boss.user_id or "")
            assert user is not None
            user.update(name="Winner", now=service.clock.now())
            uow.commit()

    store.before_next_commit.append(lambda: contextvars.Context().run(rename_directly))

    with pytest.raises(StaleVersion):
        rename_admin(service, "Loser")

    assert entry_ids(service) == before
    assert views.get_user(service.uow_factory, boss, boss.user_id or "").name == "Winner"


def test_the_scheduler_and_the_delivery_queue_are_not_audited() -> None:
    w = world()
    before = entry_ids(w.service)

    tick_and_send(w.service, w.clock, SLOT)
    tick_and_send(w.service, w.clock, SLOT + timedelta(days=1))

    sent = [(d.scheduled_for, d.status) for d in ledger(w.service)]
    assert sent == [(SLOT, DeliveryStatus.SENT), (SLOT + timedelta(days=1), DeliveryStatus.SENT)]
    assert entry_ids(w.service) == before


def test_recording_a_keys_use_is_not_audited(service: Service, clock: FixedClock) -> None:
    ann = join(service, "ann@example.com")
    before = entry_ids(service)

    clock.advance(minutes=2)
    signed_in(service, ann.key)

    [key] = views.list_keys_of(service.uow_factory, ann.actor, ann.user.id, limit=5, offset=0).items
    assert key.last_used_at == clock.now()
    assert entry_ids(service) == before
