"""`reminders tick`: the scheduler as its own process, against a store other processes share.

It fires due reminders exactly as the ticker inside `reminders serve` does (a slot taken by another
process is skipped, never sent twice) and leaves what it fired in the delivery queue, for the
workers (`reminders worker`, or `reminders serve`) to send. SIGTERM or Ctrl-C stops it after the
tick in progress, saying whether one is; a second signal exits at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from datetime import timedelta

from application.handlers.scheduling import TickResult
from entrypoints.bootstrap import Runtime, bootstrap_runtime, close_runtime, open_store
from entrypoints.settings import ServeSettings
from entrypoints.ticker import Ticker

log = logging.getLogger("reminders.tick")

# One tick runs at a time, on one thread: a connection for it, and one to spare.
_POOL_SIZE = 2


def open_runtime(settings: ServeSettings) -> Runtime:
    """The store (migrated unless --no-migrate) and the service over it. A tick sends nothing, so
    unlike `serve` and `worker` it has nothing to say about channels."""
    store = open_store(settings, migrate=settings.migrate, pool_size=_POOL_SIZE)
    try:
        return bootstrap_runtime(settings, store)
    except BaseException:
        store.close()
        raise


class _WatchedTicker(Ticker):
    """The ticker, knowing whether a tick is running, so that a stop can say what it waits for."""

    ticking_since: float | None = None

    def tick(self) -> TickResult:
        self.ticking_since = time.monotonic()
        try:
            return super().tick()
        finally:
            self.ticking_since = None


async def _run(runtime: Runtime, interval: float, keep: timedelta) -> None:
    stop = asyncio.Event()
    ticker = _WatchedTicker(service=runtime.service, interval=interval, keep_deliveries=keep)

    def on_signal(number: signal.Signals) -> None:
        if stop.is_set():
            log.warning(
                "second %s: exiting now; what a tick cut short left uncommitted, the next tick does",
                number.name,
            )
            os._exit(1)
        since = ticker.ticking_since
        if since is None:
            log.info("%s received: stopping; no tick in progress", number.name)
        else:
            running = time.monotonic() - since
            log.info(
                "%s received: stopping once the tick in progress ends (running for %.1f s)",
                number.name,
                running,
                extra={"tick_running_seconds": round(running, 3)},
            )
        stop.set()

    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, on_signal, number)
    log.info("scheduler started", extra={"store": runtime.store.kind, "tick_seconds": interval})
    async with ticker:
        await stop.wait()


def run_ticker(runtime: Runtime, *, interval: float, keep: timedelta) -> None:
    try:
        asyncio.run(_run(runtime, interval, keep))
    finally:
        close_runtime(runtime)
        log.info("stopped")
