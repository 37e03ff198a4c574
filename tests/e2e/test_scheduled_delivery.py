"""The running service delivers on its own: a live server, the real clock, a 0.2 s tick and the delivery
worker of its lifespan."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.prometheus_metrics import PrometheusMetrics
from adapters.system_clock import SystemClock
from application.channels import TransientChannelError
from entrypoints.server import app_for
from entrypoints.settings import ServeSettings
from tests.e2e.conftest import bearer
from tests.e2e.live_server import serve
from tests.fakes import RecordingChannel, make_service, team_of

TICK = ServeSettings(tick_seconds=0.2)


@contextmanager
def running(channel: RecordingChannel, settings: ServeSettings = TICK) -> Iterator[httpx.Client]:
    """The real app in a live server, its only configured channel besides "log" being `channel`; the
    client acts as the test team's admin."""
    metrics = PrometheusMetrics()
    service = make_service(
        clock=SystemClock(),
        channels={"recording": channel},
        metrics=metrics,
    )
    headers = bearer(team_of(service).issued.plain)
    with (
        serve(app_for(service, metrics, settings)) as url,
        httpx.Client(base_url=url, timeout=5, headers=headers) as client,
    ):
        yield client


def create_once_reminder_soon(client: httpx.Client) -> tuple[dict[str, Any], datetime]:
    """A once reminder on the recording channel for a whole second one to two seconds from now."""
    owner = client.post("/users/", json={"name": "Ann", "email": "ann@example.com"})
    assert owner.status_code == 201, owner.text
    slot = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    response = client.post(
        "/notifications/",
        json={
            "owner_id": owner.json()["id"],
            "title": "Stand-up",
            "message": "Join the stand-up call",
            "channel": "recording",
            "time_of_day": slot.strftime("%H:%M:%S"),
            "date": slot.date().isoformat(),  # explicit, so a slot just past midnight stays on its day
            "frequency": "once",
            "timezone": "UTC",
        },
    )
    assert response.status_code == 201, response.text
    reminder: dict[str, Any] = response.json()
    assert reminder["next_run_at"] == slot.isoformat()
    return reminder, slot


def deliveries_of(client: httpx.Client, reminder_id: str) -> list[dict[str, Any]]:
    """The reminder's deliveries but the failure alerts to its owner (kind "alert")."""
    response = client.get(f"/notifications/{reminder_id}/deliveries")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return [item for item in items if item["kind"] != "alert"]


def wait_for(condition: Callable[[], bool], *, seconds: float = 6.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the scheduler"
        time.sleep(0.05)


def metric(exposition: str, name: str) -> float | None:
    match = re.search(rf"^{re.escape(name)} (\S+)$", exposition, re.MULTILINE)
    return None if match is None else float(match.group(1))


def test_a_once_reminder_is_delivered_exactly_once_on_time() -> None:
    channel = RecordingChannel()
    with running(channel) as client:
        reminder, slot = create_once_reminder_soon(client)

        wait_for(lambda: [d["status"] for d in deliveries_of(client, reminder["id"])] == ["sent"])
        time.sleep(1.0)  # five more ticks: none of them may deliver again

        [delivery] = deliveries_of(client, reminder["id"])
        assert (delivery["scheduled_for"], delivery["channel"], delivery["attempts"]) == (
            slot.isoformat(),
            "recording",
            1,
        )
        assert 0 <= delivery["lateness_seconds"] < 1
        assert [n.scheduled_for for n in channel.sent] == [slot]
        retired = client.get(f"/notifications/{reminder['id']}").json()
        assert (retired["active"], retired["next_run_at"]) == (False, None)
        assert retired["last_run_at"] is not None

        exposition = client.get("/metrics").text
        assert metric(exposition, 'reminders_deliveries_total{channel="recording",outcome="sent"}') == 1.0
        assert metric(exposition, 'reminders_delivery_lateness_seconds_count{channel="recording"}') == 1.0

        health = client.get("/health")
        assert health.status_code == 200, health.text
        scheduler = health.json()["checks"]["scheduler"]
        assert (scheduler["enabled"], scheduler["status"]) == (True, "ok")
        assert datetime.fromisoformat(scheduler["last_tick_at"]) > slot
        assert scheduler["seconds_since_last_tick"] < 1
        queue = health.json()["checks"]["queue"]
        assert (queue["status"], queue["pending"], queue["due"], queue["in_flight"]) == ("ok", 0, 0, 0)


def test_a_scheduled_delivery_through_a_failing_channel_fails_visibly_and_retry_sends_it() -> None:
    channel = RecordingChannel([TransientChannelError(f"timeout {n}") for n in range(1, 5)])
    with running(channel) as client:
        reminder, slot = create_once_reminder_soon(client)

        wait_for(lambda: [d["status"] for d in deliveries_of(client, reminder["id"])] == ["failed"])

        [failed] = deliveries_of(client, reminder["id"])
        assert (failed["scheduled_for"], failed["error"], failed["attempts"]) == (
            slot.isoformat(),
            "timeout 4",
            4,
        )
        assert [(a["number"], a["error"]) for a in failed["attempt_log"]] == [
            (n, f"timeout {n}") for n in range(1, 5)
        ]
        assert channel.sent == []
        health = client.get("/health")
        assert health.status_code == 200, health.text
        assert health.json()["checks"]["scheduler"]["status"] == "ok"

        retried = client.post(f"/deliveries/{failed['delivery_id']}/retry")

        assert retried.status_code == 200, retried.text
        body = retried.json()
        assert (body["delivery_id"], body["status"], body["scheduled_for"]) == (
            failed["delivery_id"],
            "sent",
            slot.isoformat(),
        )
        assert [(a["number"], a["error"]) for a in body["attempt_log"]][-1] == (5, None)
        assert [n.scheduled_for for n in channel.sent] == [slot]
        assert len({n.idempotency_key for n in channel.tried}) == 1
        assert [d["status"] for d in deliveries_of(client, reminder["id"])] == ["sent"]


def test_health_reports_a_disabled_scheduler_as_healthy() -> None:
    with running(RecordingChannel(), ServeSettings(scheduler_enabled=False)) as client:
        health = client.get("/health")

    assert health.status_code == 200, health.text
    body = health.json()
    assert body["status"] == "ok"
    scheduler = body["checks"]["scheduler"]
    assert (scheduler["enabled"], scheduler["status"], scheduler["last_tick_at"]) == (False, "ok", None)
