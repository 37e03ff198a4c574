"""Fixtures the scheduler and delivery tests share: a service at START with a recording "team"
channel beside "log", its metrics, and an owner. A module may define its own of the same name."""

from __future__ import annotations

import pytest

from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, MetricsRecorder, RecordingChannel, make_service
from tests.unit.people import Person, join
from tests.unit.world import START, add_owner


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def team() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def metrics() -> MetricsRecorder:
    return MetricsRecorder()


@pytest.fixture
def service(clock: FixedClock, team: RecordingChannel, metrics: MetricsRecorder) -> Service:
    return make_service(clock=clock, channels={"team": team}, metrics=metrics)


@pytest.fixture
def owner(service: Service) -> User:
    return add_owner(service)


@pytest.fixture
def ann(service: Service) -> Person:
    """A member of the service's test team, with a key of her own."""
    return join(service, "ann@example.com", name="Ann")


@pytest.fixture
def bob(service: Service) -> Person:
    """Another member of the same team."""
    return join(service, "bob@example.com", name="Bob")
