"""The two measurements, each through the real bus that bootstrap() wires: a tick, and deliveries."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from adapters.local_signals import LocalSignals
from adapters.memory import MemoryStore, MemoryUnitOfWork
from adapters.prometheus_metrics import PrometheusMetrics
from adapters.system_clock import SystemClock
from application import views
from application.commands import AttemptOutcome, CheckDueReminders, ClaimDeliveries, RecordOutcomes
from application.handlers.queue import Job
from application.handlers.scheduling import TickResult
from application.retry_policy import RetryPolicy
from bench.doubles import NOOP, PERSONAL, CountingSignals, NoopChannel
from bench.population import Population
from domain.delivery import DeliveryStatus
from entrypoints.bootstrap import Service, bootstrap
from entrypoints.delivery_worker import DeliveryWorker, WorkerConfig

CLAIM_BATCH = 200


class MeasurementInvalid(RuntimeError):
    """The service did not do the work being timed, so the time means nothing."""


def service_over(store: MemoryStore, *, signals: LocalSignals, batch_size: int) -> Service:
    """The service as `reminders serve` wires it, on the given store and a no-op channel."""
    return bootstrap(
        uow_factory=lambda: MemoryUnitOfWork(store),
        clock=SystemClock(),
        channels={NOOP: NoopChannel(), PERSONAL: NoopChannel()},
        signals=signals,
        metrics=PrometheusMetrics(),
        retry_policy=RetryPolicy(),
        batch_size=batch_size,
        grace=timedelta(seconds=300),
    )


@dataclass(frozen=True, slots=True)
class TickTime:
    wall: float  # seconds
    cpu: float  # seconds of this thread's CPU: what the tick cost, whatever else the machine ran
    deferred: int  # deliveries it opened deferred (their recipient's quiet hours)


def time_ticks(population: Population, *, due: int) -> list[TickTime]:
    """The time each tick took, in order; each fires a fresh set of exactly `due` reminders, which
    open the deliveries the layout says (one per recipient reached: see bench.population)."""
    store = population.store
    signals = CountingSignals()
    service = service_over(store, signals=signals, batch_size=due)
    seconds: list[TickTime] = []
    for now, deliveries in zip(population.tick_times, population.deliveries_per_tick, strict=True):
        command = CheckDueReminders(now=now)
        ledger, submitted = len(store.ledger), signals.submitted
        deferred = store.delivery_status[DeliveryStatus.DEFERRED]
        began, began_cpu = time.perf_counter(), time.thread_time()
        result: TickResult = service.bus.handle(command)
        wall, cpu = time.perf_counter() - began, time.thread_time() - began_cpu
        seconds.append(TickTime(wall, cpu, store.delivery_status[DeliveryStatus.DEFERRED] - deferred))
        fired = (result.due, result.fired, len(store.ledger) - ledger, signals.submitted - submitted)
        if fired != (due, due, deliveries, deliveries):
            raise MeasurementInvalid(
                f"tick at {now:%H:%M} expected {due} due and fired, {deliveries} deliveries recorded and "
                f"handed over; got {fired}"
            )
        if len(store.due_index) != population.reminders:
            raise MeasurementInvalid("a fired reminder did not move on to its next run")
    return seconds


def deliveries_per_second(population: Population, count: int, *, workers: int) -> float:
    """Send `count` of the queued deliveries, claimed, sent and recorded in batches on one thread
    (`workers` 1); or every queued delivery (at least `count`) by a DeliveryWorker with `workers`
    sender threads. Returns deliveries sent per second."""
    store = population.store
    signals = LocalSignals()
    service = service_over(store, signals=signals, batch_size=1)
    sent = store.delivery_status[DeliveryStatus.SENT]
    if workers > 1:
        # Deferred deliveries (quiet hours) are due again by now: the worker sends them too.
        count = store.delivery_status[DeliveryStatus.PENDING] + store.delivery_status[DeliveryStatus.DEFERRED]
    began = time.perf_counter()
    if workers == 1:
        _send_inline(service, count)
    else:
        worker = DeliveryWorker(
            service=service, signals=signals, config=WorkerConfig(name="bench", concurrency=workers)
        )
        worker.start()
        while _queued(service):
            time.sleep(0.005)
        worker.stop(5.0)
    elapsed = time.perf_counter() - began
    if store.delivery_status[DeliveryStatus.SENT] - sent != count:
        raise MeasurementInvalid(f"{count} deliveries were to be sent but not all of them were")
    return count / elapsed


def _send_inline(service: Service, count: int) -> None:
    left = count
    while left:
        jobs: list[Job] = service.bus.handle(
            ClaimDeliveries(worker="bench", limit=min(left, CLAIM_BATCH), lease_seconds=60)
        )
        outcomes = []
        for job in jobs:
            result = service.sender.attempt(job.notification, number=job.attempt_number)
            outcomes.append(AttemptOutcome(job.delivery_id, job.token, result.attempt))
        service.bus.handle(RecordOutcomes(outcomes=outcomes))
        left -= len(jobs)


def _queued(service: Service) -> int:
    stats = views.queue_stats(service.uow_factory, service.clock.now())
    return stats.pending + stats.in_flight
