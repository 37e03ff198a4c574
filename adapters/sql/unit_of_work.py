"""The SQL unit of work: one database transaction, opened by the first statement and ended by commit.

Reads need no lock: every write names the version it read, so a change made meanwhile by another
process is refused as StaleVersion rather than overwritten. On PostgreSQL the whole unit of work is
one transaction. On SQLite a unit of work that only reads stays a plain read transaction (WAL lets
it run beside the writer); its commit, or a query that takes rows for writing (`due`), runs in a
`BEGIN IMMEDIATE` transaction, so SQLite never has to turn a reader into a writer mid-way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, Executable, Result, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from adapters.sql.engine import SqlStore
from adapters.sql.repositories import (
    SqlApiKeyRepository,
    SqlAuditRepository,
    SqlDeliveryRepository,
    SqlLinkUseRepository,
    SqlReminderRepository,
    SqlTeamRepository,
    SqlUserRepository,
)
from adapters.sql.sign_in_repositories import SqlSignInLinkRepository, SqlWebSessionRepository
from adapters.sql.writes import apply_writes, bump_versions
from adapters.tracking import Tracker
from application.audit import Change
from application.unit_of_work import StoreUnavailable, UnitOfWork
from domain.aggregate import Aggregate


@contextlib.contextmanager
def _unavailable_as_store_unavailable() -> Iterator[None]:
    """A lost connection, a database that refuses connections or a write lock never granted."""
    try:
        yield
    except (OperationalError, InterfaceError, PoolTimeout, TimeoutError) as error:
        raise StoreUnavailable(f"the database is unavailable ({type(error).__name__})") from error


class SqlUnitOfWork(UnitOfWork):
    def __init__(self, store: SqlStore) -> None:
        super().__init__()
        self._store = store
        self.tracker = Tracker()
        self._connection: Connection | None = None
        self._writing = False
        self._bookkept = False  # a bookkeeping write is waiting for the commit
        self.teams = SqlTeamRepository(self)
        self.users = SqlUserRepository(self)
        self.keys = SqlApiKeyRepository(self)
        self.audit = SqlAuditRepository(self)
        self.reminders = SqlReminderRepository(self)
        self.deliveries = SqlDeliveryRepository(self)
        self.link_uses = SqlLinkUseRepository(self)
        self.web_sessions = SqlWebSessionRepository(self)
        self.sign_in_links = SqlSignInLinkRepository(self)

    def connection(self, *, write: bool = False) -> Connection:
        """The unit of work's connection, in a transaction that can write when `write` is asked."""
        if self._connection is not None and (self._writing or not write):
            return self._connection
        if self._connection is not None and self._store.dialect == "postgresql":
            self._writing = True  # a PostgreSQL transaction writes whenever it likes
            return self._connection
        self._close()
        if write:
            self._store.gate.__enter__()
            try:
                self._connection = self._store.write_connection()
            except BaseException:
                self._store.gate.__exit__(None, None, None)
                raise
        else:
            self._connection = self._store.read_connection()
        self._writing = write
        return self._connection

    def execute(
        self, statement: Executable, parameters: dict[str, Any] | None = None, *, write: bool = False
    ) -> Result[Any]:
        with _unavailable_as_store_unavailable():
            return self.connection(write=write).execute(statement, parameters)

    def bookkeep(self, statement: Executable, parameters: dict[str, Any]) -> None:
        self.execute(statement, parameters, write=True)
        self._bookkept = True

    def ping(self) -> None:
        self.execute(text("SELECT 1"))

    def _begin(self) -> None:
        self._close()
        self.tracker.clear()
        self._bookkept = False

    def _touched(self) -> Iterable[Aggregate]:
        return self.tracker.aggregates()

    def _changes(self) -> Iterable[Change]:
        return self.tracker.changes()

    def _commit(self) -> None:
        writes = self.tracker.writes()
        if writes or self._bookkept:
            try:
                with _unavailable_as_store_unavailable():
                    connection = self.connection(write=True)
                    apply_writes(connection, writes)
                    connection.commit()
            except BaseException:
                self._close()  # a refused commit still gives the write lock back at once
                raise
            bump_versions(writes)
        self._begin()

    def _rollback(self) -> None:
        self._begin()

    def _close(self) -> None:
        """Roll back whatever is open and give the connection (and the SQLite write lock) back."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.close()  # rolls back an open transaction
        except DBAPIError:
            # The connection died after its last statement. Nothing is left to undo on it (a commit
            # either happened or raised already), so the pool just forgets it.
            connection.invalidate()
        finally:
            if self._writing:
                self._store.gate.__exit__(None, None, None)  # on PostgreSQL a no-op
            self._writing = False
