"""The scheduler: slots fire on time and exactly once, across DST, downtime, backlogs, races and retries.

Driven through the real bus over the memory store with a fixed clock; sending cases already covered
for on-demand sends live in test_delivery_handlers.py.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.memory import MemoryStore, MemoryUnitOfWork
from adapters.thread_dispatcher import ThreadPoolDispatcher
from application import views
from application.channels import Notification, PermanentChannelError, TransientChannelError
from application.commands import (
    CheckDueReminders,
    Command,
    CreateReminder,
    CreateUser,
    RetryDelivery,
    SendReminderNow,
)
from application.handlers.scheduling import TickResult
from application.sender import NotificationSender, RetryPolicy
from domain.delivery import Delivery, DeliveryStatus
from domain.reminder import Reminder
from domain.schedule import Frequency
from domain.user import User
from entrypoints.bootstrap import Service
from entrypoints.ticker import Ticker
from tests.fakes import FixedClock, MetricsRecorder, RecordingChannel, make_service

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def team() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def metrics() -> MetricsRecorder:
    return MetricsRecorder()


@pytest.fixture
def service(clock: FixedClock, team: RecordingChannel, metrics: MetricsRecorder) -> Service:
    return make_service(clock=clock, channels={"team": team}, metrics=metrics)


def add_owner(service: Service, email: str = "ann@example.com") -> User:
    user: User = service.bus.handle(CreateUser(name="Ann", email=email))
    return user


@pytest.fixture
def owner(service: Service) -> User:
    return add_owner(service)


def create_reminder(service: Service, owner: User, **fields: Any) -> Reminder:
    values: dict[str, Any] = {
        "title": "Standup",
        "message": "Join the call",
        "channel": "team",
        "time_of_day": "09:00",
        "frequency": Frequency.DAILY,
        **fields,
    }
    reminder: Reminder = service.bus.handle(CreateReminder(owner_id=owner.id, **values))
    return reminder


def tick(service: Service, now: datetime) -> TickResult:
    result: TickResult = service.bus.handle(CheckDueReminders(now=now))
    return result


def tick_at(service: Service, clock: FixedClock, now: datetime) -> TickResult:
    """A tick at `now`, with the clock (which stamps the sends) there too."""
    clock.current = now
    return tick(service, now)


def tick_until(service: Service, clock: FixedClock, end: datetime, *, every: timedelta) -> None:
    """The ticker of a running service: one tick every `every` from the clock's time up to `end`."""
    while clock.current <= end:
        tick(service, clock.current)
        clock.advance(seconds=every.total_seconds())


def ledger(service: Service) -> list[Delivery]:
    """Every delivery, oldest first."""
    page = views.list_deliveries(service.uow_factory, limit=1000, offset=0)
    return list(reversed(page.items))


