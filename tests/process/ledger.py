"""The database side of the delivery process tests: many webhook reminders at once, and the ledger after.

Creating a thousand reminders through HTTP takes longer than the tests should, so they are inserted
with SQLAlchemy Core through the SQL adapter's own row mapping, as real aggregates
(`Reminder.create`) of a team of their own, once the processes under test have migrated the schema.
Nothing here depends on pytest: `bench/` uses it too.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from adapters.sql import SqlStore, tables
from adapters.sql.mapping import to_row
from domain.reminder import Reminder
from domain.schedule import Frequency, Schedule
from domain.team import Team
from domain.user import User


@dataclass(frozen=True, slots=True)
class Planted:
    slot: datetime
    # Reminder id -> the target its webhook posts to.
    targets: dict[str, str]

    def keys(self) -> set[str]:
        """The Idempotency-Key of each reminder's delivery for the slot."""
        return {f"{reminder_id}:{self.slot.isoformat()}" for reminder_id in self.targets}


def plant_webhooks(store: SqlStore, targets: Sequence[str], *, slot: datetime) -> Planted:
    """One once-reminder per target (a target may repeat), all due at the whole second `slot`, owned
    by the one member of a new team."""
    if slot.microsecond or slot.tzinfo is None:
        raise ValueError("a slot is a whole, timezone-aware second")
    now = datetime.now(UTC)
    team = Team.create(name="Delivery tests", now=now)
    owner = User.create(
        team_id=team.id, name="Delivery Tester", email="delivery@example.com", active=True, now=now
    )
    schedule = Schedule(slot.astimezone(UTC).time(), Frequency.ONCE, date=slot.astimezone(UTC).date())
    reminders = [
        Reminder.create(
            team_id=team.id,
            owner_id=owner.id,
            title=f"Delivery {number}",
            message="Hi {owner_name}",
            channel="webhook",
            target=target,
            schedule=schedule,
            active=True,
            now=now,
        )
        for number, target in enumerate(targets)
    ]
    if not all(reminder.next_run_at == slot for reminder in reminders):
        raise ValueError(f"the slot {slot.isoformat()} has passed")
    with store.writing() as connection:
        connection.execute(insert(tables.teams), [to_row(team)])
        connection.execute(insert(tables.users), [to_row(owner)])
        connection.execute(insert(tables.reminders), [to_row(reminder) for reminder in reminders])
    return Planted(slot, {reminder.id: str(reminder.target) for reminder in reminders})


def statuses(store: SqlStore) -> Counter[str]:
    deliveries = tables.deliveries
    with store.engine.connect() as connection:
        rows = connection.execute(select(deliveries.c.status, func.count()).group_by(deliveries.c.status))
        return Counter({status: int(count) for status, count in rows})


@dataclass(frozen=True, slots=True)
class Ledger:
    rows: int
    statuses: Counter[str]
    lost: int  # planted reminders with no sent delivery for the slot
    duplicate_rows: int  # rows beyond one per reminder and slot
    attempts: dict[str, int]  # delivery id -> attempts recorded


def ledger(store: SqlStore, planted: Planted) -> Ledger:
    deliveries = tables.deliveries
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(
                deliveries.c.id,
                deliveries.c.reminder_id,
                deliveries.c.scheduled_for,
                deliveries.c.status,
                deliveries.c.attempts,
            )
        ).all()
    per_slot = Counter((row.reminder_id, row.scheduled_for) for row in rows)
    sent = {row.reminder_id for row in rows if row.status == "sent" and row.scheduled_for == planted.slot}
    return Ledger(
        rows=len(rows),
        statuses=Counter(row.status for row in rows),
        lost=len(set(planted.targets) - sent),
        duplicate_rows=sum(count - 1 for count in per_slot.values()),
        attempts={row.id: len(row.attempts) for row in rows},
    )


def wait_for_statuses(store: SqlStore, *, sent: int, timeout: float, pause: float = 0.1) -> Counter[str]:
    """The ledger's statuses once `sent` deliveries are sent, or as they are after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        now = statuses(store)
        if now["sent"] >= sent or time.monotonic() > deadline:
            return now
        time.sleep(pause)


def leases(store: SqlStore) -> dict[str, datetime]:
    """Each claimed (`sending`) delivery's id, with when its lease ends."""
    deliveries = tables.deliveries
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(deliveries.c.id, deliveries.c.lease_expires_at).where(deliveries.c.status == "sending")
        ).all()
    return {row.id: row.lease_expires_at for row in rows}
