"""Deliveries per second through the delivery queue: a queue of N pending deliveries, due now, emptied by
the real delivery worker.

- In one process: `DeliveryWorker` built by `entrypoints.server.delivery_worker` with the default
  settings (the worker `reminders serve` runs), over a service wired as `bootstrap_runtime` wires
  it but with a no-op channel, on the in-memory store, SQLite or PostgreSQL. The garbage collector
  is tuned as the CLI tunes it for serve/tick/worker (`entrypoints.gc_tuning`), before the queue is
  filled, as in a service that receives its data after start-up.
- In worker processes: K real `reminders worker` processes on one database. A process builds its
  channels itself (`entrypoints.bootstrap.build_channels`) and has no no-op channel, so the
  deliveries go to the `log` channel with --log-level WARNING: `LogChannel.send` is then one
  `logger.info` call that stops at the level check, and the outcome's own INFO line too.

The clock starts when the queue becomes visible to the workers: for processes, when the one
transaction holding all N deliveries commits (the workers are already running, polling an empty
queue); in one process, when the worker is started on the filled store. It stops at the last
`sent_at` the service recorded. The run is valid only when every delivery ends `sent`.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.local_signals import LocalSignals
from adapters.memory import MemoryStore, MemoryUnitOfWork
from adapters.prometheus_metrics import PrometheusMetrics
from adapters.system_clock import SystemClock
from application.retry_policy import RetryPolicy
from application.unit_of_work import UnitOfWorkFactory
from bench.delivery_fill import (
    MeasurementInvalid,
    Queue,
    fill_memory,
    fill_sql,
    memory_sent_span,
    memory_statuses,
    sql_sent,
    sql_sent_span,
    sql_statuses,
)
from bench.delivery_processes import (
    CpuMeter,
    CpuUse,
    Process,
    Profiler,
    reminders,
    speed_probe,
    stopping,
    wait_for_quiet,
)
from bench.doubles import NOOP, NoopChannel
from bench.sql_databases import StoreKind, fresh_database, migrated
from domain.delivery import DeliveryStatus
from entrypoints.bootstrap import Service, bootstrap, open_store
from entrypoints.gc_tuning import tune_garbage_collector
from entrypoints.server import delivery_worker
from entrypoints.settings import ServeSettings, StoreSettings

POLL_SECONDS = 0.1
STALL_SECONDS = 30.0
LOG_CHANNEL = "log"


@dataclass(frozen=True, slots=True)
class Throughput:
    store: str  # memory, sqlite, postgresql
    mode: str  # what ran the worker, for the table
    processes: bool  # `reminders worker` processes, or the worker in this process
    workers: int  # processes (1 for the in-process worker)
    channel: str
    deliveries: int
    fill_seconds: float
    first_sent_after: float  # seconds from the queue becoming visible to the first sent_at
    seconds: float  # from the queue becoming visible to the last sent_at
    span: float  # from the first sent_at to the last
    cpu: CpuUse
    quiet_before: float  # cores busy on the machine in the second before the timed window
    probe_ms: float  # bench.delivery_processes.speed_probe just before the timed window

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds

    def cpu_per_delivery(self, *, postgres: bool = False) -> float | None:
        """CPU microseconds per delivery: the service's processes, or PostgreSQL's. Unlike the rate, it
        barely depends on what else the shared machine was doing."""
        groups = self.cpu.groups
        if postgres:
            cores = groups.get("postgres")
            if cores is None:
                return None
        else:
            cores = sum(value for name, value in groups.items() if name != "postgres")
        return cores * self.cpu.seconds / self.deliveries * 1e6

    @property
    def steady_per_second(self) -> float:
        return (self.deliveries - 1) / self.span if self.span > 0 else float("inf")


def service_with_noop(uow_factory: UnitOfWorkFactory, settings: ServeSettings) -> Service:
    """The service as `bootstrap_runtime` wires it for `reminders serve`, with the no-op channel."""
    return bootstrap(
        uow_factory=uow_factory,
        clock=SystemClock(),
        channels={NOOP: NoopChannel()},
        signals=LocalSignals(),
        metrics=PrometheusMetrics(),
        retry_policy=RetryPolicy(
            attempts=4, base_seconds=settings.retry_base_seconds, max_seconds=settings.retry_max_seconds
        ),
        batch_size=settings.batch_size,
        grace=timedelta(seconds=settings.grace_seconds),
    )


def _wait_all_sent(
    sent: Callable[[], int], expected: int, *, alive: Callable[[], None] = lambda: None
) -> None:
    last, last_change = -1, time.monotonic()
    while (count := sent()) < expected:
        alive()
        if count != last:
            last, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > STALL_SECONDS:
            raise MeasurementInvalid(f"stalled at {count:,} of {expected:,} sent for {STALL_SECONDS:.0f} s")
        time.sleep(POLL_SECONDS)


def _result(
    store: str,
    mode: str,
    workers: int,
    channel: str,
    queue: Queue,
    started: datetime,
    span: tuple[datetime, datetime],
    statuses: dict[str, int],
    cpu: CpuUse,
    quiet: float,
    probe: float,
) -> Throughput:
    if statuses != {"sent": queue.deliveries}:
        raise MeasurementInvalid(
            f"expected {queue.deliveries:,} deliveries sent and nothing else: {statuses}"
        )
    first, last = span
    return Throughput(
        store=store,
        mode=mode,
        processes=channel == LOG_CHANNEL,
        workers=workers,
        channel=channel,
        deliveries=queue.deliveries,
        fill_seconds=queue.fill_seconds,
        first_sent_after=(first - started).total_seconds(),
        seconds=(last - started).total_seconds(),
        span=(last - first).total_seconds(),
        cpu=cpu,
        quiet_before=quiet,
        probe_ms=probe,
    )


def _profiled(profile: Path | None, name: str, pids: list[int], *, gil: bool) -> list[Profiler]:
    if profile is None:
        return []
    profile.mkdir(parents=True, exist_ok=True)
    return [Profiler(pid, profile / f"{name}-{n + 1}.txt", gil_only=gil) for n, pid in enumerate(pids)]


def _stop_profilers(profilers: list[Profiler]) -> None:
    for profiler in profilers:
        print(f"  profile written: {profiler.stop()}", flush=True)


def in_process(
    kind: StoreKind | None,
    *,
    deliveries: int,
    postgres_url: str,
    profile: Path | None = None,
    profile_gil: bool = True,
    quiet_wait: float = 0.0,
) -> Throughput:
    """One DeliveryWorker in this process, as `reminders serve` runs it, with the no-op channel.

    `kind` None is the in-memory store.
    """
    if kind is None:
        memory = MemoryStore()
        settings = ServeSettings(database_url="memory://")
        service = service_with_noop(lambda: MemoryUnitOfWork(memory), settings)
        return _run_in_process(
            "memory",
            service,
            settings,
            lambda: fill_memory(memory, channel=NOOP, deliveries=deliveries),
            sent=lambda: memory.delivery_status[DeliveryStatus.SENT],
            span=lambda: memory_sent_span(memory),
            statuses=lambda: memory_statuses(memory),
            postgres=False,
            profile=profile,
            profile_gil=profile_gil,
            quiet_wait=quiet_wait,
        )
    with fresh_database(kind, postgres_admin_url=postgres_url) as url:
        settings = ServeSettings(database_url=url)
        observer = migrated(url, pool_size=2)
        store = open_store(
            StoreSettings(database_url=url), migrate=False, pool_size=settings.delivery_concurrency + 6
        )
        try:
            service = service_with_noop(store.uow_factory, settings)
            return _run_in_process(
                kind,
                service,
                settings,
                lambda: fill_sql(observer, channel=NOOP, deliveries=deliveries),
                sent=lambda: sql_sent(observer),
                span=lambda: sql_sent_span(observer),
                statuses=lambda: sql_statuses(observer),
                postgres=kind == "postgresql",
                profile=profile,
                profile_gil=profile_gil,
                quiet_wait=quiet_wait,
            )
        finally:
            store.close()
            observer.dispose()


def _run_in_process(
    store: str,
    service: Service,
    settings: ServeSettings,
    fill: Callable[[], Queue],
    *,
    sent: Callable[[], int],
    span: Callable[[], tuple[datetime, datetime]],
    statuses: Callable[[], dict[str, int]],
    postgres: bool,
    profile: Path | None,
    profile_gil: bool,
    quiet_wait: float,
) -> Throughput:
    worker = delivery_worker(service, settings)
    # The garbage collector as `reminders serve|worker` runs it: the CLI tunes it once the runtime is
    # built, before the service holds any data. So the queue is filled after tuning, and the in-memory
    # store's deliveries are not frozen out of the collector's sight; one collection then starts the
    # timed window from a running service's steady state, not mid-way through loading.
    tune_garbage_collector()
    queue = fill()
    gc.collect()
    quiet = wait_for_quiet(longest=quiet_wait)
    probe = speed_probe()
    profilers = _profiled(profile, f"throughput-{store}-in-process", [os.getpid()], gil=profile_gil)
    meter = CpuMeter({"bench process": [os.getpid()]}, postgres=postgres)
    started = datetime.now(UTC)
    worker.start()
    try:
        _wait_all_sent(sent, queue.deliveries)
        cpu = meter.read()
    finally:
        _stop_profilers(profilers)
        worker.stop(settings.shutdown_grace_seconds)
    mode = f"DeliveryWorker in this process ({settings.delivery_concurrency} senders)"
    return _result(store, mode, 1, NOOP, queue, started, span(), statuses(), cpu, quiet, probe)


def worker_processes(
    kind: StoreKind,
    *,
    workers: int,
    deliveries: int,
    postgres_url: str,
    profile: Path | None = None,
    profile_gil: bool = True,
    quiet_wait: float = 0.0,
) -> Throughput:
    """`workers` real `reminders worker` processes on one fresh database, log channel at WARNING."""
    with tempfile.TemporaryDirectory(prefix="reminders-bench-delivery-") as temporary:
        directory = Path(temporary)
        with fresh_database(kind, postgres_admin_url=postgres_url) as url:
            observer = migrated(url, pool_size=2)
            try:
                flags = ["--database-url", url, "--log-level", "WARNING", "--no-migrate"]
                with stopping([]) as processes:
                    for n in range(workers):
                        processes.append(
                            reminders("worker", flags, name=f"worker-{n + 1}", directory=directory)
                        )
                    for process in processes:
                        process.wait_idle()
                    said = {process.name: process.log_path.stat().st_size for process in processes}
                    quiet = wait_for_quiet(longest=quiet_wait)
                    probe = speed_probe()
                    pids = [p.pid for p in processes]
                    profilers = _profiled(
                        profile, f"throughput-{kind}-{workers}-workers", pids, gil=profile_gil
                    )
                    meter = CpuMeter({"workers": pids}, postgres=kind == "postgresql")
                    queue = fill_sql(observer, channel=LOG_CHANNEL, deliveries=deliveries)

                    def alive() -> None:
                        for process in processes:
                            process.check_alive()

                    try:
                        _wait_all_sent(lambda: sql_sent(observer), deliveries, alive=alive)
                        cpu = meter.read()
                    finally:
                        _stop_profilers(profilers)
                    _show_output(processes, said)
                mode = f"{workers} `reminders worker` process{'es' if workers > 1 else ''}"
                return _result(
                    kind,
                    mode,
                    workers,
                    LOG_CHANNEL,
                    queue,
                    queue.visible_at,
                    sql_sent_span(observer),
                    sql_statuses(observer),
                    cpu,
                    quiet,
                    probe,
                )
            finally:
                observer.dispose()


def _show_output(processes: list[Process], since: dict[str, int]) -> None:
    """At WARNING a healthy worker says nothing once started: anything it wrote during the timed
    window (a refused claim, an error) is shown."""
    for process in processes:
        with process.log_path.open("rb") as log:
            log.seek(since[process.name])
            text = log.read().decode(errors="replace").strip()
        if text:
            print(f"  {process.name} wrote:\n    " + "\n    ".join(text.splitlines()[-10:]), flush=True)
