"""`reminders worker`: delivery alone (claim and send) as its own process, against a shared store.

SIGTERM or Ctrl-C stops it within --shutdown-grace-seconds: it stops claiming, waits for the sends
in flight, and gives every claim it still holds back to the queue for another process or the next
start. A second signal exits at once; what it still held goes back when its lease ends.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

from entrypoints.bootstrap import Runtime, close_runtime
from entrypoints.server import delivery_worker
from entrypoints.settings import ServeSettings

log = logging.getLogger("reminders.worker")


def run_worker(runtime: Runtime, settings: ServeSettings) -> None:
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        name = signal.Signals(number).name
        if stop.is_set():
            log.warning("second %s: exiting now; claims still held go back when their lease ends", name)
            os._exit(1)
        grace = settings.shutdown_grace_seconds
        log.info("%s received: stopping within %g s", name, grace, extra={"grace_seconds": grace})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker = delivery_worker(runtime.service, settings)
    try:
        worker.start()
        log.info("delivery worker ready", extra={"store": runtime.store.kind, "worker": worker.name})
        while not stop.wait(0.5):
            pass
        worker.stop(settings.shutdown_grace_seconds)
    finally:
        close_runtime(runtime)
        log.info("stopped")
