"""The store contract, continued: what is stored comes back unchanged, deletes cascade as documented,
every delivery filter counts exactly, and concurrent schedulers never record a slot twice."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest

from application import views
from application.commands import DeleteUser
from domain.actor import Actor
from domain.aggregate import Aggregate
from domain.delivery import Attempt, Delivery, DeliveryStatus
from domain.errors import Conflict, DuplicateOccurrence, InvalidInput, NotFound, StaleVersion
from domain.reminder import Reminder
from domain.roles import Role
from domain.schedule import Frequency, Schedule
from domain.user import User
from tests.builders import NOW, TEAM_ID, make_reminder, make_user, save
from tests.fakes import FixedClock, admin, make_service
from tests.stores import KINDS, MakeStore, StoreUnderTest

SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
# An admin of the team the builders put users in: the views show what that team holds.
ADMIN = Actor(user_id="contract-admin", team_id=TEAM_ID, role=Role.ADMIN)


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> StoreUnderTest:
    return make_store(request.param)


def state(aggregate: Aggregate) -> dict[str, Any]:
    return {f.name: getattr(aggregate, f.name) for f in fields(aggregate) if f.name != "_events"}


def open_delivery(
    reminder: Reminder, scheduled_for: datetime | None, *, channel: str = "log", missed: bool = False
) -> Delivery:
    return Delivery.open(
        reminder_id=reminder.id,
        team_id=reminder.team_id,
        owner_id=reminder.owner_id,
        channel=channel,
        scheduled_for=scheduled_for,
        now=NOW,
        missed=missed,
    )


# -- round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [
        Schedule(time(9, 30, 15), Frequency.WEEKLY, "Europe/Berlin", weekdays=(0, 3, 6)),
        Schedule(time(23, 59), Frequency.ONCE, "America/New_York", date=date(2026, 12, 24)),
        Schedule(time(0, 0), Frequency.DAILY, "Asia/Kolkata"),
    ],
    ids=["weekly", "once", "daily"],
)
def test_every_field_of_users_and_reminders_comes_back_unchanged(
    store: StoreUnderTest, schedule: Schedule
) -> None:
    owner = make_user()
    owner.update(
        role=Role.ADMIN, timezone="Pacific/Chatham", active=False, now=NOW + timedelta(microseconds=9)
    )
    reminder = make_reminder(owner, schedule=schedule, channel="webhook")
    save(store, owner, reminder)

    with store.uow_factory() as uow:
        loaded_owner, loaded = uow.users.get(owner.id), uow.reminders.get(reminder.id)
    assert loaded_owner is not None
    assert loaded is not None
    assert state(loaded_owner) == state(owner)
    assert state(loaded) == state(reminder)
    assert loaded.next_run_at is not None
    assert loaded.next_run_at.utcoffset() == timedelta(0)


def test_a_delivery_with_its_claim_and_attempts_comes_back_unchanged(store: StoreUnderTest) -> None:
    owner = make_user()
    reminder = make_reminder(owner)
    delivery = open_delivery(reminder, SLOT)
    save(store, owner, reminder, delivery)
    attempts = [
        Attempt(1, NOW, 12.5, "connection refused"),
        Attempt(2, NOW + timedelta(seconds=1, microseconds=250), 3.25, via="log"),
    ]
    with store.uow_factory() as uow:
        taken = uow.deliveries.get(delivery.id)
        assert taken is not None
        token = taken.claim("worker-1", NOW, lease=timedelta(seconds=30))
        uow.commit()
    with store.uow_factory() as uow:
        claimed = uow.deliveries.get(delivery.id)
        assert claimed is not None
        assert {k: v for k, v in state(claimed).items() if k != "version"} == {
            k: v for k, v in state(taken).items() if k != "version"
        }
        assert (claimed.status, claimed.claimed_by, claimed.claim_token) == (
            DeliveryStatus.SENDING,
            "worker-1",
            token,
        )
        claimed.retry_later(token, attempts[0], now=NOW, at=NOW + timedelta(seconds=1))
        uow.commit()
    with store.uow_factory() as uow:
        waiting = uow.deliveries.get(delivery.id)
        assert waiting is not None
        assert (waiting.status, waiting.next_attempt_at, waiting.attempts, waiting.first_attempt_at) == (
            DeliveryStatus.PENDING,
            NOW + timedelta(seconds=1),
            (attempts[0],),
            NOW,
        )
        token = waiting.claim("worker-2", NOW + timedelta(seconds=1), lease=timedelta(seconds=30))
        waiting.succeed(token, attempts[1], now=NOW + timedelta(seconds=2))
        uow.commit()

    with store.uow_factory() as uow:
        loaded = uow.deliveries.get(delivery.id)
    assert loaded is not None
    assert loaded.status is DeliveryStatus.SENT
    assert loaded.attempts == tuple(attempts)
    assert (loaded.sent_at, loaded.scheduled_for, loaded.error) == (NOW + timedelta(seconds=2), SLOT, None)
    # The first attempt's start stays through the retry; `via` is the successful attempt's.
    assert (loaded.first_attempt_at, loaded.via) == (NOW, "log")
    assert (loaded.claimed_by, loaded.claimed_at, loaded.lease_expires_at, loaded.claim_token) == (None,) * 4
    assert loaded.next_attempt_at is None
    assert loaded.version == 4


def test_a_moment_given_in_another_offset_is_the_same_instant_in_utc(store: StoreUnderTest) -> None:
    owner = make_user()
    reminder = make_reminder(owner)
    slot = datetime(2026, 1, 5, 10, 0, tzinfo=timezone(timedelta(hours=1)))  # 09:00 UTC
    save(store, owner, reminder, open_delivery(reminder, slot))

    with store.uow_factory() as uow:
        [delivery] = uow.deliveries.list(limit=10, offset=0).items
        assert delivery.scheduled_for == SLOT
        # The same instant in another offset is the same slot.
        uow.deliveries.add(open_delivery(reminder, SLOT))
        with pytest.raises(DuplicateOccurrence):
            uow.commit()


# -- cascades --------------------------------------------------------------------------------------


def test_deleting_a_user_deletes_their_reminders_and_keeps_the_delivery_record(store: StoreUnderTest) -> None:
    service = make_service(clock=FixedClock(NOW), uow_factory=store.uow_factory)
    actor = admin(service)
    ann, bob = (
        make_user(team_id=actor.team_id or ""),
        make_user("bob@example.com", team_id=actor.team_id or ""),
    )
    anns = [make_reminder(ann) for _ in range(3)]
    bobs = make_reminder(bob)
    delivery = open_delivery(anns[0], SLOT)
    save(store, ann, bob, *anns, bobs, delivery)

    service.bus.handle(DeleteUser(actor=actor, user_id=ann.id))

    with store.uow_factory() as uow:
        assert uow.users.get(ann.id) is None
        assert all(uow.reminders.get(reminder.id) is None for reminder in anns)
        assert uow.reminders.list_by_owner(ann.id, limit=10, offset=0).total == 0
        assert [r.id for r in uow.reminders.due(SLOT + timedelta(days=1), limit=10)] == [bobs.id]
        assert uow.deliveries.get(delivery.id) is not None
        assert uow.deliveries.list(limit=10, offset=0, reminder_id=anns[0].id).total == 1


def test_deleting_a_reminder_keeps_its_deliveries(store: StoreUnderTest) -> None:
    owner = make_user()
    reminder = make_reminder(owner)
    delivery = open_delivery(reminder, SLOT)
    save(store, owner, reminder, delivery)
    with store.uow_factory() as uow:
        loaded = uow.reminders.get(reminder.id)
        assert loaded is not None
        uow.reminders.remove(loaded)
        uow.commit()

    assert views.get_delivery(store.uow_factory, ADMIN, delivery.id).reminder_id == reminder.id


# -- delivery filters and counts -------------------------------------------------------------------


def test_delivery_pages_filter_on_reminder_status_and_channel_with_exact_totals(
    store: StoreUnderTest,
) -> None:
    owner = make_user()
    first, second = make_reminder(owner), make_reminder(owner, channel="webhook")
    rows = []
    for day in range(6):
        reminder = first if day % 2 == 0 else second
        rows.append(
            open_delivery(reminder, SLOT + timedelta(days=day), channel=reminder.channel, missed=day >= 4)
        )
    save(store, owner, first, second, *rows)

    def page(**filters: Any) -> tuple[list[str], int]:
        result = views.list_deliveries(store.uow_factory, ADMIN, limit=2, offset=0, **filters)
        return [d.id for d in result.items], result.total

    assert page() == ([rows[5].id, rows[4].id], 6)
    assert page(reminder_id=first.id) == ([rows[4].id, rows[2].id], 3)
    assert page(status=DeliveryStatus.MISSED) == ([rows[5].id, rows[4].id], 2)
    assert page(status=DeliveryStatus.PENDING, channel="webhook") == ([rows[3].id, rows[1].id], 2)
    assert page(status=DeliveryStatus.SENT) == ([], 0)
    assert views.count_pending_deliveries(store.uow_factory) == 4
    with store.uow_factory() as uow:
        assert uow.deliveries.count() == 6
        assert uow.deliveries.count(status=DeliveryStatus.MISSED) == 2
        assert uow.reminders.count_due(SLOT) == 2


# -- concurrent schedulers -------------------------------------------------------------------------


def test_many_threads_recording_the_same_slot_leave_exactly_one_ledger_row(store: StoreUnderTest) -> None:
    owner = make_user()
    reminder = make_reminder(owner)
    save(store, owner, reminder)
    start = threading.Barrier(8, timeout=10)

    def record() -> str:
        start.wait()
        try:
            with store.uow_factory() as uow:
                uow.deliveries.add(open_delivery(reminder, SLOT))
                uow.commit()
        except Conflict as refused:
            return type(refused).__name__
        return "recorded"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = sorted(pool.map(lambda _: record(), range(8)))

    assert outcomes == ["DuplicateOccurrence"] * 7 + ["recorded"]
    assert views.list_deliveries(store.uow_factory, ADMIN, limit=10, offset=0).total == 1


def test_two_schedulers_taking_due_work_at_once_get_disjoint_batches(make_store: MakeStore) -> None:
    """PostgreSQL's SKIP LOCKED: the second scheduler skips the rows the first holds, without waiting."""
    store = make_store("postgresql")
    owner = make_user()
    reminders = [
        make_reminder(owner, schedule=Schedule(time(9, minute), Frequency.DAILY)) for minute in range(6)
    ]
    save(store, owner, *reminders)

    first, second = store.uow_factory(), store.uow_factory()
    with first, second:
        taken_first = [r.id for r in first.reminders.due(SLOT + timedelta(hours=1), limit=4)]
        taken_second = [r.id for r in second.reminders.due(SLOT + timedelta(hours=1), limit=4)]

    expected = [r.id for r in sorted(reminders, key=lambda r: (r.next_run_at, r.id))]
    assert taken_first == expected[:4]
    assert taken_second == expected[4:]


