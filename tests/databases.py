"""Throwaway databases for tests and benchmarks: a PostgreSQL database or a SQLite file of their own.

PostgreSQL is reached through REMINDERS_TEST_POSTGRES_URL (`.ci/run` sets it). Without it, tests
that need PostgreSQL are skipped with a message saying how to run them, unless CI is set: there a
skip would hide a store that was never exercised, so it fails instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, make_url, text

POSTGRES_ENV = "REMINDERS_TEST_POSTGRES_URL"
HOW_TO_ENABLE = (
    f"PostgreSQL tests need {POSTGRES_ENV}, e.g. "
    f"{POSTGRES_ENV}=postgresql://postgres@127.0.0.1:5432/test (the database is only used to create "
    "and drop a database of each run's own)"
)


def postgres_admin_url() -> str:
    """The server to create databases on; skips the test (fails it under CI) when none is configured."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"CI must exercise PostgreSQL: {HOW_TO_ENABLE}")
    pytest.skip(HOW_TO_ENABLE)


def _admin_engine(admin_url: str):  # type: ignore[no-untyped-def]
    url = make_url(admin_url).set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT")


@contextmanager
def postgres_database(admin_url: str, *, prefix: str = "reminders_test") -> Iterator[str]:
    """A new, empty database on the server of `admin_url`; its URL is yielded and it is dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
