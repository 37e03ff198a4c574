"""One error shape for every failure, from the routes and from the framework; paths with and without '/'."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from adapters.memory.store import MemoryStore
from adapters.sql import SqlUnitOfWork
from application import views
from application.channels import PermanentChannelError
from entrypoints.bootstrap import Service
from tests.e2e.api_helpers import (
    assert_error,
    assert_validation_error,
    create_reminder,
    create_user,
    reminder_body,
    user_body,
)
from tests.fakes import RecordingChannel
from tests.stores import StoreUnderTest

LIMIT = 64 * 1024
JSON = {"content-type": "application/json"}


def padded_user(size: int) -> bytes:
    """A valid user body of exactly `size` bytes: whitespace padding keeps it valid JSON."""
    body = json.dumps(user_body()).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


def chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def users_created(client: TestClient) -> int:
    """The team's users besides its admin, whom `client` acts as."""
    total: int = client.get("/users/").json()["total"]
    return total - 1


# -- framework errors in the one shape ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/no-such-thing", "/no-such-thing/", "/users/a/b/c", "/notifications/send/"]
)
def test_an_unknown_path_is_a_404_in_the_error_shape(client: TestClient, path: str) -> None:
    body = assert_error(client.get(path, follow_redirects=False), 404, "not_found")

    assert body["details"] is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/users/"),
        ("DELETE", "/users"),
        ("POST", "/users/some-id"),
        ("PUT", "/notifications/some-id"),
        ("GET", "/notifications/send/some-id"),
        ("POST", "/health"),
        ("DELETE", "/deliveries/some-id/retry"),
    ],
)
def test_a_wrong_method_is_a_405_in_the_error_shape(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, follow_redirects=False)

    assert_error(response, 405, "method_not_allowed")


@pytest.mark.parametrize(
    "raw",
    [b'{"name": "A", "email": ', b"{'name': 'A'}", b"", b"\xff\xfe not utf-8", b"[]", b"null", b'"text"'],
)
def test_a_body_that_is_not_a_json_object_is_a_400(client: TestClient, raw: bytes) -> None:
    response = client.post("/users/", content=raw, headers=JSON)

    assert_validation_error(response, "body")
    assert users_created(client) == 0


def test_malformed_json_is_refused_on_patch_too(client: TestClient) -> None:
    user = create_user(client)

    response = client.patch(f"/users/{user['id']}", content=b'{"name": "B"', headers=JSON)

    assert_validation_error(response, "body")
    assert client.get(f"/users/{user['id']}").json() == user


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "text/json"]
)
def test_a_body_that_is_not_sent_as_json_is_a_415(client: TestClient, content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}

    response = client.post("/users/", content=json.dumps(user_body()).encode(), headers=headers)

    assert_error(response, 415, "unsupported_media_type")
    assert users_created(client) == 0


def test_a_patch_not_sent_as_json_is_a_415_and_changes_nothing(client: TestClient) -> None:
    user = create_user(client)

    response = client.patch(
        f"/users/{user['id']}", content=b'{"name": "B"}', headers={"content-type": "text/plain"}
    )

    assert_error(response, 415, "unsupported_media_type")
    assert client.get(f"/users/{user['id']}").json() == user


