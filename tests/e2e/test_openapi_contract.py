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

from adapters.prometheus_metrics import PrometheusMetrics
from adapters.sql import SqlUnitOfWork, connect
from adapters.system_clock import SystemClock
from entrypoints.server import app_for
from entrypoints.settings import ServeSettings
from tests.e2e.conftest import bearer
from tests.e2e.live_server import serve
from tests.fakes import RecordingChannel, make_service, team_of

PUBLIC = {("GET", "/health"), ("GET", "/metrics"), ("GET", "/openapi.json"), ("GET", "/")}
# A reminder's rules across fields and time (a once date still to come, weekdays for weekly only, a
# configured channel) are beyond what JSON Schema says, so a body the document allows may still be
# answered 400; every other operation accepts whatever its document allows.
CONFIG = schemathesis.Config.from_dict(
    {
        "operations": [
            {
                "include-method": "POST",
                "include-path": "/notifications/",
                "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404", "409"]}},
            }
        ]
    }
)


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
    return schemathesis.openapi.from_url(f"{served.url}/openapi.json", config=CONFIG)


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


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_service_keeps_to_its_document(case: Any, served: Served) -> None:
    case.call_and_validate(headers=bearer(served.admin_key))