def reminder_now(service: Service, reminder: Reminder) -> Reminder:
    return views.get_reminder(service.uow_factory, reminder.id)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(day: date, hour: int, zone: str) -> datetime:
    """`hour` o'clock on `day` in `zone`, as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(zone)).astimezone(UTC)


class HeldDispatcher:
    """Keeps submitted deliveries, like a pool whose workers have not got to them yet."""

    def __init__(self) -> None:
        self.held: list[Command] = []

    def bind(self, target: Any) -> None:
        pass

    def submit(self, command: Command) -> None:
        self.held.append(command)

    def shutdown(self) -> None:
        pass


# -- firing once, daily and weekly ---------------------------------------------------------------


def test_a_once_reminder_records_its_slot_sends_it_and_retires(
    service: Service, owner: User, team: RecordingChannel, metrics: MetricsRecorder, clock: FixedClock
) -> None:
    reminder = create_reminder(service, owner, frequency=Frequency.ONCE, date=date(2026, 1, 5))
    now = clock.advance(hours=1, seconds=42)

    assert tick(service, now) == TickResult(due=1, fired=1, more=False)

    [delivery] = ledger(service)
    assert (delivery.reminder_id, delivery.scheduled_for, delivery.status) == (
        reminder.id,
        SLOT,
        DeliveryStatus.SENT,
    )
    assert (delivery.sent_at, delivery.lateness_seconds) == (now, 42.0)
    [sent] = team.sent
    assert (sent.channel, sent.scheduled_for, sent.delivery_id) == ("team", SLOT, delivery.id)
    assert (metrics.outcomes, metrics.lateness) == ([("team", "sent", 1)], [42.0])
    retired = reminder_now(service, reminder)
    assert (retired.active, retired.next_run_at, retired.last_run_at) == (False, None, now)


def test_a_daily_reminder_fires_each_local_day_and_moves_to_the_next(
    service: Service, owner: User, team: RecordingChannel, clock: FixedClock
) -> None:
    reminder = create_reminder(service, owner, time_of_day="10:00", timezone="Europe/Berlin")
    berlin_ten = [utc(2026, 1, day, 9, 0) for day in (5, 6, 7, 8)]
    assert reminder.next_run_at == berlin_ten[0]

    for slot, following in itertools.pairwise(berlin_ten):
        now = clock.advance(seconds=(slot - clock.current).total_seconds() + 3)
        tick(service, now)
        moved = reminder_now(service, reminder)
        assert (moved.active, moved.last_run_at, moved.next_run_at) == (True, now, following)

    assert [d.scheduled_for for d in ledger(service)] == berlin_ten[:3]
    assert [n.scheduled_for for n in team.sent] == berlin_ten[:3]
    assert [d.lateness_seconds for d in ledger(service)] == [3.0, 3.0, 3.0]


def test_a_weekly_reminder_fires_on_its_weekdays_only(
    service: Service, owner: User, team: RecordingChannel, clock: FixedClock
) -> None:
    # Monday and Thursday at 17:30 in New York (UTC-5 in January).
    reminder = create_reminder(
        service,
        owner,
        time_of_day="17:30",
        frequency=Frequency.WEEKLY,
        weekdays=[3, 0],
        timezone="America/New_York",
    )

    tick_until(service, clock, utc(2026, 1, 18, 23, 59), every=timedelta(minutes=30))

    slots = [
        utc(2026, 1, 5, 22, 30),
        utc(2026, 1, 8, 22, 30),
        utc(2026, 1, 12, 22, 30),
        utc(2026, 1, 15, 22, 30),
    ]
    assert [(d.scheduled_for, d.status) for d in ledger(service)] == [(s, DeliveryStatus.SENT) for s in slots]
    assert [n.scheduled_for for n in team.sent] == slots
    assert reminder_now(service, reminder).next_run_at == utc(2026, 1, 19, 22, 30)


# -- daylight saving time ------------------------------------------------------------------------

DST_DAYS = [
    # zone, the DST day, wall-clock time, the instant it fires that day, the next day's slot
    pytest.param(
        "America/New_York", date(2026, 3, 8), "02:30", utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 30),
        id="new-york-spring-gap",
    ),
    pytest.param(
        "Europe/Berlin", date(2026, 3, 29), "02:30", utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30),
        id="berlin-spring-gap",
    ),
    pytest.param(
        "America/New_York", date(2026, 11, 1), "01:30", utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30),
        id="new-york-fall-repeat",
    ),
    pytest.param(
        "Europe/Berlin", date(2026, 10, 25), "02:30", utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30),
        id="berlin-fall-repeat",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("zone", "day", "time_of_day", "fires_at", "next_slot"), DST_DAYS)
def test_on_a_dst_day_a_daily_reminder_fires_exactly_once(
    owner: User,
    service: Service,
    team: RecordingChannel,
    clock: FixedClock,
    zone: str,
    day: date,
    time_of_day: str,
    fires_at: datetime,
    next_slot: datetime,
) -> None:
    clock.current = local(day - timedelta(days=1), 20, zone)
    reminder = create_reminder(service, owner, time_of_day=time_of_day, timezone=zone)
    assert reminder.next_run_at == fires_at

    # A tick every four minutes from 20:00 the evening before to noon of the DST day.
    tick_until(service, clock, local(day, 12, zone), every=timedelta(minutes=4))

    [delivery] = ledger(service)
    assert (delivery.scheduled_for, delivery.status) == (fires_at, DeliveryStatus.SENT)
    assert delivery.lateness_seconds is not None
    assert 0 <= delivery.lateness_seconds < 4 * 60
    assert [n.scheduled_for for n in team.sent] == [fires_at]
    assert reminder_now(service, reminder).next_run_at == next_slot


# -- downtime: missed and coalesced slots --------------------------------------------------------


@pytest.mark.parametrize(
    ("late_by", "newest_status"),
    [
        pytest.param(timedelta(seconds=599), DeliveryStatus.SENT, id="newest-within-grace"),
        pytest.param(timedelta(seconds=600), DeliveryStatus.SENT, id="newest-exactly-at-grace"),
        pytest.param(timedelta(seconds=601), DeliveryStatus.MISSED, id="newest-beyond-grace"),
    ],
)
def test_after_a_three_day_gap_each_slot_is_recorded_and_at_most_the_newest_is_sent(
    clock: FixedClock,
    team: RecordingChannel,
    metrics: MetricsRecorder,
    late_by: timedelta,
    newest_status: DeliveryStatus,
) -> None:
    service = make_service(clock=clock, channels={"team": team}, metrics=metrics, grace_seconds=600)
    reminder = create_reminder(service, add_owner(service))
    now = clock.advance(days=3, hours=1, seconds=late_by.total_seconds())  # Thursday 09:00 + late_by

    tick(service, now)

    slots = [utc(2026, 1, day, 9, 0) for day in (5, 6, 7, 8)]
    entries = ledger(service)
    assert [d.scheduled_for for d in entries] == slots
    assert [d.status for d in entries] == [DeliveryStatus.MISSED] * 3 + [newest_status]
    missed = [d for d in entries if d.status is DeliveryStatus.MISSED]
    assert all(d.sent_at is None and d.attempts == () for d in missed)
    sent_slots = [n.scheduled_for for n in team.sent]
    assert sent_slots == ([slots[-1]] if newest_status is DeliveryStatus.SENT else [])
    assert metrics.missed == ["team"] * len(missed)
    moved_on = reminder_now(service, reminder)
    assert moved_on.next_run_at == utc(2026, 1, 9, 9, 0)
    assert moved_on.next_run_at > now


def test_a_once_reminder_missed_during_downtime_is_recorded_and_retired_unsent(
    service: Service, owner: User, team: RecordingChannel, metrics: MetricsRecorder
) -> None:
    reminder = create_reminder(service, owner, frequency=Frequency.ONCE, date=date(2026, 1, 5))

    tick(service, utc(2026, 1, 7, 12, 0))

    [delivery] = ledger(service)
    assert (delivery.scheduled_for, delivery.status) == (SLOT, DeliveryStatus.MISSED)
    assert (team.tried, metrics.missed) == ([], ["team"])
    retired = reminder_now(service, reminder)
    assert (retired.active, retired.next_run_at) == (False, None)


def test_running_a_catch_up_tick_again_adds_nothing(
    service: Service, owner: User, team: RecordingChannel, metrics: MetricsRecorder
) -> None:
    create_reminder(service, owner)
    now = utc(2026, 1, 8, 9, 1)
    tick(service, now)

    again = tick(service, now)

    assert again == TickResult(due=0, fired=0, more=False)
    assert len(ledger(service)) == 4
    assert len(team.sent) == 1
    assert (len(metrics.missed), metrics.outcomes) == (3, [("team", "sent", 1)])


# -- exactly once per slot -----------------------------------------------------------------------


def race_ticks(service: Service, now: datetime, *, ticks: int) -> list[TickResult]:
    """Run `ticks` ticks for the same instant on as many threads, released together.

    The interpreter switches threads far more often than usual meanwhile, so the ticks interleave.
    """
    barrier = threading.Barrier(ticks)
    results: list[TickResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(tick(service, now))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(ticks)]
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
    assert len(results) == ticks
    return results


def test_two_ticks_racing_on_threads_record_and_send_each_slot_once() -> None:
    for _ in range(8):
        clock, team = FixedClock(START), RecordingChannel()
        service = make_service(clock=clock, channels={"team": team})
        owner = add_owner(service)
        reminders = [create_reminder(service, owner, title=f"R{n}") for n in range(40)]
        clock.current = SLOT

        results = race_ticks(service, SLOT, ticks=2)

        assert sum(result.fired for result in results) == 40
        ids = {reminder.id for reminder in reminders}
        per_slot = Counter((d.reminder_id, d.scheduled_for) for d in ledger(service))
        assert per_slot == Counter({(reminder_id, SLOT): 1 for reminder_id in ids})
        sends = Counter((n.reminder_id, n.scheduled_for) for n in team.sent)
        assert sends == per_slot
        assert len(team.tried) == 40


def test_a_backlog_larger_than_a_batch_is_drained_earliest_first(
    clock: FixedClock, team: RecordingChannel
) -> None:
    service = make_service(clock=clock, channels={"team": team}, batch_size=10)
    owner = add_owner(service)
    # Created out of time order, so only the schedule can put them in order.
    for second in [*range(24, -1, -2), *range(1, 24, 2)]:
        create_reminder(service, owner, time_of_day=f"09:00:{second:02d}", title=f"At {second:02d}")
    now = utc(2026, 1, 5, 9, 1)

    first = tick(service, now)
    assert [n.title for n in team.sent] == [f"At {s:02d}" for s in range(10)]
    results = [first]
    while results[-1].more:
        results.append(tick(service, now))

    assert results == [
        TickResult(due=10, fired=10, more=True),
        TickResult(due=10, fired=10, more=True),
        TickResult(due=5, fired=5, more=False),
    ]
    assert [n.title for n in team.sent] == [f"At {s:02d}" for s in range(25)]
    assert all(d.status is DeliveryStatus.SENT for d in ledger(service))
    assert views.count_due(service.uow_factory, now) == 0


class SlowChannel(RecordingChannel):
    """Takes a little while per send, so the pool's workers overlap."""

    def send(self, notification: Notification) -> None:
        time.sleep(0.005)
        super().send(notification)


