"""Assembling the HTTP server: the service, the ticker when enabled, and the app around them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from starlette.applications import Starlette

from adapters.prometheus_metrics import PrometheusMetrics
from entrypoints.bootstrap import Runtime, Service, bootstrap_runtime, open_store
from entrypoints.http.app import create_app
from entrypoints.settings import ServeSettings
from entrypoints.ticker import Ticker, disabled_scheduler_health

log = logging.getLogger("reminders.server")


def build_runtime(settings: ServeSettings) -> Runtime:
    """The store opened (and migrated unless --no-migrate) and the service wired over it.

    Raises ValueError for a malformed setting, SchemaError for a schema this code cannot use, and
    the driver's error when the database cannot be reached.
    """
    # A connection for each delivery worker, plus a few for the ticker and requests.
    store = open_store(settings, migrate=settings.migrate, pool_size=settings.delivery_concurrency + 4)
    try:
        runtime = bootstrap_runtime(settings, store)
    except BaseException:
        store.close()
        raise
    if runtime.channel_report["email"] == "log-only":
        log.warning("REMINDERS_SMTP_URL is not set: email reminders are written to the log, not sent")
    log.info("channels ready", extra={"channels": runtime.channel_report})
    return runtime


def build_app(settings: ServeSettings) -> Starlette:
    runtime = build_runtime(settings)
    return app_for(
        runtime.service,
        runtime.metrics,
        settings,
        channel_report=runtime.channel_report,
        store_kind=runtime.store.kind,
        closing=(runtime.store.close,),
    )


def app_for(
    service: Service,
    metrics: PrometheusMetrics,
    settings: ServeSettings,
    *,
    channel_report: dict[str, str] | None = None,
    store_kind: str = "memory",
    closing: tuple[Callable[[], None], ...] = (),
) -> Starlette:
    background: list[Any] = []
    if settings.scheduler_enabled:
        ticker = Ticker(service=service, interval=settings.tick_seconds)
        background.append(ticker)
        scheduler_check = ticker.health
    else:
        scheduler_check = partial(disabled_scheduler_health, service)
    report = channel_report or {name: "ok" for name in service.channels}
    return create_app(
        service=service,
        metrics=lambda: (metrics.exposition(), metrics.content_type),
        health_checks={"scheduler": scheduler_check, "channels": lambda: {"status": "ok", **report}},
        background=background,
        store_kind=store_kind,
        closing=closing,
    )
