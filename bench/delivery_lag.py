"""Webhook lag: N webhook reminders due in the same second, sent by real `reminders` processes to a fast
local receiver; how late each one arrives.

Per run: a fresh database, migrated; the receiver's ceiling measured with a plain load generator;
the service started on it with its default settings (`reminders serve`, or `reminders tick` plus
`reminders worker` processes) and left to settle; then N once-only webhook reminders inserted in
one transaction, all due at the same whole second S, 2-3 s ahead. The lag of a reminder is the
moment its POST reached the receiver minus S (the slot, as its Idempotency-Key carries it). The
run ends when every key has arrived and every delivery is `sent`.
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.delivery_fill import MeasurementInvalid, add_webhook_reminders, sql_fired, sql_statuses
from bench.delivery_load import Load, ab_available, with_ab, with_keepalive
from bench.delivery_processes import (
    CpuMeter,
    CpuUse,
    Process,
    Profiler,
    python_module,
    reminders,
    speed_probe,
    stopping,
    wait_for_quiet,
)
from bench.sql_databases import StoreKind, fresh_database, migrated
from tests.process.processes import free_port

READY_SECONDS = 30.0
FINISH_SECONDS = 120.0
# The slot is at least this far ahead when the reminders are inserted, so the insert is done in time.
SLOT_LEAD_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Lag:
    store: str
    topology: str
    reminders: int
    ceiling: list[Load]
    lags: list[float]  # seconds, first arrival of each key, sorted
    duplicates: int  # arrivals beyond the first for a key
    first_arrival: float  # seconds after the slot
    last_arrival: float
    cpu: CpuUse
    statuses: dict[str, int]
    # The lag split in two: slot to the tick opening the delivery, and from there to the arrival.
    fired: list[float]  # sorted
    queued: list[float]  # sorted
    quiet_before: float  # cores busy on the machine in the second before the service started
    probe_ms: float  # bench.delivery_processes.speed_probe before the run

    def quantile(self, q: float) -> float:
        """Nearest-rank quantile of the lags."""
        return quantile(self.lags, q)

    @property
    def p50(self) -> float:
        return statistics.median(self.lags)

    @property
    def p99(self) -> float:
        return self.quantile(0.99)

    @property
    def max(self) -> float:
        return self.lags[-1]

    @property
    def arrival_rate(self) -> float:
        """Arrivals per second from the first to the last."""
        span = self.last_arrival - self.first_arrival
        return (len(self.lags) - 1) / span if span > 0 else float("inf")


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted `values`."""
    return values[max(0, math.ceil(q * len(values)) - 1)]


