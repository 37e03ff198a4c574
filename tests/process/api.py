"""What the process tests do over HTTP and with the wall clock: create, read back, wait for a slot.

Every call but /health acts as a user: `client()` sends that user's API key with each request.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.process.processes import RemindersProcess


def whole_second(ahead: float) -> datetime:
    """A whole UTC second at least `ahead` seconds from now: slots have one-second resolution."""
    moment = datetime.now(UTC) + timedelta(seconds=ahead)
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def sleep_until(moment: datetime) -> None:
    remaining = (moment - datetime.now(UTC)).total_seconds()
    if remaining > 0:
        time.sleep(remaining)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def client(url: str, key: str, *, timeout: float = 10) -> httpx.Client:
    """An HTTP client of the service at `url` that acts as the holder of `key`."""
    return httpx.Client(base_url=url, headers=bearer(key), timeout=timeout)


def create_user(http: httpx.Client, name: str, email: str) -> dict[str, Any]:
    response = http.post("/users/", json={"name": name, "email": email})
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


def reminder_body(owner_id: str, title: str, **fields: Any) -> dict[str, Any]:
    """The body of a reminder through the log channel, unless `fields` say otherwise."""
    return {
        "owner_id": owner_id,
        "title": title,
        "message": f"{title} for {{owner_name}}",
        "channel": "log",
        **fields,
    }


def once_at(owner_id: str, title: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """The body of a once reminder for the UTC second `at`."""
    return reminder_body(
        owner_id,
        title,
        time_of_day=at.strftime("%H:%M:%S"),
        date=at.date().isoformat(),
        frequency="once",
        timezone="UTC",
        **fields,
    )


def create_reminder(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/notifications/", json=body)
    assert response.status_code == 201, response.text
    reminder: dict[str, Any] = response.json()
    return reminder


def wait_for_delivery(
    http: httpx.Client, reminder_id: str, process: RemindersProcess, *, timeout: float = 15
) -> dict[str, Any]:
    """The reminder's one delivery, once it is finished (neither queued nor being sent)."""
    deadline = time.monotonic() + timeout
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        items = http.get(f"/notifications/{reminder_id}/deliveries").json()["items"]
        if items and all(item["status"] not in ("pending", "sending") for item in items):
            assert len(items) == 1, items
            return items[0]
        time.sleep(0.1)
    raise AssertionError(
        f"reminder {reminder_id} has no finished delivery after {timeout} s: {items}\n{process.describe()}"
    )


def snapshot(http: httpx.Client, owner_ids: list[str]) -> dict[str, Any]:
    """Everything a user can list: users, each owner's reminders, and the deliveries."""
    users = http.get("/users/", params={"limit": 100}).json()
    reminders = {
        owner_id: http.get(f"/notifications/user/{owner_id}/", params={"limit": 100}).json()
        for owner_id in owner_ids
    }
    deliveries = http.get("/deliveries/", params={"limit": 100}).json()
    return {"users": users, "reminders": reminders, "deliveries": deliveries}
