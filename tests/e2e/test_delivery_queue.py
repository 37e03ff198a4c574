"""The delivery queue as an operator sees it through HTTP: /health's queue check, the queue metrics,
a hung send whose claim expires, and one busy host that cannot hold up another."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from application import views
from application.channels import Notification, TransientChannelError
from application.retry_policy import RetryPolicy
from domain.delivery import DeliveryStatus
from entrypoints.server import app_for
from entrypoints.settings import ServeSettings
from tests.e2e.api_helpers import create_reminder, create_user, wait_until_idle
from tests.e2e.conftest import StartApp, bearer
from tests.fakes import FixedClock, RecordingChannel, admin, make_service, team_of

GRACE = 60


class GatedChannel(RecordingChannel):
    """A recording channel whose sends to the gated targets hang until the gate opens, like a peer
    that stopped answering."""

    def __init__(self, gated: Iterable[str | None] = (None,), *, takes_target: bool = False) -> None:
        super().__init__(takes_target=takes_target)
        self.gated = set(gated)
        self.gate = threading.Event()
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        with self._lock:
            self.tried.append(notification)
        if notification.target in self.gated:
            self.gate.wait(timeout=20)
        with self._lock:
            self.sent.append(notification)


@pytest.fixture
def gated() -> Iterator[GatedChannel]:
    channel = GatedChannel()
    yield channel
    channel.gate.set()


def wait_for(condition: Callable[[], bool], *, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def metric(client: TestClient, name: str) -> float | None:
    exposition = client.get("/metrics").text
    match = re.search(rf"^{re.escape(name)} (\S+)$", exposition, re.MULTILINE)
    return None if match is None else float(match.group(1))


def queue_check(client: TestClient) -> tuple[str, list[str], dict[str, Any]]:
    response = client.get("/health")
    assert response.status_code == 200, response.text
    body = response.json()
    return body["status"], body["reasons"], body["checks"]["queue"]


# -- /health ----------------------------------------------------------------------------------------------


def test_health_turns_degraded_when_the_oldest_due_delivery_waits_longer_than_the_grace_period(
    start_app: StartApp, clock: FixedClock
) -> None:
    settings = ServeSettings(
        scheduler_enabled=False, delivery_enabled=False, send_wait_seconds=0, grace_seconds=GRACE
    )
    client, _ = start_app(settings)
    reminder = create_reminder(client, create_user(client)["id"], channel="log")
    assert queue_check(client) == (
        "ok",
        [],
        {"status": "ok", "reason": None, "pending": 0, "due": 0, "in_flight": 0, "oldest_due_age_seconds": 0},
    )

    assert client.post(f"/notifications/send/{reminder['id']}").status_code == 202
    clock.advance(seconds=GRACE)

    status, reasons, queue = queue_check(client)
    assert (status, reasons, queue["status"]) == ("ok", [], "ok")
    assert (queue["pending"], queue["due"], queue["in_flight"], queue["oldest_due_age_seconds"]) == (
        1,
        1,
        0,
        GRACE,
    )

    clock.advance(seconds=1)

    status, reasons, queue = queue_check(client)
    assert (status, queue["status"], queue["oldest_due_age_seconds"]) == ("degraded", "degraded", GRACE + 1)
    assert "--grace-seconds" in queue["reason"]
    assert reasons == [f"queue: {queue['reason']}"]
    assert metric(client, 'reminders_delivery_queue{state="due"}') == 1
    assert metric(client, 'reminders_delivery_queue{state="pending"}') == 1
    assert metric(client, 'reminders_delivery_queue{state="in_flight"}') == 0
    assert metric(client, "reminders_delivery_oldest_due_age_seconds") == GRACE + 1


def test_a_delivery_waiting_for_its_retry_does_not_make_health_degraded(
    start_app: StartApp, clock: FixedClock
) -> None:
    """Only a delivery that is due and unclaimed counts as overdue; one waiting out a Retry-After
    is pending but not due."""
    channel = RecordingChannel([TransientChannelError("busy", retry_after=3600)])
    client, service = start_app(
        ServeSettings(scheduler_enabled=False, send_wait_seconds=1, grace_seconds=GRACE),
        channels={"recording": channel},
        retry_policy=RetryPolicy(attempts=2, base_seconds=0, max_seconds=3600),
    )
    reminder = create_reminder(client, create_user(client)["id"])
    response = client.post(f"/notifications/send/{reminder['id']}")
    assert response.status_code == 202, response.text
    assert response.json()["next_attempt_at"] == (clock.now() + timedelta(seconds=3600)).isoformat()

    clock.advance(seconds=3000)

    status, reasons, queue = queue_check(client)
    assert (status, reasons) == ("ok", [])
    assert (queue["pending"], queue["due"], queue["in_flight"]) == (1, 0, 0)

    clock.advance(seconds=610)  # ten seconds past the Retry-After
    wait_until_idle(service)

    assert queue_check(client)[2]["pending"] == 0
    assert len(channel.sent) == 1
    assert metric(client, "reminders_delivery_claim_latency_seconds_count") == 2
    assert metric(client, "reminders_delivery_claim_latency_seconds_sum") == 10


# -- a send that hangs past its lease ----------------------------------------------------------------------


def test_a_send_that_hangs_past_its_lease_is_sent_again_with_the_same_key_and_recorded_once(
    start_app: StartApp, clock: FixedClock, gated: GatedChannel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = ServeSettings(
        scheduler_enabled=False,
        send_wait_seconds=0,
        channel_timeout_seconds=1,
        delivery_lease_seconds=3,
        shutdown_grace_seconds=1,
    )
    client, service = start_app(settings, channels={"recording": gated})
    reminder = create_reminder(client, create_user(client)["id"])
    queued = client.post(f"/notifications/send/{reminder['id']}").json()
    wait_for(lambda: len(gated.tried) == 1)
    assert queue_check(client)[2]["in_flight"] == 1

    clock.advance(seconds=3)  # the lease ends while the first send still hangs

    wait_for(lambda: len(gated.tried) == 2)
    gated.gate.set()
    wait_until_idle(service)

    delivery = client.get(f"/deliveries/{queued['delivery_id']}").json()
    assert (delivery["status"], delivery["attempts"]) == ("sent", 1)
    assert len({n.idempotency_key for n in gated.tried}) == 1
    assert metric(client, 'reminders_delivery_lease_expiries_total{channel="recording"}') == 1
    assert metric(client, 'reminders_deliveries_total{channel="recording",outcome="sent"}') == 1
    refused = [r for r in caplog.records if r.getMessage().startswith("late outcome refused")]
    assert [getattr(r, "delivery_id", None) for r in refused] == [queued["delivery_id"]]


# -- one busy host -----------------------------------------------------------------------------------------


def test_a_host_at_its_limit_gets_no_more_sends_and_other_hosts_are_served_meanwhile(
    start_app: StartApp, clock: FixedClock
) -> None:
    channel = GatedChannel(gated={"slow.example"}, takes_target=True)
    # A short lease keeps each host's waiting line short, so claims beyond it go back to the queue.
    settings = ServeSettings(
        scheduler_enabled=False,
        send_wait_seconds=0,
        per_target_concurrency=1,
        channel_timeout_seconds=1,
        delivery_lease_seconds=4,
        shutdown_grace_seconds=1,
    )
    try:
        client, service = start_app(settings, channels={"recording": channel})
        owner = create_user(client)["id"]
        slow = create_reminder(client, owner, target="slow.example")
        fast = create_reminder(client, owner, target="fast.example")
        for _ in range(12):
            assert client.post(f"/notifications/send/{slow['id']}").status_code == 202
        wait_for(
            lambda: (metric(client, 'reminders_delivery_claims_released_total{reason="busy_peer"}') or 0) > 0
        )

        fast_delivery = client.post(f"/notifications/send/{fast['id']}").json()
        wait_for(lambda: [n.target for n in channel.sent] == ["fast.example"])
        # Recorded too (the recorder batches what arrives within a few milliseconds).
        wait_for(lambda: client.get(f"/deliveries/{fast_delivery['delivery_id']}").json()["status"] == "sent")
        assert [n.target for n in channel.tried].count("slow.example") == 1
        queue = queue_check(client)[2]
        assert queue["pending"] > 0
        assert queue["pending"] + queue["in_flight"] == 12

        channel.gate.set()
        for _ in range(20):  # what went back to the queue is due again a little later
            wait_until_idle(service)
            if queue_check(client)[2]["pending"] == 0:
                break
            clock.advance(seconds=2)

        statuses = [
            d["status"] for d in client.get(f"/notifications/{slow['id']}/deliveries").json()["items"]
        ]
        assert statuses == ["sent"] * 12
        assert [n.target for n in channel.sent].count("slow.example") == 12
    finally:
        channel.gate.set()


# -- known defects of the delivery worker (see the marks) ----------------------------------------------------


class TwoGates(RecordingChannel):
    """The first send hangs until `first` opens, every later one until `later` opens."""

    def __init__(self) -> None:
        super().__init__()
        self.first, self.later = threading.Event(), threading.Event()
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        with self._lock:
            self.tried.append(notification)
            gate = self.first if len(self.tried) == 1 else self.later
        gate.wait(timeout=20)
        with self._lock:
            self.sent.append(notification)


def test_a_claim_taken_over_from_a_hung_send_of_the_same_worker_is_given_back_at_shutdown(
    clock: FixedClock, metrics: Any, store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    channel = TwoGates()
    service = make_service(
        clock=clock, channels={"recording": channel}, metrics=metrics, uow_factory=store.uow_factory
    )
    settings = ServeSettings(
        scheduler_enabled=False,
        send_wait_seconds=0,
        channel_timeout_seconds=1,
        delivery_lease_seconds=3,
        shutdown_grace_seconds=0.5,
    )
    try:
        app = app_for(service, metrics, settings, store_kind=store.kind)
        with TestClient(app, headers=bearer(team_of(service).issued.plain)) as client:
            reminder = create_reminder(client, create_user(client)["id"])
            queued = client.post(f"/notifications/send/{reminder['id']}").json()
            wait_for(lambda: len(channel.tried) == 1)
            clock.advance(seconds=3)  # the first send's lease ends; the worker takes the delivery again
            wait_for(lambda: len(channel.tried) == 2)
            channel.first.set()  # the hung send returns at last; its outcome is refused
            wait_for(lambda: any(r.getMessage().startswith("late outcome refused") for r in caplog.records))
        # Stopped while the second send still hangs: its claim goes back to the queue.
        given_back = views.get_delivery(service.uow_factory, admin(service), queued["delivery_id"])
        assert given_back.status is DeliveryStatus.PENDING
    finally:
        channel.first.set()
        channel.later.set()


def test_a_lease_barely_longer_than_the_channel_timeout_still_delivers(start_app: StartApp) -> None:
    channel = RecordingChannel()
    settings = ServeSettings(
        scheduler_enabled=False, send_wait_seconds=2, channel_timeout_seconds=1, delivery_lease_seconds=1.5
    )
    client, _ = start_app(settings, channels={"recording": channel})
    reminder = create_reminder(client, create_user(client)["id"])

    response = client.post(f"/notifications/send/{reminder['id']}")

    assert response.status_code == 200, response.text
    assert len(channel.sent) == 1
