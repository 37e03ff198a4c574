"""Per-API-key rate limits in front of a tiny app, counted in memory and in a real Redis: sends and
writes each have a limit, a refusal is 429 `rate_limited` with Retry-After, instances on one Redis
share the counts, and a Redis out of reach lets requests through.

Redis is reached through REMINDERS_TEST_REDIS_URL (default redis://127.0.0.1:6379/0; `.ci/run` sets
it), each test under keys of its own, deleted after it. A Redis that does not answer skips those
tests, saying so, unless CI is set: there a skip would hide a storage never exercised, so they fail.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2
import pytest
import redis
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.redaction import redact
from entrypoints.http import rate_limits
from entrypoints.http.middleware import RequestContextMiddleware
from entrypoints.http.rate_limits import RateLimiter, RateLimitMiddleware
from entrypoints.settings import ServeSettings
from tests.integration.tcp_proxy import TcpProxy

REDIS_ENV = "REMINDERS_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
KEY = "x-test-key"  # the stub authentication's caller: an API key id, or "system"


@dataclass(frozen=True)
class Actor:
    key_id: str | None
    user_id: str | None = "u-1"
    team_id: str = "t-1"


class StubAuthentication:
    """Stands in for the authentication: the actor of the X-Test-Key header, as the real one puts it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = Headers(scope=scope).get(KEY) if scope["type"] == "http" else None
        if key is not None:
            scope.setdefault("state", {})["actor"] = Actor(key_id=None if key == "system" else key)
        await self.app(scope, receive, send)


async def ok(request: Request) -> JSONResponse:
    return JSONResponse({"path": request.url.path})


