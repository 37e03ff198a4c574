"""`kill -9` of a `reminders worker` while it holds claims to a slow receiver loses nothing.

A `reminders serve --no-delivery` fires 30 webhook reminders due in the same second; a worker
claims them all and is killed while its first sends wait on a receiver that takes 1 s to answer.
Its claims stay `sending` until their lease ends; then a second worker, started right after the
kill, takes them over and delivers every one. The ledger still has one row per slot, the second
worker touched no claim before its lease ended, and every POST the receiver saw twice carried the
same Idempotency-Key both times.
"""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

from adapters.sql import connect
from tests.process.api import whole_second
from tests.process.conftest import StartReceiver
from tests.process.ledger import leases, ledger, plant_webhooks, statuses, wait_for_statuses
from tests.process.processes import RemindersProcess, running
from tests.process.receivers import keys_by_delivery, wait_for_arrivals

REMINDERS = 30
RECEIVER_SECONDS = 1.0
LEASE_SECONDS = 4.0
WORKER = [
    *("--delivery-lease-seconds", str(LEASE_SECONDS), "--channel-timeout-seconds", "2"),
    *("--delivery-concurrency", "8", "--per-target-concurrency", "8", "--tick-seconds", "0.2"),
]


def test_after_a_killed_workers_lease_another_worker_delivers_every_claim_it_held(
    tmp_path: Path, start_receiver: StartReceiver
) -> None:
    receiver = start_receiver("slow", "127.0.0.2", delay=RECEIVER_SECONDS)
    database_url = f"sqlite:///{tmp_path / 'reminders.db'}"
    store_args = ["--database-url", database_url]
    firing = [*store_args, "--no-delivery", "--tick-seconds", "0.2"]
    with running("serve", firing, name="scheduler", cwd=tmp_path) as scheduler:
        store = connect(database_url, pool_size=1)
        try:
            killed = RemindersProcess("worker", [*store_args, *WORKER], name="killed", cwd=tmp_path)
            try:
                killed.wait_ready()
                planted = plant_webhooks(store, [receiver.url()] * REMINDERS, slot=whole_second(1.0))
                # Its first eight sends are on their way to the receiver, which has not answered yet.
                wait_for_arrivals(receiver, 8, timeout=15)
                assert killed.stop(signal.SIGKILL) == -signal.SIGKILL
            finally:
                killed.ensure_stopped()
            posted_by_killed = len(receiver.arrivals())
            held = leases(store)
            at_kill = statuses(store)
            with running("worker", [*store_args, *WORKER], name="survivor", cwd=tmp_path) as survivor:
                after = wait_for_statuses(store, sent=REMINDERS, timeout=LEASE_SECONDS + 30)
                expired = survivor.logged("delivery claim expired")
            recorded = ledger(store, planted)
        finally:
            store.dispose()
    arrivals = receiver.arrivals()
    seen = f"at kill: {dict(at_kill)}, after: {dict(after)}\n{killed.describe()}\n{survivor.describe()}"

    assert len(held) >= 8, f"the killed worker held only {len(held)} claims; {seen}"
    assert recorded.lost == 0, seen
    assert recorded.rows == REMINDERS, seen
    assert recorded.duplicate_rows == 0, seen
    assert recorded.statuses == {"sent": REMINDERS}, seen
    assert len(expired) == len(held), f"{len(expired)} claims expired, {len(held)} held; {seen}"

    # No claim was taken from the killed worker before its lease ended.
    for arrival in arrivals[posted_by_killed:]:
        lease_end = held.get(str(arrival.delivery_id))
        if lease_end is not None:
            assert arrival.arrived_at >= lease_end.timestamp(), f"{arrival} sent before {lease_end}"

    # At least once: a send the killed worker started is sent again, with the same key.
    keys = keys_by_delivery(arrivals)
    assert len(keys) == REMINDERS
    assert all(len(carried) == 1 for carried in keys.values()), keys
    assert {key for carried in keys.values() for key in carried} == planted.keys()
    posts = Counter(arrival.key for arrival in arrivals)
    assert sum(posts.values()) - REMINDERS <= posted_by_killed, posts
    answered = {arrival.key for arrival in arrivals if arrival.answered}
    assert answered == set(posts), f"never answered: {set(posts) - answered}"
    assert not scheduler.logged("delivery sent"), "serve --no-delivery sent deliveries"
