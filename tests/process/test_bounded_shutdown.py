"""SIGTERM with 200 deliveries in flight to a slow receiver: a bounded stop, and nothing lost.

The process stops claiming, waits --shutdown-grace-seconds for its sends (the receiver takes
longer than that), gives every claim it still holds back to the queue, says how many in its log,
and exits. The wait is measured by the process's own log: from "stopping delivery" to "released"
within the grace period plus half a second. The exit, which also waits for the interpreter to
wind down, is held to a looser bound, so a loaded machine does not fail the test while a hang still
does. Nothing is left `sending`, so a restarted process delivers all of them at once, long before
their 60 s lease would have ended: none is lost.
"""

from __future__ import annotations

import signal
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.sql import connect
from tests.process.api import whole_second
from tests.process.conftest import StartReceiver
from tests.process.ledger import ledger, plant_webhooks, statuses, wait_for_statuses
from tests.process.processes import running
from tests.process.receivers import Behaviour, keys_by_delivery, wait_until_quiet

IN_FLIGHT = 200
# What reaches the receiver at once today: the webhook channel's connection pool (httpx's default of
# 100) holds the other sends inside the channel, in flight for the worker but not yet on the wire.
# tests/integration/test_delivery_worker.py asks for all of them on the wire.
ON_THE_WIRE = 100
RECEIVER_SECONDS = 4.0
GRACE_SECONDS = 1.5
RELEASE_MARGIN_SECONDS = 0.5  # from the end of the wait to the released claims' log line
EXIT_MARGIN_SECONDS = 3.0  # from SIGTERM to the process's exit, beyond the grace period
LEASE_SECONDS = 60.0  # the default: a restart that waited for it would take far longer than this test


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_sigterm_with_200_deliveries_in_flight_releases_them_within_the_grace_period(
    tmp_path: Path, start_receiver: StartReceiver, command: str
) -> None:
    receiver = start_receiver("slow", "127.0.0.2", delay=RECEIVER_SECONDS)
    database_url = f"sqlite:///{tmp_path / 'reminders.db'}"
    args = [
        *("--database-url", database_url, "--tick-seconds", "0.2"),
        *("--delivery-concurrency", str(IN_FLIGHT), "--per-target-concurrency", str(IN_FLIGHT)),
        *("--shutdown-grace-seconds", str(GRACE_SECONDS), "--delivery-lease-seconds", str(LEASE_SECONDS)),
    ]
    with ExitStack() as stack:
        if command == "worker":
            firing = ["--database-url", database_url, "--no-delivery", "--tick-seconds", "0.2"]
            stack.enter_context(running("serve", firing, name="scheduler", cwd=tmp_path))
        store = connect(database_url, pool_size=1)
        stack.callback(store.dispose)
        stopped = stack.enter_context(running(command, args, name="stopped", cwd=tmp_path))
        planted = plant_webhooks(store, [receiver.url()] * IN_FLIGHT, slot=whole_second(1.0))
        # SIGTERM once the sends have reached the receiver and no more come: every sender is in a send.
        posted = wait_until_quiet(receiver, ON_THE_WIRE, quiet=0.3, timeout=20)
        assert len(posted) >= ON_THE_WIRE, f"only {len(posted)} sends arrived\n{stopped.describe()}"

        began = time.monotonic()
        stopped.stop(signal.SIGTERM, timeout=GRACE_SECONDS + 10)
        took = time.monotonic() - began
        after_stop = statuses(store)
        released = stopped.logged("delivery stopped: released")
        stopping = stopped.logged("stopping delivery:")

        receiver.change(Behaviour())  # answers at once from now on, so the restart is quick
        restarted = stack.enter_context(running(command, args, name="restarted", cwd=tmp_path))
        after = wait_for_statuses(store, sent=IN_FLIGHT, timeout=20)
        recorded = ledger(store, planted)
    seen = f"after the stop: {dict(after_stop)}; after: {dict(after)}\n{stopped.describe()}"

    assert len(stopping) == 1, seen
    assert len(released) == 1, seen
    waited = logged_at(released[0]) - logged_at(stopping[0])
    assert waited <= GRACE_SECONDS + RELEASE_MARGIN_SECONDS, f"released {waited:.2f} s after stopping; {seen}"
    assert took <= GRACE_SECONDS + EXIT_MARGIN_SECONDS, f"exited {took:.2f} s after SIGTERM; {seen}"
    assert after_stop == {"pending": IN_FLIGHT}, seen
    assert stopping[0]["in_flight"] == IN_FLIGHT, stopping
    assert released[0]["released"] == IN_FLIGHT, released
    assert released[0]["message"] == f"delivery stopped: released {IN_FLIGHT} claims back to the queue"

    assert recorded.statuses == {"sent": IN_FLIGHT}, f"{seen}\n{restarted.describe()}"
    assert recorded.lost == 0
    assert recorded.duplicate_rows == 0
    keys = keys_by_delivery(receiver.arrivals())
    assert all(len(carried) == 1 for carried in keys.values()), keys
    assert {key for carried in keys.values() for key in carried} == planted.keys()


def logged_at(line: dict[str, Any]) -> float:
    """When a JSON log line was written, in seconds."""
    return datetime.fromisoformat(str(line["time"])).timestamp()
