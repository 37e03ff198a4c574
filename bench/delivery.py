"""The delivery engine's benchmarks (`make bench-delivery`): deliveries per second through the queue, and
the lag of 2,000 webhook reminders due in the same second.

    python -m bench.delivery [--parts throughput lag] [--deliveries 20000] [--workers 1 2 4]
                             [--throughput-stores memory sqlite postgresql] [--reminders 2000]
                             [--lag-runs sqlite/serve sqlite/tick+2 postgresql/serve postgresql/tick+2]
                             [--postgres-url URL] [--quiet-wait 30] [--profile DIR [--profile-mode cpu|wall]]
                             [--logs DIR] [--check]

Throughput (bench/delivery_throughput.py): a queue of `--deliveries` pending deliveries, due now,
emptied through a no-op channel by the real DeliveryWorker in this process (in memory, SQLite,
PostgreSQL), and by 1, 2 and 4 real `reminders worker` processes on SQLite and PostgreSQL (the
`log` channel at --log-level WARNING: a process has no no-op channel).
Lag (bench/delivery_lag.py): `--reminders` webhook reminders due in the same second, sent by real
`reminders serve` (or `tick` + `worker`) processes with their default settings to a fast receiver
(bench/delivery_receiver.py, uvicorn, its own process); the receiver's ceiling is measured with a
plain load generator in the same run (bench/delivery_load.py).
Databases are created for each run and dropped after: SQLite in a temporary directory, PostgreSQL
on `--postgres-url`'s server. The machine is shared: before each timed run the benchmark waits (up
to `--quiet-wait` seconds) for a second in which it is nearly idle, and every run reports the cores
the rest of the machine used meanwhile. With `--check`, exits 1 when a target is missed.
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import cast, get_args

from bench import machine
from bench.delivery_lag import Lag, run_all
from bench.delivery_throughput import Throughput, in_process, worker_processes
from bench.sql_databases import StoreKind
from bench.sql_databases import describe as describe_databases
from tests.databases import POSTGRES_ENV

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
MEMORY_TARGET = 10_000
SQLITE_TARGET = 3_000
POSTGRES_TARGET = 2_000  # with 4 worker processes
POSTGRES_TARGET_WORKERS = 4
LAG_P99_TARGET = 2.0
STORES = ("memory", "sqlite", "postgresql")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__.split("\n")[0])
    parser.add_argument("--parts", nargs="+", choices=["throughput", "lag"], default=["throughput", "lag"])
    parser.add_argument("--deliveries", type=int, default=20_000, help="queue length of each throughput run")
    parser.add_argument(
        "--throughput-stores",
        nargs="+",
        choices=STORES,
        default=list(STORES),
        help="stores the in-process DeliveryWorker is timed on",
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2, 4], help="`reminders worker` processes on PostgreSQL"
    )
    parser.add_argument(
        "--sqlite-workers", type=int, nargs="*", default=[1], help="`reminders worker` processes on SQLite"
    )
    parser.add_argument(
        "--reminders", type=int, default=2000, help="webhook reminders due in the same second"
    )
    parser.add_argument(
        "--lag-runs",
        nargs="+",
        default=["sqlite/serve", "sqlite/tick+2", "postgresql/serve", "postgresql/tick+2"],
        help="STORE/serve or STORE/tick+K (one `reminders tick` and K `reminders worker` processes)",
    )
    parser.add_argument("--ceiling-requests", type=int, default=5000, help="requests per ceiling measurement")
    parser.add_argument(
        "--ceiling-concurrency",
        type=int,
        nargs="+",
        default=[4, 16],
        help="requests at once for the ceiling (4 = the service's --per-target-concurrency)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(POSTGRES_ENV) or DEFAULT_POSTGRES_URL,
        help=f"admin URL of the server to create throwaway databases on (default: ${POSTGRES_ENV} "
        f"or {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="longest wait for a nearly idle machine before each timed run (0: never wait)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="record py-spy profiles (raw collapsed stacks, one file per process) of the timed windows here",
    )
    parser.add_argument(
        "--profile-mode",
        choices=["cpu", "wall"],
        default="cpu",
        help="cpu: only samples holding the GIL (where CPU goes); wall: every thread, idle ones too",
    )
    parser.add_argument("--logs", type=Path, help="keep the lag runs' process logs here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.deliveries < 1 or args.reminders < 1 or min(args.workers, default=1) < 1:
        parser.error("--deliveries, --reminders and --workers must be positive")
    for run in args.lag_runs:
        store, _, topology = run.partition("/")
        if store not in get_args(StoreKind) or not (
            topology == "serve" or (topology.startswith("tick+") and topology[5:].isdigit())
        ):
            parser.error(
                f"--lag-runs: {run!r} is not STORE/serve or STORE/tick+K (STORE sqlite or postgresql)"
            )
    return args


def run_throughput(args: argparse.Namespace) -> list[Throughput]:
    results = []
    common = {
        "deliveries": args.deliveries,
        "postgres_url": args.postgres_url,
        "profile": args.profile,
        "profile_gil": args.profile_mode == "cpu",
        "quiet_wait": args.quiet_wait,
    }
    for store in args.throughput_stores:
        kind = None if store == "memory" else cast(StoreKind, store)
        results.append(in_process(kind, **common))
        print(describe_throughput(results[-1]), flush=True)
    for kind, counts in (("sqlite", args.sqlite_workers), ("postgresql", args.workers)):
        for workers in counts:
            results.append(worker_processes(cast(StoreKind, kind), workers=workers, **common))
            print(describe_throughput(results[-1]), flush=True)
    return results


def describe_throughput(r: Throughput) -> str:
    postgres = r.cpu_per_delivery(postgres=True)
    per_delivery = f"CPU per delivery: service {r.cpu_per_delivery():.0f} µs" + (
        "" if postgres is None else f", PostgreSQL {postgres:.0f} µs"
    )
    return (
        f"{r.store}, {r.mode}, {r.channel} channel: {r.deliveries:,} sent in {r.seconds:.2f} s = "
        f"{r.per_second:,.0f}/s (first sent after {r.first_sent_after:.2f} s; {r.steady_per_second:,.0f}/s "
        f"from first to last; queue filled in {r.fill_seconds:.1f} s)\n  {r.cpu.describe()} "
        f"(machine busy before the run: {r.quiet_before:.2f} cores; CPU probe {r.probe_ms:.0f} ms); "
        f"{per_delivery}"
    )


def throughput_table(results: list[Throughput]) -> list[str]:
    lines = [
        "| store | what ran | channel | deliveries | s | deliveries/s | first→last /s | cores: service "
        "| cores: postgres | cores: everything else | CPU µs/delivery: service | CPU µs/delivery: postgres "
        "| CPU probe ms |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ours = sum(cores for name, cores in r.cpu.groups.items() if name != "postgres")
        postgres = r.cpu.groups.get("postgres")
        postgres_cost = r.cpu_per_delivery(postgres=True)
        lines.append(
            f"| {r.store} | {r.mode} | {r.channel} | {r.deliveries:,} | {r.seconds:.2f} | "
            f"**{r.per_second:,.0f}** | {r.steady_per_second:,.0f} | {ours:.2f} | "
            f"{'-' if postgres is None else f'{postgres:.2f}'} | {r.cpu.others:.2f} | "
            f"{r.cpu_per_delivery():.0f} | {'-' if postgres_cost is None else f'{postgres_cost:.0f}'} | "
            f"{r.probe_ms:.0f} |"
        )
    return lines


def lag_table(results: list[Lag]) -> list[str]:
    lines = [
        "| store | processes | reminders | lag p50 s | lag p99 s | lag max s | fired by (max) s "
        "| arrivals/s | receiver ceiling /s | duplicates | cores: service | cores: everything else "
        "| service CPU ms/reminder | CPU probe ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ceiling = ", ".join(
            f"{load.per_second:,.0f} ({_short(load.tool)}, c={load.concurrency})" for load in r.ceiling
        )
        lines.append(
            f"| {r.store} | {r.topology} | {r.reminders:,} | {r.p50:.2f} | **{r.p99:.2f}** | {r.max:.2f} | "
            f"{r.fired[-1]:.2f} | {r.arrival_rate:,.0f} | {ceiling} | {r.duplicates} | "
            f"{r.cpu.groups.get('service', 0.0):.2f} | {r.cpu.others:.2f} | "
            f"{r.cpu.groups.get('service', 0.0) * r.cpu.seconds / r.reminders * 1000:.2f} | "
            f"{r.probe_ms:.0f} |"
        )
    return lines


def _short(tool: str) -> str:
    return "ab" if tool.startswith("ab") else "keep-alive"


def verdicts(throughput: list[Throughput], lags: list[Lag]) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    targets = (
        ("memory", 1, MEMORY_TARGET, "in memory"),
        ("sqlite", 1, SQLITE_TARGET, "on SQLite"),
        (
            "postgresql",
            POSTGRES_TARGET_WORKERS,
            POSTGRES_TARGET,
            f"on PostgreSQL, {POSTGRES_TARGET_WORKERS} workers",
        ),
    )
    for store, workers, target, where in targets:
        runs = [
            r
            for r in throughput
            if r.store == store and r.workers == workers and r.processes == (store == "postgresql")
        ]
        if runs:
            rate = statistics.median(r.per_second for r in runs)
            found.append((f"deliveries/s {where} = {rate:,.0f}, target >= {target:,}", rate >= target))
    for lag in lags:
        found.append(
            (
                f"webhook lag p99, {lag.store} {lag.topology} = {lag.p99:.2f} s "
                f"(p50 {lag.p50:.2f}, max {lag.max:.2f}), target < {LAG_P99_TARGET:g} s",
                lag.p99 < LAG_P99_TARGET,
            )
        )
    postgres = {r.workers: r.per_second for r in throughput if r.store == "postgresql" and r.processes}
    if 1 in postgres and len(postgres) > 1:
        curve = ", ".join(f"{k}: {v:,.0f}/s ({v / postgres[1]:.2f}x)" for k, v in sorted(postgres.items()))
        found.append((f"PostgreSQL scaling, worker processes: {curve}", True))
    return found


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    kinds: list[StoreKind] = ["sqlite", "postgresql"]
    for name, value in (
        machine.describe() | describe_databases(kinds, postgres_admin_url=args.postgres_url)
    ).items():
        print(f"{name}: {value}")
    print("load average {:.1f} {:.1f} {:.1f}\n".format(*os.getloadavg()), flush=True)
    throughput: list[Throughput] = []
    lags: list[Lag] = []
    if "throughput" in args.parts:
        throughput = run_throughput(args)
    if "lag" in args.parts:
        runs = [(cast(StoreKind, run.partition("/")[0]), run.partition("/")[2]) for run in args.lag_runs]
        lags = run_all(
            runs,
            count=args.reminders,
            postgres_url=args.postgres_url,
            ceiling_requests=args.ceiling_requests,
            ceiling_concurrency=args.ceiling_concurrency,
            keep_logs=args.logs,
            profile=args.profile,
            profile_gil=args.profile_mode == "cpu",
            quiet_wait=args.quiet_wait,
        )
    print()
    if throughput:
        print("\n".join(throughput_table(throughput)))
        print()
    if lags:
        print("\n".join(lag_table(lags)))
        print()
    missed = False
    for text, held in verdicts(throughput, lags):
        print(f"{'PASS' if held else 'MISS'}  {text}")
        missed = missed or not held
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
