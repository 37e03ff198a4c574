"""Helpers for the HTTP tests: creating resources through the API and checking the one error shape."""

from __future__ import annotations

import itertools
import time
from typing import Any

import httpx2
from starlette.testclient import TestClient

from application import views
from application.repositories import QueueStats
from entrypoints.bootstrap import Service

ERROR_KEYS = {"code", "message", "details", "request_id"}
USER_KEYS = {
    "id",
    "team_id",
    "name",
    "email",
    "role",
    "timezone",
    "active",
    "quiet_hours",
    "created_at",
    "updated_at",
}
REMINDER_KEYS = {
    "id",
    "owner_id",
    "title",
    "message",
    "channel",
    "target",
    "time_of_day",
    "frequency",
    "weekdays",
    "date",
    "timezone",
    "rrule",
    "cron",
    "starts_on",
    "ends_on",
    "skip_dates",
    "recipients",
    "local_time",
    "repeat_until_ack",
    "active",
    "next_run_at",
    "last_run_at",
    "created_at",
    "updated_at",
}

_emails = itertools.count(1)


def assert_error(response: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an error in the one shape, and its request id is the header's."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def assert_validation_error(response: httpx2.Response, *fields: str) -> list[dict[str, str]]:
    """A 400 whose details name exactly the given fields, one entry per problem."""
    body = assert_error(response, 400, "validation_error")
    details: list[dict[str, str]] = body["details"]
    assert isinstance(details, list)
    for problem in details:
        assert set(problem) == {"field", "message"}, problem
        assert problem["message"]
    assert sorted(problem["field"] for problem in details) == sorted(fields), details
    return details


def user_body(**overrides: Any) -> dict[str, Any]:
    number = next(_emails)
    return {"name": f"User {number}", "email": f"user{number}@example.com", **overrides}


def create_user(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/users/", json=user_body(**overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def reminder_body(owner_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "owner_id": owner_id,
        "title": "Stand-up",
        "message": "Join the stand-up call",
        "channel": "recording",
        "time_of_day": "09:00",
        "frequency": "daily",
        **overrides,
    }


def create_reminder(client: TestClient, owner_id: str, **overrides: Any) -> dict[str, Any]:
    response = client.post("/notifications/", json=reminder_body(owner_id, **overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def wait_until_idle(service: Service, *, seconds: float = 5.0) -> None:
    """Block until the app's delivery worker has nothing left to do at the service's clock: nothing
    due and nothing in flight. Fails after `seconds` of real time."""
    deadline = time.monotonic() + seconds
    stats: QueueStats | None = None
    while True:
        stats = views.queue_stats(service.uow_factory, service.clock.now())
        if stats.due == 0 and stats.in_flight == 0:
            return
        assert time.monotonic() < deadline, f"the delivery queue was still busy after {seconds} s: {stats}"
        time.sleep(0.01)
