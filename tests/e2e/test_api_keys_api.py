"""API keys through HTTP: issued once, listed without the key, working at once, revoked at once;
members manage their own, admins everyone's in the team; the key itself is never logged."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from typing import Any, cast

import pytest
from starlette.testclient import TestClient

from entrypoints.bootstrap import Service
from tests.e2e.api_helpers import assert_error, assert_validation_error
from tests.e2e.teams import Person, add_person, admin_of, call
from tests.fakes import FixedClock, new_team, team_of

KEY_FIELDS = {"id", "user_id", "name", "prefix", "created_at", "last_used_at", "revoked_at"}
# rk_, 12 hex digits of prefix, _, then a secret of at least 256 random bits in URL-safe base64.
KEY_SHAPE = re.compile(r"rk_(?P<prefix>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43,})")
NOW = "2026-01-05T08:00:00+00:00"


@pytest.fixture
def admin(service: Service) -> Person:
    return admin_of(team_of(service))


@pytest.fixture
def member(service: Service, admin: Person) -> Person:
    return add_person(service, admin, "Mia", "mia@example.com")


@pytest.fixture
def other(service: Service, admin: Person) -> Person:
    return add_person(service, admin, "Otto", "otto@example.com")


def issue(client: TestClient, by: Person, user_id: str, name: str = "laptop") -> dict[str, Any]:
    response = call(client, "POST", f"/users/{user_id}/keys", key=by.key, json={"name": name})
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def keys_of(client: TestClient, by: Person, user_id: str) -> list[dict[str, Any]]:
    response = call(client, "GET", f"/users/{user_id}/keys", key=by.key)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def works(client: TestClient, key: str) -> bool:
    response = call(client, "GET", "/users/", key=key)
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == "Bearer"
        return False
    assert response.status_code == 200, response.text
    return True


def test_a_new_key_is_shown_once_in_full_and_is_long_and_random(
    client: TestClient, admin: Person, member: Person
) -> None:
    issued = issue(client, admin, member.id, "laptop")
    second = issue(client, admin, member.id, "laptop")

    assert set(issued) == KEY_FIELDS | {"key"}
    shape = KEY_SHAPE.fullmatch(issued["key"])
    assert shape is not None, issued["key"]
    assert issued["prefix"] == shape["prefix"]
    assert (issued["user_id"], issued["name"], issued["created_at"]) == (member.id, "laptop", NOW)
    assert (issued["last_used_at"], issued["revoked_at"]) == (None, None)
    assert second["key"] != issued["key"]
    assert second["prefix"] != issued["prefix"]


def test_the_list_shows_each_key_but_never_the_key_itself_nor_its_hash(
    client: TestClient, admin: Person, member: Person
) -> None:
    laptop = issue(client, admin, member.id, "laptop")
    phone = issue(client, admin, member.id, "phone")

    response = call(client, "GET", f"/users/{member.id}/keys", key=admin.key)

    assert response.status_code == 200
    listed = response.json()
    assert listed["total"] == 3  # the one tests.e2e.teams gave the member, and these two
    by_id = {key["id"]: key for key in listed["items"]}
    for issued in (laptop, phone):
        assert by_id[issued["id"]] == {name: issued[name] for name in KEY_FIELDS}
    for item in listed["items"]:
        assert set(item) == KEY_FIELDS
    for issued in (laptop, phone):
        secret = issued["key"].split("_", 2)[2]
        assert secret not in response.text
        assert hashlib.sha256(issued["key"].encode()).hexdigest() not in response.text


def test_a_new_key_works_at_once_and_its_use_is_recorded(
    client: TestClient, admin: Person, member: Person, clock: FixedClock
) -> None:
    issued = issue(client, admin, member.id)
    clock.advance(minutes=5)

    response = call(client, "GET", f"/users/{member.id}", key=issued["key"])

    assert response.status_code == 200, response.text
    assert last_used_soon(client, admin, member.id, issued["id"]) == "2026-01-05T08:05:00+00:00"


def last_used_soon(client: TestClient, admin: Person, user_id: str, key_id: str) -> str | None:
    """The key's last use as listed, once recorded: a use is written just after its request."""
    deadline = time.monotonic() + 5
    while True:
        [key] = [key for key in keys_of(client, admin, user_id) if key["id"] == key_id]
        if key["last_used_at"] is not None or time.monotonic() > deadline:
            return cast(str | None, key["last_used_at"])
        time.sleep(0.02)


def test_a_revoked_key_is_refused_on_the_very_next_request(
    client: TestClient, admin: Person, member: Person, clock: FixedClock
) -> None:
    issued = issue(client, admin, member.id)
    assert works(client, issued["key"])
    clock.advance(minutes=1)

    revoked = call(client, "DELETE", f"/keys/{issued['id']}", key=admin.key)

    assert revoked.status_code == 204
    assert revoked.content == b""
    refused = call(client, "GET", "/users/", key=issued["key"])
    assert_error(refused, 401, "unauthorized")
    assert refused.headers["www-authenticate"] == "Bearer"
    [listed] = [key for key in keys_of(client, admin, member.id) if key["id"] == issued["id"]]
    assert listed["revoked_at"] == "2026-01-05T08:01:00+00:00"
    assert works(client, member.key)  # the user's other keys go on working


