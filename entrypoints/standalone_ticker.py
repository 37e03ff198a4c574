"""`reminders tick`: the scheduler as its own process, against a store other processes share.

It fires due reminders exactly as the ticker inside `reminders serve` does (a slot taken by another
process is skipped, never sent twice) and leaves what it fired in the delivery queue, for the
workers (`reminders worker`, or `reminders serve`) to send. SIGTERM or Ctrl-C stops it after the
tick in progress.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from entrypoints.bootstrap import Runtime, close_runtime
from entrypoints.ticker import Ticker

log = logging.getLogger("reminders.tick")


async def _run(runtime: Runtime, interval: float, keep: timedelta) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    log.info("scheduler started", extra={"store": runtime.store.kind, "tick_seconds": interval})
    async with Ticker(service=runtime.service, interval=interval, keep_deliveries=keep):
        await stop.wait()
        log.info("stopping: finishing the tick in progress")


def run_ticker(runtime: Runtime, *, interval: float, keep: timedelta) -> None:
    try:
        asyncio.run(_run(runtime, interval, keep))
    finally:
        close_runtime(runtime)
        log.info("stopped")
