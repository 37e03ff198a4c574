"""The message bus, built directly with small handlers over the memory store."""

from __future__ import annotations

import functools
import gc
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.memory import MemoryStore, MemoryUnitOfWork
from application import views
from application.commands import Command
from application.messagebus import EventHandlersFailed, MessageBus, UnknownCommand
from application.unit_of_work import UnitOfWork
from domain.actor import Actor
from domain.errors import DuplicateEmail, StaleVersion
from domain.events import Event, UserCreated
from domain.roles import Role
from domain.team import Team
from domain.user import User
from tests.fakes import FixedClock

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
TEAM_ID = "team-1"
# Who reads the store back in these tests: an admin of the team the handlers register users in.
READER = Actor(user_id="reader", team_id=TEAM_ID, role=Role.ADMIN)


class Register(Command):
    email: str


class RegisterMany(Command):
    emails: list[str]


class RegisterThenFail(Command):
    """Commits the first email, then adds the second and fails before committing it."""

    committed: str
    abandoned: str


class RegisterThenRollBack(Command):
    email: str


class Unhandled(Command):
    pass


def register(command: Register, uow: UnitOfWork) -> str:
    with uow:
        user = User.create(team_id=TEAM_ID, name="Ann", email=command.email, active=True, now=NOW)
        uow.users.add(user)
        uow.commit()
    return user.id


def register_many(command: RegisterMany, uow: UnitOfWork) -> list[str]:
    with uow:
        users = [
            User.create(team_id=TEAM_ID, name="Ann", email=email, active=True, now=NOW)
            for email in command.emails
        ]
        for user in users:
            uow.users.add(user)
        uow.commit()
    return [user.id for user in users]


def register_then_fail(command: RegisterThenFail, uow: UnitOfWork) -> None:
    with uow:
        uow.users.add(
            User.create(team_id=TEAM_ID, name="Kept", email=command.committed, active=True, now=NOW)
        )
        uow.commit()
        uow.users.add(
            User.create(team_id=TEAM_ID, name="Dropped", email=command.abandoned, active=True, now=NOW)
        )
        raise RuntimeError("failed half way")


def register_then_roll_back(command: RegisterThenRollBack, uow: UnitOfWork) -> None:
    with uow:
        uow.users.add(User.create(team_id=TEAM_ID, name="Ann", email=command.email, active=True, now=NOW))
        uow.rollback()


def explode(event: Event, uow: UnitOfWork, *, reason: str) -> None:
    raise ValueError(reason)


class Seen:
    """An event handler that remembers which user ids it was called for."""

    def __init__(self) -> None:
        self.user_ids: list[str] = []

    def __call__(self, event: UserCreated, uow: UnitOfWork) -> None:
        self.user_ids.append(event.user_id)


def new_store() -> MemoryStore:
    """A memory store holding the team every user here joins."""
    store = MemoryStore()
    with MemoryUnitOfWork(store) as uow:
        uow.teams.add(Team.create(name="Team", now=NOW, team_id=TEAM_ID))
        uow.commit()
    return store


def make_bus(
    store: MemoryStore,
    *,
    on_user_created: Sequence[Callable[[Any, UnitOfWork], Any]] = (),
    commands: dict[type[Command], Callable[[Any, UnitOfWork], Any]] | None = None,
) -> MessageBus:
    return MessageBus(
        uow_factory=lambda: MemoryUnitOfWork(store),
        command_handlers=commands
        or {
            Register: register,
            RegisterMany: register_many,
            RegisterThenFail: register_then_fail,
            RegisterThenRollBack: register_then_roll_back,
        },
        event_handlers={UserCreated: list(on_user_created)},
        clock=FixedClock(NOW),
    )


def emails(store: MemoryStore) -> list[str]:
    page = views.list_users(lambda: MemoryUnitOfWork(store), READER, limit=100, offset=0)
    return [user.email for user in page.items]


def test_the_command_handlers_result_is_returned_and_its_events_reach_every_subscriber() -> None:
    store = new_store()
    first, second = Seen(), Seen()
    bus = make_bus(store, on_user_created=[first, second])

    user_id = bus.handle(Register(email="ann@example.com"))

    assert views.get_user(lambda: MemoryUnitOfWork(store), READER, user_id).email == "ann@example.com"
    assert first.user_ids == [user_id]
    assert second.user_ids == [user_id]


