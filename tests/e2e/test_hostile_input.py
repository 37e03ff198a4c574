"""Hostile input through the API: text with control or bidirectional characters, ids longer than any
the service issues, time zones outside the documented list, weekdays repeated or not whole numbers,
and input made to be echoed back. Each is a 400 naming the field (a long id: a 404) in the one error
shape, quoting at most 100 characters of what was sent; and nothing changes."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from domain.schedule import time_zone_names
from tests.e2e.api_helpers import (
    assert_error,
    assert_validation_error,
    create_reminder,
    create_user,
    reminder_body,
    user_body,
)

CONTROL = "must not contain control characters"
BIDI = "must not contain bidirectional override characters"
MESSAGE_CONTROL = "must not contain control characters other than tab and newline"
WEEKLY = {"frequency": "weekly", "weekdays": [0]}


class World:
    """A user with a reminder, and what the API says of both, to show that a refusal changed nothing."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.user = create_user(client)
        self.reminder = create_reminder(client, self.user["id"], **WEEKLY)
        self.before = self.state()

    def state(self) -> dict[str, Any]:
        return {
            "users": self.client.get("/users/").json(),
            "reminders": self.client.get(f"/notifications/user/{self.user['id']}/").json(),
        }

    def create_user(self, **fields: Any) -> httpx2.Response:
        return self.client.post("/users/", json=user_body(**fields))

    def change_user(self, **fields: Any) -> httpx2.Response:
        return self.client.patch(f"/users/{self.user['id']}", json=fields)

    def create_reminder(self, **fields: Any) -> httpx2.Response:
        return self.client.post("/notifications/", json=reminder_body(self.user["id"], **fields))

    def change_reminder(self, **fields: Any) -> httpx2.Response:
        return self.client.patch(f"/notifications/{self.reminder['id']}", json=fields)

    def assert_unchanged(self) -> None:
        assert self.state() == self.before


@pytest.fixture
def world(client: TestClient) -> World:
    return World(client)


# -- Text --------------------------------------------------------------------------------------------

# (field, value, the end of the message refusing it)
BAD_TEXT = [
    ("name", "Ann\u0007", CONTROL),
    ("name", "Ann\r\nBcc: victim@example.com", CONTROL),
    ("name", "Ann\n", CONTROL),
    ("name", "Ann\tLee", CONTROL),
    ("name", "Ann\u007f", CONTROL),
    ("name", "Ann\u0085", CONTROL),
    ("name", "Ann \u202eeeL", BIDI),
    ("name", "\u2066Ann\u2069", BIDI),
    ("title", "Stand-up\r\nBcc: victim@example.com", CONTROL),
    ("title", "Stand-up\n", CONTROL),
    ("title", "Stand\u001b[31m-up", CONTROL),
    ("title", "Stand-up\u009b", CONTROL),
    ("title", "\u202bStand-up", BIDI),
    ("title", "Stand-up\u2068", BIDI),
    ("message", "Hi\r\nthere", MESSAGE_CONTROL),
    ("message", "Hi\u0000", "must not contain NUL characters"),
    ("message", "\u001b[2J Hi", MESSAGE_CONTROL),
    ("message", "Hi\u000c", MESSAGE_CONTROL),
    ("message", "Hi\u0080", MESSAGE_CONTROL),
]


@pytest.mark.parametrize(("field", "value", "problem"), BAD_TEXT)
def test_text_with_a_forbidden_character_is_refused_on_create_and_change(
    world: World, field: str, value: str, problem: str
) -> None:
    if field == "name":
        responses = [world.create_user(name=value), world.change_user(name=value)]
    else:
        responses = [world.create_reminder(**{field: value}), world.change_reminder(**{field: value})]

    for response in responses:
        [refusal] = assert_validation_error(response, field)
        assert refusal["message"] == f"{field} {problem}"
    world.assert_unchanged()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Zoë Ünal-O'Brien (Ops)"),
        ("name", "مريم"),
        ("title", "Stand-up 🚀 {owner_name}"),
        ("message", "Agenda:\n\t1. {title}\n\t2. \u202bعربي\u202c"),
    ],
)
def test_text_in_any_script_with_tabs_and_newlines_in_messages_is_kept(
    world: World, field: str, value: str
) -> None:
    response = world.create_user(name=value) if field == "name" else world.create_reminder(**{field: value})

    assert response.status_code == 201, response.text
    assert response.json()[field] == value


# -- Ids -----------------------------------------------------------------------------------------------

LONG_IDS = ["y" * 65, "y" * 4000]
ROUTES = [
    ("GET", "/users/{id}"),
    ("PATCH", "/users/{id}"),
    ("DELETE", "/users/{id}"),
    ("GET", "/notifications/{id}"),
    ("PATCH", "/notifications/{id}"),
    ("DELETE", "/notifications/{id}"),
    ("GET", "/notifications/user/{id}/"),
    ("POST", "/notifications/send/{id}"),
    ("GET", "/notifications/{id}/deliveries"),
    ("GET", "/deliveries/{id}"),
    ("POST", "/deliveries/{id}/retry"),
]


@pytest.mark.parametrize("long_id", LONG_IDS, ids=len)
@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_a_path_id_longer_than_64_characters_is_a_404_that_does_not_echo_it(
    world: World, method: str, route: str, long_id: str
) -> None:
    body = {"name": "Ann"} if method == "PATCH" else None

    response = world.client.request(method, route.format(id=long_id), json=body)

    assert "yyy" not in assert_error(response, 404, "not_found")["message"]
    assert "yyy" not in response.text
    world.assert_unchanged()


