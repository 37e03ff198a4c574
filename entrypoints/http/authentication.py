"""Bearer-key authentication: every request but the public ones acts as the user of a valid key.

A pure ASGI middleware, so everything after it (the rate limits, every route) finds the caller in
`scope["state"]["actor"]`. Routes only read that actor and put it in their commands; what the
actor may do is the application's policy, never decided here.

The signed action links in messages (/links/...) are public too: each carries its own permission,
checked by the application when it is used.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from application.authentication import identify
from application.unit_of_work import StoreUnavailable
from domain.errors import Unauthorized
from entrypoints.bootstrap import Service
from entrypoints.http import routes_links
from entrypoints.http.key_uses import KeyUses
from entrypoints.http.problems import error_response
from entrypoints.http.reads import run_read

CHALLENGE = {"WWW-Authenticate": "Bearer"}


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp, *, public: Collection[str], public_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.public = frozenset(public)
        self.public_prefixes = (*public_prefixes, routes_links.PREFIX + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        scheme, _, presented = Headers(scope=scope).get("authorization", "").partition(" ")
        service: Service = scope["state"]["service"]
        try:
            if scheme.lower() != "bearer" or not presented.strip():
                raise Unauthorized("a valid API key is required: send Authorization: Bearer <key>")
            now = service.clock.now()
            identified = await run_read(
                scope["state"], identify, service.uow_factory, presented.strip(), now=now
            )
        except Unauthorized as refused:
            await error_response(401, refused.message, None, CHALLENGE)(scope, receive, send)
            return
        except StoreUnavailable:
            message = "the store is unavailable; try again shortly"
            await error_response(503, message, None, {"Retry-After": "1"})(scope, receive, send)
            return
        scope["state"]["actor"] = identified.actor
        try:
            await self.app(scope, receive, send)
        finally:
            if identified.use_due:  # a write, at most once a minute per key: after the request's own
                key_uses: KeyUses = scope["state"]["key_uses"]
                key_uses.note(identified.actor.key_id or "", now)

    def _is_public(self, path: str) -> bool:
        trimmed = path.rstrip("/") or "/"
        return trimmed in self.public or trimmed.startswith(self.public_prefixes)
