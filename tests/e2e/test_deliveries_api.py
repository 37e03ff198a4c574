"""Sending through HTTP: send-now, the delivery ledger, retrying a failed delivery, scheduled slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from adapters.log_email_channel import LogEmailChannel
from application.channels import Notification, PermanentChannelError, TransientChannelError
from application.commands import CheckDueReminders
from application.retry_policy import RetryPolicy
from entrypoints.bootstrap import Service
from entrypoints.settings import ServeSettings
from tests.e2e.api_helpers import (
    assert_error,
    assert_validation_error,
    create_reminder,
    create_user,
    wait_until_idle,
)
from tests.e2e.conftest import StartApp
from tests.fakes import FixedClock, RecordingChannel, run_queue

DELIVERY_KEYS = {
    "delivery_id",
    "reminder_id",
    "channel",
    "status",
    "kind",
    "parent_delivery_id",
    "recipient_id",
    "acknowledged_at",
    "acknowledged_by",
    "deferred_until",
    "reason",
    "scheduled_for",
    "sent_at",
    "first_attempt_at",
    "next_attempt_at",
    "lateness_seconds",
    "via",
    "attempts",
    "attempt_log",
    "error",
}
RETRIES = 4  # attempts per delivery in tests.fakes.make_service
# Retries wait up to ten minutes: on the fixed clock a retried delivery stays pending until the test
# moves time on, so a request's wait for the outcome ends first.
SLOW_RETRIES = RetryPolicy(attempts=RETRIES, base_seconds=600, max_seconds=600)
SHORT_WAIT = ServeSettings(scheduler_enabled=False, send_wait_seconds=1)


@pytest.fixture
def owner(client: TestClient) -> dict[str, Any]:
    return create_user(client, name="Ada")


@pytest.fixture
def reminder(client: TestClient, owner: dict[str, Any]) -> dict[str, Any]:
    return create_reminder(client, owner["id"], title="Stand-up", message="Hello {owner_name}")


def transient(n: int) -> list[Exception]:
    return [TransientChannelError(f"timeout {i}") for i in range(1, n + 1)]


def deliveries_of(client: TestClient, reminder_id: str, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/notifications/{reminder_id}/deliveries{query}")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_sending_now_delivers_through_the_channel_and_leaves_the_schedule_alone(
    client: TestClient, channel: RecordingChannel, reminder: dict[str, Any]
) -> None:
    response = client.post(f"/notifications/send/{reminder['id']}")

    assert response.status_code == 200
    sent = response.json()
    assert set(sent) == DELIVERY_KEYS
    assert sent["delivery_id"]
    assert sent["reminder_id"] == reminder["id"]
    assert (sent["channel"], sent["status"], sent["attempts"]) == ("recording", "sent", 1)
    assert sent["scheduled_for"] is None
    assert sent["sent_at"] == sent["first_attempt_at"] == "2026-01-05T08:00:00+00:00"
    assert (sent["error"], sent["next_attempt_at"], sent["via"]) == (None, None, None)
    assert [(a["number"], a["error"]) for a in sent["attempt_log"]] == [(1, None)]
    assert [(n.title, n.message) for n in channel.sent] == [("Stand-up", "Hello Ada")]
    after = client.get(f"/notifications/{reminder['id']}").json()
    assert after["next_run_at"] == reminder["next_run_at"]
    assert after["last_run_at"] is None


def test_a_transient_failure_is_retried_until_it_succeeds(
    client: TestClient, channel: RecordingChannel, reminder: dict[str, Any]
) -> None:
    channel.failures = transient(2)

    response = client.post(f"/notifications/send/{reminder['id']}")

    assert response.status_code == 200
    sent = response.json()
    assert (sent["status"], sent["attempts"]) == ("sent", 3)
    assert [a["error"] for a in sent["attempt_log"]] == ["timeout 1", "timeout 2", None]
    assert len(channel.sent) == 1


def test_when_every_attempt_fails_the_answer_is_502_carrying_the_failed_delivery(
    client: TestClient, channel: RecordingChannel, reminder: dict[str, Any]
) -> None:
    channel.failures = transient(RETRIES)

    response = client.post(f"/notifications/send/{reminder['id']}")

    body = assert_error(response, 502, "delivery_failed")
    delivery = body["details"]
    assert set(delivery) == DELIVERY_KEYS
    assert delivery["reminder_id"] == reminder["id"]
    assert (delivery["status"], delivery["attempts"], delivery["error"]) == ("failed", RETRIES, "timeout 4")
    assert delivery["sent_at"] is None
    assert channel.sent == []
    stored = client.get(f"/deliveries/{delivery['delivery_id']}").json()
    assert (stored["status"], stored["attempts"]) == ("failed", RETRIES)


def test_a_permanent_failure_is_not_retried(
    client: TestClient, channel: RecordingChannel, reminder: dict[str, Any]
) -> None:
    channel.failures = [PermanentChannelError("mailbox does not exist")]

    response = client.post(f"/notifications/send/{reminder['id']}")

    delivery = assert_error(response, 502, "delivery_failed")["details"]
    assert (delivery["attempts"], delivery["error"]) == (1, "mailbox does not exist")
    assert len(channel.tried) == 1


def test_sending_an_unknown_reminder_is_not_found(client: TestClient, channel: RecordingChannel) -> None:
    assert_error(client.post("/notifications/send/no-such-reminder"), 404, "not_found")
    assert channel.tried == []


def test_sent_and_failed_deliveries_are_counted_in_the_metrics(
    client: TestClient, channel: RecordingChannel, reminder: dict[str, Any]
) -> None:
    client.post(f"/notifications/send/{reminder['id']}")
    client.post(f"/notifications/send/{reminder['id']}")
    channel.failures = [PermanentChannelError("refused")]
    client.post(f"/notifications/send/{reminder['id']}")

    exposition = client.get("/metrics").text

    assert 'reminders_deliveries_total{channel="recording",outcome="sent"} 2.0' in exposition
    assert 'reminders_deliveries_total{channel="recording",outcome="failed"} 1.0' in exposition


def test_a_reminders_deliveries_are_listed_newest_first(
    client: TestClient, clock: FixedClock, channel: RecordingChannel, reminder: dict[str, Any]
) -> None:
    first = client.post(f"/notifications/send/{reminder['id']}").json()
    clock.advance(minutes=1)
    channel.failures = [PermanentChannelError("refused")]
    second = client.post(f"/notifications/send/{reminder['id']}").json()["details"]
    other = create_reminder(client, reminder["owner_id"])
    client.post(f"/notifications/send/{other['id']}")

    listed = client.get(f"/notifications/{reminder['id']}/deliveries").json()

    assert [d["delivery_id"] for d in listed["items"]] == [second["delivery_id"], first["delivery_id"]]
    assert listed["total"] == 2
    assert [d["delivery_id"] for d in deliveries_of(client, reminder["id"], "?status=sent")] == [
        first["delivery_id"]
    ]
    assert [d["delivery_id"] for d in deliveries_of(client, reminder["id"], "?limit=1&offset=1")] == [
        first["delivery_id"]
    ]


def test_the_deliveries_of_an_unknown_reminder_are_not_found(client: TestClient) -> None:
    assert_error(client.get("/notifications/no-such/deliveries"), 404, "not_found")


def test_the_ledger_lists_every_delivery_and_filters_by_status_and_channel(
    client: TestClient, channel: RecordingChannel, owner: dict[str, Any], reminder: dict[str, Any]
) -> None:
    by_log = create_reminder(client, owner["id"], channel="log")
    sent = client.post(f"/notifications/send/{reminder['id']}").json()
    channel.failures = [PermanentChannelError("refused")]
    failed = client.post(f"/notifications/send/{reminder['id']}").json()["details"]
    logged = client.post(f"/notifications/send/{by_log['id']}").json()

    def ids(query: str = "") -> set[str]:
        response = client.get(f"/deliveries/{query}")
        assert response.status_code == 200, response.text
        return {d["delivery_id"] for d in response.json()["items"]}

    assert ids() == {sent["delivery_id"], failed["delivery_id"], logged["delivery_id"]}
    assert client.get("/deliveries/").json()["total"] == 3
    assert ids("?status=failed") == {failed["delivery_id"]}
    assert ids("?channel=log") == {logged["delivery_id"]}
    assert ids("?status=sent&channel=recording") == {sent["delivery_id"]}
    assert client.get("/deliveries/?limit=1").json()["limit"] == 1
    assert len(ids("?limit=1")) == 1


@pytest.mark.parametrize(
    ("query", "field"), [("status=lost", "status"), ("limit=0", "limit"), ("reminder_id=x", "reminder_id")]
)
def test_a_bad_ledger_query_is_refused(client: TestClient, query: str, field: str) -> None:
    assert_validation_error(client.get(f"/deliveries/?{query}"), field)


def test_one_delivery_can_be_read_back(client: TestClient, reminder: dict[str, Any]) -> None:
    sent = client.post(f"/notifications/send/{reminder['id']}").json()

    response = client.get(f"/deliveries/{sent['delivery_id']}")

    assert response.status_code == 200
    assert response.json() == sent
    assert_error(client.get("/deliveries/no-such-delivery"), 404, "not_found")


def test_a_failed_delivery_can_be_retried_and_keeps_its_earlier_attempts(
    client: TestClient, channel: RecordingChannel, reminder: dict[str, Any]
) -> None:
    channel.failures = [PermanentChannelError("refused")]
    failed = client.post(f"/notifications/send/{reminder['id']}").json()["details"]

    response = client.post(f"/deliveries/{failed['delivery_id']}/retry")

    assert response.status_code == 200
    retried = response.json()
    assert retried["delivery_id"] == failed["delivery_id"]
    assert (retried["status"], retried["attempts"], retried["error"]) == ("sent", 2, None)
    assert [(a["number"], a["error"]) for a in retried["attempt_log"]] == [(1, "refused"), (2, None)]
    assert len(channel.sent) == 1
    assert client.get(f"/deliveries/{failed['delivery_id']}").json()["status"] == "sent"


def test_a_retry_that_fails_again_is_a_502(
    client: TestClient, channel: RecordingChannel, reminder: dict[str, Any]
) -> None:
    channel.failures = [PermanentChannelError("refused"), PermanentChannelError("still refused")]
    failed = client.post(f"/notifications/send/{reminder['id']}").json()["details"]

    response = client.post(f"/deliveries/{failed['delivery_id']}/retry")

    delivery = assert_error(response, 502, "delivery_failed")["details"]
    assert (delivery["status"], delivery["attempts"], delivery["error"]) == ("failed", 2, "still refused")


def test_only_a_failed_delivery_can_be_retried(
    client: TestClient, channel: RecordingChannel, reminder: dict[str, Any]
) -> None:
    sent = client.post(f"/notifications/send/{reminder['id']}").json()

    assert_error(client.post(f"/deliveries/{sent['delivery_id']}/retry"), 409, "conflict")
    assert len(channel.tried) == 1
    assert client.get(f"/deliveries/{sent['delivery_id']}").json() == sent
    assert_error(client.post("/deliveries/no-such-delivery/retry"), 404, "not_found")


def test_a_due_slot_is_delivered_once_and_the_reminder_moves_on(
    client: TestClient, clock: FixedClock, service: Service, channel: RecordingChannel, owner: dict[str, Any]
) -> None:
    daily = create_reminder(client, owner["id"], time_of_day="09:00")
    clock.advance(hours=1, seconds=30)

    service.bus.handle(CheckDueReminders(now=clock.now()))
    wait_until_idle(service)
    service.bus.handle(CheckDueReminders(now=clock.now()))
    wait_until_idle(service)

    [delivery] = deliveries_of(client, daily["id"])
    assert (delivery["status"], delivery["scheduled_for"]) == ("sent", "2026-01-05T09:00:00+00:00")
    assert delivery["lateness_seconds"] == 30
    assert len(channel.sent) == 1
    after = client.get(f"/notifications/{daily['id']}").json()
    assert after["last_run_at"] == "2026-01-05T09:00:30+00:00"
    assert after["next_run_at"] == "2026-01-06T09:00:00+00:00"
    assert after["active"] is True


def test_a_slot_fired_by_the_scheduler_is_sent_by_the_worker_not_by_the_tick(
    client: TestClient, clock: FixedClock, service: Service, channel: RecordingChannel, owner: dict[str, Any]
) -> None:
    """The tick only records the slot as pending; the app's delivery worker sends it moments later."""
    daily = create_reminder(client, owner["id"], time_of_day="09:00")
    clock.advance(hours=1)
    channel.failures = transient(1)

    service.bus.handle(CheckDueReminders(now=clock.now()))
    wait_until_idle(service)

    [delivery] = deliveries_of(client, daily["id"])
    assert (delivery["status"], delivery["attempts"]) == ("sent", 2)
    assert [a["error"] for a in delivery["attempt_log"]] == ["timeout 1", None]
    assert [n.scheduled_for for n in channel.sent] == [datetime(2026, 1, 5, 9, 0, tzinfo=UTC)]
    assert len({n.idempotency_key for n in channel.tried}) == 1


