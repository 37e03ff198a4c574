"""Where the HTTP side runs reads (entrypoints/http/reads.py), and how it records keys' uses
(entrypoints/http/key_uses.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import anyio
import pytest
from starlette.testclient import TestClient

from adapters.prometheus_metrics import PrometheusMetrics
from entrypoints.http.context import request_id
from entrypoints.http.key_uses import KeyUses
from entrypoints.http.reads import INLINE, run_read
from entrypoints.server import app_for
from entrypoints.settings import ServeSettings
from tests.fakes import make_service
from tests.unit.world import START


def thread_of_read(state: dict[str, object]) -> threading.Thread:
    return anyio.run(lambda: run_read(state, threading.current_thread))


def test_a_read_runs_on_the_event_loop_when_the_state_says_so_else_on_a_worker_thread() -> None:
    here = threading.current_thread()

    assert thread_of_read({INLINE: True}) is here
    assert thread_of_read({INLINE: False}) is not here
    assert thread_of_read({}) is not here


@pytest.mark.parametrize(("kind", "inline"), [("sqlite", True), ("postgresql", False), ("memory", False)])
def test_only_sqlite_reads_run_on_the_event_loop(kind: str, inline: bool) -> None:
    metrics = PrometheusMetrics()
    app = app_for(
        make_service(metrics=metrics), metrics, ServeSettings(scheduler_enabled=False), store_kind=kind
    )
    with TestClient(app) as client:
        assert client.app_state[INLINE] is inline


class Failing:
    """A unit of work factory that breaks, the first time only once released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        self.release.wait(5)
        raise RuntimeError("the store broke")


def eventually(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 5
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_one_write_per_key_is_pending_at_a_time_and_a_failed_one_is_logged_and_tried_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failed = "recording an API key's use failed"
    factory = Failing()
    uses = KeyUses(factory)  # type: ignore[arg-type]
    for _ in range(5):
        uses.note("k1", START)
    uses.note("k2", START)  # another key: a write of its own, after the first
    factory.release.set()
    assert eventually(lambda: caplog.text.count(failed) == 2)
    assert factory.calls == 2

    uses.note("k1", START)  # no longer pending once the failure is logged: tried again
    assert eventually(lambda: factory.calls == 3)

    uses.close()
    uses.note("k1", START)  # after closing: dropped, no error
    time.sleep(0.1)
    assert factory.calls == 3


def test_a_use_is_written_on_a_daemon_thread_with_the_requests_context(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A write stuck on a locked store never keeps the process from exiting, and its log line
    carries the id of the request that used the key."""
    seen: list[tuple[bool, str | None]] = []

    def factory() -> object:
        seen.append((threading.current_thread().daemon, request_id.get()))
        raise RuntimeError("the store broke")

    uses = KeyUses(factory)  # type: ignore[arg-type]
    token = request_id.set("req-42")
    try:
        uses.note("k1", START)
    finally:
        request_id.reset(token)
    assert eventually(lambda: seen == [(True, "req-42")])
    uses.close()


def test_closing_drops_the_uses_still_queued() -> None:
    factory = Failing()
    uses = KeyUses(factory)  # type: ignore[arg-type]
    uses.note("k1", START)
    assert eventually(lambda: factory.calls == 1)  # k1's write is under way, held by the store
    uses.note("k2", START)
    uses.note("k3", START)

    uses.close()
    factory.release.set()
    assert uses._thread is not None
    uses._thread.join(timeout=5)  # the thread ends once it has gone through the queue

    assert not uses._thread.is_alive()
    assert factory.calls == 1
