"""Exactly once per slot: repeated and racing ticks, racing workers, backlogs, and reminders that vanish.

Driven through the real bus over the memory store with a fixed clock; the queue is run inline.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from adapters.memory import MemoryStore, MemoryUnitOfWork
from application import views
from application.commands import CreateUser, DeleteReminder
from application.handlers.scheduling import TickResult
from domain.delivery import DeliveryStatus
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import (
    FixedClock,
    MetricsRecorder,
    RecordingChannel,
    admin,
    attempt_all,
    claim,
    make_service,
    run_queue,
)
from tests.unit.world import (
    SLOT,
    START,
    InterleavingStore,
    add_owner,
    create_reminder,
    ledger,
    tick,
    tick_and_send,
)


def race(*calls: Callable[[], object]) -> None:
    """Run each call on its own thread, released together, with threads switching far more often than
    usual so the calls interleave."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        sys.setswitchinterval(switch_interval)
    assert errors == []
    assert not any(thread.is_alive() for thread in threads)


def tick_into(results: list[TickResult], service: Service, now: datetime) -> None:
    results.append(tick(service, now))


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def test_running_the_same_tick_twice_records_and_sends_once(
    service: Service, team: RecordingChannel, metrics: MetricsRecorder, clock: FixedClock
) -> None:
    create_reminder(service, add_owner(service))
    now = SLOT.replace(second=30)
    tick_and_send(service, clock, now)

    again = tick_and_send(service, clock, now)

    assert again == TickResult(due=0, fired=0, more=False)
    assert len(ledger(service)) == 1
    assert len(team.sent) == 1
    assert metrics.outcomes == [("team", "sent", 1)]


def test_two_ticks_racing_on_threads_record_and_send_each_slot_once() -> None:
    for _ in range(8):
        clock, team = FixedClock(START), RecordingChannel()
        service = make_service(clock=clock, channels={"team": team})
        owner = add_owner(service)
        reminders = [create_reminder(service, owner, title=f"R{n}") for n in range(40)]
        clock.current = SLOT
        results: list[TickResult] = []
        one_tick = partial(tick_into, results, service, SLOT)

        race(one_tick, one_tick)
        run_queue(service)

        assert sum(result.fired for result in results) == 40
        per_slot = Counter((d.reminder_id, d.scheduled_for) for d in ledger(service))
        assert per_slot == Counter({(reminder.id, SLOT): 1 for reminder in reminders})
        assert Counter((n.reminder_id, n.scheduled_for) for n in team.tried) == per_slot


def test_sixty_slots_due_in_the_same_second_are_each_sent_once_by_two_racing_workers(
    service: Service, team: RecordingChannel, metrics: MetricsRecorder, clock: FixedClock
) -> None:
    owners = [add_owner(service, f"user{n}@example.com") for n in range(6)]
    reminders = [create_reminder(service, owners[n % 6], title=f"R{n}") for n in range(60)]
    clock.current = SLOT
    assert tick(service, SLOT) == TickResult(due=60, fired=60, more=False)

    def worker(name: str) -> None:
        # A worker claims small batches, and polls again while anything is due.
        while True:
            if jobs := claim(service, worker=name, limit=5):
                attempt_all(service, jobs)
            elif not views.queue_stats(service.uow_factory, clock.current).due:
                return

    race(lambda: worker("w-1"), lambda: worker("w-2"))

    assert Counter(n.reminder_id for n in team.tried) == Counter({r.id: 1 for r in reminders})
    entries = ledger(service)
    assert Counter(d.reminder_id for d in entries) == Counter({r.id: 1 for r in reminders})
    assert {(d.status, len(d.attempts)) for d in entries} == {(DeliveryStatus.SENT, 1)}
    assert metrics.outcomes == [("team", "sent", 1)] * 60