class SlowChannel(RecordingChannel):
    """A receiver that takes 3.57 s on the fixed clock to answer."""

    def __init__(self, clock: FixedClock) -> None:
        super().__init__()
        self.clock = clock

    def send(self, notification: Notification) -> None:
        self.clock.advance(seconds=3.57)
        super().send(notification)


def test_a_slot_sent_to_a_slow_receiver_is_late_only_by_the_wait_for_its_first_attempt(
    start_app: StartApp, clock: FixedClock
) -> None:
    client, service = start_app(
        ServeSettings(scheduler_enabled=False), channels={"recording": SlowChannel(clock)}
    )
    daily = create_reminder(client, create_user(client)["id"], time_of_day="09:00")
    clock.advance(hours=1, seconds=30)

    service.bus.handle(CheckDueReminders(now=clock.now()))
    wait_until_idle(service)

    [delivery] = deliveries_of(client, daily["id"])
    assert delivery["status"] == "sent"
    assert delivery["first_attempt_at"] == "2026-01-05T09:00:30+00:00"
    assert delivery["sent_at"] == "2026-01-05T09:00:33.570000+00:00"
    assert delivery["lateness_seconds"] == 30
    assert client.get(f"/deliveries/{delivery['delivery_id']}").json() == delivery


def test_an_email_without_an_smtp_server_is_sent_via_the_log(start_app: StartApp) -> None:
    client, _ = start_app(ServeSettings(scheduler_enabled=False), channels={"email": LogEmailChannel()})
    reminder = create_reminder(client, create_user(client)["id"], channel="email")

    response = client.post(f"/notifications/send/{reminder['id']}")

    assert response.status_code == 200, response.text
    sent = response.json()
    assert (sent["status"], sent["via"]) == ("sent", "log")
    assert client.get(f"/deliveries/{sent['delivery_id']}").json() == sent
    assert [d["via"] for d in client.get("/deliveries/?channel=email").json()["items"]] == ["log"]


