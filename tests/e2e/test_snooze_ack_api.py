"""Snoozing and acknowledging a delivery through HTTP: the follow-up a snooze makes, what an
acknowledgement records and stops, who may answer a delivery, and the write limit they count against."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from application.commands import CheckDueReminders, CreateReminder
from entrypoints.bootstrap import Service
from entrypoints.settings import ServeSettings
from tests.e2e.api_helpers import assert_error, assert_validation_error, wait_until_idle
from tests.e2e.conftest import StartApp
from tests.e2e.teams import Person, add_person, add_reminder, admin_of, call
from tests.e2e.test_validation_messages import assert_in_words
from tests.fakes import FixedClock, RecordingChannel, new_team, team_of

# The fixed clock starts on Monday 2026-01-05 at 08:00 UTC.
NOW = "2026-01-05T08:00:00+00:00"


@pytest.fixture
def admin(service: Service) -> Person:
    return admin_of(team_of(service))


@pytest.fixture
def member(service: Service, admin: Person) -> Person:
    return add_person(service, admin, "Mia Member", "mia@example.com")


@pytest.fixture
def other(service: Service, admin: Person) -> Person:
    return add_person(service, admin, "Otto Other", "otto@example.com")


@pytest.fixture
def outsider(service: Service) -> Person:
    return admin_of(new_team(service, "Other team", "admin@other.example"))


@pytest.fixture
def reminder_id(service: Service, admin: Person, member: Person) -> str:
    """The member's daily 09:00 (UTC) reminder on the recording channel."""
    return add_reminder(service, admin, member.id).id


@pytest.fixture
def sent(client: TestClient, reminder_id: str) -> dict[str, Any]:
    """A delivery of the member's reminder, sent now."""
    response = client.post(f"/notifications/send/{reminder_id}")
    assert response.status_code == 200, response.text
    delivery: dict[str, Any] = response.json()
    return delivery


def snooze(client: TestClient, delivery_id: str, body: Any, *, key: str | None = None) -> Any:
    if key is None:
        return client.post(f"/deliveries/{delivery_id}/snooze", json=body)
    return call(client, "POST", f"/deliveries/{delivery_id}/snooze", key=key, json=body)


def acknowledge(client: TestClient, delivery_id: str, *, key: str | None = None) -> Any:
    if key is None:
        return client.post(f"/deliveries/{delivery_id}/ack")
    return call(client, "POST", f"/deliveries/{delivery_id}/ack", key=key)


def delivery(client: TestClient, delivery_id: str) -> dict[str, Any]:
    response = client.get(f"/deliveries/{delivery_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_a_snooze_is_a_follow_up_delivery_due_then_and_the_schedule_does_not_move(
    client: TestClient, sent: dict[str, Any], reminder_id: str
) -> None:
    before = client.get(f"/notifications/{reminder_id}").json()

    response = snooze(client, sent["delivery_id"], {"minutes": 10})

    assert response.status_code == 201, response.text
    follow_up = response.json()
    assert follow_up["delivery_id"] != sent["delivery_id"]
    assert (follow_up["kind"], follow_up["status"]) == ("snooze", "pending")
    assert follow_up["parent_delivery_id"] == sent["delivery_id"]
    assert (follow_up["reminder_id"], follow_up["channel"]) == (reminder_id, "recording")
    assert follow_up["scheduled_for"] == follow_up["next_attempt_at"] == "2026-01-05T08:10:00+00:00"
    assert (follow_up["sent_at"], follow_up["attempts"], follow_up["acknowledged_at"]) == (None, 0, None)
    assert delivery(client, follow_up["delivery_id"]) == follow_up
    assert client.get(f"/notifications/{reminder_id}").json() == before
    assert delivery(client, sent["delivery_id"]) == sent


def test_a_snooze_until_a_moment_is_due_at_that_moment(client: TestClient, sent: dict[str, Any]) -> None:
    response = snooze(client, sent["delivery_id"], {"until": "2026-01-05T14:30:00+01:00"})

    assert response.status_code == 201, response.text
    assert response.json()["scheduled_for"] == "2026-01-05T13:30:00+00:00"


