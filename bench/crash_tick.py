"""Crash while ticking: `kill -9` of `reminders serve` while its first tick fires 1,000 due reminders.

    python -m bench.crash_tick [--runs 20] [--database sqlite|postgresql|both] [--batch-size 100]

Each run: a fresh database holding 1,000 reminders due at one slot; `reminders serve` started on
it; SIGKILL once the ledger holds a random number of rows (1 to 1,000) plus a random 0-40 ms, so
the kill lands between batches, inside a batch's transaction, or among the deliveries; then
`reminders serve` again until every slot has fired and what it fired is sent, and a SIGTERM. The
ledger must then hold exactly one row per reminder for the slot (none lost, none twice), and no
reminder may still be due at a slot it has recorded. Exits 1 when any run breaks that.

Deliveries the killed process left `pending` are reported, not counted as lost: the ledger has
their slot, and this version does not resend a pending delivery after a restart.
PostgreSQL runs need REMINDERS_TEST_POSTGRES_URL (or --postgres-url): each run creates and drops
a database of its own there. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from adapters.sql import connect
from bench import machine
from bench.crash_ledger import Population, Verdict, inspect, ledger_rows, populate, statuses, unfinished
from bench.crash_options import crash_parser, parse_crash_options, seeded, store_kinds
from tests.databases import postgres_database
from tests.process.processes import RemindersProcess

REMINDERS = 1000
KILL_JITTER_SECONDS = 0.040
POLL_SECONDS = 0.002
FINISH_SECONDS = 180.0


@dataclass(frozen=True, slots=True)
class Run:
    store: str
    number: int
    threshold: int  # the ledger rows that armed the kill
    first_row_after: float  # seconds from starting the process to its first ledger row
    killed_after: float  # seconds from starting the process to SIGKILL
    rows_at_kill: int  # committed ledger rows once the killed process was gone
    at_kill: Counter[str]  # their statuses
    verdict: Verdict
    seconds: float

    @property
    def broken(self) -> bool:
        v = self.verdict
        return bool(v.lost or v.duplicates or v.stray or v.stuck or v.not_moved_on)


@contextmanager
def fresh_database(kind: str, admin_url: str | None, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'reminders.db'}"
        return
    assert admin_url is not None
    with postgres_database(admin_url, prefix="reminders_crash") as url:
        yield url


def kill_mid_tick(
    process: RemindersProcess, database_url: str, threshold: int, jitter: float
) -> tuple[float, float]:
    """SIGKILL once the ledger holds `threshold` rows, `jitter` seconds later.

    Returns the seconds from starting the process to its first ledger row, and to the kill.
    """
    store = connect(database_url, pool_size=1)
    first_row: float | None = None
    try:
        deadline = time.monotonic() + 60
        while (rows := ledger_rows(store)) < threshold:
            if rows and first_row is None:
                first_row = time.monotonic() - process.started_at
            if process.process.poll() is not None:
                raise RuntimeError(f"the server exited before it was killed: {process.describe()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the ledger never reached {threshold} rows: {process.describe()}")
            time.sleep(POLL_SECONDS)
    finally:
        store.dispose()
    if first_row is None:  # the first rows seen were enough
        first_row = time.monotonic() - process.started_at
    time.sleep(jitter)
    process.stop(signal.SIGKILL)
    return first_row, time.monotonic() - process.started_at


def finish(process: RemindersProcess, database_url: str, population: Population, since: datetime) -> None:
    store = connect(database_url, pool_size=1)
    try:
        deadline = time.monotonic() + FINISH_SECONDS
        while unfinished(store, population, created_after=since):
            if process.process.poll() is not None:
                raise RuntimeError(f"the restarted server exited: {process.describe()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"not finished within {FINISH_SECONDS:.0f} s: {process.describe()}")
            time.sleep(0.1)
    finally:
        store.dispose()


def one_run(kind: str, number: int, args: argparse.Namespace, rng: random.Random) -> Run:
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="crash-tick-") as temporary:
        directory = Path(temporary)
        with fresh_database(kind, args.postgres_url, directory) as url:
            population = populate(url, reminders=REMINDERS)
            flags = ["--database-url", url, "--batch-size", str(args.batch_size), "--tick-seconds", "0.2"]
            threshold = rng.randint(1, REMINDERS)
            first = RemindersProcess("serve", flags, name="killed", cwd=directory)
            try:
                jitter = rng.uniform(0, KILL_JITTER_SECONDS)
                first_row_after, killed_after = kill_mid_tick(first, url, threshold, jitter)
            finally:
                first.ensure_stopped()
            store = connect(url, pool_size=1)
            try:
                rows_at_kill, at_kill = ledger_rows(store), statuses(store)
                restarted_at = datetime.now(UTC)
                second = RemindersProcess("serve", flags, name="restarted", cwd=directory)
                try:
                    second.wait_ready()
                    finish(second, url, population, restarted_at)
                    second.stop(signal.SIGTERM)
                finally:
                    second.ensure_stopped()
                verdict = inspect(store, population)
            finally:
                store.dispose()
    return Run(
        kind,
        number,
        threshold,
        first_row_after,
        killed_after,
        rows_at_kill,
        at_kill,
        verdict,
        time.monotonic() - began,
    )


def print_run(run: Run) -> None:
    v = run.verdict
    print(
        f"{run.store:<10} {run.number:>3} {run.threshold:>9} {run.first_row_after:>7.2f} "
        f"{run.killed_after:>6.2f} {run.rows_at_kill:>7} "
        f"{run.at_kill['pending']:>8} {v.rows:>5} {v.lost:>4} {v.duplicates:>4} {v.stray:>5} {v.stuck:>5} "
        f"{v.not_moved_on:>6} {v.statuses['sent']:>5} {v.statuses['pending']:>7} {v.pending_claimed:>7} "
        f"{v.statuses['missed']:>6} {v.statuses['failed']:>6} {run.seconds:>5.1f}"
        + ("  BROKEN" if run.broken else ""),
        flush=True,
    )


HEADER = (
    f"{'store':<10} {'run':>3} {'threshold':>9} {'1st row':>7} {'kill':>6} {'at kill':>7} {'pending':>8} "
    f"{'rows':>5} "
    f"{'lost':>4} {'dup':>4} {'stray':>5} {'stuck':>5} {'unmvd':>6} {'sent':>5} {'pending':>7} "
    f"{'claimed':>7} {'missed':>6} {'failed':>6} {'s':>5}"
)


def kill_range(rows: int) -> str:
    """Ledger rows at kill time, grouped by hundreds (0 and 1000 apart: before and after firing)."""
    if rows in (0, REMINDERS):
        return str(rows)
    low = (rows - 1) // 100 * 100 + 1
    return f"{low}-{low + 99}"


def summarise(kind: str, runs: list[Run]) -> None:
    at_kill = [run.rows_at_kill for run in runs]
    ranges = Counter(kill_range(rows) for rows in at_kill)
    by_range = dict(sorted(ranges.items(), key=lambda item: int(item[0].split("-")[0])))
    verdicts = [run.verdict for run in runs]
    total = Counter[str]()
    for verdict in verdicts:
        total.update(verdict.statuses)
    left = sum(verdict.statuses["pending"] for verdict in verdicts)
    claimed = sum(verdict.pending_claimed for verdict in verdicts)
    runs_left = sum(bool(verdict.statuses["pending"]) for verdict in verdicts)
    median = statistics.median(at_kill)
    print(f"\n{kind}: {len(runs)} runs, {REMINDERS} reminders each")
    print(f"  ledger rows at kill: min {min(at_kill)}, median {median:.0f}, max {max(at_kill)}")
    print(f"  ledger rows at kill, by range: {by_range}")
    print(f"  lost slots: {sum(verdict.lost for verdict in verdicts)}")
    print(f"  duplicate ledger rows: {sum(verdict.duplicates for verdict in verdicts)}")
    print(f"  stray ledger rows: {sum(verdict.stray for verdict in verdicts)}")
    print(f"  stuck behind a recorded slot: {sum(verdict.stuck for verdict in verdicts)}")
    print(f"  not moved on to the next slot: {sum(verdict.not_moved_on for verdict in verdicts)}")
    print(f"  ledger rows: {sum(verdict.rows for verdict in verdicts)} (expected {len(runs) * REMINDERS})")
    print(f"  statuses after restart: {dict(total)}")
    print(
        f"  left pending by the killed process and not sent after the restart: {left} rows in "
        f"{runs_left} runs ({claimed} of them claimed by a sender)"
    )
    print(f"  seconds per run: median {statistics.median(run.seconds for run in runs):.1f}")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = crash_parser("python -m bench.crash_tick", __doc__)
    parser.add_argument("--batch-size", type=int, default=100, help="the server's --batch-size")
    return parse_crash_options(parser, argv, "batch_size")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    seed, rng = seeded(args)
    kinds = store_kinds(args)
    print(" | ".join(f"{name}: {value}" for name, value in machine.describe().items()))
    print(f"seed {seed}, batch size {args.batch_size}, {args.runs} runs per store\n")
    print(HEADER)
    results: dict[str, list[Run]] = {}
    for kind in kinds:
        for number in range(1, args.runs + 1):
            run = one_run(kind, number, args, rng)
            print_run(run)
            results.setdefault(kind, []).append(run)
    for kind, runs in results.items():
        summarise(kind, runs)
    broken = [run for runs in results.values() for run in runs if run.broken]
    print(f"\n{'FAIL' if broken else 'PASS'}: {len(broken)} runs broke the ledger's rules")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
