"""Reads made on a thread running an event loop (the HTTP side's reads by id on SQLite) take their
connections from a pool of their own, which opens another rather than wait: however many
connections the threads hold, such a read never waits for one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from adapters.sql import SqlStore, connect
from adapters.sql import schema as sql_schema


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = connect(f"sqlite:///{tmp_path / 'reminders.db'}", pool_size=1)
    sql_schema.upgrade(opened)
    yield opened
    opened.dispose()


def test_reads_on_an_event_loop_never_wait_while_threads_hold_every_pooled_connection(
    store: SqlStore,
) -> None:
    assert store.loop_engine is not None
    with ExitStack() as held:
        # The threads' pool: one connection and one more of overflow, both taken.
        for _ in range(2):
            held.enter_context(store.engine.connect())

        async def three_reads_at_once() -> list[Connection]:
            return [held.enter_context(store.read_connection()) for _ in range(3)]

        on_loop = asyncio.run(asyncio.wait_for(three_reads_at_once(), timeout=5))

        assert {connection.engine for connection in on_loop} == {store.loop_engine}
        assert [
            connection.execute(text("SELECT count(*) FROM users")).scalar() for connection in on_loop
        ] == [0] * 3


def test_reads_elsewhere_use_the_threads_pool(store: SqlStore) -> None:
    with store.read_connection() as connection:
        assert connection.engine is store.engine
