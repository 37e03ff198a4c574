"""Schema migrations with Alembic: bring a database to the newest revision, or say why it cannot be used.

Upgrades run in one write transaction. On PostgreSQL that transaction first takes an advisory lock,
so several instances starting at once upgrade one after another and the later ones find nothing
to do. On SQLite it runs with foreign keys off (see `_migrating`). A database whose revision this
code does not know was migrated by a newer release: the service refuses it rather than guess.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from adapters.sql.engine import _BEGIN_IMMEDIATE, SqlStore

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock's key: any constant unique to this service.
ADVISORY_LOCK_KEY = 0x5EED_7E11


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this version of the service."""


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    if revision is None:
        raise SchemaError(f"no schema revisions were found in {MIGRATIONS}")
    return revision


def current(store: SqlStore) -> str | None:
    """The database's revision; None for a database never migrated."""
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _refuse_newer(connection: Connection) -> str | None:
    revision = MigrationContext.configure(connection).get_current_revision()
    known = {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}
    if revision is not None and revision not in known:
        raise SchemaError(
            f"the database schema is at revision {revision!r}, newer than this version of the service "
            f"knows (its newest is {head()!r}); run a release that knows it, or restore a matching backup"
        )
    return revision


@contextlib.contextmanager
def _migrating(store: SqlStore) -> Iterator[Connection]:
    """The one write transaction of a migration.

    PostgreSQL: under the advisory lock. SQLite alters a table by copying it and dropping the
    original, and with foreign keys on, dropping the original users table deletes every row that
    refers to it (ON DELETE CASCADE): every reminder. So, as SQLite prescribes for such changes,
    foreign keys are off while it migrates, every reference is checked before the commit, and they
    are on again before the connection goes back to the pool.
    """
    if store.dialect == "postgresql":
        with store.writing() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            yield connection
        return
    with store.gate, store.engine.connect() as connection:
        _sqlite_foreign_keys(connection, on=False)
        try:
            with connection.execution_options(**{_BEGIN_IMMEDIATE: True}).begin():
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise SchemaError(
                        f"the migration left a row of {broken[0]!r} that refers to a missing row of "
                        f"{broken[2]!r}; nothing was changed"
                    )
        finally:
            _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    # The pragma takes effect only outside a transaction, so it goes to the driver's connection
    # directly (SQLAlchemy would begin one first).
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def upgrade(store: SqlStore) -> tuple[str | None, str]:
    """Migrate to the newest revision; returns the revision before and after."""
    with _migrating(store) as connection:
        before = _refuse_newer(connection)
        command.upgrade(_config(connection), "head")
    return before, head()


def downgrade(store: SqlStore, revision: str) -> None:
    with _migrating(store) as connection:
        command.downgrade(_config(connection), revision)


def require_current(store: SqlStore) -> None:
    """For `--no-migrate`: the schema must already be the newest this code knows."""
    with store.engine.connect() as connection:
        revision = _refuse_newer(connection)
    if revision != head():
        shown = "empty" if revision is None else f"at revision {revision!r}"
        raise SchemaError(
            f"the database schema is {shown} and this service needs {head()!r}: "
            "run `reminders migrate` (or start without --no-migrate)"
        )
