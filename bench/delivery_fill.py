"""The delivery benchmarks' data: a queue of N pending deliveries due now, or webhook reminders due at one
second.

Every row is a domain aggregate first (`Team.create`, `User.create`, `Reminder.create`,
`Delivery.open`), so the queue holds exactly what a tick leaves in it. The in-memory store takes
them through its unit of work, 500 to a commit; a SQL store through the SQL adapter's own row
mapping (`to_row`), in bulk and in ONE transaction, so a worker already polling the queue sees none
of the deliveries or all of them, at the moment the transaction commits.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from adapters.memory import MemoryStore, MemoryUnitOfWork
from adapters.sql import SqlStore, tables
from adapters.sql.mapping import to_row
from domain.aggregate import Aggregate
from domain.delivery import Delivery, DeliveryStatus
from domain.reminder import Reminder
from domain.schedule import Frequency, Schedule
from domain.team import Team
from domain.user import User

# The template is the one the store benchmarks render, so a delivery renders real placeholders.
MESSAGE = "Hi {owner_name}, {title} at {scheduled_for_local} ({timezone})"
REMINDERS = 1000
USERS = 20
CHUNK = 500
SQL_CHUNK = 5000


class MeasurementInvalid(RuntimeError):
    """The service did not do the work being timed, so the time means nothing."""


@dataclass(frozen=True, slots=True)
class Queue:
    deliveries: int
    # Wall-clock moment the whole queue became visible to workers (the commit returned).
    visible_at: datetime
    fill_seconds: float


def _owners_and_reminders(channel: str, now: datetime) -> tuple[Team, list[User], list[Reminder]]:
    created = now - timedelta(days=1)
    team = Team.create(name="Bench", now=created)
    owners = [
        User.create(
            team_id=team.id, name=f"Bench {n}", email=f"bench{n}@example.com", active=True, now=created
        )
        for n in range(USERS)
    ]
    daily = Schedule(datetime.min.time(), Frequency.DAILY)
    reminders = [
        Reminder.create(
            team_id=team.id,
            owner_id=owners[n % USERS].id,
            title=f"Standup {n}",
            message=MESSAGE,
            channel=channel,
            target=None,
            schedule=daily,
            active=True,
            now=created,
        )
        for n in range(REMINDERS)
    ]
    return team, owners, reminders


def _deliveries(reminders: Sequence[Reminder], channel: str, count: int, now: datetime) -> list[Delivery]:
    """`count` pending deliveries due `now`, each for a past slot of its own (the ledger allows one per
    reminder and slot)."""
    base = now.replace(microsecond=0) - timedelta(days=1)
    return [
        Delivery.open(
            reminder_id=reminders[n % len(reminders)].id,
            team_id=reminders[n % len(reminders)].team_id,
            owner_id=reminders[n % len(reminders)].owner_id,
            channel=channel,
            scheduled_for=base - timedelta(seconds=n),
            now=now,
        )
        for n in range(count)
    ]


def fill_memory(store: MemoryStore, *, channel: str, deliveries: int) -> Queue:
    began = time.perf_counter()
    now = datetime.now(UTC)
    team, owners, reminders = _owners_and_reminders(channel, now)
    queue = _deliveries(reminders, channel, deliveries, now)
    for group in ([team], owners, reminders, queue):
        for start in range(0, len(group), CHUNK):
            with MemoryUnitOfWork(store) as uow:
                for aggregate in group[start : start + CHUNK]:
                    _add(uow, aggregate)
                uow.commit()
    return Queue(deliveries, datetime.now(UTC), time.perf_counter() - began)


def _add(uow: MemoryUnitOfWork, aggregate: Aggregate) -> None:
    if isinstance(aggregate, Team):
        uow.teams.add(aggregate)
    elif isinstance(aggregate, User):
        uow.users.add(aggregate)
    elif isinstance(aggregate, Reminder):
        uow.reminders.add(aggregate)
    elif isinstance(aggregate, Delivery):
        uow.deliveries.add(aggregate)
    else:
        raise TypeError(type(aggregate).__name__)


def stored_row(aggregate: Aggregate) -> dict[str, Any]:
    """The row a unit of work's commit inserts: `to_row`, at the version a first write gives it."""
    return to_row(aggregate) | {"version": 1}


