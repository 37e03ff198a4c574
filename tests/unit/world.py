"""The steps the scheduler and delivery tests take through the real bus, and a ready service for them.

`World` is a service over the memory store with a fixed clock, a metrics recorder and a "team"
channel whose every send takes a quarter of a second on that clock; one owner and one daily 09:00
reminder to "#team" are already there. Queue work is run inline with tests.fakes.run_queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.memory import MemoryStore
from adapters.tracking import Write
from application import views
from application.channels import Notification, NotificationChannel
from application.commands import CheckDueReminders, CreateReminder, CreateUser, RetryDelivery, SendReminderNow
from application.handlers.scheduling import TickResult
from application.retry_policy import RetryPolicy
from domain.delivery import Delivery, DeliveryKind
from domain.events import Event
from domain.reminder import Reminder
from domain.schedule import Frequency
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, MetricsRecorder, RecordingChannel, admin, make_service, run_queue

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the first slot of a daily 09:00 UTC reminder


def add_owner(service: Service, email: str = "ann@example.com") -> User:
    user: User = service.bus.handle(CreateUser(actor=admin(service), name="Ann", email=email))
    return user


def create_reminder(service: Service, owner: User, **fields: Any) -> Reminder:
    """A daily 09:00 UTC reminder on the "team" channel, unless `fields` say otherwise."""
    values: dict[str, Any] = {
        "title": "Standup",
        "message": "Join the call",
        "channel": "team",
        "time_of_day": "09:00",
        "frequency": Frequency.DAILY,
        **fields,
    }
    reminder: Reminder = service.bus.handle(CreateReminder(actor=admin(service), owner_id=owner.id, **values))
    return reminder


def tick(service: Service, now: datetime) -> TickResult:
    result: TickResult = service.bus.handle(CheckDueReminders(now=now))
    return result


def tick_and_send(service: Service, clock: FixedClock, now: datetime) -> TickResult:
    """What a running service does at `now`: one tick, then its worker sends whatever is due."""
    clock.current = now
    result = tick(service, now)
    run_queue(service)
    return result


def send_now(service: Service, reminder: Reminder) -> Delivery:
    delivery: Delivery = service.bus.handle(SendReminderNow(actor=admin(service), reminder_id=reminder.id))
    return delivery


def retry(service: Service, delivery_id: str) -> Delivery:
    delivery: Delivery = service.bus.handle(RetryDelivery(actor=admin(service), delivery_id=delivery_id))
    return delivery


def stored(service: Service, delivery_id: str) -> Delivery:
    """The delivery as the store holds it now."""
    return views.get_delivery(service.uow_factory, admin(service), delivery_id)


def ledger(service: Service, *, alerts: bool = False) -> list[Delivery]:
    """Every delivery, oldest first; the owner's failure alerts too only when `alerts` is set."""
    page = views.list_deliveries(service.uow_factory, admin(service), limit=10_000, offset=0)
    return [d for d in reversed(page.items) if alerts or d.kind is not DeliveryKind.ALERT]


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


class TimedChannel(RecordingChannel):
    """A recording channel that needs a target and whose every attempt takes 250 ms on the fixed clock."""

    def __init__(self, clock: FixedClock, failures: Iterable[Exception] = ()) -> None:
        super().__init__(failures, takes_target=True)
        self.clock = clock

    def send(self, notification: Notification) -> None:
        self.clock.advance(milliseconds=250)
        super().send(notification)


@dataclass(frozen=True)
class World:
    service: Service
    clock: FixedClock
    team: TimedChannel
    metrics: MetricsRecorder
    # Every event the bus was handed, in order.
    events: list[Event]
    store: MemoryStore
    owner: User
    reminder: Reminder

    def send_now(self) -> Delivery:
        return send_now(self.service, self.reminder)

    def stored(self, delivery_id: str) -> Delivery:
        return stored(self.service, delivery_id)


def world(
    *,
    retry_policy: RetryPolicy | None = None,
    store: MemoryStore | None = None,
    channels: dict[str, NotificationChannel] | None = None,
) -> World:
    """A fresh World at START, with `channels` beside "team"; retries are due again at once unless
    `retry_policy` says otherwise."""
    clock = FixedClock(START)
    team = TimedChannel(clock)
    metrics = MetricsRecorder()
    events: list[Event] = []
    store = store or MemoryStore()
    service = make_service(
        clock=clock,
        channels={"team": team, **(channels or {})},
        metrics=metrics,
        events=events,
        store=store,
        retry_policy=retry_policy,
    )
    owner = add_owner(service)
    reminder = create_reminder(service, owner, target="#team")
    events.clear()
    return World(service, clock, team, metrics, events, store, owner, reminder)
