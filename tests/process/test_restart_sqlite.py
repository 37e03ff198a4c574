"""A `reminders serve` on SQLite stopped (SIGTERM, or kill -9) and started again on the same file.

Everything created through HTTP is there after the restart, and a slot that came due while the
service was down follows the grace rule: older than the grace period when it fires, it is recorded
as missed; younger, it is sent late.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.process.api import (
    client,
    create_reminder,
    create_user,
    once_at,
    reminder_body,
    sleep_until,
    snapshot,
    wait_for_delivery,
    whole_second,
)
from tests.process.processes import RemindersProcess, admin_key, running

# What firing a reminder changes; every other field must survive a restart unchanged.
FIRING_FIELDS = {"active", "next_run_at", "last_run_at", "updated_at"}
SHORT_GRACE = 1.0
# Seconds ahead for a slot that must come due after the stop: the POST, a snapshot and a graceful
# stop all fit before it, even on a loaded machine.
AFTER_THE_STOP = 3


def assert_survived(before: dict[str, Any], after: dict[str, Any], *, fired: str) -> None:
    """`after` holds exactly what `before` did; only reminder `fired` has fired in between."""
    assert after["users"] == before["users"]
    assert after["reminders"].keys() == before["reminders"].keys()
    for owner_id, page in before["reminders"].items():
        now = after["reminders"][owner_id]
        assert [r["id"] for r in now["items"]] == [r["id"] for r in page["items"]]
        for old, new in zip(page["items"], now["items"], strict=True):
            if old["id"] == fired:
                kept = set(old) - FIRING_FIELDS
                assert {k: new[k] for k in kept} == {k: old[k] for k in kept}
                assert new["last_run_at"] is not None
            else:
                assert new == old
    deliveries = {item["delivery_id"]: item for item in after["deliveries"]["items"]}
    for item in before["deliveries"]["items"]:
        assert deliveries.pop(item["delivery_id"], None) == item
    assert [item["reminder_id"] for item in deliveries.values()] == [fired]


def stop(process: RemindersProcess, how: signal.Signals) -> None:
    """SIGTERM shuts down in order; kill -9 gives the process no chance to tidy anything."""
    code = process.stop(how)
    if how is signal.SIGTERM:
        assert "Application shutdown complete." in process.output(), process.describe()
    else:
        assert code == -signal.SIGKILL, process.describe()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_a_restart_keeps_everything_and_slots_due_while_down_follow_the_grace_rule(
    tmp_path: Path, how: signal.Signals
) -> None:
    args = ["--database-url", f"sqlite:///{tmp_path / 'reminders.db'}", "--tick-seconds", "0.2"]

    # First life: users, reminders, one delivery sent; a reminder comes due after the stop. Its key,
    # printed when it created the first team, still holds in the later lives.
    with running("serve", args, name="first", cwd=tmp_path) as first:
        key = admin_key(first)
        with client(first.url, key) as http:
            ada = create_user(http, "Ada Lovelace", "ada@example.com")
            bob = create_user(http, "Bob Bemer", "bob@example.com")
            soon = create_reminder(http, once_at(ada["id"], "Soon", whole_second(2)))
            daily = reminder_body(
                bob["id"], "Coffee", frequency="daily", time_of_day="09:30", timezone="Europe/Berlin"
            )
            create_reminder(http, daily)
            weekly = reminder_body(
                bob["id"], "Retro", frequency="weekly", weekdays=[0, 3], time_of_day="16:00:30"
            )
            create_reminder(http, weekly)
            assert wait_for_delivery(http, soon["id"], first)["status"] == "sent"
            missed_slot = whole_second(AFTER_THE_STOP)
            while_down = create_reminder(http, once_at(ada["id"], "Due while down", missed_slot))
            owners = [ada["id"], bob["id"]]
            before = snapshot(http, owners)
        stop(first, how)
    assert datetime.now(UTC) < missed_slot, "the first process outlived the slot it should miss"
    assert before["deliveries"]["total"] == 1
    assert before["reminders"][bob["id"]]["items"][0]["next_run_at"] is not None

    # Second life, started only once the slot is older than the grace period.
    sleep_until(missed_slot + timedelta(seconds=SHORT_GRACE + 0.2))
    short_grace = [*args, "--grace-seconds", str(SHORT_GRACE)]
    with running("serve", short_grace, name="second", cwd=tmp_path) as second:
        assert second.printed_key() is None, second.describe()
        with client(second.url, key) as http:
            missed = wait_for_delivery(http, while_down["id"], second)
            assert (missed["status"], missed["sent_at"], missed["attempts"]) == ("missed", None, 0), missed
            assert missed["scheduled_for"] == missed_slot.isoformat()
            after = snapshot(http, owners)
            assert_survived(before, after, fired=while_down["id"])
            late_slot = whole_second(AFTER_THE_STOP)
            late = create_reminder(http, once_at(bob["id"], "Late but in grace", late_slot))
            before = snapshot(http, owners)
        stop(second, how)
    assert datetime.now(UTC) < late_slot, "the second process outlived the slot it should send late"

    # Third life, with the default grace of 300 s: the slot that came due while down is sent late.
    sleep_until(late_slot + timedelta(seconds=0.2))
    with running("serve", args, name="third", cwd=tmp_path) as third:
        with client(third.url, key) as http:
            sent = wait_for_delivery(http, late["id"], third)
            assert sent["status"] == "sent", sent
            assert sent["scheduled_for"] == late_slot.isoformat()
            assert sent["lateness_seconds"] > 0.2, sent
            assert_survived(before, snapshot(http, owners), fired=late["id"])
        stop(third, signal.SIGTERM)
