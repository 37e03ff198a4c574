"""Dispatchers: where submitted commands run. A bounded thread pool in the service; inline in tests."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from application.commands import Command

log = logging.getLogger(__name__)

Target = Callable[[Command], Any]


class _Unbound:
    def __call__(self, command: Command) -> Any:
        raise RuntimeError("dispatcher used before bootstrap bound it to a bus")


class ThreadPoolDispatcher:
    """Runs each command on one of `workers` threads; submit() never blocks the caller."""

    def __init__(self, *, workers: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="delivery")
        self._target: Target = _Unbound()

    def bind(self, target: Target) -> None:
        self._target = target

    def submit(self, command: Command) -> None:
        context = contextvars.copy_context()
        future = self._executor.submit(context.run, self._target, command)
        future.add_done_callback(_log_failure)

    def shutdown(self) -> None:
        """Let running and queued commands finish."""
        self._executor.shutdown(wait=True)


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


def _log_failure(future: Future[Any]) -> None:
    error = future.exception()
    if error is not None:
        log.error("dispatched command failed", exc_info=error)
