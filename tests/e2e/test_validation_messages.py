"""Every 400 says in words what is wrong with which field, with an example where one helps, and never
shows the regular expression behind a schema pattern (the OpenAPI document keeps the patterns)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from tests.e2e.api_helpers import (
    assert_validation_error,
    create_reminder,
    create_user,
    reminder_body,
    user_body,
)

# What a regular expression, or pydantic's wording of one, looks like in a message.
REGEX_SIGNS = ("^", "$", "\\d", "\\s", "\\x", "[0-9]", "[^", "(?:", "should match pattern", "pattern")
DROP = object()  # an override that leaves the field out
JSON = {"content-type": "application/json"}


def assert_in_words(problem: dict[str, str]) -> None:
    for sign in REGEX_SIGNS:
        assert sign not in problem["message"], problem


def send(client: TestClient, what: str, change: Any) -> httpx2.Response:
    """One request of the table: `what` says which, `change` is the bad part of it."""
    owner = create_user(client)
    if what == "create user":
        return client.post("/users/", json=merged(user_body(), change))
    if what == "create reminder":
        return client.post("/notifications/", json=merged(reminder_body(owner["id"]), change))
    if what == "change user":
        return client.patch(f"/users/{owner['id']}", json=change)
    if what == "create key":
        return client.post(f"/users/{owner['id']}/keys", json=merged({"name": "laptop"}, change))
    if what == "change reminder":
        reminder = create_reminder(client, owner["id"])
        return client.patch(f"/notifications/{reminder['id']}", json=change)
    if what == "raw user":
        return client.post("/users/", content=change, headers=JSON)
    return client.get(what.format(owner=owner["id"]), params=change)


def merged(body: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    body = {**body, **change}
    return {name: value for name, value in body.items() if value is not DROP}


WEEKLY = {"frequency": "weekly", "weekdays": [0]}
ONCE = {"frequency": "once", "date": "2030-01-31"}
TIME_OF_DAY = "time_of_day must be HH:MM or HH:MM:SS, for example 09:00"
NAME_CONTROL = "name must not contain control characters"
NAME_BIDI = "name must not contain bidirectional override characters"
ROLES = "must be one of 'admin' or 'member'"
MOMENT = "must be a date and time with a UTC offset, for example 2030-01-31T09:00:00+00:00"

TABLE = [
    # users: schema patterns and constraints
    ("create user", {"name": ""}, "name", ["name must not be empty"]),
    ("create user", {"name": "   "}, "name", ["name must not be blank"]),
    ("create user", {"name": "Ann\u0000"}, "name", ["name must not contain NUL characters"]),
    ("create user", {"name": "x" * 201}, "name", ["name must be at most 200 characters"]),
    ("create user", {"name": 5}, "name", ["name must be a string"]),
    ("create user", {"name": DROP}, "name", ["name is required"]),
    ("create user", {"email": "not-an-email"}, "email",
     ["email must be an email address", "for example ada@example.com"]),
    ("create user", {"email": "a@"}, "email", ["email must be at least 3 characters", "for example"]),
    ("create user", {"active": "yes"}, "active", ["active must be true or false"]),
    ("create user", {"nickname": "Annie"}, "nickname", ["nickname is not a known field"]),
    ("create user", {"n" * 500: "Annie"}, "n" * 99 + "…", ["n" * 99 + "… is not a known field"]),
    ("create user", {"name": "Ann\u0007"}, "name", [NAME_CONTROL]),
    ("create user", {"name": "Ann\r\nBcc: x@example.com"}, "name", [NAME_CONTROL]),
    ("create user", {"name": "Ann\u009b"}, "name", [NAME_CONTROL]),
    ("create user", {"name": "Ann \u202eeeL"}, "name", [NAME_BIDI]),
    ("change user", {"name": "\u2066Ann\u2069"}, "name", [NAME_BIDI]),
    ("change user", {"name": "Ann\t"}, "name", [NAME_CONTROL]),
    ("create user", {"role": "owner"}, "role", [f"role {ROLES}"]),
    ("create user", {"timezone": "Mars/Olympus"}, "timezone",
     ["unknown time zone 'Mars/Olympus'", "IANA time zone name, for example Europe/Berlin"]),
    ("change user", {"email": "nobody"}, "email", ["email must be an email address"]),
    ("change user", {"name": None}, "name", ["name must not be null"]),
    ("change user", {"role": "boss"}, "role", [f"role {ROLES}"]),
    ("change user", {"timezone": ""}, "timezone", ["timezone must not be empty", "Europe/Berlin"]),
    # API keys
    ("create key", {"name": "   "}, "name", ["name must not be blank"]),
    ("create key", {"name": "x" * 101}, "name", ["name must be at most 100 characters"]),
    ("create key", {"name": DROP}, "name", ["name is required"]),
    ("create key", {"user_id": "someone"}, "user_id", ["user_id is not a known field"]),
    # reminders: templates
    ("create reminder", {"message": "Hi {name}"}, "message",
     ["unknown placeholder {name}; use one of {owner_name}, {title}, {scheduled_for_local}"]),
    ("create reminder", {"title": "{title!r}"}, "title", ["title uses {title!r}", "write {title}"]),
    ("create reminder", {"title": "Hi {"}, "title", ["title has an unmatched { or }", "write {{ or }}"]),
    ("create reminder", {"message": "50% off}"}, "message", ["message has an unmatched { or }"]),
    ("create reminder", {"title": "   "}, "title", ["title must not be blank"]),
    ("create reminder", {"message": ""}, "message", ["message must not be empty"]),
    ("create reminder", {"title": "Stand\u0000up"}, "title", ["title must not contain NUL characters"]),
    ("create reminder", {"title": "Stand\nup"}, "title", ["title must not contain control characters"]),
    ("create reminder", {"title": "\u202eStand-up"}, "title",
     ["title must not contain bidirectional override characters"]),
    ("create reminder", {"message": "Hi\r\nthere"}, "message",
     ["message must not contain control characters other than tab and newline"]),
    ("change reminder", {"message": "\u001b[2J"}, "message",
     ["message must not contain control characters other than tab and newline"]),
    # reminders: the schedule's fields
    ("create reminder", {"time_of_day": "9:00"}, "time_of_day", [TIME_OF_DAY]),
    ("create reminder", {"time_of_day": "24:00"}, "time_of_day", [TIME_OF_DAY, "24-hour clock"]),
    ("create reminder", {"time_of_day": "09:00:60"}, "time_of_day", [TIME_OF_DAY]),
    ("create reminder", {"time_of_day": 900}, "time_of_day", ["time_of_day must be a string", "09:00"]),
    ("create reminder", {"time_of_day": DROP}, "time_of_day", ["time_of_day is required", "09:00"]),
    ("create reminder", {"frequency": "hourly"}, "frequency",
     ["frequency must be one of 'once', 'daily', 'weekly', 'rrule' or 'cron'"]),
    ("create reminder", {**WEEKLY, "weekdays": [7]}, "weekdays.0",
     ["weekdays[0] must be at most 6", "0 is Monday and 6 is Sunday"]),
    ("create reminder", {**WEEKLY, "weekdays": ["Monday"]}, "weekdays.0",
     ["weekdays[0] must be a whole number", "0 is Monday"]),
    ("create reminder", {**WEEKLY, "weekdays": [0, 1, 2, 3, 4, 5, 6, 0]}, "weekdays",
     ["weekdays must have at most 7 items"]),
    ("create reminder", {**WEEKLY, "weekdays": [2, 2]}, "weekdays", ["weekdays must not repeat a day"]),
    ("create reminder", {**WEEKLY, "weekdays": [1.5]}, "weekdays.0",
     ["weekdays[0] must be a whole number", "0 is Monday"]),
    ("create reminder", {**WEEKLY, "weekdays": ["1"]}, "weekdays.0", ["weekdays[0] must be a whole number"]),
    ("create reminder", {**ONCE, "date": "2030-13-01"}, "date",
     ["date must be a date as YYYY-MM-DD", "for example 2030-01-31"]),
    ("create reminder", {"timezone": "Mars/Olympus"}, "timezone",
     ["unknown time zone 'Mars/Olympus'", "IANA time zone name, for example Europe/Berlin"]),
    ("create reminder", {"timezone": ""}, "timezone", ["timezone must not be empty", "Europe/Berlin"]),
    ("create reminder", {"timezone": "Factory"}, "timezone",
     ["unknown time zone 'Factory'", "IANA time zone name, for example Europe/Berlin"]),
    ("create reminder", {"timezone": "posix/Europe/Berlin"}, "timezone",
     ["unknown time zone 'posix/Europe/Berlin'", "for example Europe/Berlin"]),
    ("create reminder", {"channel": "lo\u0000g"}, "channel", ["channel must not contain NUL characters"]),
    ("create reminder", {"channel": "pager"}, "channel", ["unknown channel 'pager'", "configured: ", "log"]),
    ("create reminder", {"target": "https://example.com/\u0000"}, "target",
     ["target must not contain NUL characters"]),
    # reminders: rules across fields
    ("create reminder", {"frequency": "weekly"}, "weekdays",
     ["a weekly schedule needs at least one weekday"]),
    ("create reminder", {"weekdays": [1]}, "weekdays", ["weekdays apply to weekly schedules only"]),
    ("create reminder", {"date": "2030-01-31"}, "date", ["date applies to once schedules only"]),
    ("create reminder", {**ONCE, "date": "2001-01-01"}, "date",
     ["a once reminder must be scheduled in the future"]),
    ("change reminder", {"time_of_day": "25:00"}, "time_of_day", [TIME_OF_DAY]),
    ("change reminder", {"message": "Bye {first_name}"}, "message", ["unknown placeholder {first_name}"]),
    ("change reminder", {"title": None}, "title", ["title must not be null"]),
    ("change reminder", {"frequency": "weekly"}, "weekdays", ["weekdays", "weekly"]),
    ("change reminder", {**WEEKLY, "weekdays": [3, 3]}, "weekdays", ["weekdays must not repeat a day"]),
    ("change reminder", {"timezone": "localtime"}, "timezone",
     ["unknown time zone 'localtime'", "for example Europe/Berlin"]),
    # reminders: calendar rules, dates, recipients and repeats
    ("create reminder", {"frequency": "rrule", "rrule": "FREQ=SECONDLY"}, "rrule",
     ["rrule FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"]),
    ("create reminder", {"frequency": "rrule", "rrule": "FREQ=DAILY;BYMINUTE=5"}, "rrule",
     ["time_of_day sets the time"]),
    ("create reminder", {"frequency": "rrule", "rrule": "FREQ=DAILY\u0000"}, "rrule",
     ["rrule must not contain NUL characters"]),
    ("create reminder", {"frequency": "rrule", "rrule": "x" * 501}, "rrule",
     ["rrule must be at most 500 characters"]),
    ("create reminder", {"frequency": "cron", "cron": "61 9 * * *", "time_of_day": DROP}, "cron",
     ["the minute field of cron '61 9 * * *' is not valid"]),
    ("create reminder", {"frequency": "cron", "cron": "0 9 * * *"}, "time_of_day",
     ["time_of_day is not taken with a cron schedule"]),
    ("create reminder", {"cron": "0 9 * * *"}, "cron", ["cron applies to cron schedules only"]),
    ("create reminder", {"starts_on": "2026-02-30"}, "starts_on",
     ["starts_on must be a date as YYYY-MM-DD", "for example 2030-01-31"]),
    ("create reminder", {"skip_dates": ["tomorrow"]}, "skip_dates.0",
     ["skip_dates[0] must be a date as YYYY-MM-DD", "2030-12-25"]),
    ("create reminder", {"recipients": "everyone"}, "recipients",
     ['recipients must be "owner", "team" or a list of user ids of the team']),
    ("create reminder", {"recipients": []}, "recipients", ["recipients must have at least 1 item"]),
    ("create reminder", {"local_time": "mine"}, "local_time",
     ["local_time must be one of 'reminder' or 'recipient'"]),
    ("create reminder", {"repeat_until_ack": {"every_minutes": 0, "max_times": 1}},
     "repeat_until_ack.every_minutes", ["repeat_until_ack.every_minutes must be at least 1"]),
    ("change reminder", {"frequency": "rrule"}, "rrule",
     ["rrule is required when the frequency changes to rrule"]),
    ("change reminder", {"recipients": None}, "recipients", ["recipients must not be null"]),
    # users: quiet hours
    ("create user", {"quiet_hours": {"start": "22", "end": "07:00"}}, "quiet_hours.start",
     ["quiet_hours.start must be HH:MM or HH:MM:SS, for example 09:00"]),
    ("change user", {"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours.end",
     ["quiet_hours.end must differ from quiet_hours.start"]),
    ("change user", {"quiet_hours": {"start": "22:00", "end": "07:00", "weekdays": [9]}},
     "quiet_hours.weekdays.0", ["quiet_hours.weekdays[0] must be at most 6", "0 is Monday"]),
    # query strings
    ("/users/", {"limit": "0"}, "limit", ["limit must be at least 1"]),
    ("/users/", {"limit": "101"}, "limit", ["limit must be at most 100"]),
    ("/users/", {"limit": "ten"}, "limit", ["limit must be a whole number"]),
    ("/users/", {"offset": "-1"}, "offset", ["offset must be at least 0"]),
    ("/users/", {"active": "maybe"}, "active", ["active must be true or false"]),
    ("/users/", {"colour": "red"}, "colour", ["colour is not a known query parameter"]),
    ("/users/", {"c" * 500: "red"}, "c" * 99 + "…", ["c" * 99 + "… is not a known query parameter"]),
    ("/notifications/user/{owner}/", {"frequency": "hourly"}, "frequency",
     ["frequency must be one of 'once', 'daily', 'weekly', 'rrule' or 'cron'"]),
    ("/notifications/user/{owner}/", {"channel": "c" * 51}, "channel",
     ["channel must be at most 50 characters"]),
    ("/deliveries/", {"status": "lost"}, "status",
     ["status must be one of 'pending', 'deferred', 'sending', 'sent'"]),
    ("/users/", {"role": "owner"}, "role", [f"role {ROLES}"]),
    ("/audit", {"since": "1700000000"}, "since", [f"since {MOMENT}"]),
    ("/audit", {"until": "2030-01-31T09:00:00"}, "until", [f"until {MOMENT}"]),
    ("/audit", {"since": "yesterday"}, "since", [f"since {MOMENT}"]),
    ("/audit", {"actor_id": "u" * 65}, "actor_id", ["actor_id must be at most 64 characters"]),
    ("/audit", {"limit": "0"}, "limit", ["limit must be at least 1"]),
    # the body as a whole
    ("raw user", b"[]", "body", ["the body must be a JSON object"]),
    ("raw user", b'{"name": "Ann",', "body", ["the body is not valid JSON"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "change", "field", "fragments"),
    [pytest.param(*row, id=f"{row[0]}-{row[2]}-{index}") for index, row in enumerate(TABLE)],
)
def test_a_bad_input_is_explained_in_words(
    client: TestClient, what: str, change: Any, field: str, fragments: list[str]
) -> None:
    [problem] = assert_validation_error(send(client, what, change), field)

    for fragment in fragments:
        assert fragment in problem["message"], problem
    assert_in_words(problem)


def test_a_message_lists_every_problem_of_a_request_each_in_words(client: TestClient) -> None:
    owner = create_user(client)
    body = reminder_body(owner["id"], title="", message="Hi {name}", time_of_day="9am", frequency="yearly")

    problems = assert_validation_error(
        client.post("/notifications/", json=body), "title", "message", "time_of_day", "frequency"
    )

    for problem in problems:
        assert problem["message"].startswith(problem["field"]), problem
        assert_in_words(problem)


# A string breaking every pattern of the request schemas (text without NUL, a template, a time, an
# email) while long enough for every minimum length.
BREAKS_EVERY_PATTERN = "a\u0000b"
IDS = {"user_id": "user", "reminder_id": "reminder"}


def pattern_fields(document: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(method, path, schema, field) for each request body field of the document with a pattern."""
    schemas = document["components"]["schemas"]
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody")
            if body is None:
                continue
            name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            for field, schema in schemas[name]["properties"].items():
                options = [schema, *schema.get("anyOf", [])]
                if any("pattern" in option for option in options):
                    found.append((method.upper(), path, name, field))
    return found


