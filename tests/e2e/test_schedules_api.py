"""Calendar rules through HTTP: rrule and cron reminders, their start, end and skipped dates, the
preview of a saved reminder's next slots, and of a schedule not saved yet."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.e2e.api_helpers import (
    assert_error,
    assert_validation_error,
    create_reminder,
    create_user,
    reminder_body,
)
from tests.e2e.test_validation_messages import assert_in_words

# The fixed clock starts on Monday 2026-01-05 at 08:00 UTC (09:00 in Berlin). Berlin moves its
# clocks from 02:00 to 03:00 on Sunday 2026-03-29.
SECOND_TUESDAY = "FREQ=MONTHLY;BYDAY=2TU"
LAST_WORKING_DAY = "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"
WEEKDAYS_AT_NINE = "0 9 * * 1-5"


@pytest.fixture
def owner(client: TestClient) -> dict[str, Any]:
    return create_user(client, name="Bea", timezone="Europe/Berlin")


def occurrences(client: TestClient, reminder_id: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/notifications/{reminder_id}/occurrences", params=params)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"items"}
    items: list[dict[str, Any]] = response.json()["items"]
    for item in items:
        assert set(item) == {"scheduled_for", "local", "recipient_id", "skipped", "reason"}
    return items


def slots(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(item["scheduled_for"], item["local"]) for item in items]


def preview(client: TestClient, body: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
    response = client.post("/schedules/preview", json=body, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def only_problem(response: Any, field: str) -> str:
    """The message of the one problem of a 400, which names `field` and is in words."""
    [problem] = assert_validation_error(response, field)
    assert field in problem["message"], problem
    assert_in_words(problem)
    message: str = problem["message"]
    return message


def test_an_rrule_reminder_shows_its_rule_and_fires_on_the_second_tuesday(
    client: TestClient, owner: dict[str, Any]
) -> None:
    reminder = create_reminder(
        client, owner["id"], frequency="rrule", rrule=SECOND_TUESDAY, time_of_day="09:00"
    )

    assert (reminder["frequency"], reminder["rrule"], reminder["cron"]) == ("rrule", SECOND_TUESDAY, None)
    assert (reminder["time_of_day"], reminder["timezone"]) == ("09:00", "Europe/Berlin")
    assert reminder["starts_on"] == "2026-01-05"  # the day it was made, in its zone
    assert (reminder["ends_on"], reminder["skip_dates"]) == (None, [])
    assert reminder["next_run_at"] == "2026-01-13T08:00:00+00:00"
    assert slots(occurrences(client, reminder["id"], count=4)) == [
        ("2026-01-13T08:00:00+00:00", "2026-01-13T09:00:00+01:00"),
        ("2026-02-10T08:00:00+00:00", "2026-02-10T09:00:00+01:00"),
        ("2026-03-10T08:00:00+00:00", "2026-03-10T09:00:00+01:00"),
        ("2026-04-14T07:00:00+00:00", "2026-04-14T09:00:00+02:00"),  # summer time
    ]
    assert client.get(f"/notifications/{reminder['id']}").json() == reminder


def test_the_last_working_day_of_each_month(client: TestClient, owner: dict[str, Any]) -> None:
    reminder = create_reminder(
        client, owner["id"], frequency="rrule", rrule=LAST_WORKING_DAY, time_of_day="17:00"
    )

    assert [item["local"] for item in occurrences(client, reminder["id"], count=3)] == [
        "2026-01-30T17:00:00+01:00",
        "2026-02-27T17:00:00+01:00",
        "2026-03-31T17:00:00+02:00",
    ]


def test_a_counted_rule_lists_only_its_occurrences_from_starts_on(
    client: TestClient, owner: dict[str, Any]
) -> None:
    reminder = create_reminder(
        client,
        owner["id"],
        frequency="rrule",
        rrule="FREQ=DAILY;INTERVAL=3;COUNT=3",
        time_of_day="08:15",
        starts_on="2026-01-07",
    )

    assert reminder["starts_on"] == "2026-01-07"
    assert [item["local"] for item in occurrences(client, reminder["id"])] == [
        "2026-01-07T08:15:00+01:00",
        "2026-01-10T08:15:00+01:00",
        "2026-01-13T08:15:00+01:00",
    ]


def test_a_cron_reminder_has_no_time_of_day_and_fires_on_weekdays_in_its_zone(
    client: TestClient, owner: dict[str, Any]
) -> None:
    body = reminder_body(owner["id"], frequency="cron", cron=WEEKDAYS_AT_NINE)
    del body["time_of_day"]
    response = client.post("/notifications/", json=body)

    assert response.status_code == 201, response.text
    reminder = response.json()
    assert (reminder["frequency"], reminder["cron"], reminder["rrule"]) == ("cron", WEEKDAYS_AT_NINE, None)
    assert reminder["time_of_day"] is None
    # It is 09:00 in Berlin now: the next slot is tomorrow's.
    assert reminder["next_run_at"] == "2026-01-06T08:00:00+00:00"
    across_the_change = occurrences(client, reminder["id"], count=3, after="2026-03-26T12:00:00+00:00")
    assert slots(across_the_change) == [
        ("2026-03-27T08:00:00+00:00", "2026-03-27T09:00:00+01:00"),  # Friday
        ("2026-03-30T07:00:00+00:00", "2026-03-30T09:00:00+02:00"),  # Monday, summer time
        ("2026-03-31T07:00:00+00:00", "2026-03-31T09:00:00+02:00"),
    ]


def test_a_time_skipped_by_the_clock_change_fires_at_the_jump_and_says_so(
    client: TestClient, owner: dict[str, Any]
) -> None:
    reminder = create_reminder(client, owner["id"], time_of_day="02:30")

    assert slots(occurrences(client, reminder["id"], count=2, after="2026-03-28T12:00:00+00:00")) == [
        ("2026-03-29T01:00:00+00:00", "2026-03-29T03:00:00+02:00"),
        ("2026-03-30T00:30:00+00:00", "2026-03-30T02:30:00+02:00"),
    ]


def test_starts_on_ends_on_and_skip_dates_bound_the_slots_and_skipped_ones_are_listed(
    client: TestClient, owner: dict[str, Any]
) -> None:
    reminder = create_reminder(
        client,
        owner["id"],
        starts_on="2026-01-10",
        ends_on="2026-01-12",
        skip_dates=["2026-01-11"],
    )

    assert (reminder["starts_on"], reminder["ends_on"], reminder["skip_dates"]) == (
        "2026-01-10",
        "2026-01-12",
        ["2026-01-11"],
    )
    assert reminder["next_run_at"] == "2026-01-10T08:00:00+00:00"
    assert [
        (item["local"], item["skipped"], item["reason"]) for item in occurrences(client, reminder["id"])
    ] == [
        ("2026-01-10T09:00:00+01:00", False, None),
        ("2026-01-11T09:00:00+01:00", True, "skip_date"),
        ("2026-01-12T09:00:00+01:00", False, None),
    ]


def test_after_is_exclusive_and_count_limits_the_list(client: TestClient, owner: dict[str, Any]) -> None:
    reminder = create_reminder(client, owner["id"])
    first, second = occurrences(client, reminder["id"], count=2)

    assert first["scheduled_for"] == "2026-01-06T08:00:00+00:00"  # now (09:00 Berlin) is not after now
    assert occurrences(client, reminder["id"], count=1, after=first["scheduled_for"]) == [second]
    assert len(occurrences(client, reminder["id"])) == 10
    assert len(occurrences(client, reminder["id"], count=100)) == 100


def test_a_paused_reminder_lists_its_slots_flagged_paused(client: TestClient, owner: dict[str, Any]) -> None:
    reminder = create_reminder(client, owner["id"], active=False)

    listed = occurrences(client, reminder["id"], count=3)

    assert [(item["skipped"], item["reason"]) for item in listed] == [(True, "paused")] * 3
    assert listed[0]["local"] == "2026-01-06T09:00:00+01:00"


def test_a_reminder_changed_to_a_rule_and_to_cron_shows_the_new_schedule(
    client: TestClient, owner: dict[str, Any]
) -> None:
    reminder = create_reminder(client, owner["id"])

    to_rule = client.patch(
        f"/notifications/{reminder['id']}", json={"frequency": "rrule", "rrule": SECOND_TUESDAY}
    )
    assert to_rule.status_code == 200, to_rule.text
    assert (to_rule.json()["rrule"], to_rule.json()["time_of_day"]) == (SECOND_TUESDAY, "09:00")
    assert to_rule.json()["next_run_at"] == "2026-01-13T08:00:00+00:00"

    to_cron = client.patch(
        f"/notifications/{reminder['id']}",
        json={"frequency": "cron", "cron": "30 7 * * 6", "rrule": None, "time_of_day": None},
    )
    assert to_cron.status_code == 200, to_cron.text
    changed = to_cron.json()
    assert (changed["frequency"], changed["cron"], changed["rrule"], changed["time_of_day"]) == (
        "cron",
        "30 7 * * 6",
        None,
        None,
    )
    assert changed["next_run_at"] == "2026-01-10T06:30:00+00:00"  # Saturday 07:30 in Berlin


@pytest.mark.parametrize(
    ("schedule", "field", "words"),
    [
        ({"frequency": "rrule", "rrule": "FREQ=SECONDLY"}, "rrule", "DAILY, WEEKLY, MONTHLY or YEARLY"),
        ({"frequency": "rrule", "rrule": "FREQ=MINUTELY;INTERVAL=5"}, "rrule", "DAILY"),
        ({"frequency": "rrule", "rrule": "FREQ=HOURLY"}, "rrule", "DAILY"),
        ({"frequency": "rrule", "rrule": "FREQ=DAILY;BYHOUR=9"}, "rrule", "time_of_day sets the time"),
        ({"frequency": "rrule", "rrule": "every second tuesday"}, "rrule", "FREQ=MONTHLY;BYDAY=2TU"),
        ({"frequency": "rrule", "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "rrule", "no future"),
        ({"frequency": "rrule", "rrule": "FREQ=DAILY;UNTIL=20200101T000000Z"}, "rrule", "no future"),
        ({"frequency": "rrule"}, "rrule", "rrule"),
        ({"frequency": "cron", "cron": "0 9 30 2 *", "time_of_day": None}, "cron", "never"),
        ({"frequency": "cron", "cron": "every weekday", "time_of_day": None}, "cron", "five fields"),
        ({"frequency": "cron", "cron": WEEKDAYS_AT_NINE}, "time_of_day", "cron"),
        ({"frequency": "daily", "time_of_day": None}, "time_of_day", "required"),
        ({"ends_on": "2026-01-01"}, "ends_on", "ends_on"),
    ],
    ids=lambda value: str(value)[:40] if isinstance(value, dict) else None,
)
def test_a_schedule_that_cannot_be_kept_is_refused_in_words_naming_the_field(
    client: TestClient, owner: dict[str, Any], schedule: dict[str, Any], field: str, words: str
) -> None:
    body = {
        key: value for key, value in {**reminder_body(owner["id"]), **schedule}.items() if value is not None
    }

    created = client.post("/notifications/", json=body)
    previewed = client.post("/schedules/preview", json={k: v for k, v in body.items() if k in PREVIEW_FIELDS})

    for response in (created, previewed):
        assert words in only_problem(response, field)
    assert client.get(f"/notifications/user/{owner['id']}/").json()["total"] == 0


PREVIEW_FIELDS = {"owner_id", "time_of_day", "frequency", "weekdays", "date", "timezone", "rrule", "cron"} | {
    "starts_on",
    "ends_on",
    "skip_dates",
    "recipients",
    "local_time",
}


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"count": "0"}, "count", "count must be at least 1"),
        ({"count": "101"}, "count", "count must be at most 100"),
        ({"count": "ten"}, "count", "count must be a whole number"),
        ({"after": "yesterday"}, "after", "after must be a date and time with a UTC offset"),
        ({"after": "2026-01-05T08:00:00"}, "after", "after must be a date and time with a UTC offset"),
        ({"from": "2026-01-05T08:00:00+00:00"}, "from", "from is not a known query parameter"),
    ],
)
def test_a_bad_count_or_after_is_refused_naming_the_parameter(
    client: TestClient, owner: dict[str, Any], params: dict[str, str], field: str, words: str
) -> None:
    reminder = create_reminder(client, owner["id"])

    listed = client.get(f"/notifications/{reminder['id']}/occurrences", params=params)
    previewed = client.post(
        "/schedules/preview", params=params, json={"frequency": "daily", "time_of_day": "09:00"}
    )

    for response in (listed, previewed):
        assert words in only_problem(response, field)


def test_occurrences_of_a_reminder_that_does_not_exist_are_not_found(client: TestClient) -> None:
    assert_error(client.get("/notifications/nothing-here/occurrences"), 404, "not_found")


def test_a_preview_shows_the_next_slots_and_saves_nothing(client: TestClient, owner: dict[str, Any]) -> None:
    before = client.get(f"/notifications/user/{owner['id']}/").json()["total"]

    items = preview(
        client,
        {"owner_id": owner["id"], "frequency": "rrule", "rrule": SECOND_TUESDAY, "time_of_day": "09:00"},
        count=2,
    )

    assert items == [
        {
            "scheduled_for": "2026-01-13T08:00:00+00:00",
            "local": "2026-01-13T09:00:00+01:00",  # the owner's zone, by default
            "recipient_id": None,
            "skipped": False,
            "reason": None,
        },
        {
            "scheduled_for": "2026-02-10T08:00:00+00:00",
            "local": "2026-02-10T09:00:00+01:00",
            "recipient_id": None,
            "skipped": False,
            "reason": None,
        },
    ]
    assert client.get(f"/notifications/user/{owner['id']}/").json()["total"] == before
    assert client.get("/deliveries/").json()["total"] == 0


def test_a_preview_is_of_the_callers_schedule_by_default_and_takes_after_and_skip_dates(
    client: TestClient,
) -> None:
    items = preview(
        client,
        {
            "frequency": "cron",
            "cron": WEEKDAYS_AT_NINE,
            "timezone": "America/New_York",
            "skip_dates": ["2026-01-07"],
        },
        count=3,
        after="2026-01-06T00:00:00+00:00",
    )

    assert [(item["local"], item["reason"]) for item in items] == [
        ("2026-01-06T09:00:00-05:00", None),
        ("2026-01-07T09:00:00-05:00", "skip_date"),
        ("2026-01-08T09:00:00-05:00", None),
    ]


def test_a_preview_takes_only_schedule_fields(client: TestClient) -> None:
    response = client.post(
        "/schedules/preview", json={"frequency": "daily", "time_of_day": "09:00", "title": "Stand-up"}
    )

    assert "title is not a known field" in only_problem(response, "title")


def test_a_preview_for_an_unknown_owner_is_not_found(client: TestClient) -> None:
    response = client.post(
        "/schedules/preview", json={"owner_id": "nobody", "frequency": "daily", "time_of_day": "09:00"}
    )

    assert_error(response, 404, "not_found")


def test_a_time_of_day_sent_with_cron_is_refused_without_an_example_of_one(
    client: TestClient, owner: dict[str, Any]
) -> None:
    body = reminder_body(owner["id"], frequency="cron", cron=WEEKDAYS_AT_NINE, time_of_day="09:00")

    message = only_problem(client.post("/notifications/", json=body), "time_of_day")

    assert message == "time_of_day is not taken with a cron schedule: the cron expression sets the time"
