"""Reminders created through the repository, on any store: `uow.reminders.add`, one commit per batch.

The aggregates are built with `Reminder.create` before the clock starts (that is the domain's cost,
the same on every store); the clock covers adding them to units of work and committing, batch by
batch, into a store that holds only their owners and their team.
"""

from __future__ import annotations

import time
from datetime import time as time_of_day

from application.unit_of_work import UnitOfWorkFactory
from bench.doubles import NOOP
from bench.measure import MeasurementInvalid
from bench.population import REMINDERS_PER_USER, T0
from domain.reminder import Reminder
from domain.schedule import Frequency, Schedule
from domain.team import Team
from domain.user import User

# Users per commit when adding the owners, which is not timed.
OWNER_BATCH = 100


def add_owners(uow_factory: UnitOfWorkFactory, *, reminders: int) -> list[User]:
    """One user per 100 reminders, as in the tick benchmarks, all of one team."""
    team = Team.create(name="Bench", now=T0)
    with uow_factory() as uow:
        uow.teams.add(team)
        uow.commit()
    users = [
        User.create(team_id=team.id, name=f"Owner {i}", email=f"owner{i}@example.com", active=True, now=T0)
        for i in range(max(1, reminders // REMINDERS_PER_USER))
    ]
    for start in range(0, len(users), OWNER_BATCH):
        with uow_factory() as uow:
            for user in users[start : start + OWNER_BATCH]:
                uow.users.add(user)
            uow.commit()
    return users


def time_creation(uow_factory: UnitOfWorkFactory, owners: list[User], *, count: int, batch: int) -> float:
    """Seconds taken to add and commit `count` new reminders, `batch` to a unit of work."""
    schedules = [Schedule(time_of_day(minute // 60, minute % 60), Frequency.DAILY) for minute in range(1440)]
    reminders = [
        Reminder.create(
            team_id=owners[i % len(owners)].team_id,
            owner_id=owners[i % len(owners)].id,
            title="Standup",
            message="Hi {owner_name}, {title} at {scheduled_for_local} ({timezone})",
            channel=NOOP,
            target=None,
            schedule=schedules[i % len(schedules)],
            active=True,
            now=T0,
        )
        for i in range(count)
    ]
    began = time.perf_counter()
    for start in range(0, count, batch):
        with uow_factory() as uow:
            for reminder in reminders[start : start + batch]:
                uow.reminders.add(reminder)
            uow.commit()
    elapsed = time.perf_counter() - began
    with uow_factory() as uow:
        stored = sum(uow.reminders.list_by_owner(owner.id, limit=1, offset=0).total for owner in owners)
    if stored != count:
        raise MeasurementInvalid(f"{count} reminders committed but the store holds {stored}")
    return elapsed
