"""The OpenAPI document is valid and the running service, on SQLite, keeps to it (schemathesis, all
default checks, called as the admin of a team)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from adapters.prometheus_metrics import PrometheusMetrics
from adapters.sql import SqlUnitOfWork, connect
from adapters.system_clock import SystemClock
from entrypoints.server import app_for
from entrypoints.settings import ServeSettings
from tests.e2e.conftest import bearer
from tests.e2e.live_server import serve
from tests.fakes import RecordingChannel, make_service, team_of

PUBLIC = {("GET", "/health"), ("GET", "/metrics"), ("GET", "/openapi.json"), ("GET", "/")}
# Rules across fields and time are beyond what JSON Schema says, so a body the document allows may
# still be answered 400: a reminder's or a previewed schedule's (a once date still to come, weekdays
# for weekly only, a calendar rule with an occurrence to come, a configured channel), and a snooze's
# (minutes or until, one of the two, until within the next 7 days). Every other operation accepts
# whatever its document allows.
RULES_BEYOND_THE_SCHEMA = {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404", "409"]}}
CONFIG = schemathesis.Config.from_dict(
    {
        "operations": [
            {"include-method": method, "include-path": path, "checks": RULES_BEYOND_THE_SCHEMA}
            for method, path in [
                ("POST", "/notifications/"),
                ("POST", "/schedules/preview"),
                ("POST", "/deliveries/{delivery_id}/snooze"),
            ]
        ]
    }
)


def quiet_hours_that_end_when_they_start(body: Any) -> bool:
    """Quiet hours from 09:30 to 09:30 are refused (400): a rule across two fields, which JSON Schema
    cannot state. A user body holding them is left out, rather than sparing every user body the check."""
    quiet = body.get("quiet_hours") if isinstance(body, dict) else None
    return isinstance(quiet, dict) and "start" in quiet and quiet.get("start") == quiet.get("end")


@dataclass(frozen=True)
class Served:
    url: str
    admin_key: str


@pytest.fixture(scope="module")
def served(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The service on its default store, a SQLite file, with one team and its admin's key."""
    path = tmp_path_factory.mktemp("schemathesis") / "reminders.db"
    shutil.copyfile(sqlite_template, path)
    store = connect(f"sqlite:///{path}", pool_size=8)
    metrics = PrometheusMetrics()
    service = make_service(
        clock=SystemClock(),
        channels={"recording": RecordingChannel()},
        metrics=metrics,
        uow_factory=lambda: SqlUnitOfWork(store),
    )
    # Schemathesis writes far more than 120 times a minute with its one key.
    settings = ServeSettings(
        scheduler_enabled=False, send_rate_limit="100000/minute", write_rate_limit="100000/minute"
    )
    admin_key = team_of(service).issued.plain
    with serve(app_for(service, metrics, settings, store_kind="sqlite", closing=(store.dispose,))) as url:
        yield Served(url, admin_key)


@pytest.fixture(scope="module")
def api_schema(served: Served) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(f"{served.url}/openapi.json", config=CONFIG)

    @loaded.hook
    def filter_body(context: Any, body: Any) -> bool:
        return not quiet_hours_that_end_when_they_start(body)

    return loaded


