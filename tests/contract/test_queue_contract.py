"""The store contract for the delivery queue: every store (memory, SQLite, PostgreSQL) answers the
queue's questions alike: several aggregates by id, the deliveries due to be claimed, the claims
whose lease ended, the finished deliveries old enough to prune, and the queue's counts; and two
workers claiming at once never both get one delivery."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application import views
from application.commands import ClaimDeliveries
from application.repositories import QueueStats
from domain.actor import Actor
from domain.aggregate import Aggregate
from domain.delivery import Attempt, Delivery, DeliveryStatus
from domain.errors import Conflict, NotFound
from domain.reminder import Reminder
from domain.roles import Role
from tests.builders import TEAM_ID, make_reminder, make_user, save
from tests.fakes import FixedClock, make_service
from tests.stores import KINDS, MakeStore, StoreUnderTest

T = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
# An admin of the team the builders put users in: the views show what that team holds.
ADMIN = Actor(user_id="contract-admin", team_id=TEAM_ID, role=Role.ADMIN)


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> StoreUnderTest:
    return make_store(request.param)


@pytest.fixture
def reminder(store: StoreUnderTest) -> Reminder:
    owner = make_user()
    reminder = make_reminder(owner)
    save(store, owner, reminder)
    return reminder


def state(aggregate: Aggregate) -> dict[str, Any]:
    return {
        f.name: getattr(aggregate, f.name) for f in fields(aggregate) if f.name not in ("_events", "version")
    }


_slots = itertools.count(1)


def delivery(
    reminder: Reminder, status: DeliveryStatus = DeliveryStatus.PENDING, *, at: datetime = T
) -> Delivery:
    """A delivery created (and, while pending, due) at `at`, brought to `status` at that moment;
    each for a slot of its own."""
    slot = T - timedelta(days=next(_slots))
    made = open_delivery(reminder, slot, now=at, missed=status is DeliveryStatus.MISSED)
    if status is DeliveryStatus.MISSED:
        return made
    if status is DeliveryStatus.PENDING:
        return made
    token = made.claim("worker", at, lease=LEASE)
    if status is DeliveryStatus.SENT:
        made.succeed(token, Attempt(1, at, 1.0), now=at)
    elif status is DeliveryStatus.FAILED:
        made.fail(token, Attempt(1, at, 1.0, "refused"), now=at)
    elif status is DeliveryStatus.CANCELLED:
        made.cancel("the reminder was deleted", token=token, now=at)
    return made


def open_delivery(
    reminder: Reminder, scheduled_for: datetime | None, *, now: datetime, missed: bool = False
) -> Delivery:
    return Delivery.open(
        reminder_id=reminder.id,
        team_id=reminder.team_id,
        owner_id=reminder.owner_id,
        channel="log",
        scheduled_for=scheduled_for,
        now=now,
        missed=missed,
    )


def ids(deliveries: list[Delivery]) -> list[str]:
    return [d.id for d in deliveries]


def ask(store: StoreUnderTest, question: Callable[..., Any]) -> Any:
    with store.uow_factory() as uow:
        return question(uow)


# -- get_many --------------------------------------------------------------------------------------------


def test_get_many_returns_the_stored_aggregates_of_the_ids_that_exist_in_every_repository(
    store: StoreUnderTest,
) -> None:
    ann, bob = make_user("ann@example.com"), make_user("bob@example.com")
    first, second = make_reminder(ann), make_reminder(bob, channel="webhook")
    one, other = delivery(first), delivery(second, DeliveryStatus.SENT)
    save(store, ann, bob, first, second, one, other)

    with store.uow_factory() as uow:
        users = uow.users.get_many([ann.id, bob.id, "no-such-user", "nul\x00"])
        reminders = uow.reminders.get_many({first.id, second.id, "no-such-reminder"})
        deliveries = uow.deliveries.get_many((one.id, other.id, "x" * 300))
        nothing = (uow.users.get_many([]), uow.reminders.get_many([]), uow.deliveries.get_many([]))

    assert {key: state(user) for key, user in users.items()} == {ann.id: state(ann), bob.id: state(bob)}
    assert {key: state(r) for key, r in reminders.items()} == {
        first.id: state(first),
        second.id: state(second),
    }
    assert {key: state(d) for key, d in deliveries.items()} == {one.id: state(one), other.id: state(other)}
    assert nothing == ({}, {}, {})


def test_get_many_answers_for_hundreds_of_ids_at_once(store: StoreUnderTest, reminder: Reminder) -> None:
    """A worker records a few hundred outcomes in one unit of work."""
    stored = [delivery(reminder) for _ in range(3)]
    save(store, *stored)
    wanted = [f"unknown-{n}" for n in range(600)] + ids(stored)

    found = ask(store, lambda uow: uow.deliveries.get_many(wanted))

    assert sorted(found) == sorted(ids(stored))


def test_get_many_answers_with_what_the_unit_of_work_holds(store: StoreUnderTest, reminder: Reminder) -> None:
    kept, dropped = delivery(reminder), delivery(reminder)
    save(store, kept, dropped)

    with store.uow_factory() as uow:
        held = uow.deliveries.get(kept.id)
        assert held is not None
        held.claim("worker", T, lease=LEASE)
        gone = uow.deliveries.get(dropped.id)
        assert gone is not None
        uow.deliveries.remove(gone)

        found = uow.deliveries.get_many([kept.id, dropped.id])

    assert list(found) == [kept.id]
    assert found[kept.id] is held
    assert found[kept.id].status is DeliveryStatus.SENDING


# -- claimable ---------------------------------------------------------------------------------------------


def test_claimable_is_the_pending_deliveries_due_now_earliest_first_within_the_limit(
    store: StoreUnderTest, reminder: Reminder
) -> None:
    due_now = delivery(reminder, at=T)
    later = delivery(reminder, at=T + timedelta(microseconds=1))
    earliest = delivery(reminder, at=T - timedelta(minutes=2))
    early = delivery(reminder, at=T - timedelta(minutes=1))
    not_pending = [
        delivery(reminder, status, at=T - timedelta(hours=1))
        for status in (
            DeliveryStatus.SENDING,
            DeliveryStatus.SENT,
            DeliveryStatus.FAILED,
            DeliveryStatus.MISSED,
            DeliveryStatus.CANCELLED,
        )
    ]
    save(store, due_now, later, earliest, early, *not_pending)

    assert ids(ask(store, lambda uow: uow.deliveries.claimable(T, limit=10))) == ids(
        [earliest, early, due_now]
    )
    assert ids(ask(store, lambda uow: uow.deliveries.claimable(T, limit=2))) == ids([earliest, early])
    assert ask(store, lambda uow: uow.deliveries.claimable(T - timedelta(minutes=3), limit=10)) == []


def test_a_delivery_due_again_later_is_claimable_only_from_then(
    store: StoreUnderTest, reminder: Reminder
) -> None:
    retrying = delivery(reminder, at=T)
    token = retrying.claim("worker", T, lease=LEASE)
    retrying.retry_later(token, Attempt(1, T, 1.0, "timeout"), now=T, at=T + timedelta(seconds=30))
    save(store, retrying)

    assert ask(store, lambda uow: uow.deliveries.claimable(T + timedelta(seconds=29), limit=10)) == []
    assert ids(ask(store, lambda uow: uow.deliveries.claimable(T + timedelta(seconds=30), limit=10))) == [
        retrying.id
    ]


# -- expired_claims ----------------------------------------------------------------------------------------


def test_expired_claims_are_the_claims_whose_lease_ended_by_now_earliest_first_within_the_limit(
    store: StoreUnderTest, reminder: Reminder
) -> None:
    claims = {}
    for name, claimed_at in (("ends_at_now", T - LEASE), ("ended", T - LEASE - timedelta(seconds=10))):
        claims[name] = delivery(reminder, at=claimed_at)
        claims[name].claim("worker", claimed_at, lease=LEASE)
    running = delivery(reminder, at=T - timedelta(seconds=10))
    running.claim("worker", T - timedelta(seconds=10), lease=LEASE)
    others = [
        delivery(reminder, status, at=T - timedelta(hours=1))
        for status in (DeliveryStatus.PENDING, DeliveryStatus.SENT)
    ]
    save(store, claims["ends_at_now"], running, claims["ended"], *others)

    expired = ask(store, lambda uow: uow.deliveries.expired_claims(T, limit=10))
    assert ids(expired) == ids([claims["ended"], claims["ends_at_now"]])
    assert ids(ask(store, lambda uow: uow.deliveries.expired_claims(T, limit=1))) == [claims["ended"].id]
    assert (
        ask(store, lambda uow: uow.deliveries.expired_claims(T - LEASE - timedelta(seconds=11), limit=10))
        == []
    )


# -- finished_before and remove ----------------------------------------------------------------------------


def test_finished_before_is_the_finished_deliveries_created_before_the_moment_oldest_first(
    store: StoreUnderTest, reminder: Reminder
) -> None:
    made = [
        delivery(reminder, DeliveryStatus.SENT, at=T - timedelta(hours=6)),
        delivery(reminder, DeliveryStatus.PENDING, at=T - timedelta(hours=5)),
        delivery(reminder, DeliveryStatus.FAILED, at=T - timedelta(hours=4)),
        delivery(reminder, DeliveryStatus.SENDING, at=T - timedelta(hours=3)),
        delivery(reminder, DeliveryStatus.MISSED, at=T - timedelta(hours=2)),
        delivery(reminder, DeliveryStatus.CANCELLED, at=T - timedelta(hours=1)),
        delivery(reminder, DeliveryStatus.SENT, at=T),
        delivery(reminder, DeliveryStatus.FAILED, at=T + timedelta(hours=1)),
    ]
    save(store, *made)
    sent, _, failed, _, missed, cancelled, _, _ = made

    assert ids(ask(store, lambda uow: uow.deliveries.finished_before(T, limit=10))) == ids(
        [sent, failed, missed, cancelled]
    )
    assert ids(ask(store, lambda uow: uow.deliveries.finished_before(T, limit=2))) == ids([sent, failed])
    assert ask(store, lambda uow: uow.deliveries.finished_before(T - timedelta(hours=6), limit=10)) == []


def test_a_removed_delivery_is_gone_and_its_slot_can_be_recorded_again(
    store: StoreUnderTest, reminder: Reminder
) -> None:
    old, kept = delivery(reminder, DeliveryStatus.SENT, at=T - timedelta(days=100)), delivery(reminder)
    save(store, old, kept)

    with store.uow_factory() as uow:
        [found] = uow.deliveries.finished_before(T, limit=10)
        uow.deliveries.remove(found)
        uow.commit()

    assert ask(store, lambda uow: uow.deliveries.get(old.id)) is None
    assert ids(views.list_deliveries(store.uow_factory, ADMIN, limit=10, offset=0).items) == [kept.id]
    assert views.count_pending_deliveries(store.uow_factory) == 1
    again = open_delivery(reminder, old.scheduled_for, now=T)
    save(store, again)
    assert ask(store, lambda uow: uow.deliveries.get(again.id)) is not None


def test_a_delivery_retried_while_being_pruned_is_not_removed(
    store: StoreUnderTest, reminder: Reminder
) -> None:
    failed = delivery(reminder, DeliveryStatus.FAILED, at=T - timedelta(days=100))
    save(store, failed)

    with store.uow_factory() as pruning:
        [found] = pruning.deliveries.finished_before(T, limit=10)
        pruning.deliveries.remove(found)
        with store.uow_factory() as retrying:
            retried = retrying.deliveries.get(failed.id)
            assert retried is not None
            retried.reopen(T)
            retrying.commit()
        with pytest.raises((Conflict, NotFound)):
            pruning.commit()

    still = ask(store, lambda uow: uow.deliveries.get(failed.id))
    assert still is not None
    assert (still.status, still.attempts) == (DeliveryStatus.PENDING, failed.attempts)


def test_a_delivery_removed_by_two_units_of_work_at_once_is_removed_once_and_the_second_refused(
    store: StoreUnderTest, reminder: Reminder
) -> None:
    old = delivery(reminder, DeliveryStatus.SENT, at=T - timedelta(days=100))
    kept = delivery(reminder, DeliveryStatus.SENT, at=T - timedelta(days=100))
    save(store, old, kept)

    with store.uow_factory() as second:
        theirs = second.deliveries.get(old.id)
        assert theirs is not None
        with store.uow_factory() as first:
            mine = first.deliveries.get(old.id)
            assert mine is not None
            first.deliveries.remove(mine)
            first.commit()
        second.deliveries.remove(theirs)
        with pytest.raises((Conflict, NotFound)):
            second.commit()

    assert ask(store, lambda uow: uow.deliveries.get(old.id)) is None
    assert ids(views.list_deliveries(store.uow_factory, ADMIN, limit=10, offset=0).items) == [kept.id]


# -- queue_stats -------------------------------------------------------------------------------------------


def test_queue_stats_count_what_waits_what_is_due_and_what_is_in_flight(
    store: StoreUnderTest, reminder: Reminder
) -> None:
    assert ask(store, lambda uow: uow.deliveries.queue_stats(T)) == QueueStats(0, 0, 0, None)
    save(
        store,
        delivery(reminder, at=T - timedelta(minutes=1)),
        delivery(reminder, at=T - timedelta(minutes=2, microseconds=5)),
        delivery(reminder, at=T),
        delivery(reminder, at=T + timedelta(minutes=5)),
        delivery(reminder, DeliveryStatus.SENDING, at=T - timedelta(hours=1)),
        delivery(reminder, DeliveryStatus.SENDING, at=T - timedelta(hours=1)),
        *(
            delivery(reminder, s, at=T - timedelta(hours=2))
            for s in (DeliveryStatus.SENT, DeliveryStatus.MISSED)
        ),
    )

    stats = ask(store, lambda uow: uow.deliveries.queue_stats(T))
    assert stats == QueueStats(
        pending=4, due=3, in_flight=2, oldest_due_at=T - timedelta(minutes=2, microseconds=5)
    )
    assert stats.oldest_due_at is not None
    assert stats.oldest_due_at.utcoffset() == timedelta(0)
    earlier = ask(store, lambda uow: uow.deliveries.queue_stats(T - timedelta(minutes=3)))
    assert earlier == QueueStats(pending=4, due=0, in_flight=2, oldest_due_at=None)


# -- claiming at once --------------------------------------------------------------------------------------


def test_workers_claiming_at_once_get_each_delivery_once_and_leave_none(
    store: StoreUnderTest, reminder: Reminder
) -> None:
    queued = [delivery(reminder, at=T - timedelta(seconds=n)) for n in range(40)]
    save(store, *queued)
    service = make_service(clock=FixedClock(T), uow_factory=store.uow_factory)
    start = threading.Barrier(4)

    def work(name: str) -> list[str]:
        start.wait()
        claimed: list[str] = []
        for _ in range(200):
            jobs = service.bus.handle(ClaimDeliveries(worker=name, limit=3, lease_seconds=60))
            claimed += [job.delivery_id for job in jobs]
            if not jobs and views.queue_stats(store.uow_factory, T).due == 0:
                break
        return claimed

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, [f"worker-{n}" for n in range(4)]))

    everything = [delivery_id for claimed in results for delivery_id in claimed]
    assert sorted(everything) == sorted(ids(queued))
    stored = ask(store, lambda uow: uow.deliveries.get_many(ids(queued)))
    for name, claimed in zip([f"worker-{n}" for n in range(4)], results, strict=True):
        assert {stored[delivery_id].claimed_by for delivery_id in claimed} <= {name}
    assert ask(store, lambda uow: uow.deliveries.queue_stats(T)) == QueueStats(0, 0, 40, None)


def test_two_units_of_work_claiming_at_once_on_postgresql_take_disjoint_deliveries_without_waiting(
    make_store: MakeStore,
) -> None:
    """SKIP LOCKED: the second worker takes the next rows instead of waiting for the first to commit."""
    store = make_store("postgresql")
    owner = make_user()
    reminder = make_reminder(owner)
    queued = [delivery(reminder, at=T - timedelta(seconds=n)) for n in range(6)]
    save(store, owner, reminder, *queued)
    earliest_first = ids(sorted(queued, key=lambda d: d.next_attempt_at or T))

    def claim_all(name: str, uow: Any) -> list[str]:
        taken = uow.deliveries.claimable(T, limit=3)
        for one in taken:
            one.claim(name, T, lease=LEASE)
        return ids(taken)

    def second_worker() -> list[str]:
        with store.uow_factory() as second:
            theirs = claim_all("second", second)
            second.commit()
            return theirs

    pool = ThreadPoolExecutor(1)
    try:
        with store.uow_factory() as first:
            mine = claim_all("first", first)
            theirs = pool.submit(second_worker).result(timeout=10)  # while the first still holds its rows
            first.commit()
    finally:
        pool.shutdown()  # after the first let go of its rows, so a second worker waiting on them ends

    assert mine == earliest_first[:3]
    assert theirs == earliest_first[3:]
    stored = ask(store, lambda uow: uow.deliveries.get_many(earliest_first))
    assert [stored[i].claimed_by for i in earliest_first] == ["first"] * 3 + ["second"] * 3


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_two_units_of_work_claiming_at_once_on_one_process_stores_never_share_a_delivery(
    make_store: MakeStore, kind: str
) -> None:
    """The memory and SQLite stores have one writer at a time: the second claim waits for the first
    (SQLite), or whichever commits last is refused (memory); no delivery is held by both."""
    store = make_store(kind)
    owner = make_user()
    reminder = make_reminder(owner)
    queued = [delivery(reminder, at=T - timedelta(seconds=n)) for n in range(6)]
    save(store, owner, reminder, *queued)
    tokens: dict[str, dict[str, str]] = {}

    def claim_and_commit(name: str, *, before_commit: Callable[[], None] = lambda: None) -> None:
        with store.uow_factory() as uow:
            taken = uow.deliveries.claimable(T, limit=3)
            held = {one.id: one.claim(name, T, lease=LEASE) for one in taken}
            before_commit()
            try:
                uow.commit()
            except Conflict:
                return
            tokens[name] = held

    with ThreadPoolExecutor(1) as pool:
        second: list[Any] = []
        claim_and_commit(
            "first", before_commit=lambda: second.append(pool.submit(claim_and_commit, "second"))
        )
        second[0].result(timeout=10)

    assert tokens, "one of the two claims must commit"
    assert set(tokens.get("first", {})).isdisjoint(tokens.get("second", {}))
    stored = ask(store, lambda uow: uow.deliveries.get_many(ids(queued)))
    for name, held in tokens.items():
        for delivery_id, token in held.items():
            assert (stored[delivery_id].claimed_by, stored[delivery_id].claim_token) == (name, token)
    claimed = [d for d in stored.values() if d.status is DeliveryStatus.SENDING]
    assert len(claimed) == sum(len(held) for held in tokens.values())
