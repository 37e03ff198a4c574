"""Schema migrations on real SQLite files and PostgreSQL databases: empty to head, down and up again,
the migrated schema equal to the tables the code uses, and databases this code must refuse."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from adapters.sql import SqlStore, connect
from adapters.sql import schema as sql_schema
from adapters.sql.tables import metadata
from tests.databases import postgres_admin_url, postgres_database

TABLES = {"users", "reminders", "deliveries"}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with postgres_database(postgres_admin_url()) as url:
            yield url


@pytest.fixture
def store(empty_url: str) -> Iterator[SqlStore]:
    sql = connect(empty_url, pool_size=2)
    yield sql
    sql.dispose()


def table_names(store: SqlStore) -> set[str]:
    with store.engine.connect() as connection:
        return set(inspect(connection).get_table_names()) - {"alembic_version"}


def schema_differences(store: SqlStore) -> list[object]:
    with store.engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect the lower(email) index, so it is not compared there; the contract
        # suite proves emails are unique case-insensitively on every store.
        warnings.filterwarnings("ignore", message=".*expression-based index")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_an_empty_database_is_upgraded_to_the_head_with_the_schema_the_code_uses(store: SqlStore) -> None:
    assert sql_schema.current(store) is None

    assert sql_schema.upgrade(store) == (None, sql_schema.head())

    assert sql_schema.current(store) == sql_schema.head()
    assert table_names(store) == TABLES
    assert schema_differences(store) == []
    # Upgrading again is a no-op.
    assert sql_schema.upgrade(store) == (sql_schema.head(), sql_schema.head())


def test_a_downgrade_and_upgrade_round_trip_restores_the_same_schema(store: SqlStore) -> None:
    sql_schema.upgrade(store)

    sql_schema.downgrade(store, "base")
    assert sql_schema.current(store) is None
    assert table_names(store) == set()

    sql_schema.upgrade(store)
    assert table_names(store) == TABLES
    assert schema_differences(store) == []


def test_a_schema_newer_than_the_code_is_refused_and_left_alone(store: SqlStore) -> None:
    sql_schema.upgrade(store)
    with store.writing() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))

    with pytest.raises(sql_schema.SchemaError, match="newer than this version"):
        sql_schema.upgrade(store)
    with pytest.raises(sql_schema.SchemaError, match="newer than this version"):
        sql_schema.require_current(store)
    assert sql_schema.current(store) == "9999_from_the_future"


def test_without_migrating_an_empty_or_old_schema_is_refused_with_the_way_out(store: SqlStore) -> None:
    with pytest.raises(sql_schema.SchemaError, match="reminders migrate"):
        sql_schema.require_current(store)
    sql_schema.upgrade(store)
    sql_schema.require_current(store)  # at the head: accepted


def test_instances_migrating_one_postgresql_database_at_once_do_not_race() -> None:
    """Four processes upgrade the same empty database at the same moment; the advisory lock lets
    one of them do it and the others find the work done."""
    with postgres_database(postgres_admin_url()) as url:
        script = (
            "import sys; from adapters.sql import connect; from adapters.sql import schema; "
            "s = connect(sys.argv[1], pool_size=1); print(schema.upgrade(s)); s.dispose()"
        )
        root = Path(__file__).resolve().parents[2]
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", script, url],
                cwd=root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        results = [process.communicate(timeout=60) for process in processes]

        assert [process.returncode for process in processes] == [0] * 4, [err for _, err in results]
        outputs = sorted(out.strip() for out, _ in results)
        head = sql_schema.head()
        assert outputs == sorted([f"(None, '{head}')"] + [f"('{head}', '{head}')"] * 3)
        store = connect(url, pool_size=1)
        try:
            assert table_names(store) == TABLES
        finally:
            store.dispose()