def test_no_pattern_of_a_request_schema_is_shown_to_a_person(client: TestClient) -> None:
    """Walks the OpenAPI document, so a field that gains a pattern later is held to this too."""
    document = client.get("/openapi.json").json()
    fields = pattern_fields(document)
    assert {(name, field) for _, _, name, field in fields} >= {
        ("NewUser", "name"),
        ("NewUser", "email"),
        ("NewReminder", "title"),
        ("NewReminder", "message"),
        ("NewReminder", "time_of_day"),
        ("NewReminder", "channel"),
        ("UserPatch", "email"),
        ("ReminderPatch", "time_of_day"),
        ("NewKey", "name"),
        ("NewReminder", "rrule"),
        ("NewReminder", "cron"),
        ("ReminderPatch", "rrule"),
        ("NewSchedule", "time_of_day"),
        ("NewSchedule", "cron"),
    }, "the request schemas keep their patterns"
    owner = create_user(client)
    ids = {"user": owner["id"], "reminder": create_reminder(client, owner["id"])["id"]}
    bases = {
        "NewUser": user_body(),
        "NewReminder": reminder_body(owner["id"]),
        "NewSchedule": {"frequency": "daily", "time_of_day": "09:00"},
    }

    for method, path, name, field in fields:
        url = path.format(**{param: ids[kind] for param, kind in IDS.items()})
        body = {**bases.get(name, {}), field: BREAKS_EVERY_PATTERN}
        [problem] = assert_validation_error(client.request(method, url, json=body), field)
        assert problem["message"].startswith(field), (method, path, problem)
        assert_in_words(problem)