class Receiver:
    """The receiver process and what it has recorded."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = python_module(
            "bench.delivery_receiver", ["--port", str(self.port)], name="receiver", directory=directory
        )
        deadline = time.monotonic() + READY_SECONDS
        while True:
            self.process.check_alive()
            try:
                if httpx.get(f"{self.url}/arrivals", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise MeasurementInvalid(f"the receiver did not start: {self.process.describe()}")
            time.sleep(0.05)

    def arrivals(self) -> list[tuple[float, str]]:
        response = httpx.get(f"{self.url}/arrivals", timeout=30)
        response.raise_for_status()
        return [(float(at), str(key)) for at, key in response.json()]

    def distinct(self) -> int:
        response = httpx.get(f"{self.url}/count", timeout=10)
        response.raise_for_status()
        return int(response.json())

    def forget(self) -> None:
        httpx.delete(f"{self.url}/arrivals", timeout=10).raise_for_status()

    def ceiling(self, *, requests: int, concurrency: Sequence[int]) -> list[Load]:
        loads = []
        for at_once in concurrency:
            if ab_available():
                loads.append(with_ab(f"{self.url}/ceiling", requests=requests, concurrency=at_once))
            loads.append(with_keepalive(f"{self.url}/ceiling", requests=requests, concurrency=at_once))
        return loads


def _wait_for_log(process: Process, message: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while True:
        process.check_alive()
        for line in process.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{") and f'"message": "{message}"' in line:
                return
        if time.monotonic() > deadline:
            raise MeasurementInvalid(f"never logged {message!r}: {process.describe()}")
        time.sleep(0.05)


def _wait_for_health(process: Process, url: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while True:
        process.check_alive()
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise MeasurementInvalid(f"/health never answered 200: {process.describe()}")
        time.sleep(0.05)


def _start_service(topology: str, url: str, directory: Path, processes: list[Process]) -> None:
    """Started and ready. `topology`: "serve", or "tick+K" (one tick process and K workers)."""
    common = ["--database-url", url, "--no-migrate"]
    if topology == "serve":
        port = free_port()
        serve = reminders("serve", [*common, "--port", str(port)], name="serve", directory=directory)
        processes.append(serve)
        _wait_for_health(serve, f"http://127.0.0.1:{port}")
        return
    workers = int(topology.removeprefix("tick+"))
    tick = reminders("tick", common, name="tick", directory=directory)
    processes.append(tick)
    for n in range(workers):
        processes.append(reminders("worker", common, name=f"worker-{n + 1}", directory=directory))
    _wait_for_log(tick, "scheduler started")
    for worker in processes[1:]:
        _wait_for_log(worker, "delivery worker ready")


def lag_run(
    kind: StoreKind,
    topology: str,
    receiver: Receiver,
    *,
    count: int,
    postgres_url: str,
    ceiling_requests: int,
    ceiling_concurrency: Sequence[int],
    directory: Path,
    profile: Path | None = None,
    profile_gil: bool = True,
    quiet_wait: float = 0.0,
) -> Lag:
    with fresh_database(kind, postgres_admin_url=postgres_url) as url:
        observer = migrated(url, pool_size=2)
        try:
            quiet = wait_for_quiet(longest=quiet_wait)
            probe = speed_probe()
            receiver.forget()
            ceiling = receiver.ceiling(requests=ceiling_requests, concurrency=ceiling_concurrency)
            receiver.forget()
            run_directory = directory / f"{kind}-{topology}"
            run_directory.mkdir()
            with stopping([]) as processes:
                _start_service(topology, url, run_directory, processes)
                time.sleep(1.0)  # past start-up: the first ticks and claims of an empty queue
                profilers = []
                if profile is not None:
                    profile.mkdir(parents=True, exist_ok=True)
                    for process in processes:
                        output = profile / f"lag-{kind}-{topology}-{process.name}.txt"
                        profilers.append(Profiler(process.pid, output, gil_only=profile_gil))
                now = datetime.now(UTC)
                slot = now.replace(microsecond=0) + timedelta(seconds=math.ceil(SLOT_LEAD_SECONDS) + 1)
                add_webhook_reminders(observer, count=count, target=f"{receiver.url}/hook", slot=slot)
                if datetime.now(UTC) >= slot:
                    raise MeasurementInvalid("the reminders were inserted after their slot")
                time.sleep(max(0.0, (slot - datetime.now(UTC)).total_seconds()))
                meter = CpuMeter(
                    {"service": [p.pid for p in processes], "receiver": [receiver.process.pid]},
                    postgres=kind == "postgresql",
                )
                deadline = time.monotonic() + FINISH_SECONDS
                while receiver.distinct() < count:
                    for process in processes:
                        process.check_alive()
                    if time.monotonic() > deadline:
                        raise MeasurementInvalid(
                            f"{receiver.distinct()} of {count} arrived within {FINISH_SECONDS:.0f} s"
                        )
                    time.sleep(0.1)
                cpu = meter.read()
                for profiler in profilers:
                    print(f"  profile written: {profiler.stop()}", flush=True)
                statuses = _settled_statuses(observer, count)
            arrivals = receiver.arrivals()
            fired = sql_fired(observer)
        finally:
            observer.dispose()
    return _lag(kind, topology, count, ceiling, arrivals, slot, cpu, statuses, fired, quiet, probe)


def _settled_statuses(observer: object, count: int) -> dict[str, int]:
    """Every delivery `sent` (the last outcomes are recorded just after their POSTs arrive)."""
    deadline = time.monotonic() + 10
    while True:
        statuses = sql_statuses(observer)  # type: ignore[arg-type]
        if statuses == {"sent": count} or time.monotonic() > deadline:
            return statuses
        time.sleep(0.1)


def _lag(
    kind: str,
    topology: str,
    count: int,
    ceiling: list[Load],
    arrivals: list[tuple[float, str]],
    slot: datetime,
    cpu: CpuUse,
    statuses: dict[str, int],
    fired: dict[str, datetime],
    quiet: float,
    probe: float,
) -> Lag:
    first: dict[str, float] = {}
    for at, key in sorted(arrivals):
        first.setdefault(key, at)
    if len(first) != count:
        raise MeasurementInvalid(f"{len(first)} distinct keys arrived, expected {count}")
    slots = Counter(key.partition(":")[2] for key in first)
    if list(slots) != [slot.isoformat()]:
        raise MeasurementInvalid(f"arrivals for other slots than {slot.isoformat()}: {dict(slots)}")
    base = slot.timestamp()
    lags = sorted(at - base for at in first.values())
    opened = {key: fired[key.partition(":")[0]].timestamp() for key in first}
    return Lag(
        store=kind,
        topology=topology,
        reminders=count,
        ceiling=ceiling,
        lags=lags,
        duplicates=len(arrivals) - len(first),
        first_arrival=lags[0],
        last_arrival=lags[-1],
        cpu=cpu,
        statuses=statuses,
        fired=sorted(at - base for at in opened.values()),
        queued=sorted(first[key] - opened[key] for key in first),
        quiet_before=quiet,
        probe_ms=probe,
    )


def histogram(lags: list[float], *, width: float = 0.25) -> str:
    """Arrivals per `width` seconds of lag, as `from-to: count` pairs."""
    buckets = Counter(int(lag // width) for lag in lags)
    return ", ".join(f"{b * width:.2f}-{(b + 1) * width:.2f}s: {buckets[b]}" for b in sorted(buckets))


def run_all(
    runs: Sequence[tuple[StoreKind, str]],
    *,
    count: int,
    postgres_url: str,
    ceiling_requests: int,
    ceiling_concurrency: Sequence[int],
    keep_logs: Path | None = None,
    profile: Path | None = None,
    profile_gil: bool = True,
    quiet_wait: float = 0.0,
) -> list[Lag]:
    results = []
    with tempfile.TemporaryDirectory(prefix="reminders-bench-lag-") as temporary:
        directory = Path(temporary)
        with stopping([]) as processes:
            receiver = Receiver(directory)
            processes.append(receiver.process)
            for kind, topology in runs:
                result = lag_run(
                    kind,
                    topology,
                    receiver,
                    count=count,
                    postgres_url=postgres_url,
                    ceiling_requests=ceiling_requests,
                    ceiling_concurrency=ceiling_concurrency,
                    directory=directory,
                    profile=profile,
                    profile_gil=profile_gil,
                    quiet_wait=quiet_wait,
                )
                print(describe(result), flush=True)
                results.append(result)
        if keep_logs is not None:
            keep_logs.mkdir(parents=True, exist_ok=True)
            for log in directory.rglob("*.log"):
                target = keep_logs / "-".join(log.relative_to(directory).parts)
                target.write_bytes(log.read_bytes())
    return results


def describe(result: Lag) -> str:
    ceiling = "; ".join(load.describe() for load in result.ceiling)
    return (
        f"{result.store}, {result.topology}: {len(result.lags):,} arrived ({result.duplicates} duplicates), "
        f"lag p50 {result.p50:.2f} s, p99 {result.p99:.2f} s, max {result.max:.2f} s, first "
        f"{result.first_arrival:.2f} s; arrival rate {result.arrival_rate:,.0f}/s; statuses "
        f"{json.dumps(result.statuses)}\n  slot to the tick opening the delivery: p50 "
        f"{statistics.median(result.fired):.2f} s, max {result.fired[-1]:.2f} s; from there to the "
        f"arrival: p50 {statistics.median(result.queued):.2f} s, p99 {quantile(result.queued, 0.99):.2f} s, "
        f"max {result.queued[-1]:.2f} s\n  receiver ceiling: {ceiling}\n  {result.cpu.describe()} "
        f"(machine busy before the run: {result.quiet_before:.2f} cores; "
        f"CPU probe {result.probe_ms:.0f} ms)\n"
        f"  lag histogram: {histogram(result.lags)}"
    )
