"""The store contract: every store (memory, SQLite, PostgreSQL) behaves the same.

Atomic commits, optimistic versions, unique emails, the ledger, owners and cascades, pages in
creation order with exact totals and every filter, the due query's order and limit, threads.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta

import pytest

from application import views
from application.commands import CreateUser, UpdateUser, UserPatch
from application.repositories import Page
from application.unit_of_work import UnitOfWork
from domain.actor import Actor
from domain.delivery import Delivery
from domain.errors import DuplicateEmail, DuplicateOccurrence, NotFound, StaleVersion
from domain.reminder import Reminder
from domain.roles import Role
from domain.schedule import Frequency, Schedule
from domain.user import User
from tests.builders import TEAM_ID, make_team, save
from tests.fakes import FixedClock, admin, make_service
from tests.stores import KINDS, MakeStore, StoreUnderTest

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
# An admin of the team the users here belong to: the views show what that team holds.
ADMIN = Actor(user_id="contract-admin", team_id=TEAM_ID, role=Role.ADMIN)


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> StoreUnderTest:
    return make_store(request.param)


def uow_of(store: StoreUnderTest) -> UnitOfWork:
    return store.uow_factory()


def new_user(email: str, *, name: str = "Ann", active: bool = True) -> User:
    return User.create(team_id=TEAM_ID, name=name, email=email, active=active, now=NOW)


def add_user(store: StoreUnderTest, email: str, *, name: str = "Ann", active: bool = True) -> User:
    user = new_user(email, name=name, active=active)
    save(store, user)
    return user


def open_delivery(reminder: Reminder, scheduled_for: datetime | None) -> Delivery:
    return Delivery.open(
        reminder_id=reminder.id,
        team_id=reminder.team_id,
        owner_id=reminder.owner_id,
        channel="log",
        scheduled_for=scheduled_for,
        now=NOW,
    )


def add_reminder(
    store: StoreUnderTest,
    owner: User,
    *,
    at: str = "09:00",
    frequency: Frequency = Frequency.DAILY,
    channel: str = "log",
    active: bool = True,
    title: str = "Standup",
) -> Reminder:
    with uow_of(store) as uow:
        reminder = Reminder.create(
            team_id=owner.team_id,
            owner_id=owner.id,
            title=title,
            message="Join the call",
            channel=channel,
            target=None,
            schedule=Schedule(
                time.fromisoformat(at), frequency, weekdays=(0,) if frequency is Frequency.WEEKLY else ()
            ),
            active=active,
            now=NOW,
        )
        uow.reminders.add(reminder)
        uow.commit()
    return reminder


def stored_user(store: StoreUnderTest, user_id: str) -> User:
    return views.get_user(store.uow_factory, ADMIN, user_id)


def due_ids(store: StoreUnderTest, now: datetime, limit: int = 100) -> list[str]:
    with uow_of(store) as uow:
        return [reminder.id for reminder in uow.reminders.due(now, limit=limit)]


# -- atomic commits ------------------------------------------------------------------------------


def test_changes_not_committed_are_never_stored(store: StoreUnderTest) -> None:

    def add_then_fail() -> None:
        with uow_of(store) as uow:
            uow.users.add(new_user("ann@example.com"))
            raise RuntimeError("failed before commit")

    with pytest.raises(RuntimeError):
        add_then_fail()

    assert views.list_users(store.uow_factory, ADMIN, limit=10, offset=0).total == 0


def test_a_batch_with_one_conflicting_write_changes_nothing(store: StoreUnderTest) -> None:
    ann = add_user(store, "ann@example.com")
    add_user(store, "bob@example.com", name="Bob")

    with uow_of(store) as uow:
        uow.users.add(new_user("cid@example.com", name="Cid"))
        renamed = uow.users.get(ann.id)
        assert renamed is not None
        renamed.update(name="Ann Renamed", email="BOB@example.com", now=NOW)
        with pytest.raises(DuplicateEmail):
            uow.commit()

    page = views.list_users(store.uow_factory, ADMIN, limit=10, offset=0)
    assert [user.email for user in page.items] == ["ann@example.com", "bob@example.com"]
    assert stored_user(store, ann.id).name == "Ann"
    assert stored_user(store, ann.id).version == 1
    # The refused batch left no index behind: the new user's email is still free.
    add_user(store, "cid@example.com", name="Cid")


def test_a_refused_ledger_write_leaves_the_reminder_and_its_due_slot_unchanged(store: StoreUnderTest) -> None:
    owner = add_user(store, "ann@example.com")
    reminder = add_reminder(store, owner, at="09:00")
    slot = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with uow_of(store) as uow:
        uow.deliveries.add(open_delivery(reminder, slot))
        uow.commit()

    with uow_of(store) as uow:
        moved = uow.reminders.get(reminder.id)
        assert moved is not None
        moved.update({"schedule": Schedule(time(10, 0), Frequency.DAILY)}, now=NOW)
        uow.deliveries.add(open_delivery(reminder, slot))
        with pytest.raises(DuplicateOccurrence):
            uow.commit()

    assert views.get_reminder(store.uow_factory, ADMIN, reminder.id).next_run_at == slot
    assert due_ids(store, datetime(2026, 1, 5, 9, 0, tzinfo=UTC)) == [reminder.id]
    assert views.list_deliveries(store.uow_factory, ADMIN, limit=10, offset=0).total == 1


# -- optimistic versions ---------------------------------------------------------------------------


def test_the_second_of_two_concurrent_changes_raises_stale_version(store: StoreUnderTest) -> None:
    ann = add_user(store, "ann@example.com")
    first, second = uow_of(store), uow_of(store)
    first_copy, second_copy = first.users.get(ann.id), second.users.get(ann.id)
    assert first_copy is not None
    assert second_copy is not None

    first_copy.update(name="First", now=NOW)
    second_copy.update(name="Second", now=NOW)
    first.commit()
    with pytest.raises(StaleVersion):
        second.commit()

    assert stored_user(store, ann.id).name == "First"
    assert stored_user(store, ann.id).version == 2


def test_each_commit_of_a_change_bumps_the_version(store: StoreUnderTest) -> None:
    ann = add_user(store, "ann@example.com")
    for name in ("B", "C"):
        with uow_of(store) as uow:
            user = uow.users.get(ann.id)
            assert user is not None
            user.update(name=name, now=NOW)
            uow.commit()

    assert stored_user(store, ann.id).version == 3


# -- unique emails -------------------------------------------------------------------------------


def test_a_duplicate_email_in_another_case_is_refused_at_commit(store: StoreUnderTest) -> None:
    add_user(store, "ann@example.com")

    with uow_of(store) as uow:
        uow.users.add(new_user("Ann@Example.COM", name="Ann Two"))
        with pytest.raises(DuplicateEmail):
            uow.commit()

    assert views.list_users(store.uow_factory, ADMIN, limit=10, offset=0).total == 1


def test_two_new_users_with_the_same_email_in_one_commit_are_refused(store: StoreUnderTest) -> None:
    save(store, make_team(team_id=TEAM_ID))

    with uow_of(store) as uow:
        uow.users.add(new_user("ann@example.com"))
        uow.users.add(new_user("ANN@example.com"))
        with pytest.raises(DuplicateEmail):
            uow.commit()

    assert views.list_users(store.uow_factory, ADMIN, limit=10, offset=0).total == 0


def test_changing_a_users_email_to_anothers_is_refused(store: StoreUnderTest) -> None:
    ann = add_user(store, "ann@example.com")
    add_user(store, "bob@example.com", name="Bob")

    with uow_of(store) as uow:
        user = uow.users.get(ann.id)
        assert user is not None
        user.update(email="Bob@Example.com", now=NOW)
        with pytest.raises(DuplicateEmail):
            uow.commit()

    assert stored_user(store, ann.id).email == "ann@example.com"


def test_an_email_given_up_can_be_taken_by_someone_else(store: StoreUnderTest) -> None:
    ann = add_user(store, "ann@example.com")
    bob = add_user(store, "bob@example.com", name="Bob")
    with uow_of(store) as uow:
        user = uow.users.get(ann.id)
        assert user is not None
        user.update(email="ann.new@example.com", now=NOW)
        deleted = uow.users.get(bob.id)
        assert deleted is not None
        uow.users.remove(deleted)
        uow.commit()

    add_user(store, "ann@example.com", name="Second Ann")
    add_user(store, "bob@example.com", name="Second Bob")

    emails = [u.email for u in views.list_users(store.uow_factory, ADMIN, limit=10, offset=0).items]
    assert emails == ["ann.new@example.com", "ann@example.com", "bob@example.com"]


# -- the ledger and owners -----------------------------------------------------------------------


def test_the_ledger_refuses_a_second_delivery_for_the_same_slot(store: StoreUnderTest) -> None:
    reminder = add_reminder(store, add_user(store, "ann@example.com"))
    slot = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def record(scheduled_for: datetime | None) -> None:
        with uow_of(store) as uow:
            uow.deliveries.add(open_delivery(reminder, scheduled_for))
            uow.commit()

    record(slot)
    with pytest.raises(DuplicateOccurrence):
        record(slot)
    record(slot + timedelta(days=1))
    record(None)  # sent on demand: no slot, never a duplicate
    record(None)

    deliveries = views.list_deliveries(store.uow_factory, ADMIN, limit=10, offset=0, reminder_id=reminder.id)
    assert deliveries.total == 4
    assert sum(d.scheduled_for == slot for d in deliveries.items) == 1


def test_a_reminder_whose_owner_was_deleted_concurrently_is_refused(store: StoreUnderTest) -> None:
    ann = add_user(store, "ann@example.com")
    creating = uow_of(store)
    owner = creating.users.get(ann.id)
    assert owner is not None
    reminder = Reminder.create(
        team_id=owner.team_id,
        owner_id=owner.id,
        title="Standup",
        message="Join",
        channel="log",
        target=None,
        schedule=Schedule(time(9, 0), Frequency.DAILY),
        active=True,
        now=NOW,
    )
    creating.reminders.add(reminder)

    with uow_of(store) as deleting:
        gone = deleting.users.get(ann.id)
        assert gone is not None
        deleting.users.remove(gone)
        deleting.commit()

    with pytest.raises(NotFound) as raised:
        creating.commit()
    assert raised.value.entity == "user"
    with uow_of(store) as uow:
        assert uow.reminders.get(reminder.id) is None
        assert uow.reminders.due(datetime(2026, 1, 6, tzinfo=UTC), limit=10) == []


# -- listing -------------------------------------------------------------------------------------


def test_users_keep_creation_order_after_updates(store: StoreUnderTest) -> None:
    users = [add_user(store, f"user{i}@example.com", name=f"User {i}") for i in range(3)]
    with uow_of(store) as uow:
        first = uow.users.get(users[0].id)
        assert first is not None
        first.update(name="Renamed", now=NOW)
        uow.commit()

    page = views.list_users(store.uow_factory, ADMIN, limit=10, offset=0)
    assert [user.id for user in page.items] == [user.id for user in users]
    assert page.items[0].name == "Renamed"


def test_reminders_keep_creation_order_after_updates(store: StoreUnderTest) -> None:
    owner = add_user(store, "ann@example.com")
    reminders = [add_reminder(store, owner, title=f"R{i}") for i in range(3)]
    with uow_of(store) as uow:
        first = uow.reminders.get(reminders[0].id)
        assert first is not None
        first.update({"title": "Renamed", "schedule": Schedule(time(11, 0), Frequency.DAILY)}, now=NOW)
        uow.commit()

    page = views.list_reminders_of(store.uow_factory, ADMIN, owner.id, limit=10, offset=0)
    assert [reminder.title for reminder in page.items] == ["Renamed", "R1", "R2"]


def test_user_pages_count_every_match_and_filter_on_active(store: StoreUnderTest) -> None:
    for i in range(5):
        add_user(store, f"user{i}@example.com", name=f"User {i}", active=i % 2 == 0)

    def names(page: Page[User]) -> list[str]:
        return [user.name for user in page.items]

    everyone = views.list_users(store.uow_factory, ADMIN, limit=2, offset=1)
    assert (names(everyone), everyone.total, everyone.limit, everyone.offset) == (
        ["User 1", "User 2"],
        5,
        2,
        1,
    )
    active = views.list_users(store.uow_factory, ADMIN, limit=2, offset=2, active=True)
    assert (names(active), active.total) == (["User 4"], 3)
    inactive = views.list_users(store.uow_factory, ADMIN, limit=10, offset=0, active=False)
    assert (names(inactive), inactive.total) == (["User 1", "User 3"], 2)
    past_the_end = views.list_users(store.uow_factory, ADMIN, limit=10, offset=7)
    assert (past_the_end.items, past_the_end.total) == ([], 5)


def test_reminder_pages_filter_on_channel_frequency_and_active_and_owner(store: StoreUnderTest) -> None:
    ann = add_user(store, "ann@example.com")
    bob = add_user(store, "bob@example.com", name="Bob")
    add_reminder(store, ann, title="daily log")
    add_reminder(store, ann, title="weekly log", frequency=Frequency.WEEKLY)
    add_reminder(store, ann, title="daily chat", channel="chat")
    add_reminder(store, ann, title="paused", active=False)
    add_reminder(store, bob, title="bob's")

    def titles(
        *, channel: str | None = None, frequency: Frequency | None = None, active: bool | None = None
    ) -> tuple[list[str], int]:
        page = views.list_reminders_of(
            store.uow_factory,
            ADMIN,
            ann.id,
            limit=2,
            offset=0,
            channel=channel,
            frequency=frequency,
            active=active,
        )
        return [reminder.title for reminder in page.items], page.total

    assert titles() == (["daily log", "weekly log"], 4)
    assert titles(channel="chat") == (["daily chat"], 1)
    assert titles(frequency=Frequency.WEEKLY) == (["weekly log"], 1)
    assert titles(active=False) == (["paused"], 1)
    assert titles(channel="log", frequency=Frequency.DAILY, active=True) == (["daily log"], 1)


def test_deliveries_are_listed_newest_first(store: StoreUnderTest) -> None:
    reminder = add_reminder(store, add_user(store, "ann@example.com"))
    ids = []
    for day in range(3):
        with uow_of(store) as uow:
            delivery = open_delivery(reminder, datetime(2026, 1, 5 + day, 9, 0, tzinfo=UTC))
            uow.deliveries.add(delivery)
            uow.commit()
            ids.append(delivery.id)

    page = views.list_deliveries(store.uow_factory, ADMIN, limit=2, offset=0)
    assert ([d.id for d in page.items], page.total) == ([ids[2], ids[1]], 3)


# -- the due index -------------------------------------------------------------------------------


def test_due_returns_the_earliest_first_within_the_limit(store: StoreUnderTest) -> None:
    owner = add_user(store, "ann@example.com")
    late = add_reminder(store, owner, at="11:00")
    early = add_reminder(store, owner, at="09:00")
    middle = add_reminder(store, owner, at="10:00")
    add_reminder(store, owner, at="12:00")

    at_eleven = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
    assert due_ids(store, at_eleven) == [early.id, middle.id, late.id]
    assert due_ids(store, at_eleven, limit=2) == [early.id, middle.id]
    assert due_ids(store, datetime(2026, 1, 5, 8, 59, tzinfo=UTC)) == []
    with uow_of(store) as uow:
        assert uow.reminders.count_due(at_eleven) == 3


def test_updated_deleted_and_deactivated_reminders_leave_the_due_index(store: StoreUnderTest) -> None:
    owner = add_user(store, "ann@example.com")
    moved, deleted, paused, kept = (
        add_reminder(store, owner, at=at) for at in ("09:00", "09:10", "09:20", "09:30")
    )
    with uow_of(store) as uow:
        reminder = uow.reminders.get(moved.id)
        assert reminder is not None
        reminder.update({"schedule": Schedule(time(13, 0), Frequency.DAILY)}, now=NOW)
        to_delete = uow.reminders.get(deleted.id)
        assert to_delete is not None
        uow.reminders.remove(to_delete)
        to_pause = uow.reminders.get(paused.id)
        assert to_pause is not None
        to_pause.update({"active": False}, now=NOW)
        uow.commit()

    assert due_ids(store, datetime(2026, 1, 5, 12, 0, tzinfo=UTC)) == [kept.id]
    assert due_ids(store, datetime(2026, 1, 5, 13, 0, tzinfo=UTC)) == [kept.id, moved.id]


def test_a_reminder_created_inactive_is_never_due(store: StoreUnderTest) -> None:
    add_reminder(store, add_user(store, "ann@example.com"), active=False)

    assert due_ids(store, datetime(2026, 1, 12, tzinfo=UTC)) == []


# -- threads -------------------------------------------------------------------------------------


@pytest.fixture
def eager_thread_switching() -> Iterator[None]:
    """Switch threads far more often than the default 5 ms, so concurrent commands really interleave."""
    default = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(default)


@pytest.mark.usefixtures("eager_thread_switching")
def test_many_threads_creating_users_through_one_bus_lose_none(store: StoreUnderTest) -> None:
    service = make_service(clock=FixedClock(NOW), uow_factory=store.uow_factory)
    actor = admin(service)

    def create_many(thread: int) -> None:
        for i in range(50):
            service.bus.handle(
                CreateUser(actor=actor, name=f"User {thread}-{i}", email=f"user{thread}-{i}@example.com")
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create_many, range(8)))  # re-raises the first exception of any thread

    page = views.list_users(service.uow_factory, actor, limit=1000, offset=0)
    # The 400 new users and the team's admin.
    assert page.total == 401
    assert len({user.email for user in page.items}) == 401


@pytest.mark.usefixtures("eager_thread_switching")
def test_concurrent_updates_of_one_user_either_succeed_or_raise_stale_version(store: StoreUnderTest) -> None:
    service = make_service(clock=FixedClock(NOW), uow_factory=store.uow_factory)
    actor = admin(service)
    user = service.bus.handle(CreateUser(actor=actor, name="Ann", email="ann@example.com"))
    # Every round starts all eight threads together, so they read the same version.
    round_start = threading.Barrier(8, timeout=10)

    def update_repeatedly(thread: int) -> tuple[int, int]:
        succeeded = stale = 0
        for i in range(25):
            round_start.wait()
            try:
                service.bus.handle(
                    UpdateUser(actor=actor, user_id=user.id, changes=UserPatch(name=f"Ann {thread}-{i}"))
                )
            except StaleVersion:
                stale += 1
            else:
                succeeded += 1
        return succeeded, stale

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(update_repeatedly, range(8)))

    successes = sum(succeeded for succeeded, _ in outcomes)
    assert sum(succeeded + stale for succeeded, stale in outcomes) == 8 * 25
    assert views.get_user(service.uow_factory, actor, user.id).version == successes + 1
