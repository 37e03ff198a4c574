"""Whole-team reminders through HTTP: recipients, each member's own local time, the deliveries that
name their recipient, and repeating until acknowledged."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from application.commands import CheckDueReminders
from entrypoints.bootstrap import Service
from tests.e2e.api_helpers import (
    assert_validation_error,
    create_reminder,
    create_user,
    reminder_body,
    wait_until_idle,
)
from tests.e2e.test_validation_messages import assert_in_words
from tests.fakes import FixedClock, new_team

# The fixed clock starts on Monday 2026-01-05 at 08:00 UTC: 09:00 in Berlin, 03:00 in New York and
# 17:00 in Tokyo. The test team's admin is in UTC.
AFTER = "2026-01-05T12:00:00+00:00"


@pytest.fixture
def members(client: TestClient) -> dict[str, dict[str, Any]]:
    return {
        zone: create_user(client, name=f"Member in {zone.split('/')[1]}", timezone=zone)
        for zone in ("Europe/Berlin", "America/New_York", "Asia/Tokyo")
    }


def occurrences(client: TestClient, reminder_id: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/notifications/{reminder_id}/occurrences", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def deliveries_of(client: TestClient, reminder_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/notifications/{reminder_id}/deliveries")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def tick(service: Service, clock: FixedClock, **delta: float) -> None:
    """Move time on, fire what is due, and let the worker send it."""
    clock.advance(**delta)
    service.bus.handle(CheckDueReminders(now=clock.now()))
    wait_until_idle(service)


def test_a_reminder_at_nine_in_each_members_own_time_lists_each_members_slots(
    client: TestClient, members: dict[str, dict[str, Any]]
) -> None:
    berlin, new_york, tokyo = (members[zone]["id"] for zone in members)

    reminder = create_reminder(
        client,
        berlin,
        title="Stand-up notes",
        recipients=[berlin, new_york, tokyo],
        local_time="recipient",
        channel="log",
    )

    assert (reminder["recipients"], reminder["local_time"]) == ([berlin, new_york, tokyo], "recipient")
    assert reminder["timezone"] == "Europe/Berlin"  # only a label now
    assert [
        (item["recipient_id"], item["scheduled_for"], item["local"])
        for item in occurrences(client, reminder["id"], count=6, after=AFTER)
    ] == [
        (new_york, "2026-01-05T14:00:00+00:00", "2026-01-05T09:00:00-05:00"),
        (tokyo, "2026-01-06T00:00:00+00:00", "2026-01-06T09:00:00+09:00"),
        (berlin, "2026-01-06T08:00:00+00:00", "2026-01-06T09:00:00+01:00"),
        (new_york, "2026-01-06T14:00:00+00:00", "2026-01-06T09:00:00-05:00"),
        (tokyo, "2026-01-07T00:00:00+00:00", "2026-01-07T09:00:00+09:00"),
        (berlin, "2026-01-07T08:00:00+00:00", "2026-01-07T09:00:00+01:00"),
    ]


def test_each_members_slot_is_a_delivery_naming_them(
    client: TestClient, service: Service, clock: FixedClock, members: dict[str, dict[str, Any]]
) -> None:
    ids = [member["id"] for member in members.values()]
    reminder = create_reminder(client, ids[0], recipients=ids, local_time="recipient", channel="log")

    tick(service, clock, hours=6)  # 14:00 UTC: 09:00 in New York

    [delivery] = deliveries_of(client, reminder["id"])
    assert (delivery["kind"], delivery["status"], delivery["parent_delivery_id"]) == (
        "scheduled",
        "sent",
        None,
    )
    assert delivery["recipient_id"] == members["America/New_York"]["id"]
    assert delivery["scheduled_for"] == "2026-01-05T14:00:00+00:00"
    assert client.get(f"/deliveries/{delivery['delivery_id']}").json() == delivery


def test_a_team_reminder_reaches_every_active_user_of_the_team_each_with_their_own_delivery(
    client: TestClient,
    service: Service,
    clock: FixedClock,
    admin_id: str,
    members: dict[str, dict[str, Any]],
) -> None:
    gone = create_user(client, name="Former", active=False)
    reminder = create_reminder(client, admin_id, recipients="team", channel="log", timezone="UTC")

    assert (reminder["recipients"], reminder["local_time"]) == ("team", "reminder")
    assert {item["recipient_id"] for item in occurrences(client, reminder["id"], count=3)} == {None}

    tick(service, clock, hours=1)  # 09:00 UTC

    listed = deliveries_of(client, reminder["id"])
    everyone = {admin_id, *(member["id"] for member in members.values())}
    assert {delivery["recipient_id"] for delivery in listed} == everyone
    assert gone["id"] not in {delivery["recipient_id"] for delivery in listed}
    assert {(d["kind"], d["status"], d["scheduled_for"]) for d in listed} == {
        ("scheduled", "sent", "2026-01-05T09:00:00+00:00")
    }


def test_a_team_reminder_in_each_members_time_lists_whoever_is_in_the_team(
    client: TestClient, admin_id: str, members: dict[str, dict[str, Any]]
) -> None:
    reminder = create_reminder(client, admin_id, recipients="team", local_time="recipient")
    listed = occurrences(client, reminder["id"], count=20, after=AFTER)
    assert {item["recipient_id"] for item in listed} == {admin_id, *(m["id"] for m in members.values())}

    joined = create_user(client, name="New Hire", timezone="Australia/Adelaide")
    left = members["Asia/Tokyo"]["id"]
    assert client.patch(f"/users/{left}", json={"active": False}).status_code == 200

    now_listed = {item["recipient_id"] for item in occurrences(client, reminder["id"], count=20, after=AFTER)}
    assert joined["id"] in now_listed
    assert left not in now_listed
    adelaide = [
        item for item in occurrences(client, reminder["id"], count=20) if item["recipient_id"] == joined["id"]
    ]
    assert adelaide[0]["local"].endswith("T09:00:00+10:30")  # a zone half an hour off the hour


def test_a_shared_target_gets_one_delivery_per_slot(
    client: TestClient, service: Service, clock: FixedClock, admin_id: str, members: dict[str, dict[str, Any]]
) -> None:
    reminder = create_reminder(client, admin_id, recipients="team", timezone="UTC")  # the recording channel

    tick(service, clock, hours=1)

    [delivery] = deliveries_of(client, reminder["id"])
    assert (delivery["recipient_id"], delivery["status"]) == (None, "sent")


def test_recipients_and_local_time_can_be_changed(
    client: TestClient, admin_id: str, members: dict[str, dict[str, Any]]
) -> None:
    reminder = create_reminder(client, admin_id)
    assert (reminder["recipients"], reminder["local_time"]) == ("owner", "reminder")
    tokyo = members["Asia/Tokyo"]["id"]

    response = client.patch(
        f"/notifications/{reminder['id']}", json={"recipients": [tokyo], "local_time": "recipient"}
    )

    assert response.status_code == 200, response.text
    assert (response.json()["recipients"], response.json()["local_time"]) == ([tokyo], "recipient")
    assert [item["local"] for item in occurrences(client, reminder["id"], count=2)] == [
        "2026-01-06T09:00:00+09:00",
        "2026-01-07T09:00:00+09:00",
    ]


def test_a_schedule_preview_lists_each_recipients_slots(
    client: TestClient, members: dict[str, dict[str, Any]]
) -> None:
    berlin, tokyo = members["Europe/Berlin"]["id"], members["Asia/Tokyo"]["id"]

    response = client.post(
        "/schedules/preview",
        params={"count": 4, "after": AFTER},
        json={
            "frequency": "daily",
            "time_of_day": "09:00",
            "recipients": [berlin, tokyo],
            "local_time": "recipient",
        },
    )

    assert response.status_code == 200, response.text
    assert [(item["recipient_id"], item["local"]) for item in response.json()["items"]] == [
        (tokyo, "2026-01-06T09:00:00+09:00"),
        (berlin, "2026-01-06T09:00:00+01:00"),
        (tokyo, "2026-01-07T09:00:00+09:00"),
        (berlin, "2026-01-07T09:00:00+01:00"),
    ]


def test_repeat_until_ack_is_shown_changed_and_cleared(client: TestClient, admin_id: str) -> None:
    reminder = create_reminder(client, admin_id, repeat_until_ack={"every_minutes": 15, "max_times": 3})
    assert reminder["repeat_until_ack"] == {"every_minutes": 15, "max_times": 3}

    changed = client.patch(
        f"/notifications/{reminder['id']}", json={"repeat_until_ack": {"every_minutes": 5, "max_times": 10}}
    )
    assert changed.json()["repeat_until_ack"] == {"every_minutes": 5, "max_times": 10}

    cleared = client.patch(f"/notifications/{reminder['id']}", json={"repeat_until_ack": None})
    assert cleared.json()["repeat_until_ack"] is None
    assert client.get(f"/notifications/{reminder['id']}").json()["repeat_until_ack"] is None


FORMS = 'recipients must be "owner", "team" or a list of user ids of the team'


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"recipients": "everyone"}, "recipients", FORMS),
        ({"recipients": 3}, "recipients", FORMS),
        ({"recipients": None}, "recipients", "recipients must not be null"),
        ({"recipients": []}, "recipients", "recipients must have at least 1 item"),
        ({"recipients": [""]}, "recipients.0", "recipients[0] must not be empty"),
        ({"recipients": ["nobody"]}, "recipients", "recipients names users who are not in the team: nobody"),
        ({"local_time": "mine"}, "local_time", "local_time must be one of 'reminder' or 'recipient'"),
        ({"repeat_until_ack": {"every_minutes": 0, "max_times": 3}}, "repeat_until_ack.every_minutes",
         "repeat_until_ack.every_minutes must be at least 1"),
        ({"repeat_until_ack": {"every_minutes": 1441, "max_times": 3}}, "repeat_until_ack.every_minutes",
         "repeat_until_ack.every_minutes must be at most 1440"),
        ({"repeat_until_ack": {"every_minutes": 5, "max_times": 11}}, "repeat_until_ack.max_times",
         "repeat_until_ack.max_times must be at most 10"),
        ({"repeat_until_ack": {"every_minutes": 5}}, "repeat_until_ack.max_times",
         "repeat_until_ack.max_times is required"),
        ({"repeat_until_ack": "often"}, "repeat_until_ack", "repeat_until_ack must be a JSON object"),
    ],
)  # fmt: skip
def test_bad_recipients_local_time_or_repeats_are_refused_in_words(
    client: TestClient, admin_id: str, change: dict[str, Any], field: str, words: str
) -> None:
    response = client.post("/notifications/", json=reminder_body(admin_id, **change))

    [problem] = assert_validation_error(response, field)
    assert words in problem["message"], problem
    assert_in_words(problem)


def test_another_teams_user_is_refused_as_a_recipient_like_an_unknown_one(
    client: TestClient, service: Service, admin_id: str
) -> None:
    outsider = new_team(service, "Other team", "admin@other.example").admin.id

    response = client.post("/notifications/", json=reminder_body(admin_id, recipients=[outsider]))

    [problem] = assert_validation_error(response, "recipients")
    assert problem["message"] == f"recipients names users who are not in the team: {outsider}"
