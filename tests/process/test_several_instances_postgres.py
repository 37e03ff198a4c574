"""Two `reminders serve` and one `reminders tick` on one PostgreSQL database, firing the same second.

500 webhook reminders come due at once. The three schedulers share them through
`FOR UPDATE SKIP LOCKED`, in batches of 50 so that they really interleave: the ledger holds
exactly one row per slot, each is sent, and the receiver sees each Idempotency-Key exactly once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.sql import connect, tables
from tests.databases import postgres_admin_url, postgres_database
from tests.integration.peers import HttpReceiver
from tests.process.api import client, create_reminder, create_user, once_at, whole_second
from tests.process.processes import RemindersProcess, admin_key

REMINDERS = 500
BATCH_SIZE = 50
# Long enough for three processes on a small machine to create 500 reminders through HTTP.
DUE_IN_SECONDS = 10
SENT_WITHIN_SECONDS = 60


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


def sent_by(processes: list[RemindersProcess]) -> dict[str, int]:
    """How many deliveries each process sent, from its own log: each sends only what it fired."""
    return {
        process.name: sum(line.get("message") == "delivery sent" for line in process.log_lines())
        for process in processes
    }


def create_due_reminders(urls: list[str], key: str, owner_id: str, target: str, due: datetime) -> list[str]:
    """REMINDERS webhook reminders for the second `due`, created through every URL in turn."""

    def create(index: int) -> list[str]:
        url = urls[index % len(urls)]
        with client(url, key) as http:
            ids = []
            for number in range(index, REMINDERS, 4):
                body = once_at(owner_id, f"Slot {number}", due, channel="webhook", target=target)
                ids.append(create_reminder(http, body)["id"])
            return ids

    with ThreadPoolExecutor(max_workers=4) as pool:
        return [reminder_id for ids in pool.map(create, range(4)) for reminder_id in ids]


def test_two_servers_and_a_ticker_on_one_database_send_each_of_500_slots_exactly_once(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    admin_url = postgres_admin_url()
    with postgres_database(admin_url) as database_url, ExitStack() as stack:
        args = ["--database-url", database_url, "--tick-seconds", "0.2", "--batch-size", str(BATCH_SIZE)]
        # Started together, so the three also migrate the new database at the same moment.
        processes = [
            RemindersProcess("serve", args, name="serve-a", cwd=tmp_path),
            RemindersProcess("serve", args, name="serve-b", cwd=tmp_path),
            RemindersProcess("tick", args, name="tick", cwd=tmp_path),
        ]
        for process in processes:
            stack.callback(process.ensure_stopped)
        for process in processes:
            process.wait_ready()
        store = connect(database_url, pool_size=1)
        stack.callback(store.dispose)

        # The servers created the first team together; the one that did printed its admin's key.
        key = admin_key(*processes[:2])
        with client(processes[0].url, key) as http:
            owner = create_user(http, "Grace Hopper", "grace@example.com")
        due = whole_second(DUE_IN_SECONDS)
        reminder_ids = create_due_reminders(
            [processes[0].url, processes[1].url], key, owner["id"], receiver.url("/hook"), due
        )
        created_by = datetime.now(due.tzinfo)
        assert created_by < due, f"creating {REMINDERS} reminders ran {created_by - due} past their slot"
        assert len(set(reminder_ids)) == REMINDERS

        deliveries = tables.deliveries
        deadline = time.monotonic() + DUE_IN_SECONDS + SENT_WITHIN_SECONDS
        sent = 0
        while sent < REMINDERS and time.monotonic() < deadline:
            time.sleep(0.2)
            with store.engine.connect() as connection:
                query = select(func.count()).where(deliveries.c.status == "sent")
                sent = connection.execute(query).scalar_one()
        time.sleep(1.0)  # five more ticks of each scheduler: none may fire or send anything again
        for process in processes:
            process.stop()
        tally = f"sent by each process: {sent_by(processes)}"
        assert sent == REMINDERS, f"{sent} of {REMINDERS} sent; {tally}\n" + "\n".join(
            process.describe() for process in processes
        )

        with store.engine.connect() as connection:
            rows = connection.execute(
                select(deliveries.c.reminder_id, deliveries.c.scheduled_for, deliveries.c.status)
            ).all()
        assert len(rows) == REMINDERS, tally
        assert Counter(row.status for row in rows) == {"sent": REMINDERS}, tally
        assert sorted(row.reminder_id for row in rows) == sorted(reminder_ids), tally
        assert {row.scheduled_for for row in rows} == {due}, tally

        keys = Counter(request.headers.get("idempotency-key") for request in receiver.requests)
        assert len(receiver.requests) == REMINDERS, f"{len(receiver.requests)} POSTs; {tally}"
        assert set(keys) == {f"{reminder_id}:{due.isoformat()}" for reminder_id in reminder_ids}, tally
        assert max(keys.values()) == 1, f"{keys.most_common(3)}; {tally}"
        assert sum(sent_by(processes).values()) == REMINDERS, tally
