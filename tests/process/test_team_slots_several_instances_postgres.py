"""Three `reminders serve` on one PostgreSQL database: team reminders in each member's own time zone
reach each member once per slot, though one instance is killed with SIGKILL while they fire.

Members live in ten zones, which fall into groups of one UTC offset (Tokyo and Seoul, Berlin and
Paris, New York and Toronto, ...). Each group has two daily webhook reminders with
`local_time: "recipient"` whose time of day is the wall-clock time, in the group's zone, of a second
a few seconds ahead: one lists every member, the other is for the whole team (its admin included).
Each reminder so reaches the members of its group at that second, and everyone else at the same
wall-clock time in their own zone, at least 15 minutes away. The groups' seconds follow one
another, so the three instances fire and send for several seconds. The instance that sends the
first POST is killed while the (slow) receiver holds it; the others send its claims once their
lease ends.

A recipient's slot is a ledger entry of its own, (reminder, recipient, slot), a unique index in the
database: the receiver sees every expected recipient slot and nothing else, each with one delivery
id and one Idempotency-Key (naming the recipient), and only a claim of the killed instance POSTed
twice; the ledger, read through the API, holds exactly one sent delivery for each.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from adapters.sql import SqlStore, connect, tables
from tests.databases import postgres_admin_url, postgres_database
from tests.integration.peers import HttpReceiver, Reply, Request
from tests.process.api import client, create_reminder, reminder_body, sleep_until, whole_second
from tests.process.processes import RemindersProcess, admin_key

ZONES = (
    "Asia/Tokyo",
    "Asia/Seoul",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Toronto",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45: 15 minutes from Kolkata
    "Australia/Adelaide",  # +09:30 or +10:30
    "UTC",
)
MEMBERS_PER_ZONE = 4
# Time to create the reminders through HTTP once the members exist, before the first slot.
FIRST_SLOT_IN_SECONDS = 6
SECONDS_BETWEEN_GROUPS = 1
# Slow enough that the instance killed has sends in flight.
RECEIVER_SECONDS = 0.5
LEASE_SECONDS = 3.0
SENT_WITHIN_SECONDS = 30
SERVE = [
    *("--tick-seconds", "0.2", "--delivery-lease-seconds", str(LEASE_SECONDS)),
    *("--channel-timeout-seconds", "2"),
]

# (reminder id, recipient id (None for a POST that names no recipient), slot)
RecipientSlot = tuple[str, str | None, datetime]


@dataclass(frozen=True, slots=True)
class Group:
    """Zones of one UTC offset, and the second at which their members' slots come."""

    zones: tuple[str, ...]
    slot: datetime

    @property
    def time_of_day(self) -> str:
        return wall_clock(self.slot, self.zones[0])


