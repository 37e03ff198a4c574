"""Test doubles for the ports: a fixed clock, a recording channel, and a service wired over them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from adapters.local_signals import LocalSignals
from adapters.log_channel import LogChannel
from adapters.log_email_channel import LogEmailChannel
from adapters.memory import MemoryStore, MemoryUnitOfWork
from application.action_links import ActionLinks
from application.channels import Channels, Notification, NotificationChannel
from application.clock import Clock
from application.commands import AttemptOutcome, ClaimDeliveries, CreateTeam, RecordOutcomes
from application.handlers.queue import Job
from application.handlers.teams import NewTeam
from application.metrics import Metrics, NoMetrics
from application.retry_policy import RetryPolicy
from application.sign_in_mail import SignInMailer
from application.unit_of_work import UnitOfWorkFactory
from domain.actor import Actor
from domain.delivery import Delivery
from domain.errors import InvalidTarget
from domain.events import Event
from entrypoints.bootstrap import Service, bootstrap

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday


class FixedClock:
    def __init__(self, now: datetime = START) -> None:
        self.current = now
        self.ticks = 0.0

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.ticks

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        self.ticks += timedelta(**delta).total_seconds()
        return self.current


class RecordingChannel:
    """Remembers what it sent; raises the scripted errors first, one per attempt."""

    def __init__(self, failures: Iterable[Exception] = (), *, takes_target: bool = False) -> None:
        self.sent: list[Notification] = []
        self.tried: list[Notification] = []
        self.failures = list(failures)
        self.takes_target = takes_target

    def validate_target(self, target: str | None) -> None:
        if self.takes_target and not target:
            raise InvalidTarget("target", "this channel needs a target")
        if not self.takes_target and target is not None:
            raise InvalidTarget("target", "this channel takes no target")

    def peer(self, target: str | None) -> str | None:
        return target

    def send(self, notification: Notification) -> None:
        self.tried.append(notification)
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(notification)


class EventRecordingUnitOfWork(MemoryUnitOfWork):
    """A memory unit of work that also keeps, in `released`, every event it hands to the bus."""

    def __init__(self, store: MemoryStore, released: list[Event]) -> None:
        super().__init__(store)
        self.released = released

    def collect_new_events(self) -> list[Event]:
        events = super().collect_new_events()
        self.released.extend(events)
        return events


class MetricsRecorder(NoMetrics):
    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str, int]] = []
        self.missed: list[str] = []
        self.lateness: list[float | None] = []
        self.retries: list[str] = []
        # Seconds each claimed delivery waited from being due to being claimed, claim by claim.
        self.claim_waits: list[list[float]] = []
        self.lease_expiries: list[str] = []
        self.released: list[tuple[int, str]] = []

    def delivery_finished(
        self, *, channel: str, outcome: str, attempts: int, lateness_seconds: float | None
    ) -> None:
        self.outcomes.append((channel, outcome, attempts))
        self.lateness.append(lateness_seconds)

    def slot_missed(self, *, channel: str) -> None:
        self.missed.append(channel)

    def retry_scheduled(self, *, channel: str) -> None:
        self.retries.append(channel)

    def deliveries_claimed(self, waits: Sequence[float]) -> None:
        self.claim_waits.append(list(waits))

    def lease_expired(self, *, channel: str) -> None:
        self.lease_expiries.append(channel)

    def claims_released(self, count: int, *, reason: str) -> None:
        self.released.append((count, reason))


def make_service(
    *,
    clock: Clock | None = None,
    channels: dict[str, NotificationChannel] | None = None,
    store: MemoryStore | None = None,
    uow_factory: UnitOfWorkFactory | None = None,
    metrics: Metrics | None = None,
    batch_size: int = 500,
    grace_seconds: float = 300,
    events: list[Event] | None = None,
    retry_policy: RetryPolicy | None = None,
    links: ActionLinks | None = None,
    sign_in_mailer: SignInMailer | None = None,
) -> Service:
    """A service over the memory store (or `uow_factory`'s); pass `events` to collect every event the
    bus is handed (memory store only), and `links` to put acknowledge and snooze links in messages.

    Retries are due again at once unless `retry_policy` says otherwise.
    """
    store = store or MemoryStore()
    # Like the service's own: "log", and "email" written to the log while no SMTP server is set up.
    all_channels: Channels = {"log": LogChannel(), "email": LogEmailChannel(), **(channels or {})}
    released = events
    if uow_factory is None:
        uow_factory = (
            (lambda: MemoryUnitOfWork(store))
            if released is None
            else (lambda: EventRecordingUnitOfWork(store, released))
        )
    elif released is not None:
        raise ValueError("events are recorded on the memory store only")
    return bootstrap(
        uow_factory=uow_factory,
        clock=clock or FixedClock(),
        channels=all_channels,
        signals=LocalSignals(),
        metrics=metrics or NoMetrics(),
        retry_policy=retry_policy or RetryPolicy(attempts=4, base_seconds=0, max_seconds=0),
        batch_size=batch_size,
        grace=timedelta(seconds=grace_seconds),
        links=links,
        sign_in_mailer=sign_in_mailer,
    )


def claim(
    service: Service, *, worker: str = "test-worker", limit: int = 500, lease_seconds: float = 60
) -> list[Job]:
    jobs: list[Job] = service.bus.handle(
        ClaimDeliveries(worker=worker, limit=limit, lease_seconds=lease_seconds)
    )
    return jobs


def attempt_all(service: Service, jobs: list[Job]) -> list[Delivery]:
    """Send each claimed job once, as a worker's senders do, and record the outcomes in one command."""
    outcomes = []
    for job in jobs:
        result = service.sender.attempt(job.notification, number=job.attempt_number)
        outcomes.append(
            AttemptOutcome(job.delivery_id, job.token, result.attempt, result.transient, result.retry_after)
        )
    recorded: list[Delivery] = service.bus.handle(RecordOutcomes(outcomes=outcomes))
    return recorded


def run_queue(service: Service, *, worker: str = "test-worker") -> list[Delivery]:
    """What a delivery worker does, inline: claim what is due now, attempt each once, record the
    outcomes, until nothing is due at the service's clock. Returns every delivery recorded, in order."""
    recorded: list[Delivery] = []
    while jobs := claim(service, worker=worker):
        recorded += attempt_all(service, jobs)
    return recorded


def actor_of(created: NewTeam) -> Actor:
    """The actor of a new team's first admin, using the key they were given."""
    return Actor(
        user_id=created.admin.id,
        team_id=created.team.id,
        role=created.admin.role,
        key_id=created.issued.key.id,
    )


def new_team(service: Service, name: str = "Test team", admin_email: str = "admin@example.com") -> NewTeam:
    created: NewTeam = service.bus.handle(
        CreateTeam(name=name, admin_name="Team Admin", admin_email=admin_email)
    )
    return created


_TEAMS: dict[int, tuple[Service, NewTeam]] = {}


def team_of(service: Service) -> NewTeam:
    """The test team of this service, made on first use: an admin and their key."""
    found = _TEAMS.get(id(service))
    if found is None or found[0] is not service:
        found = _TEAMS[id(service)] = (service, new_team(service))
    return found[1]


def admin(service: Service) -> Actor:
    """The actor of the test team's admin (see team_of): for tests that drive commands directly."""
    return actor_of(team_of(service))