def test_a_backlog_larger_than_a_batch_is_drained_earliest_first(
    clock: FixedClock, team: RecordingChannel
) -> None:
    service = make_service(clock=clock, channels={"team": team}, batch_size=10)
    owner = add_owner(service)
    # Created out of time order, so only the schedule can put them in order.
    for second in [*range(24, -1, -2), *range(1, 24, 2)]:
        create_reminder(service, owner, time_of_day=f"09:00:{second:02d}", title=f"At {second:02d}")
    now = utc(5, 9, 1)

    results = [tick_and_send(service, clock, now)]
    assert sorted(n.title for n in team.sent) == [f"At {s:02d}" for s in range(10)]
    while results[-1].more:
        results.append(tick_and_send(service, clock, now))

    assert results == [
        TickResult(due=10, fired=10, more=True),
        TickResult(due=10, fired=10, more=True),
        TickResult(due=5, fired=5, more=False),
    ]
    assert [d.scheduled_for.second for d in ledger(service) if d.scheduled_for] == list(range(25))
    assert sorted(n.title for n in team.sent) == [f"At {s:02d}" for s in range(25)]
    assert all(d.status is DeliveryStatus.SENT for d in ledger(service))
    assert views.count_due(service.uow_factory, now) == 0


def remove_user_only(store: MemoryStore, user: User) -> None:
    """The owner disappears without the cascade that would delete their reminders."""
    with MemoryUnitOfWork(store) as uow:
        stored = uow.users.get(user.id)
        assert stored is not None
        uow.users.remove(stored)
        uow.commit()


def test_a_reminder_whose_owner_is_being_deleted_does_not_stop_the_tick(
    clock: FixedClock, team: RecordingChannel
) -> None:
    store = MemoryStore()
    service = make_service(clock=clock, channels={"team": team}, store=store)
    leaving = add_owner(service, "leaving@example.com")
    orphan = create_reminder(service, leaving, time_of_day="09:00")
    create_reminder(service, add_owner(service, "staying@example.com"), time_of_day="09:01", title="Kept")
    remove_user_only(store, leaving)

    result = tick_and_send(service, clock, utc(5, 9, 2))

    assert result.fired == 1
    assert [n.title for n in team.sent] == ["Kept"]
    assert [d.reminder_id for d in ledger(service) if d.reminder_id == orphan.id] == []


def test_orphaned_reminders_never_hold_back_the_rest(clock: FixedClock, team: RecordingChannel) -> None:
    """A full batch of reminders whose owner is gone must not stop later reminders from firing."""
    store = MemoryStore()
    service = make_service(clock=clock, store=store, channels={"team": team}, batch_size=2)
    gone: User = service.bus.handle(CreateUser(actor=admin(service), name="Gone", email="gone@example.com"))
    create_reminder(service, gone)
    create_reminder(service, gone)
    healthy = create_reminder(service, add_owner(service, "kept@example.com"), time_of_day="09:01")
    remove_user_only(store, gone)
    now = utc(5, 9, 2)

    first = tick_and_send(service, clock, now)
    second = tick_and_send(service, clock, now)

    assert first.fired == 0
    assert not first.more  # a full batch that made no progress does not spin the ticker
    assert second.fired == 1
    assert [n.reminder_id for n in team.sent] == [healthy.id]
    assert len(ledger(service)) == 1


def test_a_reminder_deleted_while_the_tick_fires_it_does_not_stop_the_tick(
    clock: FixedClock, team: RecordingChannel
) -> None:
    store = InterleavingStore()
    service = make_service(clock=clock, channels={"team": team}, store=store)
    owner = add_owner(service)
    deleted = create_reminder(service, owner, time_of_day="09:00", title="Deleted")
    create_reminder(service, owner, time_of_day="09:01", title="Kept")
    store.before_next_commit.append(
        lambda: service.bus.handle(DeleteReminder(actor=admin(service), reminder_id=deleted.id))
    )

    result = tick_and_send(service, clock, utc(5, 9, 2))

    assert (result.due, result.fired) == (2, 1)
    assert [n.title for n in team.sent] == ["Kept"]
    assert [d.reminder_id for d in ledger(service) if d.reminder_id == deleted.id] == []