def test_sixty_reminders_due_in_the_same_second_are_each_delivered_once_by_the_pool(
    clock: FixedClock, metrics: MetricsRecorder
) -> None:
    team = SlowChannel()
    dispatcher = ThreadPoolDispatcher(workers=16)
    service = make_service(clock=clock, channels={"team": team}, metrics=metrics, dispatcher=dispatcher)
    owners = [add_owner(service, f"user{n}@example.com") for n in range(6)]
    reminders = [create_reminder(service, owners[n % 6], title=f"R{n}") for n in range(60)]

    result = tick_at(service, clock, SLOT)
    dispatcher.shutdown()

    assert result == TickResult(due=60, fired=60, more=False)
    assert Counter(n.reminder_id for n in team.tried) == Counter({r.id: 1 for r in reminders})
    entries = ledger(service)
    assert Counter(d.reminder_id for d in entries) == Counter({r.id: 1 for r in reminders})
    assert {(d.status, len(d.attempts)) for d in entries} == {(DeliveryStatus.SENT, 1)}
    assert sorted(metrics.outcomes) == [("team", "sent", 1)] * 60


# -- retries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("failures", [1, 2, 3])
def test_a_scheduled_delivery_is_sent_after_transient_failures(
    service: Service,
    owner: User,
    team: RecordingChannel,
    metrics: MetricsRecorder,
    clock: FixedClock,
    failures: int,
) -> None:
    create_reminder(service, owner)
    team.failures = [TransientChannelError(f"timeout {n}") for n in range(1, failures + 1)]

    tick_at(service, clock, SLOT)

    [delivery] = ledger(service)
    assert delivery.status is DeliveryStatus.SENT
    assert [(a.number, a.error) for a in delivery.attempts] == [
        *((n, f"timeout {n}") for n in range(1, failures + 1)),
        (failures + 1, None),
    ]
    assert (len(team.tried), len(team.sent)) == (failures + 1, 1)
    assert metrics.outcomes == [("team", "sent", failures + 1)]


