"""Each feature of calendar rules, team reminders, snooze, acknowledge, repeats, quiet hours and alerts,
end to end through the HTTP API, on SQLite and PostgreSQL (and the memory store).

The app runs with its scheduler off; the test drives time with the fixed clock, one tick and the
queue at a time, as a running service would. Emails go to a recording channel; the webhook is the
real channel posting to a real local HTTP receiver.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from adapters.prometheus_metrics import PrometheusMetrics
from adapters.webhook_channel import WebhookChannel
from application.action_links import ActionLinks
from application.commands import CheckDueReminders
from entrypoints.bootstrap import Service
from entrypoints.server import app_for
from entrypoints.settings import ServeSettings
from tests.e2e.conftest import bearer, unlimited
from tests.fakes import FixedClock, RecordingChannel, make_service, run_queue, team_of
from tests.integration.peers import HttpReceiver, Reply
from tests.stores import MakeStore, StoreUnderTest

START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # a Monday; Berlin UTC+1, New York UTC-5, Tokyo UTC+9
SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> StoreUnderTest:
    return make_store(request.param)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def email() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    peer = HttpReceiver(Reply(500, b"down")).start()
    yield peer
    peer.stop()


@pytest.fixture
def service(clock: FixedClock, email: RecordingChannel, store: StoreUnderTest) -> Iterator[Service]:
    webhook = WebhookChannel(secret=None, timeout=5, allow_private_targets=True)
    yield make_service(
        clock=clock,
        channels={"email": email, "webhook": webhook},
        uow_factory=store.uow_factory,
        links=ActionLinks("http://testserver"),
    )
    webhook.close()


@pytest.fixture
def client(service: Service, store: StoreUnderTest) -> Iterator[TestClient]:
    settings = unlimited(ServeSettings(scheduler_enabled=False, delivery_enabled=False))
    app = app_for(service, PrometheusMetrics(), settings, store_kind=store.kind)
    with TestClient(
        app, raise_server_exceptions=False, headers=bearer(team_of(service).issued.plain)
    ) as test:
        yield test


def at(service: Service, clock: FixedClock, moment: datetime) -> None:
    """What the running service does at `moment`: a tick, then the worker sends what is due."""
    clock.current = moment
    service.bus.handle(CheckDueReminders(now=moment))
    run_queue(service)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def user(client: TestClient, name: str, timezone: str = "UTC", **fields: Any) -> dict[str, Any]:
    body = {"name": name, "email": f"{name.lower()}@example.com", "timezone": timezone, **fields}
    created: dict[str, Any] = ok(client.post("/users/", json=body), 201)
    return created


def remind(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Stand-up notes",
        "message": "Write yours",
        "channel": "email",
        "time_of_day": None if "cron" in fields else "09:00",
        "frequency": "daily",
        "timezone": "UTC",
        **fields,
    }
    body = {name: value for name, value in body.items() if value is not None}
    created: dict[str, Any] = ok(client.post("/notifications/", json=body), 201)
    return created


def deliveries(client: TestClient, reminder_id: str) -> list[dict[str, Any]]:
    """The reminder's deliveries, oldest first (the API lists them newest first)."""
    page: dict[str, Any] = ok(client.get(f"/notifications/{reminder_id}/deliveries", params={"limit": 100}))
    return list(reversed(page["items"]))


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_team_reminder_reaches_three_members_at_nine_in_their_own_zones(
    client: TestClient, service: Service, clock: FixedClock, email: RecordingChannel
) -> None:
    people = [user(client, "Berta", "Europe/Berlin"), user(client, "Noah", "America/New_York")]
    people.append(user(client, "Toshi", "Asia/Tokyo"))
    ids = [person["id"] for person in people]
    reminder = remind(client, recipients=ids, local_time="recipient")

    preview = ok(client.get(f"/notifications/{reminder['id']}/occurrences", params={"count": 3}))["items"]
    expected = {
        ids[0]: datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
        ids[1]: datetime(2026, 1, 5, 14, 0, tzinfo=UTC),
        ids[2]: datetime(2026, 1, 6, 0, 0, tzinfo=UTC),
    }
    assert {item["recipient_id"]: instant(item["scheduled_for"]) for item in preview} == expected
    assert all(item["local"].startswith(("2026-01-05T09:00:00", "2026-01-06T09:00:00")) for item in preview)

    for moment in sorted(expected.values()):
        at(service, clock, moment - timedelta(seconds=1))
        at(service, clock, moment)

    fired = deliveries(client, reminder["id"])
    assert {d["recipient_id"]: instant(d["scheduled_for"]) for d in fired} == expected
    assert [d["status"] for d in fired] == ["sent", "sent", "sent"]
    assert [n.to_email for n in email.sent] == [f"{p['name'].lower()}@example.com" for p in people]