# -- still retrying when the wait ends: 202 --------------------------------------------------------------


def test_a_send_still_retrying_when_the_wait_ends_is_a_202_with_its_attempts_so_far(
    start_app: StartApp, clock: FixedClock
) -> None:
    channel = RecordingChannel(transient(1))
    client, service = start_app(SHORT_WAIT, channels={"recording": channel}, retry_policy=SLOW_RETRIES)
    reminder = create_reminder(client, create_user(client)["id"])

    response = client.post(f"/notifications/send/{reminder['id']}")

    assert response.status_code == 202, response.text
    queued = response.json()
    assert set(queued) == DELIVERY_KEYS
    assert (queued["status"], queued["attempts"], queued["error"], queued["sent_at"]) == (
        "pending",
        1,
        "timeout 1",
        None,
    )
    assert [(a["number"], a["error"]) for a in queued["attempt_log"]] == [(1, "timeout 1")]
    # When it is tried again: within the retry policy's ten minutes.
    retry_at = datetime.fromisoformat(queued["next_attempt_at"])
    assert clock.now() < retry_at <= clock.now() + timedelta(seconds=600)
    assert channel.sent == []
    assert client.get(f"/deliveries/{queued['delivery_id']}").json()["status"] == "pending"

    clock.advance(seconds=601)
    wait_until_idle(service)

    later = client.get(f"/deliveries/{queued['delivery_id']}").json()
    assert (later["status"], later["attempts"], later["next_attempt_at"]) == ("sent", 2, None)
    assert [(a["number"], a["error"]) for a in later["attempt_log"]] == [(1, "timeout 1"), (2, None)]
    assert len(channel.sent) == 1