def test_an_id_as_long_as_one_could_be_is_looked_up_and_quoted(world: World) -> None:
    unknown = "y" * 64

    response = world.client.get(f"/users/{unknown}")

    assert assert_error(response, 404, "not_found")["message"] == f"user '{unknown}' was not found"


@pytest.mark.parametrize("long_id", LONG_IDS, ids=len)
def test_a_long_owner_id_in_a_body_is_a_404_that_does_not_echo_it(world: World, long_id: str) -> None:
    response = world.client.post("/notifications/", json=reminder_body(long_id))

    assert assert_error(response, 404, "not_found")["message"] == "user was not found"
    world.assert_unchanged()


# -- Echoes ----------------------------------------------------------------------------------------------

FILLER = "Q" * 5000


def test_an_unknown_field_is_named_in_at_most_100_characters(world: World) -> None:
    response = world.client.post("/users/", json={**user_body(), FILLER: 1})

    [refusal] = assert_validation_error(response, "Q" * 99 + "…")
    assert refusal["message"] == "Q" * 99 + "… is not a known field"
    world.assert_unchanged()


@pytest.mark.parametrize(
    "query",
    [f"{FILLER}=1", f"{FILLER}=1&{FILLER}=2"],
    ids=["unknown", "repeated"],
)
def test_a_query_parameter_is_named_in_at_most_100_characters(world: World, query: str) -> None:
    response = world.client.get(f"/users/?{query}")

    assert_validation_error(response, "Q" * 99 + "…")
    assert "Q" * 100 not in response.text


@pytest.mark.parametrize(
    "fields",
    [
        {"channel": "Q" * 50},
        {"timezone": "Q" * 64},
        {"title": "{" + "Q" * 190 + "}"},
        {"message": "Hi {" + "Q" * 3000 + "}"},
        {"title": "Q" * 201},
        {"time_of_day": FILLER},
        {"frequency": FILLER},
        {"date": FILLER, "frequency": "once"},
        {"weekdays": [FILLER], "frequency": "weekly"},
        {"active": FILLER},
    ],
    ids=lambda fields: next(iter(fields)),
)
def test_no_refusal_quotes_more_than_100_characters_of_the_input(
    world: World, fields: dict[str, Any]
) -> None:
    for response in (world.create_reminder(**fields), world.change_reminder(**fields)):
        assert_error(response, 400, "validation_error")
        assert "Q" * 101 not in response.text
    world.assert_unchanged()


# -- Time zones --------------------------------------------------------------------------------------

NOT_LISTED = ["Factory", "localtime", "posixrules", "posix/Europe/Berlin", "right/UTC", "Mars/Olympus"]


@pytest.mark.parametrize("zone", NOT_LISTED)
def test_a_time_zone_outside_the_documented_list_is_refused(world: World, zone: str) -> None:
    for response in (world.create_reminder(timezone=zone), world.change_reminder(timezone=zone)):
        [refusal] = assert_validation_error(response, "timezone")
        assert refusal["message"] == (
            f"unknown time zone '{zone}'; use an IANA time zone name, for example Europe/Berlin"
        )
    world.assert_unchanged()


def test_the_documented_time_zones_are_exactly_those_accepted(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]

    for name in ("NewReminder", "ReminderPatch", "NewUser", "UserPatch"):
        field = schemas[name]["properties"]["timezone"]
        # Optional on a new reminder (the owner's zone is the default): the list, or null.
        listed = next(option["enum"] for option in field.get("anyOf", [field]) if "enum" in option)
        assert listed == sorted(time_zone_names())
        assert not set(listed) & set(NOT_LISTED)


# -- Weekdays ----------------------------------------------------------------------------------------

# (weekdays, the field refused, its message)
BAD_WEEKDAYS = [
    ([1, 1], "weekdays", "weekdays must not repeat a day"),
    ([0, 3, 0], "weekdays", "weekdays must not repeat a day"),
    ([1, 1.0], "weekdays", "weekdays must not repeat a day"),
    ([1.5], "weekdays.0", "weekdays[0] must be a whole number"),
    (["1"], "weekdays.0", "weekdays[0] must be a whole number"),
    ([True], "weekdays.0", "weekdays[0] must be a whole number"),
    ([None], "weekdays.0", "weekdays[0] must not be null"),
]


@pytest.mark.parametrize(("weekdays", "field", "message"), BAD_WEEKDAYS)
def test_weekdays_repeated_or_not_whole_numbers_are_refused_on_create_and_change(
    world: World, weekdays: list[Any], field: str, message: str
) -> None:
    for response in (
        world.create_reminder(frequency="weekly", weekdays=weekdays),
        world.change_reminder(weekdays=weekdays),
    ):
        [refusal] = assert_validation_error(response, field)
        assert refusal["message"].startswith(message), refusal
    world.assert_unchanged()


def test_a_weekday_written_as_a_whole_float_counts_as_that_day(world: World) -> None:
    created = world.create_reminder(frequency="weekly", weekdays=[1.0, 4])
    changed = world.change_reminder(weekdays=[2.0])

    assert created.status_code == 201, created.text
    assert created.json()["weekdays"] == [1, 4]
    assert changed.status_code == 200, changed.text
    assert changed.json()["weekdays"] == [2]