# -- text no store can hold ------------------------------------------------------------------------


def test_a_nul_character_is_refused_on_the_way_in_and_matches_nothing_on_the_way_out(
    store: StoreUnderTest,
) -> None:
    with pytest.raises(InvalidInput, match="NUL"):
        User.create(team_id=TEAM_ID, name="A\x00n", email="ann@example.com", active=True, now=NOW)
    owner = make_user()
    with pytest.raises(InvalidInput, match="NUL"):
        Reminder.create(
            team_id=owner.team_id,
            owner_id=owner.id,
            title="T\x00",
            message="m",
            channel="log",
            target=None,
            schedule=Schedule(time(9, 0), Frequency.DAILY),
            active=True,
            now=NOW,
        )
    save(store, owner)

    with store.uow_factory() as uow:
        assert uow.users.get(owner.id + "\x00") is None
        assert uow.reminders.get("r\x00") is None
        assert uow.deliveries.get("d\x00") is None
        assert uow.reminders.list_by_owner(owner.id, limit=10, offset=0, channel="log\x00").total == 0
        assert uow.deliveries.list(limit=10, offset=0, reminder_id="\x00").total == 0


def test_an_offset_past_the_end_is_an_empty_page_however_large(store: StoreUnderTest) -> None:
    owner = make_user()
    save(store, owner, make_reminder(owner))

    with store.uow_factory() as uow:
        for offset in (1, 2**63, 10**30):
            page = uow.reminders.list_by_owner(owner.id, limit=10, offset=offset)
            assert (page.items, page.total, page.offset) == ([], 1, offset)
            assert uow.users.list(team_id=TEAM_ID, limit=10, offset=offset).total == 1
            assert uow.deliveries.list(limit=10, offset=offset).items == []


