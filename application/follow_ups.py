"""What an outcome sets in motion, in the commit that records it: a repeat of a delivery nobody has
acknowledged yet, and an alert to the owner of a reminder whose delivery failed.

- Repeat until acknowledged: a scheduled delivery (or its repeat) that was sent is delivered again
  `every_minutes` later, up to `max_times` more times, while nobody has acknowledged it; a repeat
  due in its recipient's quiet hours waits for them to end.
- Failure alerts: a scheduled, snooze or repeat delivery that failed for good tells the reminder's
  owner through their own email (the log stands in when no SMTP server is configured), at most
  once per reminder per day: the reminder records the alert in the same commit, so two failures
  recorded at once by two workers cannot both alert (the second commit is refused, and recorded
  again alone, when it finds the alert taken). A failed alert is only recorded; a failed send-now
  is answered to whoever asked for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

from application.unit_of_work import UnitOfWork
from domain.delivery import Delivery, DeliveryKind, DeliveryStatus
from domain.reminder import Reminder

ALERT_CHANNEL: Final = "email"
ALERT_INTERVAL: Final = timedelta(hours=24)
_REPEATED = frozenset({DeliveryKind.SCHEDULED, DeliveryKind.REPEAT})
_ALERTED = frozenset({DeliveryKind.SCHEDULED, DeliveryKind.SNOOZE, DeliveryKind.REPEAT})


def plan_follow_ups(uow: UnitOfWork, recorded: Iterable[Delivery], now: datetime) -> None:
    sent = [d for d in recorded if d.status is DeliveryStatus.SENT and d.kind in _REPEATED]
    failed = [d for d in recorded if d.status is DeliveryStatus.FAILED and d.kind in _ALERTED]
    if not sent and not failed:
        return
    reminders = uow.reminders.get_many({delivery.reminder_id for delivery in [*sent, *failed]})
    repeating = [d for d in sent if (r := reminders.get(d.reminder_id)) is not None and r.repeat_until_ack]
    if repeating:
        _repeat(uow, repeating, reminders, now)
    for delivery in failed:
        reminder = reminders.get(delivery.reminder_id)
        if reminder is None or not reminder.take_alert(now, every=ALERT_INTERVAL):
            continue
        uow.deliveries.add(
            delivery.follow_up(
                DeliveryKind.ALERT, due_at=now, now=now, channel=ALERT_CHANNEL, recipient_id=reminder.owner_id
            )
        )


def _repeat(uow: UnitOfWork, sent: list[Delivery], reminders: dict[str, Reminder], now: datetime) -> None:
    """Each sent delivery's first delivery (its root) is repeated, while unacknowledged and under its
    reminder's max_times; every repeat names the root as its parent, so one query counts them."""
    parents = uow.deliveries.get_many({d.parent_delivery_id for d in sent if d.parent_delivery_id})
    roots: dict[str, Delivery | None] = {
        d.id: d if d.kind is DeliveryKind.SCHEDULED else parents.get(d.parent_delivery_id or "") for d in sent
    }
    live = {root.id: root for root in roots.values() if root is not None and root.acknowledged_at is None}
    if not live:
        return
    repeats = Counter(
        follow_up.parent_delivery_id
        for follow_up in uow.deliveries.follow_ups(live)
        if follow_up.kind is DeliveryKind.REPEAT
    )
    people = uow.users.get_many({root.recipient for root in live.values() if root.recipient})
    for delivery in sent:
        root = roots[delivery.id]
        rule = reminders[delivery.reminder_id].repeat_until_ack
        if root is None or root.id not in live or rule is None or repeats[root.id] >= rule.max_times:
            continue
        due = now + timedelta(minutes=rule.every_minutes)
        person = people.get(root.recipient or "")
        uow.deliveries.add(
            root.follow_up(
                DeliveryKind.REPEAT,
                due_at=due,
                now=now,
                quiet_until=person.quiet_until(due) if person is not None else None,
            )
        )
        repeats[root.id] += 1
