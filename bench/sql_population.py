"""A SQL store filled in bulk with N active reminders, laid out so that every tick finds exactly `due` due.

The layout is bench.population's: one user per 100 reminders, all of one team, every reminder daily
and created at T0; tier k (`due` reminders) fires at 08:00 + k minutes, the rest between 12:00:00
and 23:59:59, inserted in shuffled order. A fired reminder moves to the next day, so N stay active.

A million reminders one unit of work at a time would take minutes per store, so the rows go
straight into the tables, in bulk. They are still the domain's rows: for every distinct time of day
one `Reminder.create` makes the aggregate (so `next_run_at` is the domain's own), `to_row` turns it
into a row and each column's bind processor into database values, as SQLAlchemy does on a write;
each stored row is a copy of its time's row with an id of its own and its owner. SQLite takes them
through one executemany per chunk, PostgreSQL through COPY. The team and the users go through a Core
insert.
Then the statistics are gathered (ANALYZE; on PostgreSQL also VACUUM, so autovacuum does not start
on the new rows in the middle of the timed ticks) and the write-ahead log is checkpointed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, insert

from adapters.sql import SqlStore, tables
from adapters.sql.mapping import to_row
from bench.doubles import NOOP
from bench.population import FIRST_TICK, REMINDERS_PER_USER, REST_FROM, REST_SECONDS, T0
from domain.ids import new_id
from domain.reminder import Reminder
from domain.schedule import Frequency, Schedule
from domain.team import Team
from domain.user import User

# Rows per executemany or COPY: big enough to amortise each call, small enough to keep memory flat.
CHUNK = 50_000
LOAD_CACHE_KIB = 1024 * 1024
# The row's id and owner come first, so a stored row is (id, owner, *the rest of its time's row).
_LEADING = ("id", "owner_id")


@dataclass(frozen=True, slots=True)
class SqlPopulation:
    reminders: int
    users: int
    tick_times: list[datetime]  # exactly `due` reminders come due at each, in this order
    seconds: float


def fill(store: SqlStore, *, reminders: int, due: int, ticks: int, seed: int = 1) -> SqlPopulation:
    """Load a freshly migrated store; `store` is used for loading only and disposed of afterwards."""
    if ticks * due > reminders:
        raise ValueError(f"{ticks} ticks of {due} due reminders need at least {ticks * due} reminders")
    if ticks > 4 * 60:
        raise ValueError("at most 240 ticks: the due tiers must stay before 12:00")
    began = time.perf_counter()
    team = Team.create(name="Bench", now=T0)
    users = [
        User.create(team_id=team.id, name=f"User {i}", email=f"user{i}@example.com", active=True, now=T0)
        for i in range(max(1, reminders // REMINDERS_PER_USER))
    ]
    with store.writing() as connection:
        connection.execute(insert(tables.teams), [stored_row(team)])
        connection.execute(insert(tables.users), [stored_row(user) for user in users])
    owners = [user.id for user in users]
    offsets = _times_of_day(reminders, due, ticks, seed)
    columns, templates = _templates(store, team.id, owners[0], set(offsets))
    for start in range(0, reminders, CHUNK):
        rows = [
            (new_id(), owners[i % len(owners)], *templates[offset])
            for i, offset in enumerate(offsets[start : start + CHUNK], start)
        ]
        with store.writing() as connection:
            _load(store, connection, tables.reminders, columns, rows)
    _settle(store)
    store.dispose()  # the loading connections' settings must not outlive the load
    return SqlPopulation(
        reminders=reminders,
        users=len(users),
        tick_times=[FIRST_TICK + timedelta(minutes=k) for k in range(ticks)],
        seconds=time.perf_counter() - began,
    )


def stored_row(aggregate: Team | User | Reminder) -> dict[str, Any]:
    """The row a unit of work's commit inserts: `to_row`, at the version a first write gives it."""
    return to_row(aggregate) | {"version": 1}


def _times_of_day(reminders: int, due: int, ticks: int, seed: int) -> list[timedelta]:
    tiers = [timedelta(hours=8, minutes=k) for k in range(ticks) for _ in range(due)]
    rest = reminders - len(tiers)
    spread = [REST_FROM + timedelta(seconds=i * REST_SECONDS // max(rest, 1)) for i in range(rest)]
    times = tiers + spread
    random.Random(seed).shuffle(times)  # insert in no particular order, as a live service would
    return times


def _templates(
    store: SqlStore, team_id: str, owner: str, offsets: set[timedelta]
) -> tuple[list[str], dict[timedelta, tuple[Any, ...]]]:
    """The reminders table's columns (but `seq`), and each time of day's row after `id` and `owner_id`,
    as the values the database driver receives: every owner is of team `team_id`."""
    dialect = store.engine.dialect
    table = tables.reminders
    rest = [column.name for column in table.columns if column.name not in ("seq", *_LEADING)]
    processors = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in rest}
    templates: dict[timedelta, tuple[Any, ...]] = {}
    for offset in offsets:
        reminder = Reminder.create(
            team_id=team_id,
            owner_id=owner,
            title="Standup",
            message="Hi {owner_name}, {title} at {scheduled_for_local} ({timezone})",
            channel=NOOP,
            target=None,
            schedule=Schedule((datetime.min + offset).time(), Frequency.DAILY),
            active=True,
            now=T0,
        )
        row = stored_row(reminder)
        templates[offset] = tuple(
            row[name] if processors[name] is None else processors[name](row[name])  # type: ignore[misc]
            for name in rest
        )
    return [*_LEADING, *rest], templates


def _load(
    store: SqlStore, connection: Connection, table: Table, columns: list[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    names = ", ".join(columns)
    if store.dialect == "sqlite":
        # A page cache big enough for the indexes, on this connection only: the store is disposed after.
        connection.exec_driver_sql(f"PRAGMA cache_size=-{LOAD_CACHE_KIB}")
        marks = ", ".join("?" for _ in columns)
        connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", list(rows))
        return
    driver: Any = connection.connection.driver_connection  # psycopg's own connection, for COPY
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _settle(store: SqlStore) -> None:
    """Statistics for the planner, and nothing left over from loading to run during the timed ticks."""
    with store.engine.connect() as connection:
        if store.dialect == "sqlite":
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
            # Outside any transaction, which SQLAlchemy would begin for a statement of its own.
            connection.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
            return
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.exec_driver_sql("VACUUM (ANALYZE) users, reminders")
        autocommit.exec_driver_sql("CHECKPOINT")