def test_snooze_and_acknowledge_through_the_api(
    client: TestClient, service: Service, clock: FixedClock, email: RecordingChannel
) -> None:
    reminder = remind(client)
    at(service, clock, SLOT)
    (sent,) = deliveries(client, reminder["id"])

    snooze = ok(client.post(f"/deliveries/{sent['delivery_id']}/snooze", json={"minutes": 10}), 201)
    assert (snooze["kind"], snooze["parent_delivery_id"], snooze["status"]) == (
        "snooze",
        sent["delivery_id"],
        "pending",
    )
    at(service, clock, SLOT + timedelta(minutes=10))
    assert ok(client.get(f"/deliveries/{snooze['delivery_id']}"))["status"] == "sent"
    assert len(email.sent) == 2

    acked = ok(client.post(f"/deliveries/{sent['delivery_id']}/ack"))
    assert acked["acknowledged_by"] == team_of(service).admin.id
    assert instant(acked["acknowledged_at"]) == SLOT + timedelta(minutes=10)
    assert ok(client.post(f"/deliveries/{sent['delivery_id']}/ack")) == acked


def test_acknowledge_and_snooze_through_the_links_in_the_message(
    client: TestClient, service: Service, clock: FixedClock, email: RecordingChannel
) -> None:
    reminder = remind(client)
    at(service, clock, SLOT)
    (message,) = email.sent
    ack_path = urlsplit(message.actions["ack_url"]).path
    snooze_path = urlsplit(message.actions["snooze_url"]).path

    anonymous = {"Authorization": ""}
    page = client.get(ack_path, headers=anonymous)
    assert page.status_code == 200
    assert "<form" in page.text
    (sent,) = deliveries(client, reminder["id"])
    assert sent["acknowledged_at"] is None  # opening the link changes nothing

    assert client.post(ack_path, headers=anonymous).status_code == 200
    assert (
        ok(client.get(f"/deliveries/{sent['delivery_id']}"))["acknowledged_by"] == team_of(service).admin.id
    )
    assert client.post(ack_path, headers=anonymous).status_code == 410
    assert client.post(ack_path[:-3] + "xyz", headers=anonymous).status_code == 403

    assert client.post(snooze_path, data={"minutes": "30"}, headers=anonymous).status_code == 200
    snoozes = [d for d in deliveries(client, reminder["id"]) if d["kind"] == "snooze"]
    assert [instant(d["scheduled_for"]) for d in snoozes] == [SLOT + timedelta(minutes=30)]


def test_repeats_until_acknowledged_and_stops_at_the_acknowledgement(
    client: TestClient, service: Service, clock: FixedClock, email: RecordingChannel
) -> None:
    reminder = remind(client, repeat_until_ack={"every_minutes": 5, "max_times": 3})
    at(service, clock, SLOT)
    at(service, clock, SLOT + timedelta(minutes=5))
    (first, repeat, waiting) = deliveries(client, reminder["id"])
    assert (repeat["kind"], repeat["status"], waiting["status"]) == ("repeat", "sent", "pending")

    ok(client.post(f"/deliveries/{repeat['delivery_id']}/ack"))
    at(service, clock, SLOT + timedelta(minutes=30))

    states = {d["delivery_id"]: (d["kind"], d["status"]) for d in deliveries(client, reminder["id"])}
    assert states == {
        first["delivery_id"]: ("scheduled", "sent"),
        repeat["delivery_id"]: ("repeat", "sent"),
        waiting["delivery_id"]: ("repeat", "cancelled"),
    }
    assert len(email.sent) == 2


def test_quiet_hours_defer_a_slot_until_they_end(
    client: TestClient, service: Service, clock: FixedClock, email: RecordingChannel
) -> None:
    admin_id = team_of(service).admin.id
    ok(client.patch(f"/users/{admin_id}", json={"quiet_hours": {"start": "08:30", "end": "10:00"}}))
    reminder = remind(client)
    preview = ok(client.get(f"/notifications/{reminder['id']}/occurrences", params={"count": 1}))["items"]
    assert (preview[0]["skipped"], preview[0]["reason"]) == (True, "quiet_hours")

    at(service, clock, SLOT)
    (deferred,) = deliveries(client, reminder["id"])
    assert (deferred["status"], deferred["reason"]) == ("deferred", "quiet_hours")
    assert instant(deferred["deferred_until"]) == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert email.sent == []

    at(service, clock, datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    (sent,) = deliveries(client, reminder["id"])
    assert sent["status"] == "sent"
    assert len(email.sent) == 1


def test_a_failing_webhook_alerts_its_owner_once(
    client: TestClient, service: Service, clock: FixedClock, email: RecordingChannel, receiver: HttpReceiver
) -> None:
    reminder = remind(
        client,
        title="Deploy",
        channel="webhook",
        target=receiver.url(),
        frequency="cron",
        cron="0 9,20 * * *",
    )
    at(service, clock, SLOT)  # fails, after its retries: the owner is alerted
    at(service, clock, SLOT + timedelta(hours=11))  # fails again within a day of the alert: no second one

    ledger = deliveries(client, reminder["id"])
    assert [d["status"] for d in ledger if d["kind"] == "scheduled"] == ["failed", "failed"]
    (alert,) = [d for d in ledger if d["kind"] == "alert"]
    assert (alert["status"], alert["channel"], alert["recipient_id"]) == (
        "sent",
        "email",
        team_of(service).admin.id,
    )
    (message,) = email.sent
    assert "Deploy" in message.title
    assert "500" in message.message
    assert receiver.requests
