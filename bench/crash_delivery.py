"""Crash while delivering: `kill -9` of a `reminders worker` at a random moment while it sends to a slow peer.

    python -m bench.crash_delivery [--runs 20] [--database sqlite|postgresql|both] [--reminders 60]

Each run: a fresh database; a webhook receiver in a process of its own that takes 0.5 s to answer;
`reminders tick` to fire the slots and a `reminders worker` (8 senders, 8 per host, a 3 s lease,
a 1.5 s channel timeout) to send them; `--reminders` webhook reminders due in the same second.
The worker is killed with SIGKILL at a random moment between the slot and the time it would need
to send everything, so the kill lands before its first claim, among claimed sends waiting on the
receiver, between a send and its record, or after the last one. A second worker is then started
and must deliver every slot once the dead worker's leases end. The tally, over all runs:

- lost: reminders whose slot has no `sent` delivery at the end;
- duplicate ledger rows: rows beyond one per reminder and slot;
- duplicate POSTs: POSTs the receiver got beyond the first for a key (at-least-once allows them);
- mismatched keys: deliveries whose POSTs did not all carry the one Idempotency-Key of their slot;
- early takeovers: POSTs for a claim the dead worker held, sent before that claim's lease ended.

Exits 1 when any run lost a slot, duplicated a ledger row, mismatched a key or took over early.
PostgreSQL runs need REMINDERS_TEST_POSTGRES_URL (or --postgres-url): each run creates and drops a
database of its own there.
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
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from adapters.sql import connect
from bench import machine
from bench.crash_options import crash_parser, parse_crash_options, seeded, store_kinds
from tests.databases import postgres_database
from tests.process.api import sleep_until, whole_second
from tests.process.ledger import leases, ledger, plant_webhooks, statuses, wait_for_statuses
from tests.process.processes import RemindersProcess
from tests.process.receivers import Behaviour, ReceiverProcess, duplicate_posts, keys_by_delivery

RECEIVER_SECONDS = 0.5
LEASE_SECONDS = 3.0
SENDERS = 8
WORKER_FLAGS = [
    *("--delivery-lease-seconds", str(LEASE_SECONDS), "--channel-timeout-seconds", "1.5"),
    *("--delivery-concurrency", str(SENDERS), "--per-target-concurrency", str(SENDERS)),
    *("--tick-seconds", "0.2"),
]
FINISH_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class Run:
    store: str
    number: int
    kill_after: float  # seconds after the slot
    posted_at_kill: int  # POSTs the receiver had seen when the worker was killed
    at_kill: Counter[str]  # ledger statuses then
    held_at_kill: int  # claims (`sending`) the dead worker held
    rows: int
    sent: int
    lost: int
    duplicate_rows: int
    duplicate_posts: int
    mismatched_keys: int
    early_takeovers: int
    seconds: float

    @property
    def broken(self) -> bool:
        return bool(self.lost or self.duplicate_rows or self.mismatched_keys or self.early_takeovers)


@contextmanager
def fresh_database(kind: str, admin_url: str | None, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'reminders.db'}"
        return
    assert admin_url is not None
    with postgres_database(admin_url, prefix="reminders_crash_delivery") as url:
        yield url


def one_run(kind: str, number: int, args: argparse.Namespace, rng: random.Random) -> Run:
    began = time.monotonic()
    reminders = args.reminders
    # About as long as the worker takes to send everything (a host's line is short under a 3 s lease,
    # so it works in rounds): the kill may land before the first claim or after the last send.
    window = 2 * reminders * RECEIVER_SECONDS / SENDERS + 1.0
    with (
        tempfile.TemporaryDirectory(prefix="crash-delivery-") as temporary,
        ExitStack() as stack,
    ):
        directory = Path(temporary)
        url = stack.enter_context(fresh_database(kind, args.postgres_url, directory))
        receiver = ReceiverProcess(directory, "receiver", "127.0.0.2", Behaviour(delay=RECEIVER_SECONDS))
        stack.callback(receiver.stop)
        flags = ["--database-url", url]
        ticker = RemindersProcess("tick", [*flags, "--tick-seconds", "0.2"], name="tick", cwd=directory)
        stack.callback(ticker.ensure_stopped)
        ticker.wait_ready()  # it has migrated the schema
        store = connect(url, pool_size=1)
        stack.callback(store.dispose)
        killed = RemindersProcess("worker", [*flags, *WORKER_FLAGS], name="killed", cwd=directory)
        stack.callback(killed.ensure_stopped)
        killed.wait_ready()
        planted = plant_webhooks(store, [receiver.url()] * reminders, slot=whole_second(0.5))
        kill_after = rng.uniform(0, window)
        sleep_until(planted.slot)
        time.sleep(kill_after)
        killed.stop(signal.SIGKILL)
        posted_at_kill = len(receiver.arrivals())
        held = leases(store)
        at_kill = statuses(store)

        survivor = RemindersProcess("worker", [*flags, *WORKER_FLAGS], name="survivor", cwd=directory)
        stack.callback(survivor.ensure_stopped)
        survivor.wait_ready()
        wait_for_statuses(store, sent=reminders, timeout=FINISH_SECONDS, pause=0.1)
        time.sleep(0.5)  # anything sent twice after that would show
        survivor.stop()
        ticker.stop()
        recorded = ledger(store, planted)
        arrivals = receiver.arrivals()

    keys = keys_by_delivery(arrivals)
    expected = planted.keys()
    mismatched = sum(len(carried) != 1 or not carried <= expected for carried in keys.values())
    early = sum(
        1
        for arrival in arrivals[posted_at_kill:]
        if (lease_end := held.get(str(arrival.delivery_id))) is not None
        and arrival.arrived_at < lease_end.timestamp()
    )
    return Run(
        store=kind,
        number=number,
        kill_after=kill_after,
        posted_at_kill=posted_at_kill,
        at_kill=at_kill,
        held_at_kill=len(held),
        rows=recorded.rows,
        sent=recorded.statuses["sent"],
        lost=recorded.lost,
        duplicate_rows=recorded.duplicate_rows,
        duplicate_posts=duplicate_posts(arrivals),
        mismatched_keys=mismatched,
        early_takeovers=early,
        seconds=time.monotonic() - began,
    )


HEADER = (
    f"{'store':<10} {'run':>3} {'kill s':>6} {'posted':>6} {'held':>5} {'sent@k':>6} {'rows':>5} "
    f"{'sent':>5} {'lost':>4} {'dupRow':>6} {'dupPOST':>7} {'badKey':>6} {'early':>5} {'s':>5}"
)


def print_run(run: Run) -> None:
    print(
        f"{run.store:<10} {run.number:>3} {run.kill_after:>6.2f} {run.posted_at_kill:>6} "
        f"{run.held_at_kill:>5} {run.at_kill['sent']:>6} {run.rows:>5} {run.sent:>5} {run.lost:>4} "
        f"{run.duplicate_rows:>6} "
        f"{run.duplicate_posts:>7} {run.mismatched_keys:>6} {run.early_takeovers:>5} {run.seconds:>5.1f}"
        + ("  BROKEN" if run.broken else ""),
        flush=True,
    )


def summarise(kind: str, runs: list[Run], reminders: int) -> None:
    print(f"\n{kind}: {len(runs)} runs, {reminders} webhook reminders each")
    print(
        "  killed holding claims in "
        f"{sum(run.held_at_kill > 0 for run in runs)} runs "
        f"(claims held at the kill: median {statistics.median(run.held_at_kill for run in runs):.0f}, "
        f"max {max(run.held_at_kill for run in runs)})"
    )
    print(f"  lost: {sum(run.lost for run in runs)}")
    print(f"  duplicate ledger rows: {sum(run.duplicate_rows for run in runs)}")
    print(
        f"  duplicate POSTs: {sum(run.duplicate_posts for run in runs)} "
        f"(in {sum(run.duplicate_posts > 0 for run in runs)} runs)"
    )
    print(f"  duplicate POSTs whose Idempotency-Key differed: {sum(run.mismatched_keys for run in runs)}")
    print(f"  claims taken over before their lease ended: {sum(run.early_takeovers for run in runs)}")
    print(f"  sent in the end: {sum(run.sent for run in runs)} of {len(runs) * reminders}")
    print(f"  seconds per run: median {statistics.median(run.seconds for run in runs):.1f}")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = crash_parser("python -m bench.crash_delivery", __doc__)
    parser.add_argument("--reminders", type=int, default=60, help="webhook reminders per run")
    return parse_crash_options(parser, argv, "reminders")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    seed, rng = seeded(args)
    kinds = store_kinds(args)
    print(" | ".join(f"{name}: {value}" for name, value in machine.describe().items()))
    print(
        f"seed {seed}, {args.runs} runs per store, {args.reminders} reminders, receiver "
        f"{RECEIVER_SECONDS} s per POST, worker: {' '.join(WORKER_FLAGS)}\n"
    )
    print(HEADER)
    results: dict[str, list[Run]] = {}
    for kind in kinds:
        for number in range(1, args.runs + 1):
            run = one_run(kind, number, args, rng)
            print_run(run)
            results.setdefault(kind, []).append(run)
    for kind, runs in results.items():
        summarise(kind, runs, args.reminders)
    broken = [run for runs in results.values() for run in runs if run.broken]
    print(f"\n{'FAIL' if broken else 'PASS'}: {len(broken)} runs lost a slot, doubled a row or a key")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
