"""Stores under test: the in-memory store, a SQLite file and a PostgreSQL database, each empty per test.

Fixtures (registered in tests/conftest.py):
- `make_store(kind)` gives a fresh, migrated, empty store of that kind for this test.
- SQLite: the schema is migrated once per session into a template file; each test copies it.
- PostgreSQL: one throwaway database per session, migrated once; each test starts from
  truncated tables. Skipped without REMINDERS_TEST_POSTGRES_URL (failed under CI).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.memory import MemoryStore, MemoryUnitOfWork
from adapters.sql import SqlStore, SqlUnitOfWork, connect, tables
from adapters.sql import schema as sql_schema
from application.unit_of_work import UnitOfWorkFactory
from tests.databases import postgres_admin_url, postgres_database

KINDS = ("memory", "sqlite", "postgresql")
EVERY_TABLE = ", ".join(table.name for table in tables.metadata.sorted_tables)


@dataclass(frozen=True)
class StoreUnderTest:
    kind: str
    uow_factory: UnitOfWorkFactory
    url: str | None = None  # for the SQL stores, what --database-url would be


MakeStore = Callable[[str], StoreUnderTest]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    store = connect(f"sqlite:///{path}", pool_size=1)
    sql_schema.upgrade(store)
    store.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated throwaway PostgreSQL database for the session."""
    with postgres_database(postgres_admin_url()) as url:
        store = connect(url, pool_size=1)
        sql_schema.upgrade(store)
        store.dispose()
        yield url


@pytest.fixture
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    opened: list[SqlStore] = []

    def make(kind: str) -> StoreUnderTest:
        if kind == "memory":
            memory = MemoryStore()
            return StoreUnderTest(kind, lambda: MemoryUnitOfWork(memory))
        if kind == "sqlite":
            path = tmp_path / f"reminders-{len(opened)}.db"
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            url = f"sqlite:///{path}"
        elif kind == "postgresql":
            url = request.getfixturevalue("postgres_url")
        else:
            raise ValueError(f"no such store: {kind}")
        sql = connect(url, pool_size=24)
        opened.append(sql)
        if kind == "postgresql":
            with sql.writing() as connection:
                connection.execute(text(f"TRUNCATE {EVERY_TABLE} RESTART IDENTITY"))
        return StoreUnderTest(kind, lambda: SqlUnitOfWork(sql), url)

    yield make
    for sql in opened:
        sql.dispose()
