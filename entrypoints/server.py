"""Assembling the HTTP server: the service, the ticker and the delivery worker when enabled, and the
app around them."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Self

from starlette.applications import Starlette

from adapters.prometheus_metrics import PrometheusMetrics
from application.commands import StartFirstTeam
from entrypoints.bootstrap import Runtime, Service, bootstrap_runtime, close_runtime, open_store
from entrypoints.delivery_worker import DeliveryWorker, WorkerConfig
from entrypoints.http.app import HTTP_STORE_THREADS, create_app
from entrypoints.http.rate_limits import RateLimiter
from entrypoints.http.routes_ops import observe_queue, queue_check
from entrypoints.settings import ServeSettings
from entrypoints.ticker import Ticker, disabled_scheduler_health

log = logging.getLogger("reminders.server")


def build_runtime(settings: ServeSettings) -> Runtime:
    """The store opened (and migrated unless --no-migrate) and the service wired over it.

    Raises ValueError for a malformed setting, SchemaError for a schema this code cannot use, and
    the driver's error when the database cannot be reached.
    """
    # A connection for every thread that is usually in the store at once: the HTTP side's, the
    # worker's claimer and recorder, the ticker, and a sender recording a run of host-less
    # claims (more such senders at once borrow from the pool's overflow).
    store = open_store(settings, migrate=settings.migrate, pool_size=HTTP_STORE_THREADS + 4)
    try:
        runtime = bootstrap_runtime(settings, store)
    except BaseException:
        store.close()
        raise
    if runtime.channel_report["email"] == "log-only":
        log.warning("REMINDERS_SMTP_URL is not set: email reminders are written to the log, not sent")
    if settings.allow_private_targets:
        log.warning(
            "--allow-private-targets is on: webhook, Slack and Apprise targets may reach loopback "
            "and private addresses; use it for local development and tests only"
        )
    log.info("channels ready", extra={"channels": runtime.channel_report})
    return runtime


def worker_name() -> str:
    """Unique among the processes sharing a database: host, process id and a random part."""
    return f"{os.uname().nodename}:{os.getpid()}:{os.urandom(3).hex()}"


def delivery_worker(service: Service, settings: ServeSettings) -> DeliveryWorker:
    return DeliveryWorker(
        service=service,
        signals=service.signals,
        config=WorkerConfig(
            name=worker_name(),
            concurrency=settings.delivery_concurrency,
            per_target=settings.per_target_concurrency,
            lease_seconds=settings.delivery_lease_seconds,
            send_timeout_seconds=settings.channel_timeout_seconds,
            poll_seconds=min(0.25, settings.tick_seconds),
        ),
    )


class RunningWorker:
    """The delivery worker for the app's lifetime. It starts stopping as soon as `stopping` is set
    (the server received SIGTERM), not only when the lifespan ends after the last connection."""

    def __init__(self, worker: DeliveryWorker, *, grace: float, stopping: threading.Event) -> None:
        self.worker = worker
        self._grace = grace
        self._stopping = stopping
        self._watch: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self.worker.start()
        self._watch = asyncio.create_task(self._stop_when_asked(), name="delivery-worker-stop")
        return self

    async def _stop_when_asked(self) -> None:
        while not self._stopping.is_set():
            await asyncio.sleep(0.1)
        await asyncio.to_thread(self.worker.stop, self._grace)

    async def __aexit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._watch is not None:
            await self._watch


def start_first_team(service: Service, settings: ServeSettings) -> None:
    """On a store with no team: the `default` team and its admin, whose key is printed on stderr
    once (never logged), so a newcomer can call the API within seconds of the first start."""
    created = service.bus.handle(StartFirstTeam(webhook_secret=settings.webhook_secret))
    if created is not None:
        log.info("created the default team and its admin", extra={"team_id": created.team.id})
        print(f"web app: {settings.link_base_url}/app/ (sign in with this key)", file=sys.stderr)
        print(f"admin API key (shown once): {created.issued.plain}", file=sys.stderr, flush=True)


def build_app(settings: ServeSettings, *, stopping: threading.Event | None = None) -> Starlette:
    runtime = build_runtime(settings)
    try:
        start_first_team(runtime.service, settings)
    except BaseException:
        close_runtime(runtime)
        raise
    return app_for(
        runtime.service,
        runtime.metrics,
        settings,
        channel_report=runtime.channel_report,
        store_kind=runtime.store.kind,
        closing=(runtime.store.close,),
        stopping=stopping,
    )


def app_for(
    service: Service,
    metrics: PrometheusMetrics,
    settings: ServeSettings,
    *,
    channel_report: dict[str, str] | None = None,
    store_kind: str = "memory",
    closing: tuple[Callable[[], None], ...] = (),
    stopping: threading.Event | None = None,
) -> Starlette:
    stopping = stopping or threading.Event()
    background: list[Any] = []
    if settings.scheduler_enabled:
        keep = timedelta(days=settings.keep_deliveries_days)
        ticker = Ticker(service=service, interval=settings.tick_seconds, keep_deliveries=keep)
        background.append(ticker)
        scheduler_check = ticker.health
    else:
        scheduler_check = disabled_scheduler_health
    checks: dict[str, Callable[[], dict[str, Any]]] = {"scheduler": scheduler_check}
    if settings.delivery_enabled:
        worker = delivery_worker(service, settings)
        background.append(RunningWorker(worker, grace=settings.shutdown_grace_seconds, stopping=stopping))
    report = channel_report or {name: "ok" for name in service.channels}
    checks["queue"] = queue_check(service, grace_seconds=settings.grace_seconds)
    checks["channels"] = lambda: {"status": "ok", **report}

    def exposition() -> tuple[bytes, str]:
        observe_queue(service)  # the queue gauges as of this scrape
        return metrics.exposition(), metrics.content_type

    return create_app(
        service=service,
        metrics=exposition,
        health_checks=checks,
        background=background,
        store_kind=store_kind,
        closing=closing,
        send_wait_seconds=settings.send_wait_seconds,
        stopping=stopping,
        public_url=settings.link_base_url,
        rate_limiter=RateLimiter(
            storage=settings.rate_limit_storage,
            send_limit=settings.send_rate_limit,
            write_limit=settings.write_rate_limit,
        ),
    )
