"""Assembling the HTTP server: the service, the ticker when enabled, and the app around them."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from starlette.applications import Starlette

from adapters.prometheus_metrics import PrometheusMetrics
from entrypoints.bootstrap import Service, bootstrap_in_memory
from entrypoints.http.app import create_app
from entrypoints.settings import ServeSettings
from entrypoints.ticker import Ticker, disabled_scheduler_health

log = logging.getLogger("reminders.server")


def build_app(settings: ServeSettings) -> Starlette:
    """Raises ValueError when a channel setting is malformed."""
    runtime = bootstrap_in_memory(settings)
    if runtime.channel_report["email"] == "log-only":
        log.warning("REMINDERS_SMTP_URL is not set: email reminders are written to the log, not sent")
    log.info("channels ready", extra={"channels": runtime.channel_report})
    return app_for(runtime.service, runtime.metrics, settings, channel_report=runtime.channel_report)


def app_for(
    service: Service,
    metrics: PrometheusMetrics,
    settings: ServeSettings,
    *,
    channel_report: dict[str, str] | None = None,
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
    )
