"""`reminders tick`: the scheduler as its own process, against a store other processes share.

It fires due reminders exactly as the ticker inside `reminders serve` does (a slot taken by another
process is skipped, never sent twice) and delivers what it fired on its own worker pool. SIGTERM
or Ctrl-C stops it after the tick in progress; the deliveries already queued are finished first.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from entrypoints.bootstrap import Runtime
from entrypoints.ticker import Ticker

log = logging.getLogger("reminders.tick")


async def _run(runtime: Runtime, interval: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    log.info("scheduler started", extra={"store": runtime.store.kind, "tick_seconds": interval})
    async with Ticker(service=runtime.service, interval=interval):
        await stop.wait()
        log.info("stopping: finishing the tick in progress")
    log.info("scheduler stopped; finishing queued deliveries")
    await asyncio.to_thread(runtime.service.dispatcher.shutdown)


def run_ticker(runtime: Runtime, *, interval: float) -> None:
    try:
        asyncio.run(_run(runtime, interval))
    finally:
        runtime.store.close()
        for channel in runtime.service.channels.values():
            close = getattr(channel, "close", None)
            if close is not None:
                close()
        log.info("stopped")
