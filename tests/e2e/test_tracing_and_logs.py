"""Request ids on every response and log line of a request; access logs; the 500 traceback in the logs."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from application import views
from entrypoints.logging_setup import RequestIdFilter
from tests.e2e.api_helpers import assert_error, create_reminder, create_user, user_body

JSON = {"content-type": "application/json"}


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Captured records at INFO (DEBUG for the access log, which logs "request started" there), each
    with the request id of the request it was logged in."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="reminders.http")
    caplog.handler.addFilter(RequestIdFilter())
    return caplog


def records_of(logs: pytest.LogCaptureFixture, request_id: str) -> list[logging.LogRecord]:
    return [r for r in logs.records if getattr(r, "request_id", None) == request_id]


def access_lines(logs: pytest.LogCaptureFixture, request_id: str) -> list[logging.LogRecord]:
    return [r for r in records_of(logs, request_id) if r.name == "reminders.http"]


def extra(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a record was logged with (and the request id the filter added)."""
    return record.__dict__


def looks_generated(request_id: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", request_id))


# -- X-Request-ID ---------------------------------------------------------------------------------------


def test_a_request_without_an_id_gets_a_fresh_one(client: TestClient) -> None:
    first = client.get("/users/").headers["x-request-id"]
    second = client.get("/users/").headers["x-request-id"]

    assert looks_generated(first)
    assert looks_generated(second)
    assert first != second


@pytest.mark.parametrize(
    "offered",
    [
        "abc-123",
        str(uuid.UUID(int=42)),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "svc.gateway:req-7_edge.2",
        "a" * 128,
    ],
)
def test_a_sane_client_request_id_is_echoed(client: TestClient, offered: str) -> None:
    """Letters, digits and . _ : - only, up to 128 of them."""
    assert client.get("/users/", headers={"x-request-id": offered}).headers["x-request-id"] == offered


@pytest.mark.parametrize(
    "offered",
    [
        "a" * 129,
        "",
        "has space",
        "tab\there",
        "bell\x07",
        "delete\x7f",
        "line\x1bbreak",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
        "{3F2504E0-4F89-11D3-9A0C-0305E82C3301}",
        "job#42",
        "svc/req+1@edge",
        'quoted"id',
        "back\\slash",
        "wild*card?",
        "<script>",
        "%0d%0a",
    ],
)
def test_any_other_client_request_id_is_replaced(client: TestClient, offered: str) -> None:
    response = client.get("/no-such-path", headers={"x-request-id": offered})

    given = response.headers["x-request-id"]
    assert given != offered
    assert looks_generated(given)
    assert assert_error(response, 404, "not_found")["request_id"] == given


def test_every_kind_of_error_carries_the_clients_request_id(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret-text")

    monkeypatch.setattr(views, "get_user", broken)
    too_big = b"{" + b" " * (64 * 1024) + b"}"
    cases = [
        (client.build_request("GET", "/nowhere"), 404, "not_found"),
        (client.build_request("PUT", "/users/"), 405, "method_not_allowed"),
        (client.build_request("POST", "/users/", content=b"{", headers=JSON), 400, "validation_error"),
        (client.build_request("POST", "/users/", content=b"{}"), 415, "unsupported_media_type"),
        (client.build_request("POST", "/users/", content=too_big, headers=JSON), 413, "payload_too_large"),
        (client.build_request("GET", "/users/x"), 500, "internal_error"),
        (client.build_request("POST", "/notifications/send/none"), 404, "not_found"),
    ]
    for number, (request, status, code) in enumerate(cases):
        request.headers["x-request-id"] = f"case-{number}"

        response = client.send(request)

        assert response.headers["x-request-id"] == f"case-{number}"
        assert assert_error(response, status, code)["request_id"] == f"case-{number}"


# -- logs -----------------------------------------------------------------------------------------------


def test_a_request_logs_its_entry_and_exit_with_its_id(
    client: TestClient, logs: pytest.LogCaptureFixture
) -> None:
    response = client.post("/users/", json=user_body(), headers={"x-request-id": "create-1"})

    assert response.status_code == 201
    started, finished = access_lines(logs, "create-1")
    assert started.getMessage() == "request started"
    assert (extra(started)["method"], extra(started)["path"]) == ("POST", "/users/")
    assert finished.getMessage() == "request finished"
    fields = extra(finished)
    assert (fields["method"], fields["path"], fields["status"]) == ("POST", "/users/", 201)
    assert isinstance(fields["duration_ms"], float)
    assert fields["duration_ms"] >= 0
    assert finished.levelno == logging.INFO


def test_a_generated_request_id_is_the_one_in_the_logs(
    client: TestClient, logs: pytest.LogCaptureFixture
) -> None:
    response = client.get("/no-such-path")

    lines = access_lines(logs, response.headers["x-request-id"])
    assert [extra(line).get("status") for line in lines] == [None, 404]
    assert [extra(line)["path"] for line in lines] == ["/no-such-path", "/no-such-path"]


def test_log_lines_of_one_request_do_not_carry_anothers_id(
    client: TestClient, logs: pytest.LogCaptureFixture
) -> None:
    client.get("/users/", headers={"x-request-id": "first"})
    client.get("/users/", headers={"x-request-id": "second"})

    access = [r for r in logs.records if r.name == "reminders.http"]
    assert [extra(r)["request_id"] for r in access] == ["first", "first", "second", "second"]


def test_a_sent_now_delivery_is_logged_by_the_worker_under_the_delivery_id_the_request_returned(
    client: TestClient, logs: pytest.LogCaptureFixture
) -> None:
    """Send-now only queues: a delivery worker sends it, outside the request, so its lines are
    found by the delivery id the response carries, never under another request's id."""
    reminder = create_reminder(client, create_user(client)["id"], channel="log")

    response = client.post(f"/notifications/send/{reminder['id']}", headers={"x-request-id": "send-7"})

    assert response.status_code == 200
    delivery_id = response.json()["delivery_id"]
    [delivered] = [r for r in logs.records if r.getMessage() == "reminder delivered"]
    assert (extra(delivered)["reminder_id"], extra(delivered)["delivery_id"]) == (reminder["id"], delivery_id)
    [sent] = [r for r in logs.records if r.name == "reminders.delivery"]
    assert (sent.getMessage(), extra(sent)["delivery_id"]) == ("delivery sent", delivery_id)
    assert getattr(delivered, "request_id", None) in (None, "send-7")
    assert [r.getMessage() for r in access_lines(logs, "send-7")] == ["request started", "request finished"]


def test_an_unhandled_error_logs_its_traceback_with_the_request_id(
    client: TestClient, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret-text")

    monkeypatch.setattr(views, "get_user", broken)

    response = client.get("/users/some-id", headers={"x-request-id": "boom-1"})

    assert response.status_code == 500
    mine = records_of(logs, "boom-1")
    [error] = [r for r in mine if r.exc_info is not None]
    assert error.levelno == logging.ERROR
    assert error.exc_info is not None
    assert isinstance(error.exc_info[1], RuntimeError)
    assert "secret-text" in logs.text
    assert "Traceback" in logs.text
    assert [r.getMessage() for r in access_lines(logs, "boom-1")] == [
        "request started",
        "unhandled error",
        "request finished",
    ]
    assert extra(access_lines(logs, "boom-1")[-1])["status"] == 500


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_tracebacks_in_the_service_log_are_redacted(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from entrypoints.logging_setup import configure_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(log_format)  # type: ignore[arg-type]
        try:
            raise RuntimeError("cannot reach smtp://bob:hunter2@mail.example.com")
        except RuntimeError:
            logging.getLogger("reminders.test").exception("send failed")
    finally:
        root.handlers, root.level = saved[0], saved[1]
    out = capsys.readouterr().out
    assert "RuntimeError" in out
    assert "hunter2" not in out
