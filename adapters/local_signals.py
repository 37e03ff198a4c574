"""Queue signals within one process: a flag that wakes the local delivery worker, and per-delivery
listeners for requests waiting on an outcome. Safe to use from any thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

Listener = Callable[[], None]


class LocalSignals:
    def __init__(self) -> None:
        self._work = threading.Event()
        self._lock = threading.Lock()
        self._listeners: dict[str, list[Listener]] = {}

    def work_queued(self) -> None:
        self._work.set()

    def wait_for_work(self, timeout: float) -> bool:
        """Block until work is queued or `timeout` passes; True when woken by work (and clears the flag)."""
        woken = self._work.wait(timeout)
        self._work.clear()
        return woken

    def outcome_recorded(self, delivery_id: str) -> None:
        with self._lock:
            listeners = list(self._listeners.get(delivery_id, ()))
        for listener in listeners:
            listener()

    def listen(self, delivery_id: str, listener: Listener) -> Callable[[], None]:
        """Call `listener` (on the recording thread) each time an outcome of the delivery is recorded;
        returns the function that stops it."""
        with self._lock:
            self._listeners.setdefault(delivery_id, []).append(listener)

        def stop() -> None:
            with self._lock:
                remaining = self._listeners.get(delivery_id, [])
                if listener in remaining:
                    remaining.remove(listener)
                if not remaining:
                    self._listeners.pop(delivery_id, None)

        return stop
