"""A MemoryStore filled with N active reminders, laid out so that every tick finds exactly `due` of them due.

Every reminder is a daily one, created through the domain's factory at T0 (midnight UTC) and
committed through the memory unit of work, chunk by chunk, like any other write; every user belongs
to one team. Tier k (k = 0,
1, ...) holds `due` reminders at 08:00 + k minutes, so the tick at that minute fires exactly that
tier; the rest are spread over 12:00:00 to 23:59:59, after every tick. A fired reminder moves to
the next day, so the store keeps N active reminders throughout.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from adapters.memory import MemoryStore, MemoryUnitOfWork
from bench.doubles import NOOP
from domain.delivery import Delivery
from domain.reminder import Reminder
from domain.schedule import Frequency, Schedule
from domain.team import Team
from domain.user import User

T0 = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday
FIRST_TICK = T0 + timedelta(hours=8)
REST_FROM = timedelta(hours=12)
REST_SECONDS = 12 * 3600
REMINDERS_PER_USER = 100
# Aggregates per commit. MemoryStore.apply checks a user write against every other write in its
# batch, so much larger commits of users would grow quadratically.
CHUNK = 100


@dataclass(frozen=True, slots=True)
class Population:
    store: MemoryStore
    reminders: int
    users: int
    tick_times: list[datetime]  # exactly `due` reminders come due at each, in this order
    pending: list[str]  # ids of pending deliveries, for the delivery benchmark
    seconds: float


def populate(*, reminders: int, due: int, ticks: int, pending: int, seed: int = 1) -> Population:
    if ticks * due > reminders:
        raise ValueError(f"{ticks} ticks of {due} due reminders need at least {ticks * due} reminders")
    if ticks > 4 * 60:
        raise ValueError("at most 240 ticks: the due tiers must stay before 12:00")
    began = time.perf_counter()
    store = MemoryStore()
    team = Team.create(name="Bench", now=T0)
    _commit(store, [team])
    users = [
        User.create(team_id=team.id, name=f"User {i}", email=f"user{i}@example.com", active=True, now=T0)
        for i in range(max(1, reminders // REMINDERS_PER_USER))
    ]
    _commit(store, users)
    reminder_ids = _add_reminders(store, users, _times_of_day(reminders, due, ticks, seed))
    deliveries = [
        # Past slots, so they never clash in the ledger with the slots the ticks record.
        Delivery.open(
            reminder_id=reminder_ids[i % len(reminder_ids)],
            team_id=team.id,
            owner_id=_owner_of(users, i % len(reminder_ids)).id,
            channel=NOOP,
            scheduled_for=T0 - timedelta(minutes=i + 1),
            now=T0,
        )
        for i in range(pending)
    ]
    _commit(store, deliveries)
    return Population(
        store=store,
        reminders=reminders,
        users=len(users),
        tick_times=[FIRST_TICK + timedelta(minutes=k) for k in range(ticks)],
        pending=[delivery.id for delivery in deliveries],
        seconds=time.perf_counter() - began,
    )


def _times_of_day(reminders: int, due: int, ticks: int, seed: int) -> list[timedelta]:
    tiers = [timedelta(hours=8, minutes=k) for k in range(ticks) for _ in range(due)]
    rest = reminders - len(tiers)
    spread = [REST_FROM + timedelta(seconds=i * REST_SECONDS // max(rest, 1)) for i in range(rest)]
    times = tiers + spread
    random.Random(seed).shuffle(times)  # insert in no particular order, as a live service would
    return times


def _owner_of(owners: list[User], number: int) -> User:
    """The owner of the `number`th reminder `_add_reminders` creates."""
    return owners[number % len(owners)]


def _add_reminders(store: MemoryStore, owners: list[User], times: list[timedelta]) -> list[str]:
    schedules: dict[timedelta, Schedule] = {}
    ids: list[str] = []
    for start in range(0, len(times), CHUNK):
        chunk = []
        for i, offset in enumerate(times[start : start + CHUNK], start):
            schedule = schedules.get(offset)
            if schedule is None:
                at = (datetime.min + offset).time()
                schedule = schedules[offset] = Schedule(at, Frequency.DAILY)
            owner = _owner_of(owners, i)
            chunk.append(
                Reminder.create(
                    team_id=owner.team_id,
                    owner_id=owner.id,
                    title="Standup",
                    message="Hi {owner_name}, {title} at {scheduled_for_local} ({timezone})",
                    channel=NOOP,
                    target=None,
                    schedule=schedule,
                    active=True,
                    now=T0,
                )
            )
        _commit(store, chunk)
        ids.extend(reminder.id for reminder in chunk)
    return ids


def _commit(
    store: MemoryStore, aggregates: list[Team] | list[User] | list[Reminder] | list[Delivery]
) -> None:
    for start in range(0, len(aggregates), CHUNK):
        with MemoryUnitOfWork(store) as uow:
            for aggregate in aggregates[start : start + CHUNK]:
                if isinstance(aggregate, Team):
                    uow.teams.add(aggregate)
                elif isinstance(aggregate, User):
                    uow.users.add(aggregate)
                elif isinstance(aggregate, Reminder):
                    uow.reminders.add(aggregate)
                else:
                    uow.deliveries.add(aggregate)
            uow.commit()
