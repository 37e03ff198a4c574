"""Tick cost and creation rate on the durable stores, SQLite and PostgreSQL (`make bench-stores`).

    python -m bench.stores [--stores sqlite postgresql] [--sizes 10000 1000000] [--due 1000]
                           [--repeat 5] [--create 100000] [--batch 500] [--postgres-url URL] [--check]

For each store: a fresh database per size, migrated by the service's migrations and loaded in bulk;
then `--repeat` rounds of timed ticks (after one warm-up round), one tick per size per round, each
firing exactly `--due` reminders; and the due query's plan. Then `--create` reminders added through
the repository, `--batch` per commit, on each store and in memory. PostgreSQL databases are created
on `--postgres-url`'s server and dropped after.
With `--check`, exits 1 when the tick ratio exceeds 2 or a plan does not use ix_reminders_due.
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from functools import partial
from typing import get_args

from adapters.memory import MemoryStore, MemoryUnitOfWork
from adapters.sql import SqlUnitOfWork, connect
from application.unit_of_work import UnitOfWorkFactory
from bench import machine
from bench.creation import add_owners, time_creation
from bench.sql_databases import StoreKind, describe, fresh_database, migrated
from bench.sql_population import SqlPopulation, fill
from bench.sql_ticks import TickRunner, explain
from bench.store_results import Creation, SizeResult, creation_table, tick_table, verdicts
from tests.databases import POSTGRES_ENV

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.stores", description=__doc__.split("\n")[0])
    kinds = list(get_args(StoreKind))
    parser.add_argument("--stores", nargs="+", choices=kinds, default=kinds)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--due", type=int, default=1000, help="reminders each tick fires")
    parser.add_argument("--repeat", type=int, default=5, help="timed ticks per size, after one warm-up")
    parser.add_argument("--create", type=int, default=100_000, help="reminders created via the repository")
    parser.add_argument("--batch", type=int, default=500, help="reminders per commit when creating")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(POSTGRES_ENV) or DEFAULT_POSTGRES_URL,
        help=f"admin URL of the server to create throwaway databases on (default: ${POSTGRES_ENV} "
        f"or {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if min(args.sizes) < 1 or min(args.due, args.repeat, args.create, args.batch) < 1:
        parser.error("sizes, --due, --repeat, --create and --batch must be positive")
    return args


def measure_ticks(kind: StoreKind, sizes: list[int], args: argparse.Namespace) -> list[SizeResult]:
    """Every size loaded into a database of its own, then ticked in turn, one tick per size per round,
    so a busy spell on the shared machine lands on every size alike rather than on one."""
    with contextlib.ExitStack() as stack:
        runs: list[tuple[SqlPopulation, TickRunner]] = []
        for reminders in sizes:
            url = stack.enter_context(fresh_database(kind, postgres_admin_url=args.postgres_url))
            population = fill(migrated(url), reminders=reminders, due=args.due, ticks=args.repeat + 1)
            print(
                f"{kind}, {reminders:,} reminders ({population.users:,} users) loaded in "
                f"{population.seconds:.1f} s",
                flush=True,
            )
            store = connect(url, pool_size=4)
            stack.callback(store.dispose)
            runs.append((population, TickRunner(store, due=args.due)))
        gc.collect()
        ticks: list[list[float]] = [[] for _ in runs]
        for round_ in range(args.repeat + 1):
            for (population, runner), seconds in zip(runs, ticks, strict=True):
                elapsed = runner.tick(population.tick_times[round_], capture=round_ == 0)
                if round_ > 0:  # the first round warms up
                    seconds.append(elapsed)
        return [
            SizeResult(
                kind,
                population.reminders,
                population.users,
                population.seconds,
                seconds,
                explain(runner.store, runner.due_query),
            )
            for (population, runner), seconds in zip(runs, ticks, strict=True)
        ]


def measure_creation(kind: StoreKind | None, args: argparse.Namespace) -> Creation:
    """On a fresh database of the kind, or in memory when `kind` is None."""
    if kind is None:
        memory = MemoryStore()
        return _create("memory", partial(MemoryUnitOfWork, memory), args)
    with fresh_database(kind, postgres_admin_url=args.postgres_url) as url:
        store = migrated(url)
        try:
            return _create(kind, partial(SqlUnitOfWork, store), args)
        finally:
            store.dispose()


def _create(name: str, uow_factory: UnitOfWorkFactory, args: argparse.Namespace) -> Creation:
    owners = add_owners(uow_factory, reminders=args.create)
    gc.collect()
    seconds = time_creation(uow_factory, owners, count=args.create, batch=args.batch)
    return Creation(name, args.create, args.batch, seconds)


def _load_average() -> str:
    """The machine is shared: how busy it was, to tell a slow store from a busy neighbour."""
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sizes = sorted(set(args.sizes))
    kinds: list[StoreKind] = list(dict.fromkeys(args.stores))
    for name, value in (machine.describe() | describe(kinds, postgres_admin_url=args.postgres_url)).items():
        print(f"{name}: {value}")
    print(f"due per tick: {args.due}; timed ticks per size: {args.repeat} (+1 warm-up)\n", flush=True)
    results: list[SizeResult] = []
    for kind in kinds:
        for result in measure_ticks(kind, sizes, args):
            ticks_ms = ", ".join(f"{seconds * 1000:.1f}" for seconds in result.ticks)
            print(f"{kind}, {result.reminders:,} reminders: ticks ms [{ticks_ms}]", flush=True)
            results.append(result)
        print(_load_average(), flush=True)
    creations = []
    for store in [*kinds, None]:
        creation = measure_creation(store, args)
        print(
            f"{creation.store}: {creation.count:,} reminders created in {creation.seconds:.1f} s; "
            f"{_load_average()}",
            flush=True,
        )
        creations.append(creation)
    for r in results:
        print(f"\nthe due query's plan, {r.store}, {r.reminders:,} reminders:")
        print("\n".join(f"    {line}" for line in r.plan))
    print()
    print("\n".join(tick_table(results)))
    print()
    print("\n".join(creation_table(creations)))
    print()
    missed = False
    for text, held in verdicts(results):
        print(f"{'PASS' if held else 'MISS'}  {text}")
        missed = missed or not held
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