def fill_sql(store: SqlStore, *, channel: str, deliveries: int) -> Queue:
    """The team, owners, reminders and the pending deliveries, all in one transaction."""
    began = time.perf_counter()
    now = datetime.now(UTC)
    team, owners, reminders = _owners_and_reminders(channel, now)
    queue = [stored_row(delivery) for delivery in _deliveries(reminders, channel, deliveries, now)]
    with store.writing() as connection:
        connection.execute(insert(tables.teams), [stored_row(team)])
        connection.execute(insert(tables.users), [stored_row(owner) for owner in owners])
        connection.execute(insert(tables.reminders), [stored_row(reminder) for reminder in reminders])
        for start in range(0, len(queue), SQL_CHUNK):
            connection.execute(insert(tables.deliveries), queue[start : start + SQL_CHUNK])
    return Queue(deliveries, datetime.now(UTC), time.perf_counter() - began)


def add_webhook_reminders(store: SqlStore, *, count: int, target: str, slot: datetime) -> list[str]:
    """`count` once-only webhook reminders, all due at `slot` (a whole second), in one transaction."""
    created = slot - timedelta(minutes=10)
    team = Team.create(name="Hooks", now=created)
    owners = [
        User.create(team_id=team.id, name=f"Hook {n}", email=f"hook{n}@example.com", active=True, now=created)
        for n in range(max(1, count // 100))
    ]
    once = Schedule(slot.time(), Frequency.ONCE, date=slot.date())
    reminders = [
        Reminder.create(
            team_id=team.id,
            owner_id=owners[n % len(owners)].id,
            title=f"Hook {n}",
            message=MESSAGE,
            channel="webhook",
            target=target,
            schedule=once,
            active=True,
            now=created,
        )
        for n in range(count)
    ]
    if any(reminder.next_run_at != slot for reminder in reminders):
        raise ValueError(f"the reminders do not come due at {slot.isoformat()}")
    with store.writing() as connection:
        connection.execute(insert(tables.teams), [stored_row(team)])
        connection.execute(insert(tables.users), [stored_row(owner) for owner in owners])
        connection.execute(insert(tables.reminders), [stored_row(reminder) for reminder in reminders])
    return [reminder.id for reminder in reminders]


def sql_statuses(store: SqlStore) -> dict[str, int]:
    deliveries = tables.deliveries
    with store.engine.connect() as connection:
        rows = connection.execute(select(deliveries.c.status, func.count()).group_by(deliveries.c.status))
        return {str(status): int(count) for status, count in rows}


def sql_sent(store: SqlStore) -> int:
    deliveries = tables.deliveries
    with store.engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).where(deliveries.c.status == DeliveryStatus.SENT.value)
            ).scalar_one()
        )


def sql_sent_span(store: SqlStore) -> tuple[datetime, datetime]:
    """The first and the last `sent_at` of the sent deliveries."""
    deliveries = tables.deliveries
    with store.engine.connect() as connection:
        first, last = connection.execute(
            select(func.min(deliveries.c.sent_at), func.max(deliveries.c.sent_at)).where(
                deliveries.c.status == DeliveryStatus.SENT.value
            )
        ).one()
    return _utc(first), _utc(last)


def _utc(value: datetime | str) -> datetime:
    # func.min/max lose the column type on SQLite, which then hands back the stored text.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def memory_sent_span(store: MemoryStore) -> tuple[datetime, datetime]:
    sent = [d.sent_at for d in store.deliveries.values() if d.sent_at is not None]
    return min(sent), max(sent)


def memory_statuses(store: MemoryStore) -> dict[str, int]:
    return {status.value: count for status, count in store.delivery_status.items() if count}


def sql_fired(store: SqlStore) -> dict[str, datetime]:
    """When each reminder's delivery was opened (the tick fired it), by reminder id."""
    deliveries = tables.deliveries
    with store.engine.connect() as connection:
        rows = connection.execute(select(deliveries.c.reminder_id, deliveries.c.created_at)).all()
    return {str(reminder_id): _utc(created_at) for reminder_id, created_at in rows}