def test_a_failing_event_handler_does_not_stop_its_siblings_and_is_surfaced(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = new_store()
    before, after = Seen(), Seen()
    failing = functools.partial(explode, reason="mailer is down")
    bus = make_bus(store, on_user_created=[before, failing, after])
    caplog.set_level(logging.ERROR, logger="application.messagebus")

    with pytest.raises(EventHandlersFailed) as raised:
        bus.handle(Register(email="ann@example.com"))

    error = raised.value
    user_id = error.result
    # The command itself went through: its result is carried and its user is stored.
    assert views.get_user(lambda: MemoryUnitOfWork(store), READER, user_id).email == "ann@example.com"
    assert before.user_ids == [user_id]
    assert after.user_ids == [user_id]
    [failure] = error.failures
    name = "tests.unit.test_messagebus.explode"
    assert failure.handler == name
    assert name in str(error)
    assert isinstance(failure.error, ValueError)
    assert str(failure.error) == "mailer is down"
    assert failure.event == UserCreated(user_id=user_id)
    logged = [record for record in caplog.records if getattr(record, "handler", None) == name]
    assert len(logged) == 1
    assert logged[0].levelno == logging.ERROR
    assert logged[0].exc_info is not None
    assert logged[0].exc_info[1] is failure.error


def test_every_failing_handler_is_reported() -> None:
    store = new_store()

    def also_broken(event: UserCreated, uow: UnitOfWork) -> None:
        raise KeyError("missing")

    bus = make_bus(store, on_user_created=[functools.partial(explode, reason="boom"), also_broken])

    with pytest.raises(EventHandlersFailed) as raised:
        bus.handle(Register(email="ann@example.com"))

    assert sorted(failure.handler for failure in raised.value.failures) == [
        "tests.unit.test_messagebus.explode",
        "tests.unit.test_messagebus.test_every_failing_handler_is_reported.<locals>.also_broken",
    ]


def _bus_whose_handlers_nobody_else_references(store: MemoryStore, calls: list[str]) -> MessageBus:
    def local_handler(event: UserCreated, uow: UnitOfWork) -> None:
        calls.append(f"local {event.user_id}")

    def tagged(tag: str, event: UserCreated, uow: UnitOfWork) -> None:
        calls.append(f"{tag} {event.user_id}")

    def local_command(command: Register, uow: UnitOfWork) -> str:
        calls.append("command")
        return register(command, uow)

    return make_bus(
        store,
        on_user_created=[local_handler, functools.partial(tagged, "partial")],
        commands={Register: functools.partial(local_command)},
    )


def test_receivers_survive_garbage_collection() -> None:
    store = new_store()
    calls: list[str] = []
    bus = _bus_whose_handlers_nobody_else_references(store, calls)
    gc.collect()

    user_id = bus.handle(Register(email="ann@example.com"))

    assert sorted(calls) == sorted(["command", f"local {user_id}", f"partial {user_id}"])


def test_events_of_a_unit_of_work_that_failed_before_commit_are_dropped() -> None:
    store = new_store()
    seen = Seen()
    bus = make_bus(store, on_user_created=[seen])

    with pytest.raises(RuntimeError, match="failed half way"):
        bus.handle(RegisterThenFail(committed="kept@example.com", abandoned="dropped@example.com"))

    # The committed user's event still went out; the abandoned one never existed.
    assert emails(store) == ["kept@example.com"]
    [kept] = views.list_users(lambda: MemoryUnitOfWork(store), READER, limit=10, offset=0).items
    assert seen.user_ids == [kept.id]


def test_events_of_a_rolled_back_unit_of_work_are_dropped() -> None:
    store = new_store()
    seen = Seen()
    bus = make_bus(store, on_user_created=[seen])

    bus.handle(RegisterThenRollBack(email="ann@example.com"))

    assert emails(store) == []
    assert seen.user_ids == []


def test_events_of_a_commit_the_store_refused_are_dropped() -> None:
    store = new_store()
    seen = Seen()
    bus = make_bus(store, on_user_created=[seen])
    first = bus.handle(Register(email="ann@example.com"))

    with pytest.raises(DuplicateEmail):
        bus.handle(Register(email="ANN@example.com"))

    assert seen.user_ids == [first]


def test_two_buses_only_call_their_own_handlers() -> None:
    store = new_store()
    seen_by_a, seen_by_b = Seen(), Seen()
    bus_a = make_bus(store, on_user_created=[seen_by_a])
    bus_b = make_bus(store, on_user_created=[seen_by_b])

    from_a = bus_a.handle(Register(email="a@example.com"))
    from_b = bus_b.handle(Register(email="b@example.com"))

    assert seen_by_a.user_ids == [from_a]
    assert seen_by_b.user_ids == [from_b]


def test_an_unknown_command_raises() -> None:
    bus = make_bus(new_store())

    with pytest.raises(UnknownCommand, match="Unhandled"):
        bus.handle(Unhandled())


def test_concurrent_handle_calls_each_get_their_own_result_and_events() -> None:
    store = new_store()
    b_is_handling_its_first_event = threading.Event()
    a_has_returned = threading.Event()
    seen_on: dict[str, list[str]] = {"a": [], "b": []}

    def remember(event: UserCreated, uow: UnitOfWork) -> None:
        user = uow.users.get(event.user_id)
        assert user is not None
        seen_on[threading.current_thread().name].append(user.email)
        if user.email == "b1@example.com":
            # Hold B mid-queue while A runs from start to finish: A must not take B's second event.
            b_is_handling_its_first_event.set()
            assert a_has_returned.wait(timeout=5)

    bus = make_bus(store, on_user_created=[remember])
    results: dict[str, Any] = {}

    def run(name: str, command: Command, after: threading.Event | None, then: threading.Event | None) -> None:
        if after is not None:
            assert after.wait(timeout=5)
        results[name] = bus.handle(command)
        if then is not None:
            then.set()

    threads = [
        threading.Thread(
            name="b",
            target=run,
            args=("b", RegisterMany(emails=["b1@example.com", "b2@example.com"]), None, None),
        ),
        threading.Thread(
            name="a",
            target=run,
            args=("a", Register(email="a@example.com"), b_is_handling_its_first_event, a_has_returned),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert seen_on == {"a": ["a@example.com"], "b": ["b1@example.com", "b2@example.com"]}
    users = {
        user.id: user.email
        for user in views.list_users(lambda: MemoryUnitOfWork(store), READER, limit=10, offset=0).items
    }
    assert users[results["a"]] == "a@example.com"
    assert sorted(users[user_id] for user_id in results["b"]) == ["b1@example.com", "b2@example.com"]


class RenameOnSignup:
    """Renames a new user; on its first try someone else changes the user in between."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.units: list[UnitOfWork] = []

    def __call__(self, event: UserCreated, uow: UnitOfWork) -> None:
        self.units.append(uow)
        with uow:
            user = uow.users.get(event.user_id)
            assert user is not None
            user.update(name=f"Renamed on try {len(self.units)}", now=NOW)
            if len(self.units) == 1:
                with MemoryUnitOfWork(self.store) as other:
                    concurrent = other.users.get(event.user_id)
                    assert concurrent is not None
                    concurrent.update(active=False, now=NOW)
                    other.commit()
            uow.commit()


def test_an_event_handler_hitting_a_stale_version_is_retried_with_a_fresh_unit_of_work() -> None:
    store = new_store()
    rename = RenameOnSignup(store)
    bus = make_bus(store, on_user_created=[rename])

    user_id = bus.handle(Register(email="ann@example.com"))

    assert len(rename.units) == 2
    assert rename.units[0] is not rename.units[1]
    user = views.get_user(lambda: MemoryUnitOfWork(store), READER, user_id)
    assert user.name == "Renamed on try 2"
    assert user.active is False  # the concurrent change was kept, not overwritten
    assert user.version == 3


def test_an_event_handler_that_stays_stale_fails_after_its_attempts() -> None:
    store = new_store()
    calls: list[UnitOfWork] = []

    def always_stale(event: UserCreated, uow: UnitOfWork) -> None:
        calls.append(uow)
        raise StaleVersion("user", event.user_id)

    bus = make_bus(store, on_user_created=[always_stale])

    with pytest.raises(EventHandlersFailed) as raised:
        bus.handle(Register(email="ann@example.com"))

    assert len(calls) == 3
    assert isinstance(raised.value.failures[0].error, StaleVersion)


def test_other_event_handler_errors_are_not_retried() -> None:
    store = new_store()
    calls: list[str] = []

    def broken(event: UserCreated, uow: UnitOfWork) -> None:
        calls.append(event.user_id)
        raise ValueError("not a concurrency problem")

    bus = make_bus(store, on_user_created=[broken])

    with pytest.raises(EventHandlersFailed):
        bus.handle(Register(email="ann@example.com"))

    assert len(calls) == 1