def test_json_with_a_charset_parameter_is_accepted(client: TestClient) -> None:
    response = client.post(
        "/users/",
        content=json.dumps(user_body()).encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 201


def test_a_body_of_exactly_64_kib_is_accepted(client: TestClient) -> None:
    response = client.post("/users/", content=padded_user(LIMIT), headers=JSON)

    assert response.status_code == 201, response.text


def test_a_body_over_64_kib_with_a_content_length_is_a_413(client: TestClient) -> None:
    response = client.post("/users/", content=padded_user(LIMIT + 1), headers=JSON)

    assert response.request.headers["content-length"] == str(LIMIT + 1)
    assert_error(response, 413, "payload_too_large")
    assert users_created(client) == 0


def test_a_streamed_body_over_64_kib_without_a_content_length_is_a_413(client: TestClient) -> None:
    response = client.post("/users/", content=chunks(padded_user(LIMIT + 1)), headers=JSON)

    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")
    assert users_created(client) == 0


def test_a_streamed_body_within_the_limit_is_accepted(client: TestClient) -> None:
    response = client.post("/users/", content=chunks(padded_user(LIMIT)), headers=JSON)

    assert "content-length" not in response.request.headers
    assert response.status_code == 201, response.text


def test_an_oversized_patch_is_a_413_and_changes_nothing(client: TestClient) -> None:
    user = create_user(client)
    big = json.dumps({"name": "x" * (LIMIT + 1)}).encode()

    response = client.patch(f"/users/{user['id']}", content=chunks(big), headers=JSON)

    assert_error(response, 413, "payload_too_large")
    assert client.get(f"/users/{user['id']}").json() == user


def test_an_oversized_body_on_send_now_is_a_413_and_nothing_is_sent(
    client: TestClient, channel: RecordingChannel
) -> None:
    reminder = create_reminder(client, create_user(client)["id"])

    response = client.post(f"/notifications/send/{reminder['id']}", content=b"x" * (LIMIT + 1))

    assert_error(response, 413, "payload_too_large")
    assert channel.tried == []


def test_an_oversized_streamed_body_on_send_now_is_a_413_and_nothing_is_sent(
    client: TestClient, channel: RecordingChannel
) -> None:
    """The same request as above, framed without a Content-Length: the limit must not depend on framing."""
    reminder = create_reminder(client, create_user(client)["id"])

    response = client.post(f"/notifications/send/{reminder['id']}", content=chunks(b"x" * (LIMIT + 1)))

    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")
    assert channel.tried == []


def test_an_unhandled_error_in_a_query_is_a_500_without_its_text(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret-text")

    monkeypatch.setattr(views, "get_user", broken)

    response = client.get("/users/some-id")

    body = assert_error(response, 500, "internal_error")
    assert body["details"] is None
    for leak in ("secret-text", "RuntimeError", "Traceback", "views.py", 'File "'):
        assert leak not in response.text


def test_an_unhandled_error_in_a_command_is_a_500_without_its_text(
    client: TestClient, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(command: Any) -> Any:
        raise RuntimeError("secret-text")

    monkeypatch.setattr(service.bus, "handle", broken)

    response = client.post("/users/", json=user_body())

    assert_error(response, 500, "internal_error")
    assert "secret-text" not in response.text
    assert "Traceback" not in response.text


def test_an_error_inside_a_channel_does_not_leak_its_text(
    client: TestClient, channel: RecordingChannel
) -> None:
    reminder = create_reminder(client, create_user(client)["id"])
    channel.failures = [RuntimeError("password=hunter2")]

    response = client.post(f"/notifications/send/{reminder['id']}")

    delivery = assert_error(response, 502, "delivery_failed")["details"]
    assert delivery["status"] == "failed"
    assert "hunter2" not in response.text


def test_every_problem_of_a_body_is_reported_once(client: TestClient) -> None:
    response = client.post("/users/", json={"name": "", "email": "x", "admin": True})

    assert_validation_error(response, "name", "email", "admin")


# -- trailing slashes ---------------------------------------------------------------------------------


class World:
    """Fresh resources for one request, so every route can be called for real."""

    def __init__(self, client: TestClient, channel: RecordingChannel) -> None:
        self.user = create_user(client)
        self.reminder = create_reminder(client, self.user["id"])
        channel.failures = [PermanentChannelError("refused")]
        self.failed = client.post(f"/notifications/send/{self.reminder['id']}").json()["details"]

    def fill(self, template: str) -> str:
        return template.format(
            user_id=self.user["id"],
            owner_id=self.user["id"],
            reminder_id=self.reminder["id"],
            delivery_id=self.failed["delivery_id"],
        )


ROUTES: list[tuple[str, str, int]] = [
    ("POST", "/users/", 201),
    ("GET", "/users/", 200),
    ("GET", "/users/{user_id}", 200),
    ("PATCH", "/users/{user_id}", 200),
    ("DELETE", "/users/{user_id}", 204),
    ("POST", "/notifications/", 201),
    ("GET", "/notifications/{reminder_id}", 200),
    ("PATCH", "/notifications/{reminder_id}", 200),
    ("DELETE", "/notifications/{reminder_id}", 204),
    ("GET", "/notifications/user/{owner_id}/", 200),
    ("POST", "/notifications/send/{reminder_id}", 200),
    ("GET", "/notifications/{reminder_id}/deliveries", 200),
    ("GET", "/deliveries/", 200),
    ("GET", "/deliveries/{delivery_id}", 200),
    ("POST", "/deliveries/{delivery_id}/retry", 200),
    ("GET", "/health", 200),
    ("GET", "/openapi.json", 200),
    ("GET", "/metrics", 200),
]


def _body(method: str, template: str, world: World) -> dict[str, Any] | None:
    if (method, template) == ("POST", "/users/"):
        return user_body()
    if (method, template) == ("POST", "/notifications/"):
        return reminder_body(world.user["id"])
    if method == "PATCH":
        return {"title": "Renamed"} if template.startswith("/notifications") else {"name": "Renamed"}
    return None


@pytest.mark.parametrize("slash", ["without", "with"])
@pytest.mark.parametrize(("method", "template", "status"), ROUTES)
def test_every_path_answers_with_and_without_its_trailing_slash(
    client: TestClient,
    channel: RecordingChannel,
    method: str,
    template: str,
    status: int,
    slash: str,
) -> None:
    world = World(client, channel)
    path = world.fill(template).rstrip("/") + ("/" if slash == "with" else "")

    response = client.request(method, path, json=_body(method, template, world), follow_redirects=False)

    assert response.status_code == status, response.text
    assert "location" not in response.headers


# -- health and the document -------------------------------------------------------------------------


def test_health_reports_each_check(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert health["version"]
    assert health["checks"]["store"]["status"] == "ok"
    assert health["checks"]["scheduler"]["enabled"] is False


def test_health_is_503_naming_the_store_when_the_store_does_not_answer(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, store: StoreUnderTest
) -> None:
    def unreachable(self: object, timeout: float = 1.0) -> None:
        raise ConnectionError("postgres://admin:s3cret@db:5432")

    monkeypatch.setattr(MemoryStore, "ping", unreachable)
    monkeypatch.setattr(SqlUnitOfWork, "ping", unreachable)

    response = client.get("/health")

    assert response.status_code == 503
    assert response.headers["x-request-id"]
    health = response.json()
    assert health["status"] == "unavailable"
    assert health["checks"]["store"]["status"] == "unavailable"
    assert health["checks"]["store"]["store"] == store.kind
    assert health["checks"]["scheduler"]["status"] == "ok"
    assert "s3cret" not in response.text


def test_health_recovers_when_the_store_answers_again(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(self: object, timeout: float = 1.0) -> None:
        raise TimeoutError

    with monkeypatch.context() as patch:
        patch.setattr(MemoryStore, "ping", unreachable)
        patch.setattr(SqlUnitOfWork, "ping", unreachable)
        assert client.get("/health").status_code == 503

    assert client.get("/health").status_code == 200


def test_the_openapi_document_lists_every_route(client: TestClient) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    documented = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert {(method, template) for method, template, _ in ROUTES} <= documented


def test_a_large_body_without_a_key_is_refused_as_unauthorized_before_it_is_read(client: TestClient) -> None:
    headers = {"Authorization": "", "Content-Type": "application/json"}
    response = client.post("/users/", content=b"{" + b" " * 70_000 + b"}", headers=headers)

    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