def wall_clock(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M:%S")


def offset_groups(first_slot: datetime) -> list[Group]:
    """ZONES grouped by their offset now, each group a second after the one before."""
    by_offset: dict[timedelta | None, list[str]] = defaultdict(list)
    for zone in ZONES:
        by_offset[ZoneInfo(zone).utcoffset(first_slot)].append(zone)
    return [
        Group(tuple(zones), first_slot + timedelta(seconds=number * SECONDS_BETWEEN_GROUPS))
        for number, zones in enumerate(by_offset.values())
    ]


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(Reply(delay=RECEIVER_SECONDS)).start()
    yield receiver
    receiver.stop()


def create_member(http: httpx.Client, number: int, zone: str) -> dict[str, Any]:
    body = {"name": f"Member {number}", "email": f"member{number}@example.com", "timezone": zone}
    response = http.post("/users/", json=body)
    assert response.status_code == 201, response.text
    member: dict[str, Any] = response.json()
    return member


def every_page(http: httpx.Client, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = http.get(path, params={"limit": 100, "offset": len(items)})
        assert page.status_code == 200, page.text
        items.extend(page.json()["items"])
        if len(items) >= page.json()["total"]:
            return items


def recipient_slot(request: Request) -> RecipientSlot:
    """Whose slot a POST was, from its JSON body."""
    body = json.loads(request.body)
    recipient = body.get("recipient") or {}
    return body["reminder_id"], recipient.get("id"), datetime.fromisoformat(body["scheduled_for"])


def expected_key(slot: RecipientSlot) -> str:
    reminder_id, recipient_id, moment = slot
    return f"{reminder_id}:{recipient_id}:{moment.isoformat()}"


def wait_for_posts(receiver: HttpReceiver, expected: set[RecipientSlot], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if expected <= {recipient_slot(request) for request in list(receiver.requests)}:
            return
        time.sleep(0.1)


def ledger(http: httpx.Client, reminder_ids: list[str]) -> list[dict[str, Any]]:
    """Every delivery of the reminders, as the API lists them."""
    return [
        item
        for reminder_id in reminder_ids
        for item in every_page(http, f"/notifications/{reminder_id}/deliveries")
    ]


def wait_until_sent(http: httpx.Client, reminder_ids: list[str], count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = ledger(http, reminder_ids)
        if len(items) >= count and all(item["status"] == "sent" for item in items):
            return
        time.sleep(0.2)


def wait_for_first_post(receiver: HttpReceiver, timeout: float) -> str:
    """The delivery id of the first POST to arrive."""
    deadline = time.monotonic() + timeout
    while not receiver.requests:
        assert time.monotonic() < deadline, f"no POST within {timeout} s"
        time.sleep(0.01)
    delivery_id: str = json.loads(receiver.requests[0].body)["delivery_id"]
    return delivery_id


def claimed_by(store: SqlStore, delivery_id: str) -> str:
    """Who holds the claim of a delivery being sent: `host:pid:nonce`."""
    deliveries = tables.deliveries
    with store.engine.connect() as connection:
        query = select(deliveries.c.claimed_by).where(deliveries.c.id == delivery_id)
        claim = connection.execute(query).scalar_one()
    assert claim is not None, f"delivery {delivery_id} is POSTed but claimed by no one"
    return str(claim)


def held_by(store: SqlStore, claim: str) -> set[str]:
    """The deliveries still claimed, being sent, by `claim`."""
    deliveries = tables.deliveries
    with store.engine.connect() as connection:
        query = select(deliveries.c.id).where(
            deliveries.c.claimed_by == claim, deliveries.c.status == "sending"
        )
        return set(connection.execute(query).scalars())


def logged(processes: list[RemindersProcess], message: str) -> dict[str, int]:
    return {process.name: len(process.logged(message)) for process in processes}


def test_three_servers_send_each_members_own_slot_of_team_reminders_once_though_one_is_killed(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    with postgres_database(postgres_admin_url()) as database_url, ExitStack() as stack:
        args = ["--database-url", database_url, *SERVE]
        # Started together, so that they also migrate the new database at the same moment.
        processes = [RemindersProcess("serve", args, name=f"serve-{name}", cwd=tmp_path) for name in "abc"]
        for process in processes:
            stack.callback(process.ensure_stopped)
        for process in processes:
            process.wait_ready()
        store = connect(database_url, pool_size=1)
        stack.callback(store.dispose)
        key = admin_key(*processes)
        clients = [stack.enter_context(client(process.url, key)) for process in processes]

        numbers = range(len(ZONES) * MEMBERS_PER_ZONE)
        members = [create_member(clients[n % 3], n, ZONES[n % len(ZONES)]) for n in numbers]
        team = every_page(clients[0], "/users/")  # the members and the admin
        assert len(team) == len(members) + 1

        groups = offset_groups(whole_second(FIRST_SLOT_IN_SECONDS))
        expected: set[RecipientSlot] = set()
        reminder_ids: list[str] = []
        for number, group in enumerate(groups):
            for recipients, audience in (([m["id"] for m in members], members), ("team", team)):
                body = reminder_body(
                    members[0]["id"],
                    f"Stand-up {number} for {'the team' if recipients == 'team' else 'everyone listed'}",
                    channel="webhook",
                    target=receiver.url("/hook"),
                    frequency="daily",
                    time_of_day=group.time_of_day,
                    timezone=group.zones[0],
                    recipients=recipients,
                    local_time="recipient",
                )
                reminder_id = create_reminder(clients[len(reminder_ids) % 3], body)["id"]
                reminder_ids.append(reminder_id)
                # A member's slot is the reminder's time of day on their own wall clock.
                expected |= {
                    (reminder_id, person["id"], group.slot)
                    for person in audience
                    if wall_clock(group.slot, person["timezone"]) == group.time_of_day
                }
        created_by = datetime.now(groups[0].slot.tzinfo)
        assert created_by < groups[0].slot, f"creating the reminders ran {created_by - groups[0].slot} late"
        assert len({slot for _, _, slot in expected}) == len(groups)

        # The instance sending the first POST is killed while the receiver holds it.
        sleep_until(groups[0].slot)
        first = wait_for_first_post(receiver, timeout=SENT_WITHIN_SECONDS)
        claim = claimed_by(store, first)
        killed = next(process for process in processes if claim.split(":")[1] == str(process.pid))
        assert killed.stop(signal.SIGKILL) == -signal.SIGKILL
        posted_before_kill = len(receiver.requests)
        held = held_by(store, claim)
        assert first in held, f"{first} was answered before its sender was killed"
        survivors = [process for process in processes if process is not killed]
        http = clients[processes.index(survivors[0])]

        wait_for_posts(receiver, expected, timeout=SENT_WITHIN_SECONDS)
        wait_until_sent(http, reminder_ids, len(expected), timeout=LEASE_SECONDS + 10)
        time.sleep(1.0)  # five more ticks of each scheduler: none may fire or send anything again
        deliveries = ledger(http, reminder_ids)
        requests = list(receiver.requests)
        for process in survivors:
            process.stop()
        tally = (
            f"sent: {logged(processes, 'delivery sent')}, "
            f"claims expired: {logged(survivors, 'delivery claim expired')}; "
            f"{len(requests)} POSTs for {len(expected)} recipient slots, {posted_before_kill} before the kill"
        )
        said = "\n".join(process.describe() for process in processes)

    # The receiver: every recipient slot due, nothing else, one delivery and one key each.
    posted: dict[RecipientSlot, list[Request]] = defaultdict(list)
    for request in requests:
        posted[recipient_slot(request)].append(request)
    missing, unexpected = expected - set(posted), set(posted) - expected
    assert not missing, f"{len(missing)} never POSTed: {sorted(missing, key=str)[:3]}; {tally}\n{said}"
    assert not unexpected, f"{len(unexpected)} not due: {sorted(unexpected, key=str)[:3]}; {tally}\n{said}"
    for slot, posts in posted.items():
        keys = {post.headers.get("idempotency-key") for post in posts}
        assert keys == {expected_key(slot)}, f"{slot}: {keys}; {tally}"
        assert len({json.loads(post.body)["delivery_id"] for post in posts}) == 1, f"{slot}; {tally}"
    # Sent again: only what the killed instance was sending, each with the same key and delivery id.
    twice = {json.loads(posts[0].body)["delivery_id"] for posts in posted.values() if len(posts) > 1}
    assert first in twice, tally
    assert twice <= held, f"sent twice: {twice - held}, not held by {killed.name}; {tally}"
    expired = sum(logged(survivors, "delivery claim expired").values())
    assert expired == len(held), f"{len(held)} claims held by {killed.name}; {tally}"

    # The ledger: one sent, scheduled delivery per recipient slot, the one each POST named.
    entries = Counter(
        (item["reminder_id"], item["recipient_id"], datetime.fromisoformat(item["scheduled_for"]))
        for item in deliveries
    )
    assert set(entries) == expected, tally
    assert max(entries.values()) == 1, f"{entries.most_common(3)}; {tally}"
    assert Counter(item["status"] for item in deliveries) == {"sent": len(expected)}, tally
    assert {item["kind"] for item in deliveries} == {"scheduled"}, tally
    posted_ids = {json.loads(posts[0].body)["delivery_id"] for posts in posted.values()}
    assert posted_ids == {item["delivery_id"] for item in deliveries}, tally
