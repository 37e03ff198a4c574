"""Handlers that send: on demand, from the schedule, and again after a failure."""

from __future__ import annotations

import logging

from application.clock import Clock
from application.commands import DeliverNotification, RetryDelivery, SendReminderNow
from application.delivering import deliver_pending, load_delivery
from application.dispatch import Dispatcher
from application.handlers.reminders import load_reminder
from application.sender import NotificationSender
from application.unit_of_work import UnitOfWork
from domain.delivery import Delivery, DeliveryStatus
from domain.errors import Conflict
from domain.events import ReminderDue

log = logging.getLogger(__name__)


def send_reminder_now(
    command: SendReminderNow, uow: UnitOfWork, *, clock: Clock, sender: NotificationSender
) -> Delivery:
    """Sending on demand records a delivery for no slot and leaves the schedule alone."""
    with uow:
        reminder = load_reminder(uow, command.reminder_id)
        delivery = Delivery.open(
            reminder_id=reminder.id, channel=reminder.channel, scheduled_for=None, now=clock.now()
        )
        uow.deliveries.add(delivery)
        uow.commit()
    return deliver_pending(delivery.id, uow, clock=clock, sender=sender)


def deliver_notification(
    command: DeliverNotification, uow: UnitOfWork, *, clock: Clock, sender: NotificationSender
) -> Delivery | None:
    """A pending delivery is sent once; one already taken by another worker is left to it."""
    with uow:
        if load_delivery(uow, command.delivery_id).status is not DeliveryStatus.PENDING:
            return None
    try:
        return deliver_pending(command.delivery_id, uow, clock=clock, sender=sender)
    except Conflict:
        log.info("delivery already taken", extra={"delivery_id": command.delivery_id})
        return None


def retry_delivery(
    command: RetryDelivery, uow: UnitOfWork, *, clock: Clock, sender: NotificationSender
) -> Delivery:
    """Only a failed delivery is sent again; its earlier attempts stay on record."""
    with uow:
        load_delivery(uow, command.delivery_id).reopen()
        uow.commit()
    return deliver_pending(command.delivery_id, uow, clock=clock, sender=sender)


def enqueue_delivery(event: ReminderDue, uow: UnitOfWork, *, dispatcher: Dispatcher) -> None:
    """A due reminder is sent off the tick's thread, so the tick never waits on a channel."""
    dispatcher.submit(DeliverNotification(delivery_id=event.delivery_id))
