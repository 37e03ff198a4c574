"""End-to-end fixtures: the real app, lifespan running, over a service wired with test doubles."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from adapters.prometheus_metrics import PrometheusMetrics
from entrypoints.bootstrap import Service
from entrypoints.server import app_for
from entrypoints.settings import ServeSettings
from tests.fakes import FixedClock, RecordingChannel, make_service
from tests.stores import MakeStore, StoreUnderTest


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def channel() -> RecordingChannel:
    """A second channel, "recording", next to "log": tests script its failures."""
    return RecordingChannel()


@pytest.fixture
def metrics() -> PrometheusMetrics:
    return PrometheusMetrics()


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> StoreUnderTest:
    """Every end-to-end test runs on the in-memory store and on a SQLite file."""
    return make_store(request.param)


@pytest.fixture
def service(
    clock: FixedClock, channel: RecordingChannel, metrics: PrometheusMetrics, store: StoreUnderTest
) -> Service:
    return make_service(
        clock=clock, channels={"recording": channel}, metrics=metrics, uow_factory=store.uow_factory
    )


@pytest.fixture
def client(service: Service, metrics: PrometheusMetrics, store: StoreUnderTest) -> Iterator[TestClient]:
    """The app with the scheduler off: tests drive time through the fixed clock and commands."""
    app = app_for(service, metrics, ServeSettings(scheduler_enabled=False), store_kind=store.kind)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
