"""Assembling the HTTP server: the service, the ticker when enabled, and the app around them."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.applications import Starlette

from adapters.prometheus_metrics import PrometheusMetrics
from entrypoints.bootstrap import Service, bootstrap_in_memory
from entrypoints.http.app import create_app
from entrypoints.settings import ServeSettings
from entrypoints.ticker import Ticker, disabled_scheduler_health


def build_app(settings: ServeSettings) -> Starlette:
    service, metrics = bootstrap_in_memory(settings)
    return app_for(service, metrics, settings)


def app_for(service: Service, metrics: PrometheusMetrics, settings: ServeSettings) -> Starlette:
    background: list[Any] = []
    if settings.scheduler_enabled:
        ticker = Ticker(service=service, interval=settings.tick_seconds)
        background.append(ticker)
        scheduler_check = ticker.health
    else:
        scheduler_check = partial(disabled_scheduler_health, service)
    return create_app(
        service=service,
        metrics=lambda: (metrics.exposition(), metrics.content_type),
        health_checks={"scheduler": scheduler_check},
        background=background,
    )
