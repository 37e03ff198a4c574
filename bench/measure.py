"""The two measurements, each through the real bus that bootstrap() wires: a tick, and deliveries."""

from __future__ import annotations

import time
from datetime import timedelta

from adapters.memory import MemoryStore, MemoryUnitOfWork
from adapters.prometheus_metrics import PrometheusMetrics
from adapters.system_clock import SystemClock
from adapters.thread_dispatcher import InlineDispatcher, ThreadPoolDispatcher
from application.commands import CheckDueReminders, DeliverNotification
from application.handlers.scheduling import TickResult
from application.sender import RetryPolicy
from bench.doubles import NOOP, CountingDispatcher, NoopChannel
from bench.population import Population
from domain.delivery import DeliveryStatus
from entrypoints.bootstrap import BindableDispatcher, Service, bootstrap


class MeasurementInvalid(RuntimeError):
    """The service did not do the work being timed, so the time means nothing."""


def service_over(store: MemoryStore, *, dispatcher: BindableDispatcher, batch_size: int) -> Service:
    """The service as `reminders serve` wires it, on the given store, dispatcher and a no-op channel."""
    return bootstrap(
        uow_factory=lambda: MemoryUnitOfWork(store),
        clock=SystemClock(),
        channels={NOOP: NoopChannel()},
        dispatcher=dispatcher,
        metrics=PrometheusMetrics(),
        retry_policy=RetryPolicy(),
        batch_size=batch_size,
        grace=timedelta(seconds=300),
    )


def time_ticks(population: Population, *, due: int) -> list[float]:
    """Seconds taken by each tick, in order; each fires a fresh set of exactly `due` reminders."""
    store = population.store
    dispatcher = CountingDispatcher()
    service = service_over(store, dispatcher=dispatcher, batch_size=due)
    seconds: list[float] = []
    for now in population.tick_times:
        command = CheckDueReminders(now=now)
        ledger, submitted = len(store.ledger), dispatcher.submitted
        began = time.perf_counter()
        result: TickResult = service.bus.handle(command)
        seconds.append(time.perf_counter() - began)
        fired = (result.due, result.fired, len(store.ledger) - ledger, dispatcher.submitted - submitted)
        if fired != (due, due, due, due):
            raise MeasurementInvalid(
                f"tick at {now:%H:%M} expected {due} due, fired, recorded and handed over; got {fired}"
            )
        if len(store.due_index) != population.reminders:
            raise MeasurementInvalid("a fired reminder did not move on to its next run")
    return seconds


def time_deliveries(population: Population, delivery_ids: list[str], *, workers: int) -> float:
    """Seconds taken to send every given pending delivery through the bus: inline, or on a pool."""
    store = population.store
    dispatcher: BindableDispatcher = (
        InlineDispatcher() if workers == 1 else ThreadPoolDispatcher(workers=workers)
    )
    service = service_over(store, dispatcher=dispatcher, batch_size=1)
    commands = [DeliverNotification(delivery_id=delivery_id) for delivery_id in delivery_ids]
    sent = store.delivery_status[DeliveryStatus.SENT]
    began = time.perf_counter()
    for command in commands:
        service.dispatcher.submit(command)
    service.dispatcher.shutdown()
    elapsed = time.perf_counter() - began
    if store.delivery_status[DeliveryStatus.SENT] - sent != len(commands):
        raise MeasurementInvalid(f"{len(commands)} deliveries submitted but not all of them were sent")
    return elapsed
