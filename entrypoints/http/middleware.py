"""Pure ASGI middleware: request ids and access logs, trailing slashes, and the body size limit."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http import context
from entrypoints.http.problems import error_response
from entrypoints.http.routes_links import masked

log = logging.getLogger("reminders.http")

# Letters, digits and . _ : - only: safe to echo in a header, to log, and to paste into a log search
# (no quotes, slashes, wildcards or separators a log query or a header parser would read as syntax).
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestContextMiddleware:
    """Gives every request an id (the client's, when sane), logs its entry and exit, and turns any
    unhandled exception into a 500 in the one error shape: no traceback ever reaches the client."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = Headers(scope=scope).get("x-request-id", "")
        request_id = offered if _SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        token = context.request_id.set(request_id)
        # A signed link's path is its secret: logged masked.
        where = {"method": scope["method"], "path": masked(scope["path"])}
        started = time.perf_counter()
        response: dict[str, int] = {}
        # At DEBUG: at the default level one line per request (below) says everything, and a second
        # JSON line per request cost a fifth of the event loop's time under load.
        log.debug("request started", extra=where)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra=where)
            if "status" in response:
                raise
            await error_response(500, "internal error")(scope, receive, send_with_id)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            status = response.get("status", 500)
            log.info("request finished", extra={**where, "status": status, "duration_ms": duration_ms})
            context.request_id.reset(token)


class TrailingSlashMiddleware:
    """Every path answers with and without its trailing slash, without a redirect."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/") or "/"}
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuses bodies over `limit` bytes before any route runs: at once when Content-Length says so,
    else as soon as the streamed body passes the limit. A body within the limit is replayed whole."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)  # the client went away
                return
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], then=receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(413, f"the request body is larger than {self.limit} bytes")(scope, receive, send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