def test_a_retry_still_retrying_when_the_wait_ends_is_a_202_keeping_its_earlier_attempts(
    start_app: StartApp, clock: FixedClock
) -> None:
    channel = RecordingChannel([PermanentChannelError("refused"), TransientChannelError("timeout")])
    client, service = start_app(SHORT_WAIT, channels={"recording": channel}, retry_policy=SLOW_RETRIES)
    reminder = create_reminder(client, create_user(client)["id"])
    failed = assert_error(client.post(f"/notifications/send/{reminder['id']}"), 502, "delivery_failed")

    response = client.post(f"/deliveries/{failed['details']['delivery_id']}/retry")

    assert response.status_code == 202, response.text
    retrying = response.json()
    assert retrying["delivery_id"] == failed["details"]["delivery_id"]
    assert (retrying["status"], retrying["attempts"], retrying["error"]) == ("pending", 2, "timeout")
    assert [(a["number"], a["error"]) for a in retrying["attempt_log"]] == [(1, "refused"), (2, "timeout")]
    assert_error(client.post(f"/deliveries/{retrying['delivery_id']}/retry"), 409, "conflict")

    clock.advance(seconds=601)
    wait_until_idle(service)

    assert client.get(f"/deliveries/{retrying['delivery_id']}").json()["status"] == "sent"
    assert len(channel.sent) == 1


def test_a_send_with_no_worker_running_answers_202_once_the_wait_is_over(
    start_app: StartApp, clock: FixedClock
) -> None:
    """With delivery off in this process, the request still only queues; a worker elsewhere sends it."""
    channel = RecordingChannel()
    client, service = start_app(
        ServeSettings(scheduler_enabled=False, delivery_enabled=False, send_wait_seconds=0.2),
        channels={"recording": channel},
    )
    reminder = create_reminder(client, create_user(client)["id"])

    response = client.post(f"/notifications/send/{reminder['id']}")

    assert response.status_code == 202, response.text
    queued = response.json()
    assert (queued["status"], queued["attempts"], queued["attempt_log"]) == ("pending", 0, [])
    assert queued["next_attempt_at"] == clock.now().isoformat()  # due at once
    assert channel.tried == []
    [listed] = deliveries_of(client, reminder["id"])
    assert (listed["delivery_id"], listed["status"]) == (queued["delivery_id"], "pending")

    run_queue(service, worker="another-process")

    assert client.get(f"/deliveries/{queued['delivery_id']}").json()["status"] == "sent"
    assert len(channel.sent) == 1
