"""/health on a real PostgreSQL database that goes away and comes back, reached through a proxy the
test can cut; and a password in the database URL that never reaches a response or a log line."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import make_url
from starlette.testclient import TestClient

from entrypoints.server import app_for, build_runtime
from entrypoints.settings import ServeSettings
from tests.databases import postgres_admin_url, postgres_database
from tests.fakes import team_of
from tests.integration.tcp_proxy import TcpProxy

PASSWORD = "s3cret-in-the-url"  # trust auth ignores it; it is here to be kept out of sight


@pytest.fixture
def proxied_database() -> Iterator[tuple[str, TcpProxy]]:
    with postgres_database(postgres_admin_url()) as direct:
        url = make_url(direct)
        proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432)).start()
        through = url.set(host="127.0.0.1", port=proxy.port, password=PASSWORD)
        try:
            yield through.render_as_string(hide_password=False), proxy
        finally:
            proxy.cut()


def wait_for_status(client: TestClient, status: int, *, within: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        response = client.get("/health")
        if response.status_code == status:
            body: dict[str, Any] = response.json()
            assert PASSWORD not in response.text
            return body
        if time.monotonic() > deadline:
            pytest.fail(f"/health stayed {response.status_code}, wanted {status}: {response.text}")
        time.sleep(0.2)


def test_health_turns_503_when_postgresql_goes_away_and_recovers_by_itself(
    proxied_database: tuple[str, TcpProxy], caplog: pytest.LogCaptureFixture
) -> None:
    url, proxy = proxied_database
    caplog.set_level(logging.DEBUG)
    settings = ServeSettings(database_url=url, scheduler_enabled=False)
    runtime = build_runtime(settings)
    app = app_for(
        runtime.service,
        runtime.metrics,
        settings,
        store_kind=runtime.store.kind,
        closing=(runtime.store.close,),
    )
    key = team_of(runtime.service).issued.plain
    with TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {key}"}) as client:
        healthy = wait_for_status(client, 200)
        assert healthy["checks"]["store"]["store"] == "postgresql"
        assert client.post("/users/", json={"name": "Ann", "email": "ann@example.com"}).status_code == 201

        proxy.cut()
        down = wait_for_status(client, 503)
        assert down["checks"]["store"] == {
            "status": "unavailable",
            "reason": None,
            "store": "postgresql",
            "error": "StoreUnavailable",
        }
        # The queue lives in the same database: its check cannot answer either.
        assert (down["checks"]["queue"]["status"], down["checks"]["queue"]["error"]) == (
            "unavailable",
            "StoreUnavailable",
        )
        failed = client.get("/users/")
        assert failed.status_code == 503
        assert failed.json()["code"] == "unavailable"
        assert failed.headers["retry-after"] == "1"
        assert PASSWORD not in failed.text

        proxy.start()
        wait_for_status(client, 200)
        assert client.get("/users/").json()["total"] == 2  # Ann and the team's admin

    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "store ready" in logged
    assert PASSWORD not in logged
