"""Turning a pending delivery into the Notification a channel sends: templates rendered, key derived."""

from __future__ import annotations

from datetime import datetime

from application.channels import Notification
from domain.delivery import Delivery
from domain.reminder import Reminder
from domain.template import render
from domain.user import User


def idempotency_key(delivery: Delivery) -> str:
    slot = delivery.scheduled_for.isoformat() if delivery.scheduled_for else delivery.id
    return f"{delivery.reminder_id}:{slot}"


def build_notification(
    delivery: Delivery,
    reminder: Reminder,
    owner: User,
    *,
    now: datetime,
    signing_secrets: tuple[str, ...] = (),
) -> Notification:
    moment = (delivery.scheduled_for or now).astimezone(reminder.schedule.zone)
    values = {
        "owner_name": owner.name,
        "title": reminder.title,
        "scheduled_for_local": moment.strftime("%Y-%m-%d %H:%M"),
        "timezone": reminder.schedule.timezone,
        "date": moment.date().isoformat(),
    }
    title = render("title", reminder.title, values)
    message = render("message", reminder.message, {**values, "title": title})
    return Notification(
        delivery_id=delivery.id,
        reminder_id=reminder.id,
        channel=delivery.channel,
        title=title,
        message=message,
        scheduled_for=delivery.scheduled_for,
        owner_id=owner.id,
        owner_name=owner.name,
        owner_email=owner.email,
        target=reminder.target,
        idempotency_key=idempotency_key(delivery),
        signing_secrets=signing_secrets,
    )
