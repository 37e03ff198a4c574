"""Operational endpoints: /health and /openapi.json."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from application import views
from application.repositories import QueueStats
from entrypoints.bootstrap import Service
from entrypoints.http import context
from entrypoints.http.api import Operation, json_response
from entrypoints.http.schemas import CheckOut, HealthOut, UnhealthyOut

HealthCheck = Callable[[], dict[str, Any]]
MetricsExposition = Callable[[], tuple[bytes, str]]


def store_check(service: Service, kind: str) -> HealthCheck:
    """A real round trip to the store (`SELECT 1` on a database), naming which store it is."""

    def check() -> dict[str, Any]:
        started = time.perf_counter()
        try:
            views.ping_store(service.uow_factory)
        except Exception as error:
            # The type is enough to act on; the text may carry connection strings.
            return {"status": "unavailable", "store": kind, "error": type(error).__name__}
        return {"status": "ok", "store": kind, "latency_ms": round((time.perf_counter() - started) * 1000, 3)}

    return check


def observe_queue(service: Service) -> tuple[QueueStats, float]:
    """The queue's figures and the oldest due delivery's age in seconds, also set on the metrics."""
    now = service.clock.now()
    stats = views.queue_stats(service.uow_factory, now)
    age = max(0.0, (now - stats.oldest_due_at).total_seconds()) if stats.oldest_due_at else 0.0
    service.metrics.queue_observed(stats, oldest_due_age=age)
    return stats, age


def queue_check(service: Service, *, grace_seconds: float) -> HealthCheck:
    """The delivery queue: how much waits, and whether the oldest due delivery waits too long."""

    def check() -> dict[str, Any]:
        stats, age = observe_queue(service)
        result: dict[str, Any] = {
            "status": "ok",
            "pending": stats.pending,
            "due": stats.due,
            "in_flight": stats.in_flight,
            "oldest_due_age_seconds": round(age, 3),
        }
        if age > grace_seconds:
            result["status"] = "degraded"
            result["reason"] = (
                f"the oldest due delivery has waited {age:.0f} s to be claimed, longer than "
                f"--grace-seconds ({grace_seconds:g}); are delivery workers running?"
            )
        return result

    return check


def _run_all(checks: Mapping[str, HealthCheck]) -> dict[str, dict[str, Any]]:
    return {name: _run(check) for name, check in checks.items()}


def _run(check: HealthCheck) -> dict[str, Any]:
    try:
        return check()
    except Exception as error:
        # The type is enough to act on; the text may carry connection strings.
        return {"status": "unavailable", "error": type(error).__name__}


async def health(request: Request) -> Response:
    checks: Mapping[str, HealthCheck] = request.state.health_checks
    # One trip to a thread of the checks' own, so /health answers at once even while every thread
    # of the shared pool is busy with other requests.
    limiter: anyio.CapacityLimiter = request.state.health_threads
    found = await anyio.to_thread.run_sync(_run_all, checks, limiter=limiter)
    results = {name: CheckOut(**result) for name, result in found.items()}
    failing = sorted(name for name, result in results.items() if result.status not in ("ok", "degraded"))
    if not failing:
        reasons = [
            f"{name}: {result.reason}" for name, result in results.items() if result.status == "degraded"
        ]
        status = "degraded" if reasons else "ok"
        return json_response(
            HealthOut(status=status, reasons=reasons, version=request.state.version, checks=results)
        )
    body = UnhealthyOut(
        code="unavailable",
        message=f"failing checks: {', '.join(failing)}",
        details=None,
        request_id=context.request_id.get(),
        status="unavailable",
        version=request.state.version,
        checks=results,
    )
    return json_response(body, 503)


async def openapi(request: Request) -> Response:
    return JSONResponse(request.state.openapi)


async def metrics(request: Request) -> Response:
    exposition: MetricsExposition = request.state.metrics
    body, content_type = await run_in_threadpool(exposition)
    return Response(body, media_type=content_type)


OPERATIONS = [
    Operation("GET", "/health", health, "Service health, with each dependency's check", "operations",
              response=HealthOut, errors=(503,), error_models=((503, UnhealthyOut),), public=True),
    Operation("GET", "/openapi.json", openapi, "This document", "operations", public=True),
    Operation("GET", "/metrics", metrics, "Metrics in the Prometheus text format", "operations",
              media_type="text/plain", public=True),
]  # fmt: skip
