"""The scheduler tick over a SQL store, through the bus that bootstrap() wires; and the due query's plan."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import event, func, select

from adapters.local_signals import LocalSignals
from adapters.prometheus_metrics import PrometheusMetrics
from adapters.sql import SqlStore, SqlUnitOfWork, tables
from adapters.system_clock import SystemClock
from application.commands import CheckDueReminders
from application.retry_policy import RetryPolicy
from bench.doubles import NOOP, CountingSignals, NoopChannel
from bench.measure import MeasurementInvalid
from entrypoints.bootstrap import Service, bootstrap

# How the due query, and no other statement a tick sends, orders its rows.
_DUE_ORDER = "ORDER BY reminders.next_run_at, reminders.id"


@dataclass(frozen=True, slots=True)
class DueQuery:
    """The due query exactly as the repository sent it to the driver during a tick."""

    statement: str
    parameters: Any


def service_over(store: SqlStore, *, signals: LocalSignals, batch_size: int) -> Service:
    """The service as `reminders serve` wires it on a SQL store, with a no-op channel."""
    return bootstrap(
        uow_factory=partial(SqlUnitOfWork, store),
        clock=SystemClock(),
        channels={NOOP: NoopChannel()},
        signals=signals,
        metrics=PrometheusMetrics(),
        retry_policy=RetryPolicy(),
        batch_size=batch_size,
        grace=timedelta(seconds=300),
    )


class TickRunner:
    """Ticks one store through the service and checks each tick did the work being timed.

    The signals count the deliveries handed to the queue; no worker sends them: only the tick is timed.
    """

    def __init__(self, store: SqlStore, *, due: int) -> None:
        self.store = store
        self.due = due
        self._dispatcher = CountingSignals()
        self._service = service_over(store, signals=self._dispatcher, batch_size=due)
        self._captured: list[DueQuery] = []

    def tick(self, now: datetime, *, capture: bool = False) -> float:
        """Seconds one tick at `now` took; with `capture`, the due query it sends is kept for `due_query`."""
        command = CheckDueReminders(now=now)
        deliveries, submitted = _count_deliveries(self.store), self._dispatcher.submitted
        with _capturing_due_query(self.store, self._captured) if capture else contextlib.nullcontext():
            began = time.perf_counter()
            result = self._service.bus.handle(command)
            elapsed = time.perf_counter() - began
        with SqlUnitOfWork(self.store) as uow:
            left = uow.reminders.count_due(now)
        due = self.due
        done = (
            result.due,
            result.fired,
            _count_deliveries(self.store) - deliveries,
            self._dispatcher.submitted - submitted,
        )
        if done != (due, due, due, due) or left:
            raise MeasurementInvalid(
                f"tick at {now:%H:%M} expected {due} due, fired, recorded and handed over, none left due; "
                f"got {done}, {left} left"
            )
        return elapsed

    @property
    def due_query(self) -> DueQuery:
        if not self._captured:
            raise MeasurementInvalid("no tick sent a statement recognisable as the due query")
        return self._captured[0]


def explain(store: SqlStore, query: DueQuery) -> list[str]:
    """The planner's plan for the due query, with the values the tick bound: one line per step."""
    with store.engine.connect() as connection:
        if store.dialect == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query.statement}", query.parameters)
            return [str(row[3]) for row in rows]
        rows = connection.exec_driver_sql(f"EXPLAIN {query.statement}", query.parameters)
        return [str(row[0]) for row in rows]


@contextlib.contextmanager
def _capturing_due_query(store: SqlStore, captured: list[DueQuery]) -> Iterator[None]:
    def seen(
        connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if statement.lstrip().startswith("SELECT") and _DUE_ORDER in statement:
            captured.append(DueQuery(statement, parameters))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        yield
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)


def _count_deliveries(store: SqlStore) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(tables.deliveries)).scalar_one())