def test_a_permanent_error_fails_a_scheduled_delivery_without_retrying(
    service: Service, owner: User, team: RecordingChannel, metrics: MetricsRecorder, clock: FixedClock
) -> None:
    create_reminder(service, owner)
    team.failures = [PermanentChannelError("404 no such room"), TransientChannelError("never reached")]

    tick_at(service, clock, SLOT)

    [delivery] = ledger(service)
    assert (delivery.status, delivery.error) == (DeliveryStatus.FAILED, "404 no such room")
    assert [(a.number, a.error) for a in delivery.attempts] == [(1, "404 no such room")]
    assert len(team.tried) == 1
    assert metrics.outcomes == [("team", "failed", 1)]


def test_a_scheduled_delivery_fails_after_four_transient_failures_and_retry_sends_it_under_the_same_key(
    service: Service, owner: User, team: RecordingChannel, metrics: MetricsRecorder, clock: FixedClock
) -> None:
    reminder = create_reminder(service, owner)
    team.failures = [TransientChannelError(f"timeout {n}") for n in range(1, 6)]
    tick(service, clock.advance(hours=1))
    [failed] = ledger(service)
    assert (failed.status, failed.error) == (DeliveryStatus.FAILED, "timeout 4")
    assert [(a.number, a.error) for a in failed.attempts] == [(n, f"timeout {n}") for n in range(1, 5)]
    assert (len(team.tried), team.sent) == (4, [])
    retried_at = clock.advance(minutes=10)

    service.bus.handle(RetryDelivery(delivery_id=failed.id))

    [retried] = ledger(service)
    assert (retried.id, retried.status, retried.scheduled_for) == (failed.id, DeliveryStatus.SENT, SLOT)
    assert [(a.number, a.error) for a in retried.attempts] == [
        *((n, f"timeout {n}") for n in range(1, 5)),
        (5, "timeout 5"),
        (6, None),
    ]
    assert retried.attempts[4].started_at == retried_at
    assert retried.lateness_seconds == 600.0
    key = f"{reminder.id}:2026-01-05T09:00:00+00:00"
    assert [n.idempotency_key for n in team.tried] == [key] * 6
    assert metrics.outcomes == [("team", "failed", 4), ("team", "sent", 2)]  # attempts of each run


