"""The clock-tick: publishes CheckDueReminders(now) every interval, and knows whether it is keeping up.

It only publishes commands; everything it learns goes to /health and /metrics. A full batch means
a backlog, so it ticks again at once instead of waiting for the next interval. It also keeps the
ledger to its retention period: after a tick, now and then, it publishes PruneDeliveries for one
small batch of finished deliveries older than that (at once again while batches come back full),
of the records of action links used before their seven days ran out, and of the web sessions and
sign-in links that ended or expired more than a day before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta
from typing import Any, Self

from starlette.concurrency import run_in_threadpool

from application import views
from application.action_links import LINK_LIFETIME
from application.commands import CheckDueReminders, PruneDeliveries
from application.handlers.scheduling import TickResult
from entrypoints.bootstrap import Service

log = logging.getLogger("reminders.ticker")

# The scheduler is unhealthy when it has not completed a tick for this many intervals.
STALE_INTERVALS = 3
PRUNE_BATCH = 500
PRUNE_EVERY_SECONDS = 60.0
# Web sessions and sign-in links are kept this long after they ended or expired.
SIGN_INS_KEPT = timedelta(days=1)
_AFTER_THE_SECOND = 0.002


class Ticker:
    def __init__(
        self, *, service: Service, interval: float, keep_deliveries: timedelta | None = None
    ) -> None:
        self._service = service
        self._interval = interval
        self._keep = keep_deliveries
        self._next_prune = 0.0
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._started_at: float | None = None
        self.last_tick_at: datetime | None = None
        self._last_tick_monotonic: float | None = None
        self.last_tick_duration_ms: float | None = None

    def tick(self) -> TickResult:
        """One tick, on the caller's thread."""
        clock = self._service.clock
        began = time.perf_counter()
        now = clock.now()
        result: TickResult = self._service.bus.handle(CheckDueReminders(now=now))
        duration = time.perf_counter() - began
        backlog = views.count_due(self._service.uow_factory, now)
        self._service.metrics.tick_finished(duration_seconds=duration, backlog=backlog)
        self.last_tick_at, self._last_tick_monotonic = now, time.monotonic()
        self.last_tick_duration_ms = round(duration * 1000, 3)
        self._prune(now)
        return result

    def _prune(self, now: datetime) -> None:
        if self._keep is None or time.monotonic() < self._next_prune:
            return
        try:
            pruned: int = self._service.bus.handle(
                PruneDeliveries(
                    before=now - self._keep,
                    limit=PRUNE_BATCH,
                    links_used_before=now - LINK_LIFETIME,
                    sign_ins_before=now - SIGN_INS_KEPT,
                )
            )
        except Exception:
            log.exception("pruning old deliveries failed")
            pruned = 0
        if pruned:
            log.info("old deliveries pruned", extra={"pruned": pruned})
        self._next_prune = time.monotonic() + (0.0 if pruned == PRUNE_BATCH else PRUNE_EVERY_SECONDS)

    async def run(self) -> None:
        """Tick until stopped; a tick in progress always finishes, so nothing it fired is left behind."""
        self._started_at = time.monotonic()
        while not self._stopping.is_set():
            began = time.monotonic()
            more = False
            try:
                more = (await run_in_threadpool(self.tick)).more
            except Exception:
                log.exception("tick failed")
            if not more:
                pause = self._pause(began)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=pause)

    def _pause(self, began: float) -> float:
        """Until the next whole multiple of the interval on the wall clock (just after it), so slots,
        which fall on whole seconds, fire as they come due rather than up to an interval late."""
        interval = self._interval
        if interval < 1 or interval % 1:
            return max(0.0, interval - (time.monotonic() - began))
        return interval - (time.time() % interval) + _AFTER_THE_SECOND

    def health(self) -> dict[str, Any]:
        reference = self._last_tick_monotonic or self._started_at
        since = None if reference is None else time.monotonic() - reference
        stale = since is None or since > STALE_INTERVALS * self._interval
        return {
            "status": "unavailable" if stale else "ok",
            "enabled": True,
            "last_tick_at": self.last_tick_at.isoformat() if self.last_tick_at else None,
            "seconds_since_last_tick": None if since is None else round(since, 3),
            "last_tick_duration_ms": self.last_tick_duration_ms,
        }

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self.run(), name="ticker")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._stopping.set()
            await self._task
            self._task = None


def disabled_scheduler_health() -> dict[str, Any]:
    return {
        "status": "ok",
        "enabled": False,
        "last_tick_at": None,
        "seconds_since_last_tick": None,
        "last_tick_duration_ms": None,
    }
