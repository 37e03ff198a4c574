"""A MemoryStore filled with N active reminders, laid out so that every tick finds exactly `due` of them due.

The reminders are of the kinds of a mix (bench.mix): created through the domain's factory at T0
(midnight UTC) and committed through the memory unit of work, chunk by chunk, like any other write.
Tier k (k = 0, 1, ...) holds `due` reminders first due at 08:00 + k minutes UTC, so the tick at that
minute fires exactly that tier; the rest first come due at 12:00 UTC or later, after every tick.
Each kind has its share of every tier and of the rest. A fired reminder moves on to a later day,
so the store keeps N active reminders throughout.

"Due" counts reminders: each due reminder is fired once by its tick. A team reminder opens a
delivery (a ledger entry) per recipient it reaches at that slot, so a tick opens more deliveries
than it fires reminders; `Population.deliveries_per_tick` is how many, as the layout computed them.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.memory import MemoryStore, MemoryUnitOfWork
from bench.doubles import NOOP
from bench.mix import MIXED, REST_FROM, START_DAYS, T0, Kind, Mix, Plan, shares, started
from domain.audience import OWNER, TEAM, LocalTime, Recipients
from domain.delivery import Delivery
from domain.reminder import Reminder
from domain.schedule import Schedule
from domain.team import Team
from domain.user import User

__all__ = ["FIRST_TICK", "REMINDERS_PER_USER", "REST_FROM", "REST_SECONDS", "T0", "Population", "populate"]

FIRST_TICK = T0 + timedelta(hours=8)
REST_SECONDS = 12 * 3600
REMINDERS_PER_USER = 100
# Aggregates per commit. MemoryStore.apply checks a user write against every other write in its
# batch, so much larger commits of users would grow quadratically.
CHUNK = 100


@dataclass(frozen=True, slots=True)
class Population:
    store: MemoryStore
    mix: str
    reminders: int
    users: int
    teams: int
    tick_times: list[datetime]  # exactly `due` reminders come due at each, in this order
    deliveries_per_tick: list[int]  # and the deliveries they open, tick by tick
    pending: list[str]  # ids of pending deliveries, for the delivery benchmark
    seconds: float


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: Kind
    at: datetime  # its first slot
    tick: int | None  # the tick that fires it, or None for the rest


def populate(
    *, reminders: int, due: int, ticks: int, pending: int, mix: Mix = MIXED, seed: int = 1
) -> Population:
    if ticks * due > reminders:
        raise ValueError(f"{ticks} ticks of {due} due reminders need at least {ticks * due} reminders")
    if ticks > 4 * 60:
        raise ValueError("at most 240 ticks: the due tiers must stay before 12:00")
    began = time.perf_counter()
    store = MemoryStore()
    users = _add_people(store, mix, max(1, reminders // REMINDERS_PER_USER))
    tick_times = [FIRST_TICK + timedelta(minutes=k) for k in range(ticks)]
    entries = _layout(mix, reminders, due, tick_times, seed)
    reminder_ids, deliveries_per_tick = _add_reminders(store, mix, users, entries, tick_times)
    deliveries = [
        # Past slots, so they never clash in the ledger with the slots the ticks record.
        Delivery.open(
            reminder_id=reminder_ids[i % len(reminder_ids)],
            team_id=_owner_of(users, i % len(reminder_ids)).team_id,
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
        mix=mix.name,
        reminders=reminders,
        users=len(users),
        teams=len(store.teams),
        tick_times=tick_times,
        deliveries_per_tick=deliveries_per_tick,
        pending=[delivery.id for delivery in deliveries],
        seconds=time.perf_counter() - began,
    )


def _add_people(store: MemoryStore, mix: Mix, wanted: int) -> list[User]:
    """At least `wanted` users: all in one team, or whole teams of the mix's seats, seat by seat."""
    size = len(mix.seats)
    count = wanted if mix.one_team else -(-wanted // size) * size
    teams = [Team.create(name=f"Bench {i}", now=T0) for i in range(1 if mix.one_team else count // size)]
    _commit(store, teams)
    users = []
    for i in range(count):
        seat = mix.seats[i % size]
        users.append(
            User.create(
                team_id=teams[0 if mix.one_team else i // size].id,
                name=f"User {i}",
                email=f"user{i}@example.com",
                active=True,
                now=T0,
                timezone=seat.zone,
                quiet_hours=seat.quiet_hours,
            )
        )
    _commit(store, users)
    return users


def _layout(mix: Mix, reminders: int, due: int, tick_times: list[datetime], seed: int) -> list[_Entry]:
    entries: list[_Entry] = []
    for tick, at in enumerate(tick_times):
        for kind, count in zip(mix.kinds, shares(mix.kinds, due), strict=True):
            entries.extend(_Entry(kind, at, tick) for _ in range(count))
    rest = reminders - len(entries)
    for kind, count in zip(mix.kinds, shares(mix.kinds, rest), strict=True):
        start, end = kind.rest
        steps = (end - start) // mix.rest_step
        entries.extend(
            _Entry(kind, T0 + timedelta(seconds=start + (i * steps // count) * mix.rest_step), None)
            for i in range(count)
        )
    random.Random(seed).shuffle(entries)  # insert in no particular order, as a live service would
    return entries


def _owner_of(owners: list[User], number: int) -> User:
    """The owner of the `number`th reminder `_add_reminders` creates."""
    return owners[number % len(owners)]


def _add_reminders(
    store: MemoryStore, mix: Mix, users: list[User], entries: list[_Entry], tick_times: list[datetime]
) -> tuple[list[str], list[int]]:
    plans: dict[tuple[str, datetime], Plan] = {}
    schedules: dict[tuple[str, datetime, int], Schedule] = {}
    per_tick = [0] * len(tick_times)
    size = len(mix.seats)
    ids: list[str] = []
    for start in range(0, len(entries), CHUNK):
        chunk = []
        for i, entry in enumerate(entries[start : start + CHUNK], start):
            kind = entry.kind
            plan = plans.get((kind.name, entry.at))
            if plan is None:
                last_tick = tick_times[-1] if entry.tick is not None else None
                plan = plans[(kind.name, entry.at)] = mix.plan(kind, entry.at, last_tick=last_tick)
            if entry.tick is not None:
                per_tick[entry.tick] += plan.deliveries
            start = i % START_DAYS
            schedule = schedules.get((kind.name, entry.at, start))
            if schedule is None:
                schedule = schedules[(kind.name, entry.at, start)] = started(plan.schedule, start)
            owner_number = i % len(users)
            owner = users[owner_number]
            first_seat = owner_number - owner_number % size
            team = [] if mix.one_team else users[first_seat : first_seat + size]
            reached = [team[seat] for seat in kind.seats(size)]
            recipients = _recipients(kind, reached)
            per_recipient = kind.local_time is LocalTime.RECIPIENT
            reminder = Reminder.create(
                team_id=owner.team_id,
                owner_id=owner.id,
                title="Standup",
                message="Hi {owner_name}, {title} at {scheduled_for_local} ({timezone})",
                channel=kind.channel,
                target=None,
                schedule=schedule,
                active=True,
                now=T0,
                recipients=recipients,
                local_time=kind.local_time,
                zones=sorted({user.timezone for user in reached}) if per_recipient else (),
            )
            first = reminder.next_run_at
            if first is None or (first != entry.at if entry.tick is not None else first < T0 + REST_FROM):
                raise ValueError(f"{kind.name}: next run {first}, laid out at {entry.at}")
            chunk.append(reminder)
        _commit(store, chunk)
        ids.extend(reminder.id for reminder in chunk)
    return ids, per_tick


def _recipients(kind: Kind, reached: list[User]) -> Recipients:
    if kind.recipients == "owner":
        return OWNER
    if kind.recipients == "team":
        return TEAM
    return Recipients.parse([user.id for user in reached])


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
