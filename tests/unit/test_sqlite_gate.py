"""The SQLite write gate: one holder at a time, turns in the order asked, and a bounded wait."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from adapters.sql import engine
from adapters.sql.engine import SqliteGate


def wait_until_waiting(gate: SqliteGate, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(gate._waiting) < count:
        assert time.monotonic() < deadline, "the waiters never queued"
        time.sleep(0.001)


def test_turns_go_in_the_order_asked_and_a_releasing_holder_queues_behind_them() -> None:
    gate = SqliteGate()
    order: list[str] = []

    def take(name: str) -> None:
        with gate:
            order.append(name)

    gate.__enter__()
    threads = []
    for number, name in enumerate(["first", "second", "third"], start=1):
        thread = threading.Thread(target=take, args=(name,))
        thread.start()
        threads.append(thread)
        wait_until_waiting(gate, number)
    gate.__exit__()
    take("the holder again")
    for thread in threads:
        thread.join(timeout=5)

    assert order == ["first", "second", "third", "the holder again"]


def test_a_waiter_gives_up_after_the_timeout_and_the_gate_still_works() -> None:
    gate = SqliteGate(timeout=0.05)
    gate.__enter__()
    with pytest.raises(TimeoutError), gate:
        pass
    gate.__exit__()

    with gate:
        assert gate._held
    assert not gate._held


class Interrupt(BaseException):
    """What a signal handler raising in the waiting thread looks like."""


class InterruptedTurn:
    """A turn whose timed wait is interrupted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if timeout == -1:
            return self._lock.acquire(blocking)
        raise Interrupt

    def release(self) -> None:
        self._lock.release()


def test_a_waiter_interrupted_while_waiting_gives_up_its_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = SqliteGate()
    gate.__enter__()
    monkeypatch.setattr(engine, "threading", SimpleNamespace(Lock=InterruptedTurn))

    with pytest.raises(Interrupt), gate:
        pass
    gate.__exit__()

    assert not gate._waiting
    assert not gate._held
    monkeypatch.undo()
    with gate:
        assert gate._held
