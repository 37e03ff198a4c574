"""The OpenAPI document is valid and the running service, on SQLite, keeps to it (schemathesis, all
default checks)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
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
from tests.e2e.live_server import serve
from tests.fakes import RecordingChannel, make_service


@pytest.fixture(scope="module")
def base_url(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service on its default store, a SQLite file."""
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
    settings = ServeSettings(scheduler_enabled=False)
    with serve(app_for(service, metrics, settings, store_kind="sqlite", closing=(store.dispose,))) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(base_url: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json")


def test_the_document_is_valid_openapi_3_1(base_url: str) -> None:
    document = httpx.get(f"{base_url}/openapi.json").json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert ("POST", "/users/") in operations
    assert ("POST", "/notifications/send/{reminder_id}") in operations
    create = document["paths"]["/notifications/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("CreateReminder")
    assert set(create["responses"]) >= {"201", "400", "404", "409", "413", "415", "500"}
    for path in ("/notifications/send/{reminder_id}", "/deliveries/{delivery_id}/retry"):
        responses = document["paths"][path]["post"]["responses"]
        assert set(responses) >= {"200", "202", "404", "409", "502"}, path
        for status in ("200", "202"):
            assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith("DeliveryOut")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_service_keeps_to_its_document(case: Any) -> None:
    case.call_and_validate()