def notification() -> Notification:
    return Notification(
        delivery_id="d1",
        reminder_id="r1",
        channel="team",
        title="Standup",
        message="Join the call",
        scheduled_for=SLOT,
        owner_id="u1",
        owner_name="Ann",
        owner_email="ann@example.com",
        target=None,
        idempotency_key="r1:2026-01-05T09:00:00+00:00",
    )


def test_retry_after_is_honoured_within_the_cap(clock: FixedClock) -> None:
    team = RecordingChannel(
        [
            TransientChannelError("429", retry_after=3),
            TransientChannelError("429", retry_after=60),
            TransientChannelError("503"),
        ]
    )
    waits: list[float] = []
    sender = NotificationSender(
        channels={"team": team},
        clock=clock,
        policy=RetryPolicy(attempts=4, base_seconds=1, max_seconds=10),
        sleep=waits.append,
    )

    outcome = sender.send(notification())

    assert outcome.error is None
    assert [(a.number, a.error) for a in outcome.attempts] == [(1, "429"), (2, "429"), (3, "503"), (4, None)]
    # The peer's wait where it asked for one (capped at max_seconds), else jittered backoff of at most 1*2**2.
    assert waits[:2] == [3.0, 10.0]
    assert len(waits) == 3
    assert 0 <= waits[2] <= 4
    assert len(team.sent) == 1


def test_the_sender_does_not_wait_after_its_last_attempt(clock: FixedClock) -> None:
    team = RecordingChannel([TransientChannelError("429", retry_after=2) for _ in range(4)])
    waits: list[float] = []
    sender = NotificationSender(
        channels={"team": team},
        clock=clock,
        policy=RetryPolicy(attempts=4, base_seconds=1, max_seconds=10),
        sleep=waits.append,
    )

    outcome = sender.send(notification(), first_number=5)

    assert outcome.error == "429"
    assert [a.number for a in outcome.attempts] == [5, 6, 7, 8]
    assert waits == [2.0, 2.0, 2.0]


def test_a_manual_send_retries_exactly_as_a_scheduled_one(
    clock: FixedClock, team: RecordingChannel, metrics: MetricsRecorder
) -> None:
    waits: list[float] = []
    service = make_service(
        clock=clock,
        channels={"team": team},
        metrics=metrics,
        retry_policy=RetryPolicy(attempts=3, base_seconds=1, max_seconds=5),
        sleep=waits.append,
    )
    reminder = create_reminder(service, add_owner(service))

    def flaky() -> list[Exception]:
        return [TransientChannelError("busy", retry_after=2), TransientChannelError("busy", retry_after=9)]

    team.failures = flaky()
    manual: Delivery = service.bus.handle(SendReminderNow(reminder_id=reminder.id))
    manual_waits, waits[:] = list(waits), []
    team.failures = flaky()
    tick_at(service, clock, SLOT)
    [scheduled] = [d for d in ledger(service) if d.id != manual.id]

    assert manual_waits == waits == [2.0, 5.0]
    assert manual.scheduled_for is None
    assert scheduled.scheduled_for == SLOT
    for delivery in (manual, scheduled):
        assert delivery.status is DeliveryStatus.SENT
        assert [(a.number, a.error) for a in delivery.attempts] == [(1, "busy"), (2, "busy"), (3, None)]
    team.failures = [TransientChannelError("busy") for _ in range(3)]
    exhausted: Delivery = service.bus.handle(SendReminderNow(reminder_id=reminder.id))
    assert (exhausted.status, len(exhausted.attempts)) == (DeliveryStatus.FAILED, 3)
    assert metrics.outcomes == [("team", "sent", 3), ("team", "sent", 3), ("team", "failed", 3)]


