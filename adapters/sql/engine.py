"""Connecting to a SQL store: the engine, with each database's settings applied on every connection.

SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout and foreign keys
on. A unit of work that will write begins with `BEGIN IMMEDIATE`, so it holds the one write lock
from its first statement instead of failing when a read transaction tries to become a write one;
inside one process those transactions also pass through a gate (`SqliteGate`), which hands the write
lock from thread to thread in the order they asked, instead of by SQLite's sleeping busy handler.

PostgreSQL is reached through psycopg 3 with a connection pool whose connections are checked
before use, so the store recovers by itself when the database comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

Dialect = Literal["sqlite", "postgresql"]

SQLITE_BUSY_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_SECONDS = 5
_BEGIN_IMMEDIATE = "begin_immediate"


class UnsupportedDatabaseUrl(ValueError):
    """The URL names no store this service can use; the message never holds the password."""


def parse_url(raw: str) -> URL:
    """The SQLAlchemy URL for a `sqlite:///…` or `postgresql://…` setting, with its driver chosen."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise UnsupportedDatabaseUrl("it is not a URL (is the port a number?)") from None
    if url.host and "@" in url.host:
        raise UnsupportedDatabaseUrl("an '@' in the user name or password must be written as %40")
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            raise UnsupportedDatabaseUrl(
                "sqlite needs a file path, as in sqlite:///reminders.db (use memory:// for a store in memory)"
            )
        return url.set(drivername="sqlite+pysqlite")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        if not url.database:
            raise UnsupportedDatabaseUrl(
                "postgresql needs a database name, as in postgresql://user@host:5432/db"
            )
        return url.set(drivername="postgresql+psycopg")
    raise UnsupportedDatabaseUrl(f"the scheme {url.drivername!r} is not supported")


def redacted(raw: str) -> str:
    """The URL as it may be shown: any password replaced by ***."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        return "(unparsable)"
    if url.host and "@" in url.host:  # part of the password would show as the host
        return f"{url.drivername}://***@{url.host.rpartition('@')[2]}"
    return url.render_as_string(hide_password=True)


@dataclass(frozen=True, slots=True)
class SqlStore:
    engine: Engine
    dialect: Dialect
    # Held from BEGIN IMMEDIATE to the end of a SQLite write transaction; nothing on PostgreSQL.
    gate: AbstractContextManager[Any]
    # SQLite: the connections of reads made on a thread running an event loop.
    loop_engine: Engine | None = None

    def write_connection(self) -> Connection:
        """A connection in a transaction that will write (a write lock on SQLite, from the start)."""
        connection = self.engine.connect()
        if self.dialect == "sqlite":
            connection.execution_options(**{_BEGIN_IMMEDIATE: True})
        return _begun(connection)

    def read_connection(self) -> Connection:
        engine = self.engine
        if self.loop_engine is not None and asyncio._get_running_loop() is not None:
            engine = self.loop_engine
        return _begun(engine.connect())

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """One write transaction, committed when the block ends without an error."""
        with self.gate:
            connection = self.write_connection()
            try:
                yield connection
                connection.commit()
            finally:
                connection.close()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.loop_engine is not None:
            self.loop_engine.dispose()


def _begun(connection: Connection) -> Connection:
    """The connection in a new transaction; given back to the pool at once when BEGIN fails."""
    try:
        connection.begin()
    except BaseException:
        connection.close()
        raise
    return connection


class SqliteGate:
    """The in-process turn at SQLite's write lock: first come, first served.

    A plain lock lets the thread that just released it take it straight back, so a scheduler
    working through a backlog batch after batch would keep every delivery waiting until the
    backlog was gone. Here each waiter gets its turn in order. A waiter gives up after SQLite's own
    busy timeout, so a stuck writer surfaces as an error instead of a hang.
    """

    def __init__(self, timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000) -> None:
        self._timeout = timeout
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Lock] = deque()

    def __enter__(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        try:
            if turn.acquire(timeout=self._timeout):
                return  # the holder handed the gate over
        except BaseException:  # interrupted while waiting (a signal): give up the turn, then re-raise
            self._give_up(turn)
            raise
        self._give_up(turn)
        raise TimeoutError("timed out waiting for the SQLite write lock")

    def _give_up(self, turn: threading.Lock) -> None:
        with self._mutex:
            if turn in self._waiting:
                self._waiting.remove(turn)
            else:
                self._hand_on()  # handed over just as the wait ended: pass it to the next

    def __exit__(self, *exc: object) -> None:
        with self._mutex:
            self._hand_on()

    def _hand_on(self) -> None:
        if self._waiting:
            self._waiting.popleft().release()  # still held, now by the next in line
        else:
            self._held = False


def connect(raw_url: str, *, pool_size: int = 20) -> SqlStore:
    """An engine for the URL; nothing is opened until the first unit of work needs a connection.

    `pool_size` connections are kept open and a few more may be opened under a burst: on PostgreSQL
    every process holds its own pool, and the server's connection limit is shared by them all.
    """
    url = parse_url(raw_url)
    if url.drivername.startswith("sqlite"):
        engine = create_engine(url, pool_size=pool_size, max_overflow=min(pool_size, 8))
        # The event loop's reads (entrypoints/http/reads.py) must never wait for a connection that
        # threads hold: they have a pool of their own, which opens another when it has none free.
        loop_engine = create_engine(url, pool_size=1, max_overflow=-1)
        for each in (engine, loop_engine):
            _configure_sqlite(each)
        return SqlStore(engine, "sqlite", SqliteGate(), loop_engine)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=min(pool_size, 8),
        pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "reminders"},
    )
    return SqlStore(engine, "postgresql", contextlib.nullcontext())


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # pysqlite's own transaction handling would BEGIN (deferred) by itself; ours says which kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "foreign_keys=ON",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_BEGIN_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
