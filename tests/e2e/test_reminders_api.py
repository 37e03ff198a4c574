"""/notifications through HTTP: reminders and their schedules, and listing a user's reminders."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.e2e.api_helpers import (
    REMINDER_KEYS,
    assert_error,
    assert_validation_error,
    create_reminder,
    create_user,
    reminder_body,
)
from tests.fakes import FixedClock

# The fixed clock starts on Monday 2026-01-05 at 08:00 UTC.
NOW = "2026-01-05T08:00:00+00:00"


@pytest.fixture
def owner(client: TestClient) -> dict[str, Any]:
    return create_user(client)


def reminders_of(client: TestClient, owner_id: str, query: str = "") -> dict[str, Any]:
    response = client.get(f"/notifications/user/{owner_id}/{query}")
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def test_a_created_reminder_is_returned_with_its_schedule_and_next_run(
    client: TestClient, owner: dict[str, Any]
) -> None:
    response = client.post(
        "/notifications/",
        json={
            "owner_id": owner["id"],
            "title": "Stand-up",
            "message": "Join the call",
            "channel": "recording",
            "time_of_day": "09:30",
            "frequency": "daily",
        },
    )

    assert response.status_code == 201
    reminder = response.json()
    assert set(reminder) == REMINDER_KEYS
    assert reminder["id"]
    assert reminder["owner_id"] == owner["id"]
    assert (reminder["title"], reminder["message"], reminder["channel"]) == (
        "Stand-up",
        "Join the call",
        "recording",
    )
    assert (reminder["time_of_day"], reminder["frequency"], reminder["weekdays"]) == ("09:30", "daily", [])
    assert reminder["date"] is None
    assert reminder["timezone"] == "UTC"
    assert reminder["active"] is True
    assert reminder["target"] is None
    assert reminder["next_run_at"] == "2026-01-05T09:30:00+00:00"
    assert reminder["last_run_at"] is None
    assert reminder["created_at"] == reminder["updated_at"] == NOW
    assert client.get(f"/notifications/{reminder['id']}").json() == reminder


@pytest.mark.parametrize(
    ("schedule", "next_run_at"),
    [
        # 07:00 has passed today, so tomorrow.
        ({"time_of_day": "07:00", "frequency": "daily"}, "2026-01-06T07:00:00+00:00"),
        # Berlin is UTC+1 in January.
        (
            {"time_of_day": "10:00", "frequency": "daily", "timezone": "Europe/Berlin"},
            "2026-01-05T09:00:00+00:00",
        ),
        # Wednesday and Friday; today is Monday.
        (
            {"time_of_day": "09:00", "frequency": "weekly", "weekdays": [4, 2]},
            "2026-01-07T09:00:00+00:00",
        ),
        (
            {"time_of_day": "18:15:30", "frequency": "once", "date": "2026-02-01"},
            "2026-02-01T18:15:30+00:00",
        ),
    ],
)
def test_the_next_run_follows_the_schedule(
    client: TestClient, owner: dict[str, Any], schedule: dict[str, Any], next_run_at: str
) -> None:
    reminder = create_reminder(client, owner["id"], **schedule)

    assert reminder["next_run_at"] == next_run_at
    assert reminder["frequency"] == schedule["frequency"]
    assert reminder["weekdays"] == sorted(schedule.get("weekdays", []))
    assert reminder["date"] == schedule.get("date")
    assert reminder["timezone"] == schedule.get("timezone", "UTC")


def test_an_inactive_reminder_has_no_next_run(client: TestClient, owner: dict[str, Any]) -> None:
    reminder = create_reminder(client, owner["id"], active=False)

    assert reminder["active"] is False
    assert reminder["next_run_at"] is None


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"channel": "carrier-pigeon"}, ["channel"]),
        ({"frequency": "hourly"}, ["frequency"]),
        ({"timezone": "Mars/Olympus_Mons"}, ["timezone"]),
        ({"time_of_day": "9:30"}, ["time_of_day"]),
        ({"time_of_day": "24:00"}, ["time_of_day"]),
        ({"time_of_day": "12:60"}, ["time_of_day"]),
        ({"time_of_day": "noon"}, ["time_of_day"]),
        ({"frequency": "weekly"}, ["weekdays"]),
        ({"frequency": "weekly", "weekdays": [7]}, ["weekdays.0"]),
        ({"frequency": "once", "date": "2026-01-04"}, ["date"]),
        ({"title": ""}, ["title"]),
        ({"message": ""}, ["message"]),
        ({"id": "chosen-id"}, ["id"]),
        ({"next_run_at": "2026-01-05T09:00:00+00:00"}, ["next_run_at"]),
        ({"last_run_at": "2026-01-05T09:00:00+00:00"}, ["last_run_at"]),
        ({"created_at": NOW}, ["created_at"]),
    ],
)
def test_an_invalid_reminder_is_refused_and_not_created(
    client: TestClient, owner: dict[str, Any], overrides: dict[str, Any], fields: list[str]
) -> None:
    response = client.post("/notifications/", json=reminder_body(owner["id"], **overrides))

    assert_validation_error(response, *fields)
    assert reminders_of(client, owner["id"])["total"] == 0


def test_a_body_missing_several_fields_gets_one_problem_per_field(
    client: TestClient, owner: dict[str, Any]
) -> None:
    response = client.post("/notifications/", json={"owner_id": owner["id"], "title": "Only a title"})

    # time_of_day is not among them: whether it is needed depends on the frequency (cron takes none).
    assert_validation_error(response, "message", "frequency")


def test_a_reminder_for_an_unknown_owner_is_not_found(client: TestClient) -> None:
    response = client.post("/notifications/", json=reminder_body("no-such-user"))

    assert_error(response, 404, "not_found")


def test_a_reminder_for_an_inactive_owner_is_a_conflict(client: TestClient) -> None:
    inactive = create_user(client, active=False)

    response = client.post("/notifications/", json=reminder_body(inactive["id"]))

    assert_error(response, 409, "conflict")
    assert reminders_of(client, inactive["id"])["total"] == 0


def test_an_unknown_reminder_is_not_found(client: TestClient) -> None:
    assert_error(client.get("/notifications/no-such-reminder"), 404, "not_found")


def test_a_schedule_change_recomputes_the_next_run(
    client: TestClient, clock: FixedClock, owner: dict[str, Any]
) -> None:
    reminder = create_reminder(client, owner["id"], time_of_day="09:00")
    assert reminder["next_run_at"] == "2026-01-05T09:00:00+00:00"
    clock.advance(minutes=10)

    response = client.patch(f"/notifications/{reminder['id']}", json={"time_of_day": "07:30"})

    assert response.status_code == 200
    changed = response.json()
    assert changed["time_of_day"] == "07:30"
    assert changed["next_run_at"] == "2026-01-06T07:30:00+00:00"
    assert changed["updated_at"] == "2026-01-05T08:10:00+00:00"
    assert changed["created_at"] == NOW
    assert client.get(f"/notifications/{reminder['id']}").json() == changed


def test_switching_to_weekly_moves_the_next_run_to_the_first_chosen_weekday(
    client: TestClient, owner: dict[str, Any]
) -> None:
    reminder = create_reminder(client, owner["id"], time_of_day="09:00")

    response = client.patch(f"/notifications/{reminder['id']}", json={"frequency": "weekly", "weekdays": [3]})

    assert response.status_code == 200
    assert response.json()["weekdays"] == [3]
    assert response.json()["next_run_at"] == "2026-01-08T09:00:00+00:00"


def test_changing_only_the_text_keeps_the_next_run(client: TestClient, owner: dict[str, Any]) -> None:
    reminder = create_reminder(client, owner["id"])

    response = client.patch(
        f"/notifications/{reminder['id']}", json={"title": "Retro", "message": "Bring notes"}
    )

    assert response.status_code == 200
    changed = response.json()
    assert (changed["title"], changed["message"]) == ("Retro", "Bring notes")
    assert changed["next_run_at"] == reminder["next_run_at"]


def test_deactivating_a_reminder_clears_its_next_run_and_reactivating_restores_it(
    client: TestClient, owner: dict[str, Any]
) -> None:
    reminder = create_reminder(client, owner["id"])
    url = f"/notifications/{reminder['id']}"

    assert client.patch(url, json={"active": False}).json()["next_run_at"] is None
    assert client.patch(url, json={"active": True}).json()["next_run_at"] == reminder["next_run_at"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"owner_id": "someone-else"}, ["owner_id"]),
        ({"owner": "someone-else"}, ["owner"]),
        ({"id": "other"}, ["id"]),
        ({"next_run_at": "2026-01-05T08:30:00+00:00"}, ["next_run_at"]),
        ({"last_run_at": "2026-01-05T08:30:00+00:00"}, ["last_run_at"]),
        ({"created_at": "2026-01-01T00:00:00+00:00"}, ["created_at"]),
        ({"title": None}, ["title"]),
        ({"frequency": None}, ["frequency"]),
        ({"title": "Changed", "time_of_day": "25:00"}, ["time_of_day"]),
        ({"title": "Changed", "timezone": "Mars/Olympus_Mons"}, ["timezone"]),
        ({"title": "Changed", "channel": "carrier-pigeon"}, ["channel"]),
        ({"title": "Changed", "frequency": "weekly"}, ["weekdays"]),
        ({"title": "Changed", "frequency": "monthly"}, ["frequency"]),
    ],
)
def test_a_rejected_patch_leaves_the_reminder_unchanged(
    client: TestClient,
    clock: FixedClock,
    owner: dict[str, Any],
    body: dict[str, Any],
    fields: list[str],
) -> None:
    reminder = create_reminder(client, owner["id"])
    clock.advance(minutes=1)

    response = client.patch(f"/notifications/{reminder['id']}", json=body)

    assert_validation_error(response, *fields)
    assert client.get(f"/notifications/{reminder['id']}").json() == reminder


def test_patching_an_unknown_reminder_is_not_found(client: TestClient) -> None:
    assert_error(client.patch("/notifications/no-such", json={"title": "X"}), 404, "not_found")


def test_a_deleted_reminder_is_gone(client: TestClient, owner: dict[str, Any]) -> None:
    reminder = create_reminder(client, owner["id"])
    other = create_reminder(client, owner["id"])

    response = client.delete(f"/notifications/{reminder['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert_error(client.get(f"/notifications/{reminder['id']}"), 404, "not_found")
    assert_error(client.delete(f"/notifications/{reminder['id']}"), 404, "not_found")
    assert [r["id"] for r in reminders_of(client, owner["id"])["items"]] == [other["id"]]


def test_a_users_reminders_are_listed_in_creation_order_and_paged(
    client: TestClient, owner: dict[str, Any]
) -> None:
    ids = [create_reminder(client, owner["id"], title=f"Reminder {n}")["id"] for n in range(4)]
    someone_else = create_user(client)
    create_reminder(client, someone_else["id"])

    everything = reminders_of(client, owner["id"])
    page = reminders_of(client, owner["id"], "?limit=2&offset=2")

    assert [r["id"] for r in everything["items"]] == ids
    assert (everything["total"], everything["limit"], everything["offset"]) == (4, 50, 0)
    assert [r["id"] for r in page["items"]] == ids[2:]
    assert (page["total"], page["limit"], page["offset"]) == (4, 2, 2)


def test_a_users_reminders_can_be_filtered(client: TestClient, owner: dict[str, Any]) -> None:
    by_log = create_reminder(client, owner["id"], channel="log")
    weekly = create_reminder(client, owner["id"], frequency="weekly", weekdays=[0])
    paused = create_reminder(client, owner["id"], active=False)

    def ids(query: str) -> list[str]:
        return [r["id"] for r in reminders_of(client, owner["id"], query)["items"]]

    assert ids("?channel=log") == [by_log["id"]]
    assert ids("?channel=recording") == [weekly["id"], paused["id"]]
    assert ids("?frequency=weekly") == [weekly["id"]]
    assert ids("?active=false") == [paused["id"]]
    assert ids("?active=true&channel=recording") == [weekly["id"]]
    assert reminders_of(client, owner["id"], "?frequency=once")["total"] == 0


def test_listing_the_reminders_of_an_unknown_user_is_not_found(client: TestClient) -> None:
    assert_error(client.get("/notifications/user/no-such-user/"), 404, "not_found")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("offset=-1", "offset"),
        ("frequency=hourly", "frequency"),
        ("active=perhaps", "active"),
        ("owner_id=x", "owner_id"),
    ],
)
def test_a_bad_query_on_a_users_reminders_is_refused(
    client: TestClient, owner: dict[str, Any], query: str, field: str
) -> None:
    assert_validation_error(client.get(f"/notifications/user/{owner['id']}/?{query}"), field)