# -- the ticker ----------------------------------------------------------------------------------


def test_a_tick_fires_what_is_due_at_the_clocks_time_and_records_when(
    service: Service, owner: User, team: RecordingChannel, clock: FixedClock
) -> None:
    create_reminder(service, owner)
    clock.current = SLOT + timedelta(seconds=5)
    ticker = Ticker(service=service, interval=1.0)

    result = ticker.tick()

    assert result == TickResult(due=1, fired=1, more=False)
    assert [n.scheduled_for for n in team.sent] == [SLOT]
    assert ticker.last_tick_at == SLOT + timedelta(seconds=5)
    assert ticker.last_tick_duration_ms is not None
    assert ticker.last_tick_duration_ms >= 0


def test_ticker_health_is_ok_after_a_tick_and_unavailable_once_ticks_stop(clock: FixedClock) -> None:
    dispatcher = HeldDispatcher()
    service = make_service(clock=clock, dispatcher=dispatcher)
    create_reminder(service, add_owner(service), channel="log")
    clock.current = SLOT
    ticker = Ticker(service=service, interval=0.05)
    assert ticker.health()["status"] == "unavailable"  # it has never ticked

    ticker.tick()
    fresh = ticker.health()
    time.sleep(0.2)  # more than three intervals
    stale = ticker.health()

    assert fresh["status"] == "ok"
    assert fresh["enabled"] is True
    assert fresh["last_tick_at"] == SLOT.isoformat()
    assert fresh["seconds_since_last_tick"] < 0.15
    assert fresh["last_tick_duration_ms"] == ticker.last_tick_duration_ms
    assert fresh["pending_deliveries"] == 1  # fired, not yet sent by a worker
    assert len(dispatcher.held) == 1
    assert stale["status"] == "unavailable"
    assert stale["enabled"] is True
    assert stale["seconds_since_last_tick"] >= 0.15
    ticker.tick()
    assert ticker.health()["status"] == "ok"


def test_orphaned_reminders_never_hold_back_the_rest() -> None:
    """A full batch of reminders whose owner is gone must not stop later reminders from firing."""
    store = MemoryStore()
    clock = FixedClock()
    channel = RecordingChannel()
    service = make_service(clock=clock, store=store, channels={"recording": channel}, batch_size=2)
    gone = service.bus.handle(CreateUser(name="Gone", email="gone@example.com"))
    kept = service.bus.handle(CreateUser(name="Kept", email="kept@example.com"))

    def remind(owner_id: str, at: str) -> str:
        command = CreateReminder(
            owner_id=owner_id, title="t", message="m", channel="recording", time_of_day=at, frequency="daily"
        )
        return str(service.bus.handle(command).id)

    remind(gone.id, "09:00")
    remind(gone.id, "09:00")
    healthy = remind(kept.id, "09:01")
    # The owner disappears without the cascade that would delete their reminders.
    with MemoryUnitOfWork(store) as uow:
        user = uow.users.get(gone.id)
        assert user is not None
        uow.users.remove(user)
        uow.commit()

    clock.advance(hours=1, minutes=2)
    first = service.bus.handle(CheckDueReminders(now=clock.now()))
    second = service.bus.handle(CheckDueReminders(now=clock.now()))

    assert first.fired == 0
    assert not first.more  # a full batch that made no progress does not spin the ticker
    assert second.fired == 1
    assert [n.reminder_id for n in channel.sent] == [healthy]
    assert views.list_deliveries(service.uow_factory, limit=10, offset=0).total == 1
