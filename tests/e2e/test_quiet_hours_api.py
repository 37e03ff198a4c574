"""Quiet hours through HTTP: set on a user, shown and cleared, refused in words when malformed,
flagged in a reminder's next slots, and a slot inside them recorded deferred until they end."""

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
    user_body,
    wait_until_idle,
)
from tests.e2e.teams import add_person, admin_of, call
from tests.e2e.test_validation_messages import assert_in_words
from tests.fakes import FixedClock, RecordingChannel, team_of

# The fixed clock starts on Monday 2026-01-05 at 08:00 UTC (09:00 in Berlin).
NIGHTS = {"start": "22:00", "end": "07:00"}
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]


@pytest.fixture
def sleeper(client: TestClient) -> dict[str, Any]:
    """A user in Berlin who wants nothing between 22:00 and 07:00."""
    return create_user(client, name="Sam", timezone="Europe/Berlin", quiet_hours=NIGHTS)


def occurrences(client: TestClient, reminder_id: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/notifications/{reminder_id}/occurrences", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_quiet_hours_are_shown_with_every_day_by_default(client: TestClient, sleeper: dict[str, Any]) -> None:
    assert sleeper["quiet_hours"] == {**NIGHTS, "weekdays": EVERY_DAY}
    assert client.get(f"/users/{sleeper['id']}").json()["quiet_hours"] == sleeper["quiet_hours"]
    assert create_user(client)["quiet_hours"] is None


def test_quiet_hours_are_changed_kept_by_other_changes_and_cleared_with_null(
    client: TestClient, sleeper: dict[str, Any]
) -> None:
    weekends = {"start": "20:00", "end": "09:30", "weekdays": [6, 5]}
    changed = client.patch(f"/users/{sleeper['id']}", json={"quiet_hours": weekends})
    assert changed.status_code == 200, changed.text
    assert changed.json()["quiet_hours"] == {**weekends, "weekdays": [5, 6]}

    renamed = client.patch(f"/users/{sleeper['id']}", json={"name": "Samantha"})
    assert renamed.json()["quiet_hours"] == changed.json()["quiet_hours"]

    cleared = client.patch(f"/users/{sleeper['id']}", json={"quiet_hours": None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["quiet_hours"] is None
    assert client.get(f"/users/{sleeper['id']}").json()["quiet_hours"] is None


def test_a_member_sets_their_own_quiet_hours_and_not_anothers(client: TestClient, service: Service) -> None:
    admin = admin_of(team_of(service))
    member = add_person(service, admin, "Mia Member", "mia@example.com")
    other = add_person(service, admin, "Otto Other", "otto@example.com")

    own = call(client, "PATCH", f"/users/{member.id}", key=member.key, json={"quiet_hours": NIGHTS})
    others = call(client, "PATCH", f"/users/{other.id}", key=member.key, json={"quiet_hours": NIGHTS})

    assert own.status_code == 200, own.text
    assert own.json()["quiet_hours"] == {**NIGHTS, "weekdays": EVERY_DAY}
    assert others.status_code == 403
    assert client.get(f"/users/{other.id}").json()["quiet_hours"] is None


TIME = "must be HH:MM or HH:MM:SS, for example 09:00"


@pytest.mark.parametrize(
    ("quiet_hours", "field", "words"),
    [
        ({"start": "7:00", "end": "09:00"}, "quiet_hours.start", f"quiet_hours.start {TIME}"),
        ({"start": "22:00", "end": "24:00"}, "quiet_hours.end", f"quiet_hours.end {TIME}"),
        ({"start": "22:00", "end": 7}, "quiet_hours.end", "quiet_hours.end must be a string"),
        ({"start": "22:00"}, "quiet_hours.end", "quiet_hours.end is required"),
        ({"start": "22:00", "end": "22:00"}, "quiet_hours.end", "quiet_hours.end must differ"),
        ({**NIGHTS, "weekdays": [7]}, "quiet_hours.weekdays.0", "quiet_hours.weekdays[0] must be at most 6"),
        ({**NIGHTS, "weekdays": []}, "quiet_hours.weekdays", "must have at least 1 item"),
        ({**NIGHTS, "weekdays": [5, 5]}, "quiet_hours.weekdays", "must not repeat a day"),
        ({**NIGHTS, "weekdays": "weekends"}, "quiet_hours.weekdays", "quiet_hours.weekdays must be a list"),
        ({**NIGHTS, "days": [0]}, "quiet_hours.days", "quiet_hours.days is not a known field"),
        ("nights", "quiet_hours", "quiet_hours must be a JSON object"),
    ],
)  # fmt: skip
def test_bad_quiet_hours_are_refused_in_words_naming_the_field(
    client: TestClient, sleeper: dict[str, Any], quiet_hours: Any, field: str, words: str
) -> None:
    created = client.post("/users/", json=user_body(quiet_hours=quiet_hours))
    changed = client.patch(f"/users/{sleeper['id']}", json={"quiet_hours": quiet_hours})

    for response in (created, changed):
        [problem] = assert_validation_error(response, field)
        assert words in problem["message"], problem
        assert_in_words(problem)
    assert client.get(f"/users/{sleeper['id']}").json()["quiet_hours"] == sleeper["quiet_hours"]


def test_slots_inside_quiet_hours_are_flagged_in_the_occurrences(
    client: TestClient, service: Service
) -> None:
    # Quiet from Friday and Saturday nights into the next mornings.
    weekend = create_user(client, timezone="Europe/Berlin", quiet_hours={**NIGHTS, "weekdays": [4, 5]})
    reminder = create_reminder(client, weekend["id"], time_of_day="06:30")

    assert [
        (item["local"][:10], item["skipped"], item["reason"])
        for item in occurrences(client, reminder["id"], count=7)
    ] == [
        ("2026-01-06", False, None),
        ("2026-01-07", False, None),
        ("2026-01-08", False, None),
        ("2026-01-09", False, None),
        ("2026-01-10", True, "quiet_hours"),  # Saturday morning, after Friday night
        ("2026-01-11", True, "quiet_hours"),
        ("2026-01-12", False, None),
    ]


def test_only_the_quiet_recipients_slots_are_flagged_in_a_reminder_in_their_own_time(
    client: TestClient, sleeper: dict[str, Any]
) -> None:
    awake = create_user(client, timezone="Europe/Berlin")
    reminder = create_reminder(
        client,
        awake["id"],
        time_of_day="06:30",
        recipients=[awake["id"], sleeper["id"]],
        local_time="recipient",
    )

    first_day = occurrences(client, reminder["id"], count=2)

    assert {item["recipient_id"]: item["reason"] for item in first_day} == {
        awake["id"]: None,
        sleeper["id"]: "quiet_hours",
    }


def test_a_slot_inside_quiet_hours_is_deferred_until_they_end_then_sent(
    client: TestClient,
    service: Service,
    clock: FixedClock,
    channel: RecordingChannel,
    sleeper: dict[str, Any],
) -> None:
    reminder = create_reminder(client, sleeper["id"], time_of_day="06:30")  # 05:30 UTC, in quiet hours
    clock.advance(hours=21, minutes=30)  # Tuesday 05:30 UTC
    service.bus.handle(CheckDueReminders(now=clock.now()))
    wait_until_idle(service)

    [deferred] = client.get(f"/notifications/{reminder['id']}/deliveries").json()["items"]
    assert (deferred["status"], deferred["reason"]) == ("deferred", "quiet_hours")
    assert deferred["scheduled_for"] == "2026-01-06T05:30:00+00:00"
    assert deferred["deferred_until"] == deferred["next_attempt_at"] == "2026-01-06T06:00:00+00:00"
    assert client.get("/deliveries/", params={"status": "deferred"}).json()["items"] == [deferred]
    assert channel.sent == []

    clock.advance(minutes=30)
    wait_until_idle(service)

    sent = client.get(f"/deliveries/{deferred['delivery_id']}").json()
    assert (sent["status"], sent["delivery_id"], sent["sent_at"]) == (
        "sent",
        deferred["delivery_id"],
        "2026-01-06T06:00:00+00:00",
    )
    assert len(channel.sent) == 1
