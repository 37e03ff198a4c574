"""The crash benchmark's database side: 1,000 reminders due at one slot, and what the ledger says after.

The reminders are real aggregates (`Reminder.create`, half once and half daily, on the `log`
channel, their owners all of one team) inserted with SQLAlchemy Core through the SQL adapter's own
row mapping, after the schema is migrated the way `reminders serve` migrates it. Every one comes due
at the same whole second, a few seconds before the service starts, well inside the default grace
period.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from adapters.sql import SqlStore, connect, tables
from adapters.sql import schema as sql_schema
from adapters.sql.mapping import to_row
from domain.reminder import Reminder
from domain.schedule import Frequency, Schedule
from domain.team import Team
from domain.user import User

REMINDERS_PER_USER = 100


@dataclass(frozen=True, slots=True)
class Population:
    slot: datetime  # when every reminder comes due
    reminder_ids: frozenset[str]
    once_ids: frozenset[str]


def populate(database_url: str, *, reminders: int, slot_age: float = 5.0) -> Population:
    """Migrate the empty database and fill it; the slot is `slot_age` seconds ago."""
    slot = (datetime.now(UTC) - timedelta(seconds=slot_age)).replace(microsecond=0)
    created = slot - timedelta(minutes=10)
    store = connect(database_url, pool_size=1)
    try:
        sql_schema.upgrade(store)
        team = Team.create(name="Crash", now=created)
        owners = [
            User.create(
                team_id=team.id, name=f"Crash {n}", email=f"crash{n}@example.com", active=True, now=created
            )
            for n in range(max(1, reminders // REMINDERS_PER_USER))
        ]
        once = Schedule(slot.time(), Frequency.ONCE, date=slot.date())
        daily = Schedule(slot.time(), Frequency.DAILY)
        batch = [
            Reminder.create(
                team_id=team.id,
                owner_id=owners[n % len(owners)].id,
                title=f"Crash {n}",
                message="Hi {owner_name}, due at {scheduled_for_local}",
                channel="log",
                target=None,
                schedule=once if n % 2 == 0 else daily,
                active=True,
                now=created,
            )
            for n in range(reminders)
        ]
        assert all(reminder.next_run_at == slot for reminder in batch)
        with store.writing() as connection:
            connection.execute(insert(tables.teams), [to_row(team)])
            connection.execute(insert(tables.users), [to_row(owner) for owner in owners])
            connection.execute(insert(tables.reminders), [to_row(reminder) for reminder in batch])
    finally:
        store.dispose()
    return Population(
        slot=slot,
        reminder_ids=frozenset(reminder.id for reminder in batch),
        once_ids=frozenset(
            reminder.id for reminder in batch if reminder.schedule.frequency is Frequency.ONCE
        ),
    )


def ledger_rows(store: SqlStore) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(tables.deliveries)).scalar_one())


def statuses(store: SqlStore) -> Counter[str]:
    deliveries = tables.deliveries
    with store.engine.connect() as connection:
        rows = connection.execute(select(deliveries.c.status, func.count()).group_by(deliveries.c.status))
        return Counter({status: int(count) for status, count in rows})


def unfinished(store: SqlStore, population: Population, *, created_after: datetime) -> int:
    """Slots still to fire, plus pending deliveries opened after `created_after` (not yet sent)."""
    reminders, deliveries = tables.reminders, tables.deliveries
    with store.engine.connect() as connection:
        due = connection.execute(
            select(func.count())
            .select_from(reminders)
            .where(reminders.c.active, reminders.c.next_run_at <= population.slot)
        ).scalar_one()
        sending = connection.execute(
            select(func.count())
            .select_from(deliveries)
            .where(deliveries.c.status == "pending", deliveries.c.created_at >= created_after)
        ).scalar_one()
    return int(due) + int(sending)


@dataclass(frozen=True, slots=True)
class Verdict:
    rows: int
    lost: int  # reminders with no ledger row for the slot
    duplicates: int  # ledger rows beyond one per reminder and slot
    stray: int  # ledger rows for another slot, or for no reminder of the population
    stuck: int  # reminders still due at or before a slot they have already recorded
    not_moved_on: int  # once reminders still active, daily ones not at the next day's slot
    statuses: Counter[str]
    pending_claimed: int  # pending rows a sender had claimed when it was killed


def inspect(store: SqlStore, population: Population) -> Verdict:
    reminders, deliveries = tables.reminders, tables.deliveries
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(
                deliveries.c.reminder_id,
                deliveries.c.scheduled_for,
                deliveries.c.status,
                deliveries.c.claimed_at,
            )
        ).all()
        states = connection.execute(select(reminders.c.id, reminders.c.active, reminders.c.next_run_at)).all()
    slot = population.slot
    per_reminder = Counter(row.reminder_id for row in rows if row.scheduled_for == slot)
    recorded = {reminder_id for reminder_id in per_reminder if reminder_id in population.reminder_ids}
    stuck = not_moved_on = 0
    for state in states:
        if state.active and state.next_run_at is not None and state.next_run_at <= slot:
            stuck += state.id in recorded
        expected = (False, None) if state.id in population.once_ids else (True, slot + timedelta(days=1))
        not_moved_on += (state.active, state.next_run_at) != expected
    return Verdict(
        rows=len(rows),
        lost=len(population.reminder_ids - recorded),
        duplicates=sum(count - 1 for count in per_reminder.values() if count > 1),
        stray=len(rows) - sum(per_reminder[reminder_id] for reminder_id in recorded),
        stuck=stuck,
        not_moved_on=not_moved_on,
        statuses=Counter(row.status for row in rows),
        pending_claimed=sum(row.status == "pending" and row.claimed_at is not None for row in rows),
    )