def test_revoking_a_key_again_changes_nothing(
    client: TestClient, admin: Person, member: Person, clock: FixedClock
) -> None:
    issued = issue(client, admin, member.id)
    call(client, "DELETE", f"/keys/{issued['id']}", key=admin.key)
    clock.advance(hours=1)

    again = call(client, "DELETE", f"/keys/{issued['id']}", key=admin.key)

    assert again.status_code == 204
    [listed] = [key for key in keys_of(client, admin, member.id) if key["id"] == issued["id"]]
    assert listed["revoked_at"] == NOW


def test_a_key_with_a_known_prefix_but_another_secret_is_refused(
    client: TestClient, admin: Person, member: Person
) -> None:
    issued = issue(client, admin, member.id)
    forged = f"rk_{issued['prefix']}_{'A' * 43}"

    assert not works(client, forged)
    assert works(client, issued["key"])


def test_a_member_manages_their_own_keys(client: TestClient, member: Person) -> None:
    issued = issue(client, member, member.id, "tablet")

    assert issued["id"] in {key["id"] for key in keys_of(client, member, member.id)}
    assert works(client, issued["key"])
    assert call(client, "DELETE", f"/keys/{issued['id']}", key=member.key).status_code == 204
    assert not works(client, issued["key"])


def test_a_member_may_revoke_the_key_they_are_using(client: TestClient, member: Person) -> None:
    response = call(client, "DELETE", f"/keys/{member.key_id}", key=member.key)

    assert response.status_code == 204
    assert not works(client, member.key)


def test_a_key_whose_use_is_due_may_revoke_itself_and_changes_done_with_it_are_not_refused(
    client: TestClient, admin: Person, member: Person, clock: FixedClock
) -> None:
    """The key's use is written after the request: never beside the request's own command on the
    same key, which would then lose the race and answer 409."""
    for _ in range(20):
        issued = issue(client, admin, member.id)
        clock.advance(minutes=2)  # the use of each new key is due on its first request
        response = call(client, "DELETE", f"/keys/{issued['id']}", key=issued["key"])

        assert response.status_code == 204, response.text
        assert not works(client, issued["key"])


def test_a_member_cannot_touch_another_members_keys(
    client: TestClient, admin: Person, member: Person, other: Person
) -> None:
    before = keys_of(client, admin, other.id)

    create = call(client, "POST", f"/users/{other.id}/keys", key=member.key, json={"name": "mine now"})
    listing = call(client, "GET", f"/users/{other.id}/keys", key=member.key)
    revoke = call(client, "DELETE", f"/keys/{other.key_id}", key=member.key)

    for response in (create, listing, revoke):
        assert_error(response, 403, "forbidden")
    assert keys_of(client, admin, other.id) == before
    assert works(client, other.key)


def test_an_admin_manages_anyones_keys_in_the_team(client: TestClient, admin: Person, member: Person) -> None:
    issued = issue(client, admin, member.id)

    assert call(client, "GET", f"/users/{member.id}", key=issued["key"]).status_code == 200
    assert call(client, "DELETE", f"/keys/{member.key_id}", key=admin.key).status_code == 204
    assert not works(client, member.key)
    assert works(client, issued["key"])


def test_another_teams_keys_and_users_are_not_found(
    client: TestClient, service: Service, admin: Person
) -> None:
    theirs = admin_of(new_team(service, "Their team", "admin@theirs.example"))

    revoke = call(client, "DELETE", f"/keys/{theirs.key_id}", key=admin.key)
    create = call(client, "POST", f"/users/{theirs.id}/keys", key=admin.key, json={"name": "planted"})
    listing = call(client, "GET", f"/users/{theirs.id}/keys", key=admin.key)

    for response in (revoke, create, listing):
        assert_error(response, 404, "not_found")
    assert works(client, theirs.key)
    assert [key["id"] for key in keys_of(client, theirs, theirs.id)] == [theirs.key_id]


def test_an_unknown_key_or_user_is_not_found(client: TestClient, admin: Person) -> None:
    assert_error(call(client, "DELETE", "/keys/no-such-key", key=admin.key), 404, "not_found")
    response = call(client, "POST", "/users/no-such-user/keys", key=admin.key, json={"name": "x"})
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "name"), ({"name": ""}, "name"), ({"name": "   "}, "name"), ({"name": "x" * 101}, "name"),
     ({"name": "ok", "key": "rk_000000000000_mine"}, "key")],
)  # fmt: skip
def test_an_invalid_key_request_is_refused_and_issues_nothing(
    client: TestClient, admin: Person, member: Person, body: dict[str, Any], field: str
) -> None:
    response = call(client, "POST", f"/users/{member.id}/keys", key=admin.key, json=body)

    assert_validation_error(response, field)
    assert [key["id"] for key in keys_of(client, admin, member.id)] == [member.key_id]


def test_no_key_is_ever_logged(
    client: TestClient,
    admin: Person,
    member: Person,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with caplog.at_level(logging.DEBUG):
        issued = issue(client, admin, member.id)
        works(client, issued["key"])
        call(client, "DELETE", f"/keys/{issued['id']}", key=admin.key)
        works(client, issued["key"])  # refused now
        works(client, f"rk_{issued['prefix']}_{'B' * 43}")
    printed = capsys.readouterr()

    assert caplog.records, "the requests were logged"
    secret = issued["key"].split("_", 2)[2]
    everything_logged = caplog.text + "".join(repr(vars(record)) for record in caplog.records)
    for plain in (issued["key"], secret, admin.key, admin.key.split("_", 2)[2]):
        assert plain not in everything_logged
        assert plain not in printed.out + printed.err
