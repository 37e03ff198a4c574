"""Handlers that put deliveries in the queue: on demand and again after a failure; and the nudges
that tell local workers and waiters about them."""

from __future__ import annotations

from application import policy
from application.clock import Clock
from application.commands import RetryDelivery, SendReminderNow
from application.handlers.reminders import load_reminder
from application.handlers.users import load_user
from application.queue_signals import QueueSignals
from application.unit_of_work import UnitOfWork
from domain.actor import Actor
from domain.delivery import Delivery
from domain.errors import InactiveUser
from domain.events import (
    DeliveryCancelled,
    DeliveryFailed,
    DeliveryQueued,
    DeliveryRetryScheduled,
    DeliverySucceeded,
    ReminderDue,
)


def load_delivery(uow: UnitOfWork, delivery_id: str, actor: Actor) -> Delivery:
    return policy.see_delivery(actor, uow.deliveries.get(delivery_id), delivery_id)


def send_reminder_now(command: SendReminderNow, uow: UnitOfWork, *, clock: Clock) -> Delivery:
    """Sending on demand queues a delivery for no slot, due at once, and leaves the schedule alone;
    a deactivated user's reminders are not sent."""
    with uow:
        reminder = load_reminder(uow, command.reminder_id, command.actor)
        owner = load_user(uow, reminder.owner_id, command.actor)
        if not owner.active:
            raise InactiveUser(owner.id)
        delivery = reminder.open_delivery(clock.now())
        uow.deliveries.add(delivery)
        uow.commit()
    return delivery


def retry_delivery(command: RetryDelivery, uow: UnitOfWork, *, clock: Clock) -> Delivery:
    """Only a failed delivery is queued again, for a new round; its earlier attempts stay on record."""
    with uow:
        delivery = load_delivery(uow, command.delivery_id, command.actor)
        owner = uow.users.get(delivery.owner_id) if delivery.owner_id is not None else None
        if owner is not None and not owner.active:
            raise InactiveUser(owner.id)
        delivery.reopen(clock.now())
        uow.commit()
    return delivery


def wake_workers(event: ReminderDue | DeliveryQueued, uow: UnitOfWork, *, signals: QueueSignals) -> None:
    """New work due now wakes a local worker at once; others find it on their next poll."""
    signals.work_queued()


def tell_waiters(
    event: DeliverySucceeded | DeliveryFailed | DeliveryRetryScheduled | DeliveryCancelled,
    uow: UnitOfWork,
    *,
    signals: QueueSignals,
) -> None:
    """Whoever waits on a delivery's outcome (a send-now request) reads it again at once."""
    signals.outcome_recorded(event.delivery_id)
