"""On SQLite the API's reads by id and the key's check run on the event loop (entrypoints/http/reads.py):
they must never wait for a writer. Another process holding SQLite's write lock for as long as it
likes leaves every read answering at once, and the write that follows still waits its turn."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from adapters.prometheus_metrics import PrometheusMetrics
from application.unit_of_work import UnitOfWork
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, RecordingChannel, make_service
from tests.stores import MakeStore, StoreUnderTest

# Far below the busy timeout a read would wait for if it took the write lock (10 s): a read that
# waited for the lock would take the whole timeout and then fail.
PROMPT_SECONDS = 2.0
# The threads a request may open a unit of work on: TestClient's event loop (it runs the app on a
# thread named asyncio-portal-…), or one of anyio's worker threads (run_in_threadpool).
PLACES = {"asyncio": "loop", "AnyIO worker thread": "thread"}


@pytest.fixture
def store(make_store: MakeStore) -> StoreUnderTest:
    return make_store("sqlite")


@pytest.fixture
def opened() -> list[str]:
    """The name of the thread that opened each unit of work, in order."""
    return []


@pytest.fixture
def service(
    clock: FixedClock,
    channel: RecordingChannel,
    metrics: PrometheusMetrics,
    store: StoreUnderTest,
    opened: list[str],
) -> Service:
    def watched() -> UnitOfWork:
        opened.append(threading.current_thread().name)
        return store.uow_factory()

    return make_service(clock=clock, channels={"recording": channel}, metrics=metrics, uow_factory=watched)


@pytest.fixture
def write_lock(store: StoreUnderTest) -> Iterator[sqlite3.Connection]:
    """Another process's connection in the middle of a write transaction, holding the lock."""
    assert store.url is not None
    path = Path(store.url.removeprefix("sqlite:///"))
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE teams SET name = name")
    yield other
    if other.in_transaction:
        other.execute("ROLLBACK")
    other.close()


def test_reads_answer_at_once_while_another_process_holds_the_write_lock(
    client: TestClient, admin_id: str, write_lock: sqlite3.Connection
) -> None:
    started = time.monotonic()
    answers = [
        client.get(f"/users/{admin_id}"),
        client.get("/users/"),
        client.get(f"/notifications/user/{admin_id}/"),
        client.get(f"/users/{admin_id}/keys"),
    ]
    took = time.monotonic() - started

    assert [answer.status_code for answer in answers] == [200, 200, 200, 200]
    assert answers[0].json()["id"] == admin_id
    assert took < PROMPT_SECONDS


def test_a_write_meanwhile_waits_for_the_lock_on_a_thread_and_then_goes_through(
    client: TestClient, admin_id: str, write_lock: sqlite3.Connection
) -> None:
    """The write is refused as the store being busy (503), or goes through once the lock is free:
    never a hang of the whole app. Here the lock is released while the write waits."""
    released = threading.Timer(0.5, write_lock.execute, ["ROLLBACK"])
    released.start()
    try:
        created = client.post("/users/", json={"name": "Bea", "email": "bea@example.com"})
    finally:
        released.join()

    assert created.status_code == 201
    assert client.get(f"/users/{created.json()['id']}").status_code == 200


def test_reads_by_id_and_the_keys_check_run_on_the_event_loop_and_lists_on_threads(
    client: TestClient, admin_id: str, opened: list[str]
) -> None:
    places = {}
    for path in (f"/users/{admin_id}", "/users/", f"/notifications/user/{admin_id}/"):
        opened.clear()
        assert client.get(path).status_code == 200
        # Other threads (the delivery worker's, the key-uses thread) open theirs at any moment.
        places[path] = [PLACES[name.split("-")[0]] for name in opened if name.split("-")[0] in PLACES]

    assert places == {
        f"/users/{admin_id}": ["loop", "loop"],
        "/users/": ["loop", "thread"],
        f"/notifications/user/{admin_id}/": ["loop", "thread"],
    }
