"""The status page: the scheduler's, the queue's and the store's figures, as /health reads them, and
the team's deliveries per hour over the last day as a chart drawn on the server (no script).

Admins only: the application's views refuse anyone else before a figure is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application import web_views
from entrypoints.http.api import service
from entrypoints.web.actions import read
from entrypoints.web.chart import build_chart
from entrypoints.web.pages import page
from entrypoints.web.rendering import render, zone_of

HealthCheck = Callable[[], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Scheduler:
    state: str  # in words
    healthy: bool
    last_tick_at: datetime | None
    seconds_since_last_tick: float | None
    last_tick_ms: float | None


@dataclass(frozen=True, slots=True)
class Store:
    kind: str
    healthy: bool
    latency_ms: float | None


@page
async def show_status(request: Request) -> Response:
    now = service(request).clock.now()
    figures = await read(request, web_views.service_figures, now=now)  # the policy's refusal comes first
    counts = await read(request, web_views.delivery_chart, now=now)
    checks: Mapping[str, HealthCheck] = getattr(request.state, "health_checks", {})
    found = await run_in_threadpool(_run, checks, ("scheduler", "store"))
    oldest = figures.queue.oldest_due_at
    return render(
        request,
        "status/status.html",
        figures=figures,
        oldest_wait=None if oldest is None else max(0.0, (now - oldest).total_seconds()),
        scheduler=_scheduler(found["scheduler"]),
        store=_store(found["store"]),
        chart=build_chart(counts, now=now, zone=zone_of(request)),
    )


def _run(checks: Mapping[str, HealthCheck], names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name in names:
        check = checks.get(name)
        try:
            found[name] = check() if check is not None else {}
        except Exception:  # as /health does: a failing check is a figure, not a failing page
            found[name] = {"status": "unavailable"}
    return found


def _scheduler(result: dict[str, Any]) -> Scheduler:
    healthy = result.get("status") == "ok"
    if not result.get("enabled", False):
        state = "Not running in this process"
    else:
        state = "Running" if healthy else "Not ticking"
    raw = result.get("last_tick_at")
    return Scheduler(
        state=state,
        healthy=healthy,
        last_tick_at=datetime.fromisoformat(raw) if isinstance(raw, str) else None,
        seconds_since_last_tick=result.get("seconds_since_last_tick"),
        last_tick_ms=result.get("last_tick_duration_ms"),
    )


def _store(result: dict[str, Any]) -> Store:
    return Store(
        kind=str(result.get("store", "unknown")),
        healthy=result.get("status") == "ok",
        latency_ms=result.get("latency_ms"),
    )


ROUTES = [Route("/status", show_status, methods=["GET"])]