def test_the_document_is_valid_openapi_3_1(served: Served) -> None:
    document = httpx.get(f"{served.url}/openapi.json").json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert ("POST", "/users/") in operations
    assert ("POST", "/notifications/send/{reminder_id}") in operations
    assert {
        ("POST", "/users/{user_id}/keys"),
        ("GET", "/users/{user_id}/keys"),
        ("DELETE", "/keys/{key_id}"),
        ("POST", "/team/webhook-secret"),
        ("GET", "/audit"),
    } <= operations
    create = document["paths"]["/notifications/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("NewReminder")
    assert set(create["responses"]) >= {"201", "400", "401", "403", "404", "409", "413", "415", "429", "500"}
    for path in ("/notifications/send/{reminder_id}", "/deliveries/{delivery_id}/retry"):
        responses = document["paths"][path]["post"]["responses"]
        assert set(responses) >= {"200", "202", "401", "403", "404", "409", "429", "502"}, path
        for status in ("200", "202"):
            assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith("DeliveryOut")


def test_every_operation_but_the_public_ones_needs_a_bearer_key(served: Served) -> None:
    document = httpx.get(f"{served.url}/openapi.json").json()
    [scheme] = document["components"]["securitySchemes"].values()
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert document["security"] == [{name: []} for name in document["components"]["securitySchemes"]]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if (method.upper(), path) in PUBLIC:
                assert operation["security"] == [], path
                assert "401" not in operation["responses"], path
            else:
                assert "security" not in operation, (method, path)  # the document's default applies
                assert "401" in operation["responses"], (method, path)
                assert ("429" in operation["responses"]) == (method != "get"), (method, path)


# What each feature added to the document: operations, and fields of the answers each shown by example.
NEW_OPERATIONS = {
    ("GET", "/notifications/{reminder_id}/occurrences"),
    ("POST", "/schedules/preview"),
    ("POST", "/deliveries/{delivery_id}/snooze"),
    ("POST", "/deliveries/{delivery_id}/ack"),
}
NEW_ANSWER_FIELDS = {
    "ReminderOut": {"time_of_day", "rrule", "cron", "starts_on", "ends_on", "skip_dates", "recipients"}
    | {"local_time", "repeat_until_ack"},
    "UserOut": {"quiet_hours"},
    "DeliveryOut": {"status", "kind", "parent_delivery_id", "recipient_id", "acknowledged_at"}
    | {"acknowledged_by", "deferred_until", "reason"},
    "OccurrenceOut": {"scheduled_for", "local", "recipient_id", "reason"},
    "QuietHoursOut": {"start", "end", "weekdays"},
    "RepeatOut": {"every_minutes", "max_times"},
}
# The fields of the requests, each shown in a whole example body of the operation.
NEW_BODY_FIELDS = {
    ("POST", "/notifications/"): {"rrule", "cron", "starts_on", "ends_on", "skip_dates", "recipients"}
    | {"local_time", "repeat_until_ack"},
    ("PATCH", "/notifications/{reminder_id}"): {"rrule", "recipients", "local_time", "repeat_until_ack"},
    ("POST", "/schedules/preview"): {"rrule", "cron", "starts_on", "ends_on", "skip_dates", "recipients"}
    | {"local_time", "time_of_day", "timezone", "frequency"},
    ("POST", "/users/"): {"quiet_hours"},
    ("PATCH", "/users/{user_id}"): {"quiet_hours"},
    ("POST", "/deliveries/{delivery_id}/snooze"): {"minutes", "until"},
}


def body_examples(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    media = document["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
    examples: dict[str, Any] = media.get("examples", {})
    return {name: example["value"] for name, example in examples.items()}


def test_the_new_operations_and_fields_are_described_with_examples(served: Served) -> None:
    document = httpx.get(f"{served.url}/openapi.json").json()
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert operations >= NEW_OPERATIONS
    for method, path in NEW_OPERATIONS:
        assert document["paths"][path][method.lower()]["summary"], path
    schemas = document["components"]["schemas"]
    for name, fields in NEW_ANSWER_FIELDS.items():
        for field in fields:
            described = schemas[name]["properties"][field]
            assert described.get("examples"), (name, field)
            assert name.endswith("QuietHoursOut") or described.get("description"), (name, field)
    for (method, path), fields in NEW_BODY_FIELDS.items():
        shown = {field for body in body_examples(document, method, path).values() for field in body}
        assert fields <= shown, (method, path, fields - shown)
    occurrences = document["paths"]["/notifications/{reminder_id}/occurrences"]["get"]
    assert {parameter["name"] for parameter in occurrences["parameters"]} == {"reminder_id", "count", "after"}


def test_every_example_body_of_the_document_is_accepted_as_it_stands(client: TestClient) -> None:
    """On the fixed clock (January 2026), so the examples' dates in 2030 are still to come."""
    document = client.get("/openapi.json").json()
    owner = client.post("/users/", json={"name": "Owner", "email": "owner@example.com"}).json()
    reminder = client.post(
        "/notifications/",
        json={
            "owner_id": owner["id"],
            "title": "T",
            "message": "M",
            "frequency": "daily",
            "time_of_day": "09:00",
        },
    ).json()
    sent = client.post(f"/notifications/send/{reminder['id']}").json()
    ids = {"user_id": owner["id"], "reminder_id": reminder["id"], "delivery_id": sent["delivery_id"]}
    tried = 0

    for path, item in document["paths"].items():
        for method, operation in item.items():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            for name, example in media.get("examples", {}).items():
                if "until" in example["value"]:
                    continue  # a snooze's until is at most 7 days after the request, never a fixed moment
                response = client.request(method, path.format(**ids), json=example["value"])
                assert response.is_success, (method, path, name, response.text)
                tried += 1

    assert tried >= 15


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_service_keeps_to_its_document(case: Any, served: Served) -> None:
    case.call_and_validate(headers=bearer(served.admin_key))