def tiny_app(limiter: RateLimiter) -> Starlette:
    return Starlette(
        routes=[
            Route("/notifications/send/{reminder_id}", ok, methods=["POST"]),
            Route("/deliveries/{delivery_id}/retry", ok, methods=["POST"]),
            Route("/users", ok, methods=["GET", "POST"]),
            Route("/users/{user_id}", ok, methods=["GET", "PUT", "PATCH", "DELETE"]),
        ],
        middleware=[
            Middleware(RequestContextMiddleware),
            Middleware(StubAuthentication),
            Middleware(RateLimitMiddleware, limiter=limiter),
        ],
    )


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV, DEFAULT_REDIS_URL)
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) as client:
            client.ping()
    except redis.RedisError as error:
        reason = (
            f"the Redis rate-limit tests need a Redis: {redact(url)} did not answer "
            f"({type(error).__name__}); set {REDIS_ENV}, e.g. {REDIS_ENV}={DEFAULT_REDIS_URL}"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must exercise the Redis storage: {reason}")
        pytest.skip(reason)
    return url


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> str:
    return "memory://" if request.param == "memory" else request.getfixturevalue("redis_url")


MakeLimiter = Callable[..., RateLimiter]


@pytest.fixture
def make_limiter(storage: str) -> Iterator[MakeLimiter]:
    """Limiters on `storage`, all under this test's own key prefix: on Redis they share counts."""
    prefix = f"reminders-test-{uuid.uuid4().hex[:12]}"

    def make(
        send_limit: str = "10/minute", write_limit: str = "120/minute", *, through: str | None = None
    ) -> RateLimiter:
        """`through`: the same Redis at another URL (a proxy)."""
        return RateLimiter(
            storage=through or storage, send_limit=send_limit, write_limit=write_limit, key_prefix=prefix
        )

    yield make
    if storage != "memory://":
        with redis.Redis.from_url(storage) as client:
            keys = list(client.scan_iter(match=f"{prefix}:*"))
            if keys:
                client.delete(*keys)


def send(http: TestClient, key: str | None = "k1", reminder: str = "r1") -> httpx2.Response:
    return http.post(f"/notifications/send/{reminder}", headers={KEY: key} if key else {})


def write(http: TestClient, key: str | None = "k1", method: str = "POST") -> httpx2.Response:
    path = "/users" if method == "POST" else "/users/u1"
    return http.request(method, path, headers={KEY: key} if key else {})


def assert_rate_limited(response: httpx2.Response, message_start: str) -> int:
    """The one error shape, code rate_limited, with a whole number of seconds to wait; returns it."""
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1
    body = response.json()
    assert body == {
        "code": "rate_limited",
        "message": f"{message_start}; retry in {retry_after} s",
        "details": None,
        "request_id": response.headers["X-Request-ID"],
    }
    return retry_after


# -- sends and writes ----------------------------------------------------------------------------------


def test_the_eleventh_send_in_a_minute_is_refused_with_retry_after(make_limiter: MakeLimiter) -> None:
    defaults = ServeSettings()
    limiter = make_limiter(defaults.send_rate_limit, defaults.write_rate_limit)

    with TestClient(tiny_app(limiter)) as http:
        sent = [send(http, reminder=f"r{n}").status_code for n in range(10)]
        refused = send(http)

    assert sent == [200] * 10
    retry_after = assert_rate_limited(refused, "too many sends with this API key: at most 10 a minute")
    assert retry_after <= 60


def test_by_default_a_key_makes_at_most_120_writes_a_minute_sends_included(
    make_limiter: MakeLimiter,
) -> None:
    defaults = ServeSettings()
    limiter = make_limiter(defaults.send_rate_limit, defaults.write_rate_limit)

    with TestClient(tiny_app(limiter)) as http:
        sends = [send(http).status_code for _ in range(10)]
        refused_send = send(http)  # refused by the send limit: not counted as a write
        writes = [write(http).status_code for _ in range(110)]
        refused = write(http, method="DELETE")

    assert sends == [200] * 10
    assert refused_send.status_code == 429
    assert writes == [200] * 110
    assert_rate_limited(refused, "too many writes with this API key: at most 120 a minute")


def test_retrying_a_delivery_counts_as_a_send(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(send_limit="2/minute")

    with TestClient(tiny_app(limiter)) as http:
        answers = [send(http).status_code, http.post("/deliveries/d1/retry", headers={KEY: "k1"}).status_code]
        refused = http.post("/deliveries/d2/retry/", headers={KEY: "k1"})

    assert answers == [200, 200]
    assert_rate_limited(refused, "too many sends with this API key: at most 2 a minute")


def test_every_kind_of_write_counts_against_the_write_limit(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(write_limit="3/minute")

    with TestClient(tiny_app(limiter)) as http:
        writes = [write(http, method=method).status_code for method in ("POST", "PATCH", "DELETE")]
        refused_write = write(http, method="PUT")
        refused_send = send(http)  # a send is a write too

    assert writes == [200, 200, 200]
    assert_rate_limited(refused_write, "too many writes with this API key: at most 3 a minute")
    assert_rate_limited(refused_send, "too many writes with this API key: at most 3 a minute")


def test_sends_use_up_the_write_limit(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(send_limit="10/minute", write_limit="3/minute")

    with TestClient(tiny_app(limiter)) as http:
        sends = [send(http).status_code for _ in range(3)]
        refused = write(http)

    assert sends == [200, 200, 200]
    assert_rate_limited(refused, "too many writes with this API key: at most 3 a minute")


def test_a_key_over_its_send_limit_may_still_write(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(send_limit="1/minute", write_limit="5/minute")

    with TestClient(tiny_app(limiter)) as http:
        first, second = send(http), send(http)
        other_write = write(http)

    assert (first.status_code, second.status_code, other_write.status_code) == (200, 429, 200)


def test_each_api_key_has_limits_of_its_own(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(send_limit="2/minute")

    with TestClient(tiny_app(limiter)) as http:
        first_key = [send(http, "k1").status_code for _ in range(3)]
        second_key = [send(http, "k2").status_code for _ in range(2)]
        first_again = send(http, "k1")

    assert first_key == [200, 200, 429]
    assert second_key == [200, 200]
    assert first_again.status_code == 429


def test_reads_are_never_limited_nor_counted(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(write_limit="1/minute")

    with TestClient(tiny_app(limiter)) as http:
        reads = [http.get(path, headers={KEY: "k1"}).status_code for path in ["/users", "/users/u1"] * 10]
        the_one_write = write(http)

    assert reads == [200] * 20
    assert the_one_write.status_code == 200


@pytest.mark.parametrize("key", [None, "system"], ids=["no actor", "system actor"])
def test_requests_without_an_api_key_are_not_limited(make_limiter: MakeLimiter, key: str | None) -> None:
    limiter = make_limiter(send_limit="1/minute", write_limit="1/minute")

    with TestClient(tiny_app(limiter)) as http:
        answers = [send(http, key).status_code for _ in range(5)] + [write(http, key).status_code]

    assert answers == [200] * 6


def test_a_refused_key_is_let_through_again_once_its_retry_after_has_passed(
    make_limiter: MakeLimiter,
) -> None:
    limiter = make_limiter(send_limit="1/second")

    with TestClient(tiny_app(limiter)) as http:
        assert send(http).status_code == 200
        retry_after = assert_rate_limited(send(http), "too many sends with this API key: at most 1 a second")
        time.sleep(retry_after + 0.05)
        again = send(http)

    assert retry_after == 1
    assert again.status_code == 200


# -- Redis: shared, and out of reach -------------------------------------------------------------------


@pytest.mark.parametrize("storage", ["redis"], indirect=True)
def test_two_instances_on_one_redis_share_each_keys_limits(make_limiter: MakeLimiter) -> None:
    first, second = make_limiter(send_limit="3/minute"), make_limiter(send_limit="3/minute")

    with TestClient(tiny_app(first)) as one, TestClient(tiny_app(second)) as other:
        answers = [send(one).status_code, send(other).status_code, send(one).status_code]
        refused_by_other, refused_by_one = send(other), send(one)
        other_key = send(other, "k2")

    assert answers == [200, 200, 200]
    assert_rate_limited(refused_by_other, "too many sends with this API key: at most 3 a minute")
    assert_rate_limited(refused_by_one, "too many sends with this API key: at most 3 a minute")
    assert other_key.status_code == 200


def test_an_unreachable_redis_lets_requests_through_and_warns_once_without_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RateLimiter(
        storage="redis://:hunter2@127.0.0.1:1/0", send_limit="1/minute", write_limit="1/minute"
    )

    with caplog.at_level(logging.INFO, logger="reminders"), TestClient(tiny_app(limiter)) as http:
        answers = [send(http).status_code for _ in range(5)]

    assert answers == [200] * 5
    warnings = [record for record in caplog.records if record.name == "reminders.http.rate_limits"]
    assert [record.levelname for record in warnings] == ["WARNING"]
    assert "not rate limited" in warnings[0].getMessage()
    assert "127.0.0.1:1" in warnings[0].__dict__["storage"]
    assert "hunter2" not in repr(warnings[0].__dict__)


def test_a_redis_that_does_not_answer_holds_one_request_for_half_a_second_at_most() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never replies
        port = silent.getsockname()[1]
        limiter = RateLimiter(
            storage=f"redis://127.0.0.1:{port}/0", send_limit="1/minute", write_limit="1/minute"
        )
        with TestClient(tiny_app(limiter)) as http:
            started = time.monotonic()
            answers = [send(http).status_code for _ in range(10)]
            elapsed = time.monotonic() - started

    assert answers == [200] * 10
    assert elapsed < 2  # one request waits for the timeout, not each of them


@pytest.mark.parametrize("storage", ["redis"], indirect=True)
def test_the_limits_apply_again_once_redis_is_back(
    make_limiter: MakeLimiter,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(rate_limits, "RECHECK_SECONDS", 0.0)  # Redis is tried again at the next request
    url = urlsplit(redis_url)
    proxy = TcpProxy((url.hostname or "127.0.0.1", url.port or 6379)).start()
    credentials, _, _ = url.netloc.rpartition("@")
    proxy_at = f"127.0.0.1:{proxy.port}"
    proxied = url._replace(netloc=f"{credentials}@{proxy_at}" if credentials else proxy_at).geturl()
    limiter = make_limiter(send_limit="2/minute", through=proxied)

    try:
        with caplog.at_level(logging.INFO, logger="reminders"), TestClient(tiny_app(limiter)) as http:
            before = send(http).status_code
            proxy.cut()
            while_down = [send(http).status_code for _ in range(3)]  # let through, and not counted
            proxy.start()
            after = [send(http).status_code for _ in range(2)]
    finally:
        proxy.cut()

    assert (before, while_down, after) == (200, [200, 200, 200], [200, 429])
    messages = [
        record.getMessage() for record in caplog.records if record.name == "reminders.http.rate_limits"
    ]
    assert sum("unreachable" in message for message in messages) == 1
    assert sum("reachable again" in message for message in messages) == 1
