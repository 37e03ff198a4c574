"""Read-side queries for the entrypoints: no commands, no events, just answers."""

from __future__ import annotations

from datetime import datetime

from application.handlers.deliveries import load_delivery
from application.handlers.reminders import load_reminder
from application.handlers.users import load_user
from application.repositories import Page, QueueStats
from application.unit_of_work import UnitOfWorkFactory
from domain.delivery import Delivery, DeliveryStatus
from domain.reminder import Reminder
from domain.schedule import Frequency
from domain.user import User


def get_user(uow_factory: UnitOfWorkFactory, user_id: str) -> User:
    with uow_factory() as uow:
        return load_user(uow, user_id)


def list_users(
    uow_factory: UnitOfWorkFactory, *, limit: int, offset: int, active: bool | None = None
) -> Page[User]:
    with uow_factory() as uow:
        return uow.users.list(limit=limit, offset=offset, active=active)


def get_reminder(uow_factory: UnitOfWorkFactory, reminder_id: str) -> Reminder:
    with uow_factory() as uow:
        return load_reminder(uow, reminder_id)


def list_reminders_of(
    uow_factory: UnitOfWorkFactory,
    owner_id: str,
    *,
    limit: int,
    offset: int,
    channel: str | None = None,
    frequency: Frequency | None = None,
    active: bool | None = None,
) -> Page[Reminder]:
    with uow_factory() as uow:
        load_user(uow, owner_id)
        return uow.reminders.list_by_owner(
            owner_id,
            limit=limit,
            offset=offset,
            channel=channel,
            frequency=frequency,
            active=active,
        )


def get_delivery(uow_factory: UnitOfWorkFactory, delivery_id: str) -> Delivery:
    with uow_factory() as uow:
        return load_delivery(uow, delivery_id)


def list_deliveries(
    uow_factory: UnitOfWorkFactory,
    *,
    limit: int,
    offset: int,
    reminder_id: str | None = None,
    status: DeliveryStatus | None = None,
    channel: str | None = None,
) -> Page[Delivery]:
    with uow_factory() as uow:
        if reminder_id is not None:
            load_reminder(uow, reminder_id)
        return uow.deliveries.list(
            limit=limit, offset=offset, reminder_id=reminder_id, status=status, channel=channel
        )


def count_pending_deliveries(uow_factory: UnitOfWorkFactory) -> int:
    with uow_factory() as uow:
        return uow.deliveries.count(status=DeliveryStatus.PENDING)


def ping_store(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.ping()


def count_due(uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    with uow_factory() as uow:
        return uow.reminders.count_due(now)


def queue_stats(uow_factory: UnitOfWorkFactory, now: datetime) -> QueueStats:
    with uow_factory() as uow:
        return uow.deliveries.queue_stats(now)
