"""Per-API-key rate limits: sends (send now, retry) and all writes, counted by `limits` in this
process's memory or in Redis, which every instance shares.

A request over a limit is answered 429 `rate_limited` with Retry-After before any route runs. The
caller is the actor the authentication put in the scope; a request without one, or from a system
actor (no API key), is not counted, and neither is any GET.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.redaction import redact
from entrypoints.http.problems import error_response

log = logging.getLogger("reminders.http.rate_limits")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Sending now and retrying page someone at once; they count against the send limit too.
_SEND_PATH = re.compile(r"^/(?:notifications/send/[^/]+|deliveries/[^/]+/retry)/?$")
# Redis on the local network answers within a millisecond: one slower than this counts as down,
# so a limit never holds a request for long.
REDIS_TIMEOUT_SECONDS = 0.5
# Once the storage has failed, requests go unchecked this long before it is tried again, so while
# Redis is down only one request in this time waits for the timeout.
RECHECK_SECONDS = 5.0
_MEMORY = "memory://"


@dataclass(frozen=True, slots=True)
class Limit:
    name: str  # "send" or "write": part of the counter's key, and of the message
    item: RateLimitItem

    def describe(self) -> str:
        """ "at most 10 a minute", "at most 3 every 2 hours"."""
        unit, every = self.item.GRANULARITY.name, self.item.multiples
        if every == 1:
            return f"at most {self.item.amount} {'an' if unit == 'hour' else 'a'} {unit}"
        return f"at most {self.item.amount} every {every} {unit}s"


@dataclass(frozen=True, slots=True)
class Refusal:
    limit: Limit
    retry_after: int  # whole seconds, at least 1

    @property
    def message(self) -> str:
        return (
            f"too many {self.limit.name}s with this API key: {self.limit.describe()}; "
            f"retry in {self.retry_after} s"
        )


class RateLimiter:
    """The send and write limits of each API key, over a storage given by URL: memory:// (this
    process alone) or redis:// / rediss:// (every instance on that Redis shares the counts, under
    `key_prefix`). Nothing connects until the first request is counted."""

    def __init__(
        self, *, storage: str, send_limit: str, write_limit: str, key_prefix: str = "reminders"
    ) -> None:
        self.storage_name = redact(storage)
        self.send = Limit("send", _parse(send_limit))
        self.write = Limit("write", _parse(write_limit))
        self._pool: redis.asyncio.ConnectionPool | None = None
        scheme = urlsplit(storage).scheme.lower()
        if storage == _MEMORY:
            backend: Storage = MemoryStorage()
        elif scheme in ("redis", "rediss"):
            self._pool = redis.asyncio.ConnectionPool.from_url(
                storage, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
            )
            # limits annotates its options as scalars, but hands them on to redis-py, which takes a
            # pool: ours, so its timeouts are ours and it can be closed at shutdown.
            options: dict[str, Any] = {"connection_pool": self._pool}
            backend = RedisStorage(
                f"async+{storage}",
                implementation="redispy",
                key_prefix=f"{key_prefix}:rate-limits",
                wrap_exceptions=True,
                **options,
            )
        else:
            raise ValueError(
                f"a rate-limit storage is memory:// or a redis:// or rediss:// URL, not {scheme!r}"
            )
        # The moving window: at most N in *any* minute. A fixed window would let a key send 2N in a
        # few seconds across the boundary of two windows, and sends page people. Retry-After is
        # then exact: when the oldest request in the window leaves it. Its cost, one timestamp per
        # request within the window (130 a key at the defaults), is small.
        self._strategy = MovingWindowRateLimiter(backend)
        self._unchecked_until: float | None = None  # set while the storage is failing

    async def check(self, key_id: str, *, send: bool) -> Refusal | None:
        """Counts one request of `key_id` (a send counts as a write too) and returns None, or the
        limit it would break. When the storage cannot be reached the request goes ahead: see
        `_storage_failed`."""
        if self._unchecked_until is not None and time.monotonic() < self._unchecked_until:
            return None
        try:
            refusal = await self._hit(key_id, (self.send, self.write) if send else (self.write,))
        except StorageError as error:
            self._storage_failed(error.storage_error)
            return None
        if self._unchecked_until is not None:
            self._unchecked_until = None
            log.info("rate-limit storage reachable again", extra={"storage": self.storage_name})
        return refusal

    async def _hit(self, key_id: str, limits: tuple[Limit, ...]) -> Refusal | None:
        # The narrower limit first: a send it refuses is not counted as a write. (One the write
        # limit refuses has used up a send: rare, the write limit being the larger by far.)
        for limit in limits:
            if not await self._strategy.hit(limit.item, limit.name, key_id):
                stats = await self._strategy.get_window_stats(limit.item, limit.name, key_id)
                return Refusal(limit, max(1, math.ceil(stats.reset_time - time.time())))
        return None

    def _storage_failed(self, error: Exception) -> None:
        """Fail open: the limits guard against a runaway client, while refusing every write would
        stop the service outright; and falling back to each process's own memory would quietly
        multiply the limits by the number of instances. So requests go ahead unlimited, said
        once in a warning (not once per request), and the storage is tried again now and then."""
        if self._unchecked_until is None:
            log.warning(
                "rate-limit storage unreachable: requests are not rate limited until it answers",
                extra={"storage": self.storage_name, "error": redact(f"{type(error).__name__}: {error}")},
            )
        self._unchecked_until = time.monotonic() + RECHECK_SECONDS

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


class RateLimitMiddleware:
    """Answers 429 `rate_limited` with Retry-After to a write over its API key's limit. Sits after
    the authentication, which puts the caller in `scope["state"]["actor"]`; closes the limiter's
    connections when the app shuts down."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing_at_shutdown(send))
            return
        key_id = _key_id(scope) if scope["type"] == "http" and scope["method"] in WRITE_METHODS else None
        if key_id is None:
            await self.app(scope, receive, send)
            return
        is_send = scope["method"] == "POST" and _SEND_PATH.match(scope["path"]) is not None
        refusal = await self.limiter.check(key_id, send=is_send)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        log.info(
            "rate limited",
            extra={"key_id": key_id, "limit": refusal.limit.name, "retry_after": refusal.retry_after},
        )
        headers = {"Retry-After": str(refusal.retry_after)}
        await error_response(429, refusal.message, None, headers)(scope, receive, send)

    def _closing_at_shutdown(self, send: Send) -> Send:
        async def send_after_closing(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await self.limiter.aclose()
            await send(message)

        return send_after_closing


def _parse(text: str) -> RateLimitItem:
    item = parse(text)  # ValueError when not a limit
    if item.amount < 1:
        raise ValueError(f"a rate limit allows at least one request, not {text!r}")
    return item


def _key_id(scope: Scope) -> str | None:
    """The API key of the caller, or None: no actor, or a system actor."""
    actor = scope.get("state", {}).get("actor")
    key_id = getattr(actor, "key_id", None)
    return key_id if isinstance(key_id, str) else None
