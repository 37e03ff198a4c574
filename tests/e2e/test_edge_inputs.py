"""Inputs at the edges of what the API accepts still end in the one error shape, never a 500."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.e2e.api_helpers import assert_error, assert_validation_error, create_reminder, create_user

LONG_ID = "x" * 300


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", f"/notifications/{LONG_ID}"),
        ("POST", f"/notifications/send/{LONG_ID}"),
        ("POST", f"/deliveries/{LONG_ID}/retry"),
        ("DELETE", f"/users/{LONG_ID}"),
        ("GET", f"/users/{LONG_ID}"),
    ],
)
def test_a_long_unknown_id_is_a_404(client: TestClient, method: str, path: str) -> None:
    assert_error(client.request(method, path), 404, "not_found")


def test_a_long_unknown_id_in_a_patch_is_a_404(client: TestClient) -> None:
    response = client.patch(f"/users/{LONG_ID}", json={"name": "Ann"})

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(("day", "zone"), [("9999-12-31", "Etc/GMT+12"), ("0001-01-01", "Asia/Tokyo")])
def test_a_date_at_the_end_of_the_calendar_is_a_validation_error(
    client: TestClient, day: str, zone: str
) -> None:
    owner = create_user(client)
    response = client.post(
        "/notifications/",
        json={
            "owner_id": owner["id"],
            "title": "t",
            "message": "m",
            "channel": "log",
            "time_of_day": "23:59",
            "frequency": "once",
            "date": day,
            "timezone": zone,
        },
    )

    assert_validation_error(response, "date")


def test_moving_a_far_future_reminder_past_the_calendar_is_a_validation_error(client: TestClient) -> None:
    owner = create_user(client)
    reminder = create_reminder(
        client, owner["id"], frequency="once", date="9999-12-31", time_of_day="23:59", timezone="UTC"
    )

    response = client.patch(f"/notifications/{reminder['id']}", json={"timezone": "Etc/GMT+12"})

    assert_validation_error(response, "date")
    assert client.get(f"/notifications/{reminder['id']}").json()["timezone"] == "UTC"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/users/", {"name": "A\u0000n", "email": "ann@example.com"}, "name"),
    ],
)
def test_a_nul_character_in_text_is_a_validation_error(
    client: TestClient, path: str, body: dict[str, str], field: str
) -> None:
    assert_validation_error(client.post(path, json=body), field)


def test_a_nul_character_in_reminder_text_or_target_is_a_validation_error(client: TestClient) -> None:
    owner = create_user(client)
    for field, value in (("title", "Stand\u0000up"), ("message", "\u0000"), ("channel", "lo\u0000g")):
        body = {
            "owner_id": owner["id"],
            "title": "Standup",
            "message": "Join",
            "time_of_day": "09:00",
            "frequency": "daily",
            field: value,
        }
        assert_validation_error(client.post("/notifications/", json=body), field)


@pytest.mark.parametrize("path", ["/users/abc%00", "/notifications/abc%00", "/deliveries/abc%00"])
def test_a_nul_character_in_an_id_is_a_404(client: TestClient, path: str) -> None:
    assert_error(client.get(path), 404, "not_found")


def test_a_nul_character_in_a_filter_matches_nothing(client: TestClient) -> None:
    owner = create_user(client)
    response = client.get(f"/notifications/user/{owner['id']}/", params={"channel": "log\u0000"})

    assert response.status_code == 200
    assert response.json()["total"] == 0
