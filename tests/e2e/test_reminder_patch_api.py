"""PATCH /notifications/{id} through HTTP: only the fields sent change, a new frequency clears what
only the old one used, a refused patch changes nothing, and moving a reminder after its slot was
sent does not send it again that day."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from application.commands import CheckDueReminders
from entrypoints.bootstrap import Service
from tests.e2e.api_helpers import assert_validation_error, create_reminder, create_user, wait_until_idle
from tests.fakes import FixedClock, RecordingChannel

# The fixed clock starts on Monday 2026-01-05 at 08:00 UTC.
SCHEDULES: dict[str, dict[str, Any]] = {
    "once": {"frequency": "once", "date": "2026-12-24"},
    "daily": {"frequency": "daily"},
    "weekly": {"frequency": "weekly", "weekdays": [0, 3]},
}


@pytest.fixture
def owner(client: TestClient) -> dict[str, Any]:
    return create_user(client)


def patch(client: TestClient, reminder: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    response = client.patch(f"/notifications/{reminder['id']}", json=body)
    assert response.status_code == 200, response.text
    changed: dict[str, Any] = response.json()
    assert client.get(f"/notifications/{reminder['id']}").json() == changed
    return changed


def test_moving_the_time_of_a_christmas_reminder_keeps_christmas(
    client: TestClient, owner: dict[str, Any]
) -> None:
    reminder = create_reminder(client, owner["id"], time_of_day="09:00", **SCHEDULES["once"])

    changed = patch(client, reminder, {"time_of_day": "10:00"})

    assert (changed["date"], changed["time_of_day"]) == ("2026-12-24", "10:00")
    assert changed["next_run_at"] == "2026-12-24T10:00:00+00:00"


@pytest.mark.parametrize("frequency", SCHEDULES)
@pytest.mark.parametrize(
    "body",
    [{"time_of_day": "10:30"}, {"timezone": "Europe/Berlin"}, {"title": "Retro"}, {"active": False}],
    ids=lambda body: next(iter(body)),
)
def test_a_patch_keeps_every_field_it_does_not_name(
    client: TestClient, owner: dict[str, Any], frequency: str, body: dict[str, Any]
) -> None:
    reminder = create_reminder(client, owner["id"], **SCHEDULES[frequency])

    changed = patch(client, reminder, body)

    unchanged = {"id", "next_run_at", "updated_at", *body}
    assert {key: changed[key] for key in changed.keys() - unchanged} == {
        key: reminder[key] for key in reminder.keys() - unchanged
    }
    assert {key: changed[key] for key in body} == body


@pytest.mark.parametrize(
    ("frequency", "body", "cleared"),
    [
        ("once", {"frequency": "daily"}, {"date": None, "weekdays": []}),
        ("weekly", {"frequency": "daily"}, {"date": None, "weekdays": []}),
        ("weekly", {"frequency": "once", "date": "2026-02-01"}, {"date": "2026-02-01", "weekdays": []}),
    ],
)
def test_a_new_frequency_visibly_clears_what_only_the_old_one_used(
    client: TestClient, owner: dict[str, Any], frequency: str, body: dict[str, Any], cleared: dict[str, Any]
) -> None:
    reminder = create_reminder(client, owner["id"], **SCHEDULES[frequency])

    changed = patch(client, reminder, body)

    assert changed["frequency"] == body["frequency"]
    assert {key: changed[key] for key in cleared} == cleared


def test_switching_to_weekly_without_weekdays_is_refused_and_changes_nothing(
    client: TestClient, clock: FixedClock, owner: dict[str, Any]
) -> None:
    reminder = create_reminder(client, owner["id"], **SCHEDULES["once"])
    clock.advance(minutes=1)

    response = client.patch(
        f"/notifications/{reminder['id']}", json={"frequency": "weekly", "time_of_day": "10:00"}
    )

    [problem] = assert_validation_error(response, "weekdays")
    assert problem["message"] == "weekdays are required when the frequency changes to weekly"
    assert client.get(f"/notifications/{reminder['id']}").json() == reminder


def test_moving_a_daily_reminder_later_after_it_was_sent_waits_for_tomorrow(
    client: TestClient, clock: FixedClock, service: Service, channel: RecordingChannel, owner: dict[str, Any]
) -> None:
    reminder = create_reminder(client, owner["id"], time_of_day="09:00")
    clock.advance(hours=1)
    service.bus.handle(CheckDueReminders(now=clock.now()))
    wait_until_idle(service)
    clock.advance(hours=1)

    changed = patch(client, reminder, {"time_of_day": "11:00"})

    assert changed["next_run_at"] == "2026-01-06T11:00:00+00:00"
    clock.advance(hours=1)
    service.bus.handle(CheckDueReminders(now=clock.now()))
    wait_until_idle(service)
    deliveries = client.get(f"/notifications/{reminder['id']}/deliveries").json()["items"]
    assert [delivery["scheduled_for"] for delivery in deliveries] == ["2026-01-05T09:00:00+00:00"]
    assert len(channel.sent) == 1
