"""/users through HTTP: create, read, list, change and delete, and what bad input is answered with."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.e2e.api_helpers import (
    USER_KEYS,
    assert_error,
    assert_validation_error,
    create_reminder,
    create_user,
)
from tests.fakes import FixedClock

CREATED_AT = "2026-01-05T08:00:00+00:00"


def test_a_created_user_is_returned_with_its_id_and_timestamps(client: TestClient, admin_id: str) -> None:
    response = client.post("/users/", json={"name": "Ada Lovelace", "email": "ada@example.com"})

    assert response.status_code == 201
    user = response.json()
    assert set(user) == USER_KEYS
    assert user["id"]
    assert (user["name"], user["email"], user["active"]) == ("Ada Lovelace", "ada@example.com", True)
    assert (user["role"], user["timezone"]) == ("member", "UTC")
    assert user["team_id"] == client.get(f"/users/{admin_id}").json()["team_id"]
    assert user["created_at"] == user["updated_at"] == CREATED_AT
    assert client.get(f"/users/{user['id']}").json() == user


def test_a_user_can_be_created_inactive(client: TestClient) -> None:
    user = create_user(client, active=False)

    assert user["active"] is False
    assert client.get(f"/users/{user['id']}").json()["active"] is False


def test_two_users_get_different_ids(client: TestClient) -> None:
    assert create_user(client)["id"] != create_user(client)["id"]


def test_an_email_already_taken_in_any_letter_case_is_a_conflict(client: TestClient, admin_id: str) -> None:
    grace = create_user(client, email="Grace@Example.com")

    response = client.post("/users/", json={"name": "Another Grace", "email": "grace@EXAMPLE.COM"})

    assert_error(response, 409, "conflict")
    assert [u["id"] for u in client.get("/users/").json()["items"]] == [admin_id, grace["id"]]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "a@example.com"}, ["name"]),
        ({"name": "A"}, ["email"]),
        ({}, ["name", "email"]),
        ({"name": "A", "email": "not-an-email"}, ["email"]),
        ({"name": "   ", "email": "a@example.com"}, ["name"]),
        ({"name": "", "email": "a@example.com"}, ["name"]),
        ({"name": "A", "email": "a@example.com", "active": "yes"}, ["active"]),
        ({"name": 42, "email": "a@example.com"}, ["name"]),
        ({"name": "A", "email": "a@example.com", "id": "mine"}, ["id"]),
        ({"name": "A", "email": "a@example.com", "created_at": CREATED_AT}, ["created_at"]),
    ],
)
def test_an_invalid_user_is_refused_and_not_created(
    client: TestClient, admin_id: str, body: dict[str, object], fields: list[str]
) -> None:
    response = client.post("/users/", json=body)

    assert_validation_error(response, *fields)
    assert [u["id"] for u in client.get("/users/").json()["items"]] == [admin_id]


def test_users_are_listed_in_creation_order_one_page_at_a_time(client: TestClient, admin_id: str) -> None:
    ids = [admin_id] + [create_user(client, name=f"Member {n}")["id"] for n in range(5)]

    first = client.get("/users/").json()
    page = client.get("/users/", params={"limit": 2, "offset": 1}).json()
    beyond = client.get("/users/", params={"offset": 6}).json()

    assert [u["id"] for u in first["items"]] == ids
    assert (first["total"], first["limit"], first["offset"]) == (6, 50, 0)
    assert [u["id"] for u in page["items"]] == ids[1:3]
    assert (page["total"], page["limit"], page["offset"]) == (6, 2, 1)
    assert beyond["items"] == []
    assert beyond["total"] == 6


def test_the_largest_and_smallest_page_sizes_are_accepted(client: TestClient) -> None:
    create_user(client)
    create_user(client)

    assert len(client.get("/users/?limit=1").json()["items"]) == 1
    assert client.get("/users/?limit=100").json()["limit"] == 100


def test_users_can_be_listed_by_active_flag(client: TestClient, admin_id: str) -> None:
    active = create_user(client)
    inactive = create_user(client, active=False)

    only_active = client.get("/users/?active=true").json()
    only_inactive = client.get("/users/?active=false").json()

    assert [u["id"] for u in only_active["items"]] == [admin_id, active["id"]]
    assert only_active["total"] == 2
    assert [u["id"] for u in only_inactive["items"]] == [inactive["id"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("limit=", "limit"),
        ("limit=2.5", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        ("active=maybe", "active"),
        ("active=", "active"),
        ("sort=name", "sort"),
        ("limit=1&limit=2", "limit"),
    ],
)
def test_a_bad_list_query_is_refused(client: TestClient, query: str, field: str) -> None:
    create_user(client)

    assert_validation_error(client.get(f"/users/?{query}"), field)


def test_an_unknown_user_is_not_found(client: TestClient) -> None:
    assert_error(client.get("/users/no-such-user"), 404, "not_found")


def test_a_patch_changes_only_the_fields_sent(client: TestClient, clock: FixedClock) -> None:
    user = create_user(client, name="Old Name", email="keep@example.com")
    clock.advance(minutes=5)

    response = client.patch(f"/users/{user['id']}", json={"name": "New Name"})

    assert response.status_code == 200
    changed = response.json()
    assert changed["name"] == "New Name"
    assert changed["email"] == "keep@example.com"
    assert changed["active"] is True
    assert changed["created_at"] == CREATED_AT
    assert changed["updated_at"] == "2026-01-05T08:05:00+00:00"
    assert client.get(f"/users/{user['id']}").json() == changed


def test_a_user_can_be_deactivated_and_given_a_new_email(client: TestClient) -> None:
    user = create_user(client)

    response = client.patch(f"/users/{user['id']}", json={"active": False, "email": "moved@example.com"})

    assert response.status_code == 200
    assert client.get(f"/users/{user['id']}").json()["active"] is False
    assert client.get(f"/users/{user['id']}").json()["email"] == "moved@example.com"
    # The old address is free again.
    create_user(client, email=user["email"])


def test_taking_another_users_email_is_a_conflict_and_changes_nothing(client: TestClient) -> None:
    create_user(client, email="taken@example.com")
    user = create_user(client, name="Keeps Name")

    response = client.patch(f"/users/{user['id']}", json={"name": "Renamed", "email": "TAKEN@example.com"})

    assert_error(response, 409, "conflict")
    assert client.get(f"/users/{user['id']}").json() == user


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"id": "another-id"}, ["id"]),
        ({"created_at": "2020-01-01T00:00:00+00:00"}, ["created_at"]),
        ({"updated_at": "2020-01-01T00:00:00+00:00"}, ["updated_at"]),
        ({"name": None}, ["name"]),
        ({"email": None}, ["email"]),
        ({"active": None}, ["active"]),
        ({"active": "false"}, ["active"]),
        ({"name": "  "}, ["name"]),
        ({"name": "Renamed", "email": "not-an-email"}, ["email"]),
        ({"name": "Renamed", "role": "owner"}, ["role"]),
        ({"timezone": "Mars/Olympus"}, ["timezone"]),
    ],
)
def test_a_rejected_patch_leaves_the_user_unchanged(
    client: TestClient, clock: FixedClock, body: dict[str, object], fields: list[str]
) -> None:
    user = create_user(client)
    clock.advance(minutes=1)

    response = client.patch(f"/users/{user['id']}", json=body)

    assert_validation_error(response, *fields)
    assert client.get(f"/users/{user['id']}").json() == user


def test_patching_an_unknown_user_is_not_found(client: TestClient) -> None:
    assert_error(client.patch("/users/no-such-user", json={"name": "X"}), 404, "not_found")


def test_deleting_a_user_deletes_their_reminders_and_no_one_elses(client: TestClient, admin_id: str) -> None:
    leaving = create_user(client)
    staying = create_user(client)
    theirs = [create_reminder(client, leaving["id"]) for _ in range(2)]
    kept = create_reminder(client, staying["id"])

    response = client.delete(f"/users/{leaving['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert_error(client.get(f"/users/{leaving['id']}"), 404, "not_found")
    for reminder in theirs:
        assert_error(client.get(f"/notifications/{reminder['id']}"), 404, "not_found")
    assert_error(client.get(f"/notifications/user/{leaving['id']}/"), 404, "not_found")
    assert client.get(f"/notifications/{kept['id']}").status_code == 200
    assert [u["id"] for u in client.get("/users/").json()["items"]] == [admin_id, staying["id"]]


def test_deleting_an_unknown_user_is_not_found(client: TestClient) -> None:
    user = create_user(client)
    assert client.delete(f"/users/{user['id']}").status_code == 204

    assert_error(client.delete(f"/users/{user['id']}"), 404, "not_found")
    assert_error(client.delete("/users/never-existed"), 404, "not_found")
