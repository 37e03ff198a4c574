"""A slow peer and a failing peer cost only their own deliveries, never a healthy peer's.

One `reminders serve` on a SQLite file, with its default 16 senders and 4 sends per host, and three
receivers in processes of their own, each on its own loopback address (the limit is per host): one
takes 3 s to answer, one answers 503 with Retry-After, one answers at once. Each gets 24 webhook
reminders due in the same second, more than there are senders, so a worker without a per-host
limit would give every sender to the slow peer, and one that slept through Retry-After would hold
senders for the failing one. The healthy peer's deliveries must all arrive within one tick plus
the time a send takes.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

from adapters.sql import connect
from tests.process.api import whole_second
from tests.process.conftest import StartReceiver
from tests.process.ledger import ledger, plant_webhooks
from tests.process.processes import running
from tests.process.receivers import Arrival, most_at_once, wait_for_arrivals

TICK_SECONDS = 0.2
# Sending to a receiver on this machine that answers at once, and recording it, with room for a
# loaded machine; the slow peer's 3 s and the failing peer's Retry-After are well beyond it.
SEND_SECONDS = 1.0
SLOW_SECONDS = 3.0
RETRY_AFTER_SECONDS = 1
PER_PEER = 24
PER_TARGET = 4  # the default


def test_a_slow_and_a_failing_peer_do_not_delay_a_healthy_peer_due_at_the_same_time(
    tmp_path: Path, start_receiver: StartReceiver
) -> None:
    healthy = start_receiver("healthy", "127.0.0.1")
    slow = start_receiver("slow", "127.0.0.2", delay=SLOW_SECONDS)
    failing = start_receiver("failing", "127.0.0.3", status=503, retry_after=RETRY_AFTER_SECONDS)
    database_url = f"sqlite:///{tmp_path / 'reminders.db'}"
    args = ["--database-url", database_url, "--tick-seconds", str(TICK_SECONDS)]
    with running("serve", [*args, "--shutdown-grace-seconds", "1"], name="serve", cwd=tmp_path) as serve:
        store = connect(database_url, pool_size=1)
        try:
            # The slow and failing peers' reminders are planted first: first in line, if order counts.
            targets = [slow.url()] * PER_PEER + [failing.url()] * PER_PEER + [healthy.url()] * PER_PEER
            planted = plant_webhooks(store, targets, slot=whole_second(1.0))
            slot = planted.slot.timestamp()
            arrived = wait_for_arrivals(healthy, PER_PEER, timeout=15)
            # Long enough for each failing delivery's second attempt, Retry-After later.
            retried = wait_for_arrivals(failing, 2 * PER_PEER, timeout=10)
            open_until = max(a.arrived_at for a in arrived) + 0.01
            slow_arrivals = slow.arrivals()
            recorded = ledger(store, planted)
        finally:
            store.dispose()
    seen = f"\n{serve.describe()}"

    lateness = sorted(arrival.arrived_at - slot for arrival in arrived)
    healthy_ids = [reminder_id for reminder_id, target in planted.targets.items() if target == healthy.url()]
    expected_keys = sorted(f"{reminder_id}:{planted.slot.isoformat()}" for reminder_id in healthy_ids)
    assert sorted(str(a.key) for a in arrived) == expected_keys, "each healthy delivery POSTed exactly once"
    assert lateness[-1] <= TICK_SECONDS + SEND_SECONDS, f"healthy peer late by {lateness} s{seen}"
    assert recorded.statuses["sent"] >= PER_PEER, recorded

    # The slow peer really was busy while the healthy peer was served, and held no more than its share.
    assert slow_arrivals, f"the slow peer was never called{seen}"
    assert min(a.arrived_at for a in slow_arrivals) < open_until
    assert most_at_once(slow_arrivals, until=open_until) <= PER_TARGET

    # The failing peer was asked again only after its Retry-After, by the queue, not by a sleeping sender.
    by_key: dict[str | None, list[Arrival]] = defaultdict(list)
    for arrival in retried:
        by_key[arrival.key].append(arrival)
    assert len(by_key) == PER_PEER
    gaps = [b.arrived_at - a.arrived_at for tries in by_key.values() for a, b in itertools.pairwise(tries)]
    assert gaps, f"no failing delivery was tried again: {retried}"
    assert min(gaps) >= RETRY_AFTER_SECONDS, f"retried too early: {sorted(gaps)[:5]}"
