"""Throwaway databases for the store benchmarks: a SQLite file in a temporary directory, or a PostgreSQL
database created on the admin URL's server and dropped afterwards; and what each engine is."""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import Iterator
from typing import Literal

from sqlalchemy import create_engine, make_url

from adapters.sql import SqlStore, connect
from adapters.sql import schema as sql_schema
from tests.databases import postgres_database

StoreKind = Literal["sqlite", "postgresql"]
# The PostgreSQL settings that decide what a commit and a cold read cost.
POSTGRES_SETTINGS = ("shared_buffers", "fsync", "synchronous_commit", "full_page_writes")


@contextlib.contextmanager
def fresh_database(kind: StoreKind, *, postgres_admin_url: str) -> Iterator[str]:
    """The URL of a new, empty database, deleted when the block ends."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="reminders-bench-") as directory:
            yield f"sqlite:///{directory}/reminders.db"
        return
    with postgres_database(postgres_admin_url, prefix="reminders_bench") as url:
        yield url


def migrated(url: str, *, pool_size: int = 4) -> SqlStore:
    """The store at `url`, its schema brought to the newest revision by the service's own migrations."""
    store = connect(url, pool_size=pool_size)
    sql_schema.upgrade(store)
    return store


def describe(kinds: list[StoreKind], *, postgres_admin_url: str) -> dict[str, str]:
    described: dict[str, str] = {}
    if "sqlite" in kinds:
        described["SQLite"] = f"{sqlite3.sqlite_version} (WAL, synchronous=NORMAL, default page cache)"
    if "postgresql" in kinds:
        engine = create_engine(make_url(postgres_admin_url).set(drivername="postgresql+psycopg"))
        try:
            with engine.connect() as connection:
                version = connection.exec_driver_sql("SHOW server_version").scalar_one()
                settings = [
                    f"{name}={connection.exec_driver_sql(f'SHOW {name}').scalar_one()}"
                    for name in POSTGRES_SETTINGS
                ]
        finally:
            engine.dispose()
        described["PostgreSQL"] = f"{version} on {make_url(postgres_admin_url).host} ({', '.join(settings)})"
    return described
