"""Sending one pending delivery from the ledger: claim it, send it, record the outcome.

Shared by the handlers that deliver (scheduled, on demand, retried); not a handler itself.
The claim is committed before anything is sent, so two workers never send the same delivery.
"""

from __future__ import annotations

from application.clock import Clock
from application.notifications import build_notification
from application.sender import NotificationSender, SendOutcome
from application.unit_of_work import UnitOfWork
from domain.delivery import Delivery
from domain.errors import NotFound


def load_delivery(uow: UnitOfWork, delivery_id: str) -> Delivery:
    delivery = uow.deliveries.get(delivery_id)
    if delivery is None:
        raise NotFound("delivery", delivery_id)
    return delivery


def deliver_pending(
    delivery_id: str, uow: UnitOfWork, *, clock: Clock, sender: NotificationSender
) -> Delivery:
    with uow:
        delivery = load_delivery(uow, delivery_id)
        delivery.claim(clock.now())
        reminder = uow.reminders.get(delivery.reminder_id)
        owner = uow.users.get(reminder.owner_id) if reminder is not None else None
        uow.commit()
    if reminder is None or owner is None:
        outcome = SendOutcome(error="the reminder was deleted before it could be sent")
    else:
        notification = build_notification(delivery, reminder, owner, now=clock.now())
        outcome = sender.send(notification, first_number=len(delivery.attempts) + 1)
    with uow:
        delivery = load_delivery(uow, delivery_id)
        delivery.record_outcome(outcome.attempts, error=outcome.error, now=clock.now())
        uow.commit()
    return delivery
