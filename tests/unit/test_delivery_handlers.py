"""Sending: on demand, from the schedule, and again after a failure; driven through the real bus."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.memory import MemoryStore, MemoryUnitOfWork
from adapters.tracking import Write
from application import views
from application.channels import Notification, PermanentChannelError, TransientChannelError
from application.commands import (
    CheckDueReminders,
    Command,
    CreateReminder,
    CreateUser,
    DeleteReminder,
    DeliverNotification,
    RetryDelivery,
    SendReminderNow,
)
from application.handlers.scheduling import TickResult
from domain.delivery import Attempt, Delivery, DeliveryStatus
from domain.errors import DeliveryNotRetryable, NotFound
from domain.events import DeliveryFailed, DeliverySucceeded, Event, OccurrenceMissed, ReminderDue
from domain.reminder import Reminder
from domain.schedule import Frequency
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, MetricsRecorder, RecordingChannel, make_service

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
QUARTER_SECOND = timedelta(milliseconds=250)


class TimedChannel(RecordingChannel):
    """A recording channel whose every attempt takes a quarter of a second on the fixed clock."""

    def __init__(self, clock: FixedClock, failures: Iterable[Exception] = ()) -> None:
        super().__init__(failures, takes_target=True)
        self.clock = clock

    def send(self, notification: Notification) -> None:
        self.clock.advance(milliseconds=250)
        super().send(notification)


class HeldDispatcher:
    """Keeps submitted commands until the test runs them, like a pool that has not got to them yet."""

    def __init__(self) -> None:
        self.held: list[Command] = []
        self._target: Callable[[Command], Any] | None = None

    def bind(self, target: Callable[[Command], Any]) -> None:
        self._target = target

    def submit(self, command: Command) -> None:
        self.held.append(command)

    def shutdown(self) -> None:
        pass

    def run_all(self) -> list[Any]:
        assert self._target is not None
        held, self.held = self.held, []
        return [self._target(command) for command in held]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def team(clock: FixedClock) -> TimedChannel:
    return TimedChannel(clock)


@pytest.fixture
def metrics() -> MetricsRecorder:
    return MetricsRecorder()


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def service(
    clock: FixedClock, team: TimedChannel, metrics: MetricsRecorder, events: list[Event], store: MemoryStore
) -> Service:
    return make_service(clock=clock, channels={"team": team}, metrics=metrics, events=events, store=store)


@pytest.fixture
def owner(service: Service) -> User:
    user: User = service.bus.handle(CreateUser(name="Ann", email="ann@example.com"))
    return user


def create_reminder(service: Service, owner: User, **fields: Any) -> Reminder:
    values: dict[str, Any] = {
        "title": "Standup",
        "message": "Join the call",
        "channel": "team",
        "target": "#team",
        "time_of_day": "09:00",
        "frequency": Frequency.DAILY,
        **fields,
    }
    reminder: Reminder = service.bus.handle(CreateReminder(owner_id=owner.id, **values))
    return reminder


@pytest.fixture
def reminder(service: Service, owner: User) -> Reminder:
    return create_reminder(service, owner)


def send_now(service: Service, reminder: Reminder) -> Delivery:
    delivery: Delivery = service.bus.handle(SendReminderNow(reminder_id=reminder.id))
    return delivery


def tick(service: Service, now: datetime) -> TickResult:
    result: TickResult = service.bus.handle(CheckDueReminders(now=now))
    return result


def all_deliveries(service: Service) -> list[Delivery]:
    return views.list_deliveries(service.uow_factory, limit=100, offset=0).items


# -- SendReminderNow -----------------------------------------------------------------------------


def test_send_now_sends_the_rendered_reminder_and_records_it(
    service: Service, owner: User, team: TimedChannel, metrics: MetricsRecorder, events: list[Event]
) -> None:
    reminder = create_reminder(
        service,
        owner,
        title="Standup for {owner_name}",
        message="{title}: {date} at {scheduled_for_local} ({timezone}), {{not a placeholder}}",
        timezone="Europe/Berlin",
    )
    events.clear()

    delivery = send_now(service, reminder)

    [sent] = team.sent
    assert sent.title == "Standup for Ann"
    assert (
        sent.message == "Standup for Ann: 2026-01-05 at 2026-01-05 09:00 (Europe/Berlin), {not a placeholder}"
    )
    assert (sent.target, sent.owner_email, sent.scheduled_for) == ("#team", "ann@example.com", None)
    assert sent.idempotency_key == f"{reminder.id}:{delivery.id}"
    saved = views.get_delivery(service.uow_factory, delivery.id)
    assert (saved.status, saved.scheduled_for, saved.channel, saved.error) == (
        DeliveryStatus.SENT,
        None,
        "team",
        None,
    )
    assert saved.attempts == (Attempt(1, START, 250.0, None),)
    assert saved.sent_at == START + QUARTER_SECOND
    assert events == [
        DeliverySucceeded(
            delivery_id=delivery.id,
            reminder_id=reminder.id,
            channel="team",
            attempts=1,
            attempts_made=1,
            scheduled_for=None,
            sent_at=START + QUARTER_SECOND,
        )
    ]
    assert metrics.outcomes == [("team", "sent", 1)]


def test_send_now_leaves_the_schedule_alone(service: Service, reminder: Reminder) -> None:
    before = views.get_reminder(service.uow_factory, reminder.id)

    send_now(service, reminder)

    after = views.get_reminder(service.uow_factory, reminder.id)
    assert (after.next_run_at, after.last_run_at, after.version) == (SLOT, None, before.version)


def test_send_now_sends_an_inactive_reminder_without_scheduling_it(service: Service, owner: User) -> None:
    reminder = create_reminder(service, owner, active=False)

    delivery = send_now(service, reminder)

    assert delivery.status is DeliveryStatus.SENT
    assert views.get_reminder(service.uow_factory, reminder.id).next_run_at is None


def test_transient_errors_are_retried_until_sent(
    service: Service, reminder: Reminder, team: TimedChannel
) -> None:
    team.failures = [TransientChannelError("timeout"), TransientChannelError("overloaded", retry_after=2)]

    delivery = send_now(service, reminder)

    saved = views.get_delivery(service.uow_factory, delivery.id)
    assert saved.status is DeliveryStatus.SENT
    assert [(a.number, a.error) for a in saved.attempts] == [(1, "timeout"), (2, "overloaded"), (3, None)]
    assert len(team.sent) == 1


def test_a_channel_that_keeps_failing_fails_the_delivery_after_four_attempts(
    service: Service, reminder: Reminder, team: TimedChannel, metrics: MetricsRecorder, events: list[Event]
) -> None:
    team.failures = [TransientChannelError("timeout") for _ in range(5)]
    events.clear()

    delivery = send_now(service, reminder)

    saved = views.get_delivery(service.uow_factory, delivery.id)
    assert (saved.status, saved.error, saved.sent_at) == (DeliveryStatus.FAILED, "timeout", None)
    assert saved.attempts == tuple(
        Attempt(number, START + (number - 1) * QUARTER_SECOND, 250.0, "timeout") for number in (1, 2, 3, 4)
    )
    assert (len(team.tried), team.sent) == (4, [])
    assert metrics.outcomes == [("team", "failed", 4)]
    assert events == [
        DeliveryFailed(
            delivery_id=delivery.id,
            reminder_id=reminder.id,
            channel="team",
            attempts=4,
            attempts_made=4,
            scheduled_for=None,
            reason="timeout",
        )
    ]


def test_a_permanent_error_is_not_retried(service: Service, reminder: Reminder, team: TimedChannel) -> None:
    team.failures = [PermanentChannelError("401 unauthorised")]

    delivery = send_now(service, reminder)

    saved = views.get_delivery(service.uow_factory, delivery.id)
    assert (saved.status, saved.error) == (DeliveryStatus.FAILED, "401 unauthorised")
    assert saved.attempts == (Attempt(1, START, 250.0, "401 unauthorised"),)
    assert len(team.tried) == 1


def test_a_bug_in_a_channel_fails_the_delivery_without_leaking_its_message(
    service: Service, reminder: Reminder, team: TimedChannel
) -> None:
    team.failures = [RuntimeError("token=s3cr3t")]

    delivery = send_now(service, reminder)

    saved = views.get_delivery(service.uow_factory, delivery.id)
    assert saved.status is DeliveryStatus.FAILED
    assert saved.error == "unexpected RuntimeError in channel 'team'"
    assert [a.error for a in saved.attempts] == ["unexpected RuntimeError in channel 'team'"]


def test_send_now_of_an_unknown_reminder_is_not_found(service: Service, team: TimedChannel) -> None:
    with pytest.raises(NotFound):
        service.bus.handle(SendReminderNow(reminder_id="missing"))

    assert (team.tried, all_deliveries(service)) == ([], [])


# -- RetryDelivery -------------------------------------------------------------------------------


def test_a_failed_delivery_is_retried_and_its_attempt_numbers_continue(
    service: Service, reminder: Reminder, team: TimedChannel, clock: FixedClock, metrics: MetricsRecorder
) -> None:
    team.failures = [TransientChannelError("timeout") for _ in range(4)]
    failed = send_now(service, reminder)
    retried_at = clock.advance(minutes=5)

    retried = service.bus.handle(RetryDelivery(delivery_id=failed.id))

    saved = views.get_delivery(service.uow_factory, failed.id)
    assert retried.id == failed.id
    assert (saved.status, saved.error, saved.sent_at) == (
        DeliveryStatus.SENT,
        None,
        retried_at + QUARTER_SECOND,
    )
    assert [(a.number, a.error) for a in saved.attempts] == [
        (1, "timeout"),
        (2, "timeout"),
        (3, "timeout"),
        (4, "timeout"),
        (5, None),
    ]
    assert saved.attempts[-1].started_at == retried_at
    assert len(team.sent) == 1
    # Each run counts only its own attempts, so the first four are not counted twice.
    assert metrics.outcomes == [("team", "failed", 4), ("team", "sent", 1)]


def test_only_a_failed_delivery_can_be_retried(
    service: Service, reminder: Reminder, team: TimedChannel
) -> None:
    sent = send_now(service, reminder)

    with pytest.raises(DeliveryNotRetryable):
        service.bus.handle(RetryDelivery(delivery_id=sent.id))

    assert len(team.tried) == 1
    assert views.get_delivery(service.uow_factory, sent.id).attempts == (Attempt(1, START, 250.0, None),)


def test_retry_of_an_unknown_delivery_is_not_found(service: Service) -> None:
    with pytest.raises(NotFound):
        service.bus.handle(RetryDelivery(delivery_id="missing"))


# -- CheckDueReminders and DeliverNotification ---------------------------------------------------


def test_a_due_reminder_is_delivered_by_the_tick(
    service: Service,
    reminder: Reminder,
    team: TimedChannel,
    metrics: MetricsRecorder,
    clock: FixedClock,
    events: list[Event],
) -> None:
    now = clock.advance(hours=1, seconds=30)
    events.clear()

    result = tick(service, now)

    assert result == TickResult(due=1, fired=1, more=False)
    [delivery] = all_deliveries(service)
    assert (delivery.reminder_id, delivery.scheduled_for, delivery.status) == (
        reminder.id,
        SLOT,
        DeliveryStatus.SENT,
    )
    assert delivery.sent_at == now + QUARTER_SECOND
    assert delivery.lateness_seconds == 30.25
    [sent] = team.sent
    assert (sent.scheduled_for, sent.idempotency_key) == (SLOT, f"{reminder.id}:2026-01-05T09:00:00+00:00")
    assert metrics.outcomes == [("team", "sent", 1)]
    assert ReminderDue(reminder_id=reminder.id, delivery_id=delivery.id, scheduled_for=SLOT) in events
    moved_on = views.get_reminder(service.uow_factory, reminder.id)
    assert (moved_on.last_run_at, moved_on.next_run_at) == (now, datetime(2026, 1, 6, 9, 0, tzinfo=UTC))


def test_running_the_same_tick_twice_delivers_once(
    service: Service, reminder: Reminder, team: TimedChannel, metrics: MetricsRecorder
) -> None:
    now = datetime(2026, 1, 5, 9, 0, 30, tzinfo=UTC)
    tick(service, now)

    again = tick(service, now)

    assert again == TickResult(due=0, fired=0, more=False)
    assert len(all_deliveries(service)) == 1
    assert len(team.sent) == 1
    assert metrics.outcomes == [("team", "sent", 1)]


def test_nothing_fires_before_its_time(service: Service, reminder: Reminder, team: TimedChannel) -> None:
    result = tick(service, datetime(2026, 1, 5, 8, 59, 59, tzinfo=UTC))

    assert result == TickResult(due=0, fired=0, more=False)
    assert (all_deliveries(service), team.tried) == ([], [])


def test_a_slot_older_than_the_grace_period_is_recorded_as_missed(
    service: Service, reminder: Reminder, team: TimedChannel, metrics: MetricsRecorder, events: list[Event]
) -> None:
    events.clear()

    tick(service, datetime(2026, 1, 5, 9, 5, 1, tzinfo=UTC))

    [delivery] = all_deliveries(service)
    assert (delivery.status, delivery.scheduled_for, delivery.sent_at) == (DeliveryStatus.MISSED, SLOT, None)
    assert team.tried == []
    assert (metrics.missed, metrics.outcomes) == (["team"], [])
    assert events == [
        OccurrenceMissed(reminder_id=reminder.id, delivery_id=delivery.id, scheduled_for=SLOT, channel="team")
    ]


def test_after_downtime_only_the_newest_slot_is_sent(
    service: Service, reminder: Reminder, team: TimedChannel, metrics: MetricsRecorder
) -> None:
    tick(service, datetime(2026, 1, 8, 9, 1, tzinfo=UTC))

    by_slot = {d.scheduled_for: d.status for d in all_deliveries(service)}
    assert by_slot == {
        datetime(2026, 1, 5, 9, 0, tzinfo=UTC): DeliveryStatus.MISSED,
        datetime(2026, 1, 6, 9, 0, tzinfo=UTC): DeliveryStatus.MISSED,
        datetime(2026, 1, 7, 9, 0, tzinfo=UTC): DeliveryStatus.MISSED,
        datetime(2026, 1, 8, 9, 0, tzinfo=UTC): DeliveryStatus.SENT,
    }
    assert [n.scheduled_for for n in team.sent] == [datetime(2026, 1, 8, 9, 0, tzinfo=UTC)]
    assert (len(metrics.missed), metrics.outcomes) == (3, [("team", "sent", 1)])


def test_a_once_reminder_fires_once_and_goes_inactive(
    service: Service, owner: User, team: TimedChannel
) -> None:
    reminder = create_reminder(service, owner, frequency=Frequency.ONCE)

    tick(service, datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    tick(service, datetime(2026, 1, 6, 9, 0, tzinfo=UTC))

    done = views.get_reminder(service.uow_factory, reminder.id)
    assert (done.active, done.next_run_at) == (False, None)
    assert len(team.sent) == 1


def test_a_full_batch_asks_for_another_tick(clock: FixedClock, team: TimedChannel) -> None:
    service = make_service(clock=clock, channels={"team": team}, batch_size=2)
    owner: User = service.bus.handle(CreateUser(name="Ann", email="ann@example.com"))
    for minute in ("09:00", "09:01", "09:02"):
        create_reminder(service, owner, time_of_day=minute, title=f"At {minute}")
    now = datetime(2026, 1, 5, 9, 3, tzinfo=UTC)

    first = tick(service, now)
    second = tick(service, now)

    assert (first, second) == (TickResult(due=2, fired=2, more=True), TickResult(due=1, fired=1, more=False))
    assert [n.title for n in team.sent] == ["At 09:00", "At 09:01", "At 09:02"]


def test_a_tick_sends_off_its_own_thread_and_a_pending_delivery_is_sent_once(
    clock: FixedClock, team: TimedChannel
) -> None:
    dispatcher = HeldDispatcher()
    service = make_service(clock=clock, channels={"team": team}, dispatcher=dispatcher)
    owner: User = service.bus.handle(CreateUser(name="Ann", email="ann@example.com"))
    create_reminder(service, owner)

    tick(service, datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    [pending] = all_deliveries(service)
    assert (pending.status, team.tried) == (DeliveryStatus.PENDING, [])
    assert dispatcher.held == [DeliverNotification(delivery_id=pending.id)]

    [first] = dispatcher.run_all()
    second = service.bus.handle(DeliverNotification(delivery_id=pending.id))

    assert first is not None
    assert first.status is DeliveryStatus.SENT
    assert second is None
    assert len(team.sent) == 1


def test_a_reminder_deleted_before_its_delivery_ran_fails_the_delivery(
    clock: FixedClock, team: TimedChannel
) -> None:
    dispatcher = HeldDispatcher()
    service = make_service(clock=clock, channels={"team": team}, dispatcher=dispatcher)
    owner: User = service.bus.handle(CreateUser(name="Ann", email="ann@example.com"))
    reminder = create_reminder(service, owner)
    tick(service, datetime(2026, 1, 5, 9, 0, tzinfo=UTC))

    service.bus.handle(DeleteReminder(reminder_id=reminder.id))
    dispatcher.run_all()

    [delivery] = all_deliveries(service)
    assert (delivery.status, delivery.error) == (
        DeliveryStatus.FAILED,
        "the reminder was deleted before it could be sent",
    )
    assert team.tried == []


def test_deliver_notification_of_an_unknown_delivery_is_not_found(service: Service) -> None:
    with pytest.raises(NotFound):
        service.bus.handle(DeliverNotification(delivery_id="missing"))


def test_a_reminder_whose_owner_is_being_deleted_does_not_stop_the_tick(
    service: Service, store: MemoryStore, team: TimedChannel
) -> None:
    leaving: User = service.bus.handle(CreateUser(name="Leaving", email="leaving@example.com"))
    staying: User = service.bus.handle(CreateUser(name="Staying", email="staying@example.com"))
    orphan = create_reminder(service, leaving, time_of_day="09:00")
    create_reminder(service, staying, time_of_day="09:01", title="Still here")
    # The user is gone but the UserDeleted handler has not removed their reminders yet.
    with MemoryUnitOfWork(store) as uow:
        user = uow.users.get(leaving.id)
        assert user is not None
        uow.users.remove(user)
        uow.commit()

    result = tick(service, datetime(2026, 1, 5, 9, 2, tzinfo=UTC))

    assert result.fired == 1
    assert [n.title for n in team.sent] == ["Still here"]
    assert [d.reminder_id for d in all_deliveries(service) if d.reminder_id == orphan.id] == []


class InterleavingStore(MemoryStore):
    """Runs a scripted concurrent change just before the next commit reaches the store."""

    def __init__(self) -> None:
        super().__init__()
        self.before_next_commit: list[Callable[[], object]] = []

    def apply(self, writes: Iterable[Write]) -> None:
        writes = list(writes)
        while self.before_next_commit:
            self.before_next_commit.pop(0)()
        super().apply(writes)


def test_a_reminder_deleted_while_the_tick_fires_it_does_not_stop_the_tick(
    clock: FixedClock, team: TimedChannel
) -> None:
    store = InterleavingStore()
    service = make_service(clock=clock, channels={"team": team}, store=store)
    owner: User = service.bus.handle(CreateUser(name="Ann", email="ann@example.com"))
    deleted = create_reminder(service, owner, time_of_day="09:00", title="Deleted")
    create_reminder(service, owner, time_of_day="09:01", title="Kept")
    store.before_next_commit.append(lambda: service.bus.handle(DeleteReminder(reminder_id=deleted.id)))

    result = tick(service, datetime(2026, 1, 5, 9, 2, tzinfo=UTC))

    assert (result.due, result.fired) == (2, 1)
    assert [n.title for n in team.sent] == ["Kept"]
    assert [d.reminder_id for d in all_deliveries(service) if d.reminder_id == deleted.id] == []
