"""Dispatchers: where submitted commands run. A bounded pool of threads in the service; inline in tests."""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any

from application.commands import Command

log = logging.getLogger(__name__)

Target = Callable[[Command], Any]
_Job = tuple[contextvars.Context, Command]


class _Unbound:
    def __call__(self, command: Command) -> Any:
        raise RuntimeError("dispatcher used before bootstrap bound it to a bus")


class ThreadPoolDispatcher:
    """Runs each command on one of `workers` long-lived threads; submit() never blocks the caller.

    A plain queue and persistent workers, rather than concurrent.futures: no Future per command,
    which costs as much as a delivery through a fast channel and loads the garbage collector.
    A failing command is logged and does not stop its worker.
    """

    def __init__(self, *, workers: int) -> None:
        if workers < 1:
            raise ValueError("a dispatcher needs at least one worker")
        self._workers = workers
        self._queue: SimpleQueue[_Job | None] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self._target: Target = _Unbound()

    def bind(self, target: Target) -> None:
        self._target = target

    def submit(self, command: Command) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("dispatcher is shut down")
            if not self._threads:  # started on first use: nothing runs before it is needed
                self._threads = [
                    threading.Thread(target=self._work, name=f"delivery-{n}", daemon=True)
                    for n in range(self._workers)
                ]
                for thread in self._threads:
                    thread.start()
            # Queued under the lock, so it lands before the stop markers shutdown() puts after it.
            self._queue.put((contextvars.copy_context(), command))

    def shutdown(self) -> None:
        """Refuse new commands, let queued and running ones finish, then stop the workers."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join()

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            context, command = job
            try:
                context.run(self._target, command)
            except Exception:
                log.exception("dispatched command failed", extra={"command": type(command).__name__})


class InlineDispatcher:
    """Runs each command at once on the caller's thread: deterministic, for tests and tools."""

    def __init__(self) -> None:
        self._target: Target = _Unbound()

    def bind(self, target: Target) -> None:
        self._target = target

    def submit(self, command: Command) -> None:
        self._target(command)

    def shutdown(self) -> None:
        pass
