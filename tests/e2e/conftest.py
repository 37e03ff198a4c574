"""End-to-end fixtures: the real app, lifespan running, over a service wired with test doubles."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Protocol

import pytest
from starlette.testclient import TestClient

from adapters.prometheus_metrics import PrometheusMetrics
from application.channels import NotificationChannel
from application.retry_policy import RetryPolicy
from entrypoints.bootstrap import Service
from entrypoints.server import app_for
from entrypoints.settings import ServeSettings
from tests.fakes import FixedClock, RecordingChannel, make_service, team_of
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
    """The app with the scheduler off, called as the test team's admin (tests.fakes.team_of): tests
    drive time through the fixed clock and commands."""
    app = app_for(service, metrics, unlimited(ServeSettings(scheduler_enabled=False)), store_kind=store.kind)
    with TestClient(
        app, raise_server_exceptions=False, headers=bearer(team_of(service).issued.plain)
    ) as test_client:
        yield test_client


@pytest.fixture
def admin_id(service: Service) -> str:
    """The test team's admin, whom `client` acts as: the first user of every user list."""
    return team_of(service).admin.id


def unlimited(settings: ServeSettings) -> ServeSettings:
    """The settings with rate limits no test reaches, unless the test set its own: most tests send and
    write far more than a person would in a minute, all with the one admin key."""
    high = {"send_rate_limit": "100000/minute", "write_rate_limit": "100000/minute"}
    return settings.model_copy(update={k: v for k, v in high.items() if k not in settings.model_fields_set})


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class StartApp(Protocol):
    def __call__(
        self,
        settings: ServeSettings,
        *,
        channels: dict[str, NotificationChannel] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> tuple[TestClient, Service]: ...


@pytest.fixture
def start_app(clock: FixedClock, metrics: PrometheusMetrics, store: StoreUnderTest) -> Iterator[StartApp]:
    """An app of the test's own settings, channels and retry policy, on the test's clock, metrics and
    store, lifespan running (a test using it does not use `client`). Stopped at the end of the test."""
    with ExitStack() as stack:

        def start(
            settings: ServeSettings,
            *,
            channels: dict[str, NotificationChannel] | None = None,
            retry_policy: RetryPolicy | None = None,
        ) -> tuple[TestClient, Service]:
            service = make_service(
                clock=clock,
                channels=channels,
                metrics=metrics,
                uow_factory=store.uow_factory,
                retry_policy=retry_policy,
            )
            app = app_for(service, metrics, unlimited(settings), store_kind=store.kind)
            headers = bearer(team_of(service).issued.plain)
            client = TestClient(app, raise_server_exceptions=False, headers=headers)
            return stack.enter_context(client), service

        yield start
