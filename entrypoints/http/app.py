"""The Starlette application: routes, middleware, exception handlers and the lifespan."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from importlib.metadata import version as installed_version
from typing import Any
from urllib.parse import urlsplit

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware

from entrypoints.bootstrap import Service
from entrypoints.http import (
    routes_access,
    routes_deliveries,
    routes_docs,
    routes_links,
    routes_ops,
    routes_reminders,
    routes_schedules,
    routes_users,
)
from entrypoints.http.api import routes
from entrypoints.http.authentication import AuthenticationMiddleware
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.key_uses import KeyUses
from entrypoints.http.middleware import BodyLimitMiddleware, RequestContextMiddleware, TrailingSlashMiddleware
from entrypoints.http.openapi import build_openapi
from entrypoints.http.rate_limits import RateLimiter, RateLimitMiddleware
from entrypoints.http.reads import INLINE, INLINE_STORES
from entrypoints.http.routes_ops import HealthCheck, MetricsExposition, store_check
from entrypoints.web import app as web_app

MAX_BODY_BYTES = 64 * 1024
# Threads for requests' store work (anyio's default is 40). More than this only wait for the GIL,
# a pooled connection or SQLite's write lock, and make /health wait with them.
REQUEST_THREADS = 16
# Threads of their own for /health and for requests waiting on a delivery, so neither waits
# behind the other, nor behind the requests' threads.
HEALTH_THREADS = 2
WAITING_THREADS = 4
# Every thread the HTTP side may have in the store at once: the pool needs a connection for each.
# (The event loop's reads on SQLite have connections of their own: adapters/sql/engine.py.)
HTTP_STORE_THREADS = REQUEST_THREADS + HEALTH_THREADS + WAITING_THREADS
OPERATIONS = [
    *routes_users.OPERATIONS,
    *routes_reminders.OPERATIONS,
    *routes_schedules.OPERATIONS,
    *routes_deliveries.OPERATIONS,
    *routes_access.OPERATIONS,
    *routes_ops.OPERATIONS,
    *routes_docs.OPERATIONS,
]


def service_version() -> str:
    return installed_version("team-reminders")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def create_app(
    *,
    service: Service,
    metrics: MetricsExposition,
    health_checks: Mapping[str, HealthCheck] | None = None,
    background: Sequence[AbstractAsyncContextManager[Any]] = (),
    store_kind: str = "memory",
    closing: Sequence[Callable[[], None]] = (),
    send_wait_seconds: float = 10.0,
    stopping: threading.Event | None = None,
    rate_limiter: RateLimiter | None = None,
    public_url: str = "http://127.0.0.1:8000",
) -> Starlette:
    """`background` runs for the app's lifetime (the ticker, the delivery worker); on shutdown each
        of `closing` runs after them (the store's connections close last). `stopping` is set when the
        server is asked to stop: requests waiting on a delivery answer at once. `public_url` is where
    people reach the service: emailed sign-in links point there, never at a request's Host header."""
    stopping = stopping or threading.Event()
    version = service_version()
    checks = {"store": store_check(service, store_kind), **(health_checks or {})}
    spec = build_openapi(OPERATIONS, title="Team Reminder Service", version=version)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
        async with AsyncExitStack() as stack:
            for close_store in closing:
                stack.callback(close_store)
            key_uses = KeyUses(service.uow_factory)
            stack.callback(key_uses.close)
            for channel in service.channels.values():
                close = getattr(channel, "close", None)  # channels holding connections
                if close is not None:
                    stack.callback(close)
            for context in background:
                await stack.enter_async_context(context)
            yield {
                "service": service,
                "health_checks": checks,
                "openapi": spec,
                "version": version,
                "metrics": metrics,
                "send_wait_seconds": send_wait_seconds,
                "stopping": stopping,
                "health_threads": anyio.CapacityLimiter(HEALTH_THREADS),
                "waiting_threads": anyio.CapacityLimiter(WAITING_THREADS),
                "rate_limiter": rate_limiter,
                "key_uses": key_uses,
                INLINE: store_kind in INLINE_STORES,
                "public_url": public_url.rstrip("/"),
                "public_origin": _origin(public_url),
            }

    app = Starlette(
        # The docs page, the action links' pages and the web app are not API operations.
        routes=[*routes(OPERATIONS), *routes_docs.ROUTES, *routes_links.ROUTES, *web_app.routes()],
        middleware=[
            Middleware(RequestContextMiddleware),
            Middleware(TrailingSlashMiddleware),
            # Before the body limit: a caller without a key gets 401, and nothing is buffered for it.
            Middleware(
                AuthenticationMiddleware,
                public=[op.route_path for op in OPERATIONS if op.public] + [routes_docs.DOCS, web_app.PREFIX],
                # The web app's pages check their own session cookie instead.
                public_prefixes=(routes_docs.ASSETS + "/", web_app.PREFIX + "/"),
            ),
            Middleware(BodyLimitMiddleware, limit=MAX_BODY_BYTES),
            # Last: it counts the caller that the authentication before it has put in the scope.
            *([Middleware(RateLimitMiddleware, limiter=rate_limiter)] if rate_limiter is not None else []),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    return app
