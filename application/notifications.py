"""Turning a pending delivery into the Notification a channel sends: templates rendered, key derived."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from application.channels import Notification
from domain.delivery import Delivery, DeliveryKind
from domain.reminder import Reminder
from domain.template import render
from domain.user import User


def idempotency_key(delivery: Delivery) -> str:
    """The same for every attempt of one delivery: a slot's key names the reminder, the slot and, when
    it is one of several, the recipient; any other delivery's is its own id."""
    if delivery.kind is not DeliveryKind.SCHEDULED or delivery.scheduled_for is None:
        return f"{delivery.reminder_id}:{delivery.id}"
    slot = delivery.scheduled_for.isoformat()
    if delivery.recipient_id is not None:
        return f"{delivery.reminder_id}:{delivery.recipient_id}:{slot}"
    return f"{delivery.reminder_id}:{slot}"


def build_notification(
    delivery: Delivery,
    reminder: Reminder,
    owner: User,
    *,
    now: datetime,
    signing_secrets: tuple[str, ...] = (),
    recipient: User | None = None,
    actions: Mapping[str, str] | None = None,
    failed: Delivery | None = None,
) -> Notification:
    """`recipient` is the person a delivery to one of several is for (their own time zone and name
    fill the placeholders); `failed`, the delivery an alert is about."""
    # A slot in each recipient's own time, and an alert (to the owner), read in the person's zone.
    own_time = reminder.per_recipient or delivery.kind is DeliveryKind.ALERT
    zone = ZoneInfo(recipient.timezone) if recipient is not None and own_time else reminder.schedule.zone
    moment = (delivery.scheduled_for or now).astimezone(zone)
    values = {
        "owner_name": owner.name,
        "title": reminder.title,
        "scheduled_for_local": moment.strftime("%Y-%m-%d %H:%M"),
        "timezone": str(zone.key),
        "date": moment.date().isoformat(),
    }
    title = render("title", reminder.title, values)
    message = render("message", reminder.message, {**values, "title": title})
    if delivery.kind is DeliveryKind.ALERT:
        title, message = _alert(title, failed, zone)
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
        kind=delivery.kind.value,
        recipient_id=recipient.id if recipient is not None else None,
        recipient_name=recipient.name if recipient is not None else None,
        recipient_email=recipient.email if recipient is not None else None,
        actions=dict(actions or {}),
    )


def _alert(title: str, failed: Delivery | None, zone: ZoneInfo) -> tuple[str, str]:
    """What an alert tells the owner: the reminder, the slot and the error."""
    slot = failed.scheduled_for if failed is not None else None
    when = slot.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if slot is not None else "a send"
    error = (failed.error if failed is not None else None) or "unknown error"
    return (
        f"Reminder failed: {title}",
        f'Your reminder "{title}" could not be delivered for {when}.\nError: {error}\n'
        "No further failure alerts are sent for this reminder for 24 hours.",
    )
