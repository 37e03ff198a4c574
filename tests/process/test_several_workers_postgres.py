"""Two `reminders serve` and two `reminders worker` on one PostgreSQL database: 2,000 webhook
reminders due in the same second, each received exactly once.

Both servers run the scheduler and a delivery worker; the two workers only deliver. All four claim
from the same queue with `FOR UPDATE SKIP LOCKED`, and nobody dies, so nothing is sent twice: the
receiver (a process of its own, answering at once) sees each Idempotency-Key exactly once, and
every delivery ends `sent`.
"""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from adapters.sql import connect
from tests.databases import postgres_admin_url, postgres_database
from tests.process.api import whole_second
from tests.process.conftest import StartReceiver
from tests.process.ledger import ledger, plant_webhooks, wait_for_statuses
from tests.process.processes import RemindersProcess

REMINDERS = 2000
SENT_WITHIN_SECONDS = 60


def sent_by(processes: list[RemindersProcess]) -> dict[str, int]:
    return {
        process.name: sum(line.get("message") == "delivery sent" for line in process.log_lines())
        for process in processes
    }


def test_two_servers_and_two_workers_on_one_database_send_each_of_2000_due_webhooks_exactly_once(
    tmp_path: Path, start_receiver: StartReceiver
) -> None:
    receiver = start_receiver("receiver", "127.0.0.1")
    admin_url = postgres_admin_url()
    with postgres_database(admin_url) as database_url, ExitStack() as stack:
        args = ["--database-url", database_url, "--tick-seconds", "0.2"]
        serve_args = [*args, "--batch-size", "250"]  # a worker fires nothing: it takes no --batch-size
        # Started together, so that they also migrate the new database at the same moment.
        processes = [
            RemindersProcess("serve", serve_args, name="serve-a", cwd=tmp_path),
            RemindersProcess("serve", serve_args, name="serve-b", cwd=tmp_path),
            RemindersProcess("worker", args, name="worker-a", cwd=tmp_path),
            RemindersProcess("worker", args, name="worker-b", cwd=tmp_path),
        ]
        for process in processes:
            stack.callback(process.ensure_stopped)
        for process in processes:
            process.wait_ready()
        store = connect(database_url, pool_size=1)
        stack.callback(store.dispose)

        planted = plant_webhooks(store, [receiver.url()] * REMINDERS, slot=whole_second(1.5))
        after = wait_for_statuses(store, sent=REMINDERS, timeout=SENT_WITHIN_SECONDS, pause=0.25)
        for process in processes:
            process.stop()
        recorded = ledger(store, planted)
        arrivals = receiver.arrivals()
        tally = f"sent by each process: {sent_by(processes)}; statuses {dict(after)}"

    assert recorded.statuses == {"sent": REMINDERS}, tally
    assert recorded.rows == REMINDERS, tally
    assert recorded.duplicate_rows == 0, tally
    assert recorded.lost == 0, tally
    assert all(count == 1 for count in recorded.attempts.values()), tally
    posts = Counter(arrival.key for arrival in arrivals)
    assert len(arrivals) == REMINDERS, f"{len(arrivals)} POSTs: {posts.most_common(3)}; {tally}"
    assert set(posts) == planted.keys(), tally
    assert max(posts.values()) == 1, f"{posts.most_common(3)}; {tally}"
    # The four shared the work: none could have held every claim at once.
    senders = sent_by(processes)
    assert sum(senders.values()) == REMINDERS, tally
    assert sum(count > 0 for count in senders.values()) >= 2, tally