# -- many writes in one commit ---------------------------------------------------------------------


def test_a_commit_of_many_changes_is_refused_whole_when_one_was_changed_meanwhile(
    store: StoreUnderTest,
) -> None:
    users = [make_user(f"user{n}@example.com") for n in range(4)]
    save(store, *users)
    first = store.uow_factory()
    loaded = [first.users.get(user.id) for user in users]
    with store.uow_factory() as other:
        meddled = other.users.get(users[2].id)
        assert meddled is not None
        meddled.update(name="Changed meanwhile", now=NOW)
        other.commit()

    for user in loaded:
        assert user is not None
        user.update(name="Renamed", now=NOW)
    with pytest.raises(StaleVersion):
        first.commit()

    names = [views.get_user(store.uow_factory, ADMIN, user.id).name for user in users]
    assert names == ["Ann Example", "Ann Example", "Changed meanwhile", "Ann Example"]


def test_a_commit_deleting_many_is_refused_whole_when_one_is_already_gone(store: StoreUnderTest) -> None:
    owner = make_user()
    reminders = [make_reminder(owner) for _ in range(3)]
    save(store, owner, *reminders)
    first = store.uow_factory()
    loaded = [first.reminders.get(reminder.id) for reminder in reminders]
    with store.uow_factory() as other:
        gone = other.reminders.get(reminders[1].id)
        assert gone is not None
        other.reminders.remove(gone)
        other.commit()

    for reminder in loaded:
        assert reminder is not None
        first.reminders.remove(reminder)
    with pytest.raises(NotFound):
        first.commit()

    with store.uow_factory() as uow:
        assert uow.reminders.list_by_owner(owner.id, limit=10, offset=0).total == 2
