"""The webhook channel against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from adapters.http_delivery import HttpPoster, retry_after_seconds
from adapters.webhook_channel import WebhookChannel
from domain.errors import InvalidTarget
from tests.integration.conftest import TIMEOUT, Sending, assert_no_secret, errors, make_notification
from tests.integration.peers import HttpReceiver, Reply, Request, free_port

SECRET = "whsec-3f1b2c-very-secret"
LOCAL = True  # the receivers listen on 127.0.0.1, a private address


@pytest.fixture
def channel() -> Iterator[WebhookChannel]:
    webhook = WebhookChannel(secret=SECRET, timeout=TIMEOUT, allow_private_targets=LOCAL)
    yield webhook
    webhook.close()


def verified(request: Request) -> bool:
    """What a receiver does: recompute the HMAC of the raw body and compare in constant time."""
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers.get("x-reminder-signature", ""))


def test_a_delivery_is_posted_as_signed_json(channel: WebhookChannel, receiver: HttpReceiver) -> None:
    receiver.responder = lambda request: Reply(204 if verified(request) else 401, b"")

    outcome = Sending("webhook", channel).send(
        make_notification("webhook", receiver.url("/hooks/team"), title="Standup für Ann ☕")
    )

    assert (outcome.error, errors(outcome)) == (None, [None])
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/hooks/team")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == "r-0001:2026-01-05T09:00:00+00:00"
    assert json.loads(request.body) == {
        "delivery_id": "d-0001",
        "reminder_id": "r-0001",
        "kind": "scheduled",
        "title": "Standup für Ann ☕",
        "message": "Join the call <now> & say hi",
        "scheduled_for": "2026-01-05T09:00:00+00:00",
        "owner": {"id": "u-0001", "name": "Ann", "email": "ann@example.com"},
    }


def test_a_receiver_with_another_secret_rejects_the_signature(receiver: HttpReceiver) -> None:
    receiver.responder = lambda request: Reply(204 if verified(request) else 401, b"bad signature")
    impostor = WebhookChannel(secret="some-other-secret", timeout=TIMEOUT, allow_private_targets=LOCAL)
    try:
        outcome = Sending("webhook", impostor).send(make_notification("webhook", receiver.url()))
    finally:
        impostor.close()

    assert errors(outcome) == ["webhook 127.0.0.1 answered 401 Unauthorized"]


def test_without_a_secret_no_signature_is_sent(receiver: HttpReceiver) -> None:
    unsigned = WebhookChannel(secret=None, timeout=TIMEOUT, allow_private_targets=LOCAL)
    try:
        outcome = Sending("webhook", unsigned).send(
            make_notification("webhook", receiver.url(), scheduled_for=None, idempotency_key="r-0001:d-0001")
        )
    finally:
        unsigned.close()

    assert outcome.error is None
    [request] = receiver.requests
    assert "x-reminder-signature" not in request.headers
    assert json.loads(request.body)["scheduled_for"] is None


def test_an_overloaded_receiver_gets_the_same_request_until_it_accepts(
    channel: WebhookChannel, receiver: HttpReceiver
) -> None:
    receiver.script(Reply(503, b"busy"), Reply(503, b"busy"), Reply(200))

    outcome = Sending("webhook", channel).send(make_notification("webhook", receiver.url()))

    assert outcome.error is None
    assert errors(outcome) == ["webhook 127.0.0.1 answered 503 Service Unavailable"] * 2 + [None]
    assert len(receiver.requests) == 3
    assert {request.headers["idempotency-key"] for request in receiver.requests} == {
        "r-0001:2026-01-05T09:00:00+00:00"
    }
    assert len({request.body for request in receiver.requests}) == 1
    assert all(verified(request) for request in receiver.requests)


def test_a_missing_endpoint_fails_at_once_with_its_status_line_recorded(
    channel: WebhookChannel, receiver: HttpReceiver
) -> None:
    receiver.script(Reply(404, b"no such hook"))

    outcome = Sending("webhook", channel).send(make_notification("webhook", receiver.url()))

    assert outcome.error == "webhook 127.0.0.1 answered 404 Not Found"
    assert errors(outcome) == [outcome.error]
    assert len(receiver.requests) == 1


def test_a_redirect_is_not_followed(channel: WebhookChannel, receiver: HttpReceiver) -> None:
    receiver.script(Reply(307, b"", {"Location": receiver.url("/elsewhere")}))

    outcome = Sending("webhook", channel).send(make_notification("webhook", receiver.url()))

    assert outcome.error == "webhook 127.0.0.1 answered 307 Temporary Redirect (redirects are not followed)"
    assert [request.path for request in receiver.requests] == ["/hook"]


def test_too_many_requests_waits_as_long_as_the_receiver_asks(
    channel: WebhookChannel, receiver: HttpReceiver
) -> None:
    receiver.script(Reply(429, b"slow down", {"Retry-After": "7"}), Reply(200))
    sending = Sending("webhook", channel, max_seconds=60)

    outcome = sending.send(make_notification("webhook", receiver.url()))

    assert outcome.error is None
    assert errors(outcome) == ["webhook 127.0.0.1 answered 429 Too Many Requests", None]
    assert sending.waits == [7.0]


def test_retry_after_as_an_http_date_is_honoured(channel: WebhookChannel, receiver: HttpReceiver) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    receiver.script(Reply(503, b"", {"Retry-After": later}), Reply(200))
    sending = Sending("webhook", channel, max_seconds=60)

    assert sending.send(make_notification("webhook", receiver.url())).error is None

    [waited] = sending.waits
    assert 3.0 <= waited <= 5.0


def test_the_senders_cap_bounds_a_long_retry_after(channel: WebhookChannel, receiver: HttpReceiver) -> None:
    receiver.script(Reply(429, b"", {"Retry-After": "3600"}), Reply(200))
    sending = Sending("webhook", channel, max_seconds=30)

    assert sending.send(make_notification("webhook", receiver.url())).error is None
    assert sending.waits == [30.0]


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Mon, 05 Jan 2026 09:01:00 GMT", 60.0),
        ("Mon, 05 Jan 2026 08:59:00 GMT", 0.0),  # already past
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_values(header: str | None, seconds: float | None) -> None:
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert retry_after_seconds(header, now=now) == seconds


def test_a_receiver_slower_than_the_timeout_is_retried(
    channel: WebhookChannel, receiver: HttpReceiver
) -> None:
    receiver.script(Reply(200, delay=TIMEOUT * 5))

    outcome = Sending("webhook", channel).send(make_notification("webhook", receiver.url()))

    assert outcome.error is None
    [timed_out, sent] = errors(outcome)
    assert timed_out == "webhook 127.0.0.1 timed out after 0.3s (ReadTimeout)"
    assert sent is None


def test_a_receiver_that_never_answers_in_time_fails_after_every_attempt(
    channel: WebhookChannel, receiver: HttpReceiver
) -> None:
    receiver.default = Reply(200, delay=TIMEOUT * 5)

    outcome = Sending("webhook", channel).send(make_notification("webhook", receiver.url()))

    assert outcome.error == "webhook 127.0.0.1 timed out after 0.3s (ReadTimeout)"
    assert len(outcome.attempts) == 4


def test_a_closed_port_is_a_transient_connection_error(channel: WebhookChannel) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there

    outcome = Sending("webhook", channel).send(make_notification("webhook", url))

    assert len(outcome.attempts) == 4
    assert outcome.error is not None
    assert outcome.error.startswith("webhook 127.0.0.1 could not be reached:")


def test_no_secret_reaches_the_logs_or_the_errors(
    channel: WebhookChannel, receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.script(Reply(503), Reply(400, b"nope"))
    url = receiver.url("/hook?token=tok-abc-123456")

    outcome = Sending("webhook", channel).send(make_notification("webhook", url))

    assert outcome.error == "webhook 127.0.0.1 answered 400 Bad Request"
    assert_no_secret([SECRET, "tok-abc-123456"], caplog.records, errors(outcome))


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "   ",
        "ftp://example.com/hook",
        "example.com/hook",
        "https://",
        "http://:80/x",
        "http://h:99999/",
    ],
)
def test_the_target_must_be_an_http_url_with_a_host(channel: WebhookChannel, target: str | None) -> None:
    with pytest.raises(InvalidTarget) as raised:
        channel.validate_target(target)
    assert raised.value.field == "target"


@pytest.mark.parametrize(
    "target", ["https://example.com/hook", "http://127.0.0.1:8080/x?y=1", "HTTPS://H.example"]
)
def test_http_and_https_urls_are_accepted(channel: WebhookChannel, target: str) -> None:
    channel.validate_target(target)


def test_a_poster_passed_in_is_used_and_left_open(receiver: HttpReceiver) -> None:
    poster = HttpPoster(connections=2, allow_private_targets=LOCAL, user_agent="reminders-test")
    channel = WebhookChannel(secret=SECRET, timeout=TIMEOUT, poster=poster, allow_private_targets=LOCAL)

    outcome = Sending("webhook", channel).send(make_notification("webhook", receiver.url()))
    channel.close()
    reused = WebhookChannel(secret=SECRET, timeout=TIMEOUT, poster=poster, allow_private_targets=LOCAL)
    again = Sending("webhook", reused).send(make_notification("webhook", receiver.url()))
    poster.close()

    assert outcome.error is None
    assert again.error is None
    assert [request.headers["user-agent"] for request in receiver.requests] == ["reminders-test"] * 2


def test_requests_name_the_service_as_user_agent(channel: WebhookChannel, receiver: HttpReceiver) -> None:
    Sending("webhook", channel).send(make_notification("webhook", receiver.url()))

    assert receiver.requests[0].headers["user-agent"] == "team-reminders"


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        WebhookChannel(secret="", timeout=TIMEOUT)


def test_the_proxy_the_environment_names_is_used_with_its_credentials(
    receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The receiver stands in for the proxy: an HTTP proxy is sent the target's absolute URL.
    monkeypatch.setenv("HTTP_PROXY", f"http://relay:pa%24%24@127.0.0.1:{receiver.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxied = WebhookChannel(secret=SECRET, timeout=TIMEOUT, allow_private_targets=LOCAL)
    target = "http://hooks.internal.example:8080/hook/tok"

    outcome = Sending("webhook", proxied).send(make_notification("webhook", target))
    proxied.close()

    assert outcome.error is None
    (request,) = receiver.requests
    assert request.path == target
    assert request.headers["proxy-authorization"] == "Basic cmVsYXk6cGEkJA=="  # relay:pa$$


def test_hosts_in_no_proxy_are_reached_directly(
    receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    direct = WebhookChannel(secret=SECRET, timeout=TIMEOUT, allow_private_targets=LOCAL)

    outcome = Sending("webhook", direct).send(make_notification("webhook", receiver.url()))
    direct.close()

    assert outcome.error is None
    assert receiver.requests[0].path == "/hook"


@pytest.mark.parametrize(
    ("path", "sent_as"),
    [
        ("/café/hook", "/caf%C3%A9/hook"),
        ("/a b?x=1 2", "/a%20b?x=1%202"),
        ("/hook;v=1?x=1", "/hook;v=1?x=1"),
        ("/hook?token=a%2Fb", "/hook?token=a%2Fb"),
    ],
)
def test_a_target_is_sent_to_as_httpx_would_encode_it(
    channel: WebhookChannel, receiver: HttpReceiver, path: str, sent_as: str
) -> None:
    outcome = Sending("webhook", channel).send(make_notification("webhook", receiver.url(path)))

    assert outcome.error is None
    assert receiver.requests[0].path == sent_as
    assert receiver.requests[0].headers["host"] == f"127.0.0.1:{receiver.port}"


def test_credentials_in_a_target_go_as_basic_auth(channel: WebhookChannel, receiver: HttpReceiver) -> None:
    target = receiver.url("/hook").replace("http://", "http://hook-user:p%40ss@")

    outcome = Sending("webhook", channel).send(make_notification("webhook", target))

    assert outcome.error is None
    assert receiver.requests[0].headers["authorization"] == "Basic aG9vay11c2VyOnBAc3M="  # hook-user:p@ss
    assert receiver.requests[0].path == "/hook"


def test_an_ipv6_target_names_its_host_in_brackets(channel: WebhookChannel) -> None:
    seen: list[bytes] = []
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as server:
        server.bind(("::1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        def answer() -> None:
            connection, _ = server.accept()
            with connection:
                seen.append(connection.recv(65536))
                connection.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        outcome = Sending("webhook", channel).send(make_notification("webhook", f"http://[::1]:{port}/hook"))
        thread.join(timeout=5)

    assert outcome.error is None
    assert f"\r\nHost: [::1]:{port}\r\n".encode() in seen[0]
