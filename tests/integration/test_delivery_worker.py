"""The delivery worker in this process, over a real store and the real webhook channel, against real
local HTTP receivers (threads of this process, each on its own loopback address: the per-host limit
tells hosts apart, not ports).

What a user of the queue relies on: a slow host gets only its share of the senders; stopping gives
every claim back within the grace period; a claim that waited too long for its host is given back
rather than sent when its lease could end mid-send; and a claim whose worker died is taken over by
another worker once its lease ends, while the dead worker's late outcome is refused.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from adapters.system_clock import SystemClock
from adapters.webhook_channel import WebhookChannel
from application import views
from application.commands import AttemptOutcome, CreateReminder, CreateUser, RecordOutcomes, SendReminderNow
from application.metrics import NoMetrics
from domain.delivery import Attempt, DeliveryStatus
from entrypoints.bootstrap import Service, build_channels
from entrypoints.delivery_worker import DeliveryWorker, WorkerConfig
from entrypoints.settings import ServeSettings
from tests.fakes import admin, claim, make_service
from tests.process.receivers import Arrival, Behaviour, Receiver, most_at_once
from tests.stores import MakeStore

FAST = "127.0.0.1"
SLOW = "127.0.0.2"


class ReleasedClaims(NoMetrics):
    """Counts the claims workers give back, by reason."""

    def __init__(self) -> None:
        self.released: Counter[str] = Counter()
        self._lock = threading.Lock()

    def claims_released(self, count: int, *, reason: str) -> None:
        with self._lock:
            self.released[reason] += count


@pytest.fixture
def receivers() -> Iterator[dict[str, Receiver]]:
    started = {FAST: Receiver(FAST).start(), SLOW: Receiver(SLOW).start()}
    yield started
    for receiver in started.values():
        receiver.stop()


def webhook_service(make_store: MakeStore, kind: str, metrics: ReleasedClaims, *, timeout: float) -> Service:
    store = make_store(kind)
    channel = WebhookChannel(secret=None, timeout=timeout, allow_private_targets=True)
    return make_service(
        clock=SystemClock(),
        uow_factory=store.uow_factory,
        channels={"webhook": channel},
        metrics=metrics,
    )


def queue_sends(service: Service, target: str, count: int) -> list[str]:
    """`count` webhook reminders to `target`, each with a delivery queued to be sent now."""
    actor = admin(service)
    owner = service.bus.handle(
        CreateUser(actor=actor, name="Ann", email=f"ann-{time.monotonic_ns()}@example.com")
    )
    delivery_ids = []
    for number in range(count):
        reminder = service.bus.handle(
            CreateReminder(
                actor=actor,
                owner_id=owner.id,
                title=f"Send {number}",
                message="Hi {owner_name}",
                channel="webhook",
                target=target,
                time_of_day="09:00",
                frequency="daily",
            )
        )
        delivery_ids.append(service.bus.handle(SendReminderNow(actor=actor, reminder_id=reminder.id)).id)
    return delivery_ids


def worker(
    service: Service,
    name: str,
    *,
    concurrency: int = 8,
    per_target: int = 4,
    lease_seconds: float = 10.0,
    send_timeout_seconds: float = 2.0,
) -> DeliveryWorker:
    config = WorkerConfig(
        name=name,
        concurrency=concurrency,
        per_target=per_target,
        lease_seconds=lease_seconds,
        send_timeout_seconds=send_timeout_seconds,
        poll_seconds=0.05,
    )
    return DeliveryWorker(service=service, signals=service.signals, config=config)


def wait_for(receiver: Receiver, count: int, timeout: float) -> list[Arrival]:
    deadline = time.monotonic() + timeout
    while len(receiver.arrivals) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return list(receiver.arrivals)


def wait_until_sent(service: Service, delivery_ids: list[str], timeout: float) -> Counter[str]:
    deadline = time.monotonic() + timeout
    while True:
        statuses = Counter(
            views.get_delivery(service.uow_factory, admin(service), d).status.value for d in delivery_ids
        )
        if statuses["sent"] == len(delivery_ids) or time.monotonic() > deadline:
            return statuses
        time.sleep(0.05)


def test_a_slow_host_gets_only_its_share_of_the_senders(
    make_store: MakeStore, receivers: dict[str, Receiver]
) -> None:
    slow, fast = receivers[SLOW], receivers[FAST]
    slow.behaviour = Behaviour(delay=1.0)
    service = webhook_service(make_store, "sqlite", ReleasedClaims(), timeout=2)
    # Queued first, so they are first in line: without a per-host limit they would take all 6 senders.
    slow_ids = queue_sends(service, slow.url(), 6)
    fast_ids = queue_sends(service, fast.url(), 8)
    running = worker(service, "fair", concurrency=6, per_target=2)
    started = time.time()
    running.start()
    try:
        fast_arrivals = wait_for(fast, 8, timeout=5)
        statuses = wait_until_sent(service, slow_ids + fast_ids, timeout=10)
    finally:
        running.stop(grace=1)

    assert len(fast_arrivals) == 8
    assert max(arrival.arrived_at for arrival in fast_arrivals) - started < 0.6, "the fast host waited"
    assert statuses == {"sent": 14}
    assert most_at_once(slow.arrivals, until=time.time()) == 2
    assert len(slow.arrivals) == 6


def test_stop_gives_every_claim_back_within_the_grace_period(
    make_store: MakeStore, receivers: dict[str, Receiver]
) -> None:
    slow = receivers[SLOW]
    slow.behaviour = Behaviour(delay=5)
    service = webhook_service(make_store, "sqlite", ReleasedClaims(), timeout=8)
    delivery_ids = queue_sends(service, slow.url(), 10)
    stopping = worker(service, "stopping", concurrency=4, per_target=4, lease_seconds=30)
    stopping.start()
    assert len(wait_for(slow, 4, timeout=5)) == 4
    time.sleep(0.2)  # the other six wait in the host's line

    began = time.monotonic()
    released = stopping.stop(grace=0.5)
    took = time.monotonic() - began

    assert took < 0.5 + 1, f"stop took {took:.2f} s"
    assert released == 10
    left = [
        views.get_delivery(service.uow_factory, admin(service), delivery_id) for delivery_id in delivery_ids
    ]
    assert {delivery.status for delivery in left} == {DeliveryStatus.PENDING}
    assert not any(delivery.attempts for delivery in left), "an attempt was recorded for a send cut off"
    now = datetime.now(UTC)
    assert all(delivery.next_attempt_at is not None and delivery.next_attempt_at <= now for delivery in left)

    # Another worker sends them all at once; the four cut off are sent again with the same key.
    slow.behaviour = Behaviour()
    following = worker(service, "following", concurrency=8, per_target=8)
    following.start()
    try:
        assert wait_until_sent(service, delivery_ids, timeout=10) == {"sent": 10}
    finally:
        following.stop(grace=1)
    keys = Counter(arrival.key for arrival in slow.arrivals)
    assert len(keys) == 10
    assert sorted(keys.values()) == [1] * 6 + [2] * 4


def test_a_claim_that_waits_too_long_for_its_host_is_given_back_not_sent_late(
    make_store: MakeStore, receivers: dict[str, Receiver], caplog: pytest.LogCaptureFixture
) -> None:
    slow = receivers[SLOW]
    # One send at a time, 0.7 s each: five in a row take longer than the 3 s lease. A worker that
    # kept them all would send the last ones after their lease ended, when the claim may be gone.
    slow.behaviour = Behaviour(delay=0.7)
    metrics = ReleasedClaims()
    service = webhook_service(make_store, "sqlite", metrics, timeout=1)
    delivery_ids = queue_sends(service, slow.url(), 5)
    patient = worker(service, "patient", concurrency=4, per_target=1, lease_seconds=3, send_timeout_seconds=1)
    with caplog.at_level(logging.WARNING):
        patient.start()
        try:
            statuses = wait_until_sent(service, delivery_ids, timeout=20)
        finally:
            patient.stop(grace=1)

    assert statuses == {"sent": 5}
    assert not [r for r in caplog.records if "late outcome refused" in r.getMessage()]
    assert not [r for r in caplog.records if "claim expired" in r.getMessage()]
    keys = Counter(arrival.key for arrival in slow.arrivals)
    assert len(keys) == 5
    assert max(keys.values()) == 1, "a delivery was sent twice"
    deliveries = [
        views.get_delivery(service.uow_factory, admin(service), delivery_id) for delivery_id in delivery_ids
    ]
    assert all(len(delivery.attempts) == 1 for delivery in deliveries)
    # What made that possible: the claims that would have waited too long went back to the queue.
    assert sum(metrics.released.values()) > 0, "no claim was given back"
    assert metrics.released["shutdown"] == 0


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgresql"])
def test_a_second_worker_takes_over_a_claim_once_its_lease_ends_and_the_late_outcome_is_refused(
    make_store: MakeStore, receivers: dict[str, Receiver], caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    fast = receivers[FAST]
    service = webhook_service(make_store, kind, ReleasedClaims(), timeout=1)
    delivery_ids = queue_sends(service, fast.url(), 5)
    # A worker that claims and then dies (or hangs): its claims are never recorded nor given back.
    claimed_at = time.time()
    dead = claim(service, worker="dead", lease_seconds=1.0)
    assert len(dead) == 5

    survivor = worker(service, "survivor", lease_seconds=3, send_timeout_seconds=1)
    survivor.start()
    try:
        arrivals = wait_for(fast, 5, timeout=10)
        statuses = wait_until_sent(service, delivery_ids, timeout=5)
    finally:
        survivor.stop(grace=1)

    assert statuses == {"sent": 5}
    assert len(arrivals) == 5
    assert min(arrival.arrived_at for arrival in arrivals) >= claimed_at + 1.0, "taken before its lease ended"
    assert len({arrival.key for arrival in arrivals}) == 5

    # The dead worker wakes up and reports a send: its claim is gone, so nothing changes.
    job = dead[0]
    attempt = Attempt(job.attempt_number, datetime.now(UTC), 5.0, None)
    with caplog.at_level(logging.WARNING):
        recorded = service.bus.handle(
            RecordOutcomes(outcomes=[AttemptOutcome(job.delivery_id, job.token, attempt, False, None)])
        )
    assert recorded == []
    assert [r for r in caplog.records if "late outcome refused" in r.getMessage()]
    delivery = views.get_delivery(service.uow_factory, admin(service), job.delivery_id)
    assert delivery.status is DeliveryStatus.SENT
    assert len(delivery.attempts) == 1


def test_a_worker_has_as_many_webhooks_on_the_wire_as_its_delivery_concurrency(
    make_store: MakeStore, receivers: dict[str, Receiver]
) -> None:
    """--delivery-concurrency 150 means 150 sends at once, with the webhook channel as `serve` builds it."""
    slow = receivers[SLOW]
    slow.behaviour = Behaviour(delay=2)
    concurrency = 150
    settings = ServeSettings(
        delivery_concurrency=concurrency, per_target_concurrency=concurrency, allow_private_targets=True
    )
    channels = build_channels(settings).channels
    store = make_store("sqlite")
    service = make_service(clock=SystemClock(), uow_factory=store.uow_factory, channels=channels)
    delivery_ids = queue_sends(service, slow.url(), concurrency)
    wide = worker(
        service,
        "wide",
        concurrency=concurrency,
        per_target=concurrency,
        send_timeout_seconds=10,
        lease_seconds=30,
    )
    wide.start()
    try:
        arrivals = wait_for(slow, concurrency, timeout=1.8)
    finally:
        wide.stop(grace=0)
        for channel in channels.values():
            close = getattr(channel, "close", None)
            if close is not None:
                close()
    assert len(arrivals) == concurrency, (
        f"only {len(arrivals)} of {concurrency} sends reached the receiver before the first answer "
        f"(the rest of {len(delivery_ids)} waited inside the channel)"
    )