def test_a_snoozed_delivery_is_sent_when_due_and_may_be_snoozed_again(
    client: TestClient, service: Service, clock: FixedClock, channel: RecordingChannel, sent: dict[str, Any]
) -> None:
    first = snooze(client, sent["delivery_id"], {"minutes": 10}).json()
    assert len(channel.sent) == 1

    clock.advance(minutes=10)
    wait_until_idle(service)

    assert delivery(client, first["delivery_id"])["status"] == "sent"
    assert len(channel.sent) == 2
    again = snooze(client, first["delivery_id"], {"minutes": 5})
    assert again.status_code == 201, again.text
    assert (again.json()["parent_delivery_id"], again.json()["kind"]) == (first["delivery_id"], "snooze")


def test_a_delivery_still_waiting_cannot_be_snoozed(client: TestClient, sent: dict[str, Any]) -> None:
    waiting = snooze(client, sent["delivery_id"], {"minutes": 10}).json()

    response = snooze(client, waiting["delivery_id"], {"minutes": 10})

    body = assert_error(response, 409, "conflict")
    assert "pending" in body["message"]
    assert delivery(client, waiting["delivery_id"]) == waiting


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "minutes", "send either minutes (1 to 1440) or until"),
        ({"minutes": 10, "until": "2026-01-05T09:00:00+00:00"}, "minutes", "not both"),
        ({"minutes": 0}, "minutes", "minutes must be at least 1"),
        ({"minutes": 1441}, "minutes", "minutes must be at most 1440"),
        ({"minutes": "ten"}, "minutes", "minutes must be a whole number"),
        ({"until": "2026-01-05T07:00:00+00:00"}, "until", "until must be in the future"),
        ({"until": "2026-01-12T08:00:01+00:00"}, "until", "until must be at most 7 days ahead"),
        ({"until": "2026-01-05T09:00:00"}, "until", "until must be a date and time with a UTC offset"),
        ({"until": "soon"}, "until", "until must be a date and time with a UTC offset"),
        ({"hours": 1}, "hours", "hours is not a known field"),
    ],
)
def test_a_bad_snooze_is_refused_in_words_naming_the_field(
    client: TestClient, sent: dict[str, Any], body: dict[str, Any], field: str, words: str
) -> None:
    response = snooze(client, sent["delivery_id"], body)

    [problem] = assert_validation_error(response, field)
    assert words in problem["message"], problem
    assert_in_words(problem)
    assert client.get("/deliveries/").json()["total"] == 1


def test_snoozing_at_most_seven_days_ahead_is_taken(client: TestClient, sent: dict[str, Any]) -> None:
    response = snooze(client, sent["delivery_id"], {"until": "2026-01-12T08:00:00+00:00"})

    assert response.status_code == 201, response.text


def test_an_acknowledgement_records_who_and_when_and_again_changes_nothing(
    client: TestClient, clock: FixedClock, admin: Person, sent: dict[str, Any]
) -> None:
    response = acknowledge(client, sent["delivery_id"])

    assert response.status_code == 200, response.text
    acknowledged = response.json()
    assert (acknowledged["acknowledged_at"], acknowledged["acknowledged_by"]) == (NOW, admin.id)
    assert {**acknowledged, "acknowledged_at": None, "acknowledged_by": None} == sent
    clock.advance(minutes=5)
    again = acknowledge(client, sent["delivery_id"])
    assert again.status_code == 200, again.text
    assert again.json() == acknowledged == delivery(client, sent["delivery_id"])


def test_an_acknowledgement_withdraws_a_snooze_still_waiting(
    client: TestClient, service: Service, clock: FixedClock, channel: RecordingChannel, sent: dict[str, Any]
) -> None:
    waiting = snooze(client, sent["delivery_id"], {"minutes": 30}).json()

    assert acknowledge(client, sent["delivery_id"]).status_code == 200
    clock.advance(minutes=30)
    wait_until_idle(service)

    withdrawn = delivery(client, waiting["delivery_id"])
    assert withdrawn["status"] == "cancelled"
    assert withdrawn["error"] == "acknowledged before it was sent"
    assert len(channel.sent) == 1


