"""Aggregates for store tests, and saving them in one commit."""

from __future__ import annotations

from datetime import UTC, datetime, time

from domain.delivery import Delivery
from domain.reminder import Reminder
from domain.schedule import Frequency, Schedule
from domain.user import User
from tests.stores import StoreUnderTest

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def make_user(email: str = "ann@example.com") -> User:
    return User.create(name="Ann Example", email=email, active=True, now=NOW)


def make_reminder(owner: User, *, schedule: Schedule | None = None, channel: str = "log") -> Reminder:
    return Reminder.create(
        owner_id=owner.id,
        title="Standup {date}",
        message="Join, {owner_name} — ünïcödé and {{braces}}",
        channel=channel,
        target="https://example.com/hook?x=1" if channel == "webhook" else None,
        schedule=schedule or Schedule(time(9, 0), Frequency.DAILY),
        active=True,
        now=NOW,
    )


def save(store: StoreUnderTest, *aggregates: User | Reminder | Delivery) -> None:
    with store.uow_factory() as uow:
        for aggregate in aggregates:
            if isinstance(aggregate, User):
                uow.users.add(aggregate)
            elif isinstance(aggregate, Reminder):
                uow.reminders.add(aggregate)
            else:
                uow.deliveries.add(aggregate)
        uow.commit()
