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


def test_one_write_per_key_is_pending_at_a_time_and_a_failed_one_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failed = "recording an API key's use failed"
    factory = Failing()
    uses = KeyUses(factory)  # type: ignore[arg-type]
    try:
        for _ in range(5):
            uses.note("k1", START)
        factory.release.set()
        assert eventually(lambda: failed in caplog.text)
        assert factory.calls == 1

        uses.note("k1", START)  # no longer pending: tried again
        assert eventually(lambda: factory.calls == 2)
    finally:
        uses.close()
    uses.note("k1", START)  # after closing: dropped, no error