def test_answering_a_delivery_that_does_not_exist_is_not_found(client: TestClient) -> None:
    assert_error(snooze(client, "nothing-here", {"minutes": 10}), 404, "not_found")
    assert_error(acknowledge(client, "nothing-here"), 404, "not_found")


@pytest.mark.parametrize(
    ("caller", "snoozed", "acknowledged"),
    [("member", 201, 200), ("admin", 201, 200), ("other", 403, 403), ("outsider", 404, 404)],
)
def test_the_recipient_and_an_admin_may_answer_a_delivery_nobody_else(
    client: TestClient, sent: dict[str, Any], caller: str, snoozed: int, acknowledged: int, request: Any
) -> None:
    person: Person = request.getfixturevalue(caller)
    before = client.get("/deliveries/").json()

    snooze_answer = snooze(client, sent["delivery_id"], {"minutes": 10}, key=person.key)
    ack_answer = acknowledge(client, sent["delivery_id"], key=person.key)

    assert (snooze_answer.status_code, ack_answer.status_code) == (snoozed, acknowledged)
    if acknowledged == 200:
        assert ack_answer.json()["acknowledged_by"] == person.id
        assert snooze_answer.json()["parent_delivery_id"] == sent["delivery_id"]
        return
    code = "forbidden" if acknowledged == 403 else "not_found"
    assert_error(snooze_answer, acknowledged, code)
    assert_error(ack_answer, acknowledged, code)
    assert client.get("/deliveries/").json() == before


def test_a_team_reminders_recipient_answers_their_own_delivery_and_not_anothers(
    client: TestClient,
    service: Service,
    clock: FixedClock,
    admin: Person,
    member: Person,
    other: Person,
) -> None:
    reminder = service.bus.handle(
        CreateReminder(
            actor=admin.actor,
            owner_id=member.id,
            title="Retro",
            message="Write your notes",
            channel="log",
            time_of_day="09:00",
            frequency="daily",
            recipients=[member.id, other.id],
        )
    )
    clock.advance(hours=1)
    service.bus.handle(CheckDueReminders(now=clock.now()))
    wait_until_idle(service)
    listed = client.get(f"/notifications/{reminder.id}/deliveries").json()["items"]
    ids = {item["recipient_id"]: item["delivery_id"] for item in listed}
    assert set(ids) == {member.id, other.id}

    own = acknowledge(client, ids[other.id], key=other.key)
    owners = acknowledge(client, ids[other.id], key=member.key)
    seen = call(client, "GET", f"/deliveries/{ids[other.id]}", key=other.key)

    assert own.status_code == 200, own.text
    assert own.json()["acknowledged_by"] == other.id
    assert_error(owners, 403, "forbidden")  # the owner sees it, but it is not theirs to answer
    assert seen.status_code == 200
    assert_error(acknowledge(client, ids[member.id], key=other.key), 403, "forbidden")


def test_snoozes_and_acknowledgements_count_against_the_write_limit(
    start_app: StartApp, channel: RecordingChannel
) -> None:
    client, service = start_app(
        ServeSettings(scheduler_enabled=False, write_rate_limit="3/minute"), channels={"recording": channel}
    )
    admin = admin_of(team_of(service))
    reminder = add_reminder(service, admin, admin.id)
    sent = client.post(f"/notifications/send/{reminder.id}")
    assert sent.status_code == 200, sent.text
    delivery_id = sent.json()["delivery_id"]

    assert acknowledge(client, delivery_id).status_code == 200
    assert snooze(client, delivery_id, {"minutes": 10}).status_code == 201
    refused = snooze(client, delivery_id, {"minutes": 10})

    assert_error(refused, 429, "rate_limited")
    assert "too many writes" in refused.json()["message"]
    assert int(refused.headers["retry-after"]) >= 1
    assert_error(acknowledge(client, delivery_id), 429, "rate_limited")
