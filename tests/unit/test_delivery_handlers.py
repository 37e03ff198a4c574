"""Sending: a delivery is queued (on demand or by the tick) and a worker sends it, through the real bus.

Retries live in test_delivery_retries.py, claims and leases in test_delivery_claims.py, retention in
test_delivery_pruning.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from adapters.memory import MemoryUnitOfWork
from application import views
from application.channels import PermanentChannelError, TransientChannelError
from application.commands import DeleteReminder, SendReminderNow
from application.handlers.queue import REMINDER_GONE
from domain.delivery import Attempt, DeliveryStatus
from domain.errors import NotFound
from domain.events import (
    DeliveryCancelled,
    DeliveryFailed,
    DeliveryQueued,
    DeliverySucceeded,
    ReminderDue,
)
from tests.fakes import admin, run_queue
from tests.unit.world import SLOT, START, World, create_reminder, ledger, send_now, tick, world

QUARTER_SECOND = timedelta(milliseconds=250)


def test_send_now_queues_a_pending_delivery_and_wakes_a_worker_without_sending() -> None:
    w = world()
    assert not w.service.signals.wait_for_work(0)

    delivery = w.send_now()

    assert (delivery.status, delivery.scheduled_for, delivery.channel) == (
        DeliveryStatus.PENDING,
        None,
        "team",
    )
    saved = w.stored(delivery.id)
    assert (saved.status, saved.next_attempt_at, saved.attempts) == (DeliveryStatus.PENDING, START, ())
    assert w.team.tried == []
    assert w.events == [DeliveryQueued(delivery_id=delivery.id, reminder_id=w.reminder.id)]
    assert w.service.signals.wait_for_work(0)


def test_the_queue_sends_the_rendered_reminder_and_records_it() -> None:
    w = world()
    reminder = create_reminder(
        w.service,
        w.owner,
        target="#team",
        title="Standup for {owner_name}",
        message="{title}: {date} at {scheduled_for_local} ({timezone}), {{not a placeholder}}",
        timezone="Europe/Berlin",
    )
    delivery = send_now(w.service, reminder)
    w.events.clear()

    [recorded] = run_queue(w.service)

    [sent] = w.team.sent
    assert sent.title == "Standup for Ann"
    assert (
        sent.message == "Standup for Ann: 2026-01-05 at 2026-01-05 09:00 (Europe/Berlin), {not a placeholder}"
    )
    assert (sent.target, sent.owner_email, sent.scheduled_for) == ("#team", "ann@example.com", None)
    assert sent.idempotency_key == f"{reminder.id}:{delivery.id}"
    saved = w.stored(delivery.id)
    assert recorded.id == saved.id
    assert (saved.status, saved.error, saved.sent_at) == (DeliveryStatus.SENT, None, START + QUARTER_SECOND)
    assert saved.attempts == (Attempt(1, START, 250.0, None),)
    assert (saved.claimed_by, saved.claim_token, saved.next_attempt_at) == (None, None, None)
    assert w.events == [
        DeliverySucceeded(
            delivery_id=delivery.id,
            reminder_id=reminder.id,
            channel="team",
            attempts=1,
            attempts_made=1,
            scheduled_for=None,
            first_attempt_at=START,
            sent_at=START + QUARTER_SECOND,
        )
    ]
    assert w.metrics.outcomes == [("team", "sent", 1)]


def test_a_queued_delivery_is_sent_once_however_often_the_queue_runs() -> None:
    w = world()
    delivery = w.send_now()

    first, second = run_queue(w.service), run_queue(w.service, worker="another-worker")

    assert [d.id for d in first] == [delivery.id]
    assert second == []
    assert len(w.team.tried) == 1


def test_send_now_leaves_the_schedule_alone() -> None:
    w = world()

    w.send_now()
    run_queue(w.service)

    after = views.get_reminder(w.service.uow_factory, admin(w.service), w.reminder.id)
    assert (after.next_run_at, after.last_run_at, after.version) == (SLOT, None, w.reminder.version)


def test_send_now_sends_an_inactive_reminder_without_scheduling_it() -> None:
    w = world()
    reminder = create_reminder(w.service, w.owner, target="#team", active=False)

    delivery = send_now(w.service, reminder)
    run_queue(w.service)

    assert w.stored(delivery.id).status is DeliveryStatus.SENT
    assert views.get_reminder(w.service.uow_factory, admin(w.service), reminder.id).next_run_at is None


def test_send_now_of_an_unknown_reminder_is_not_found_and_queues_nothing() -> None:
    w = world()

    with pytest.raises(NotFound):
        w.service.bus.handle(SendReminderNow(actor=admin(w.service), reminder_id="missing"))

    assert ledger(w.service) == []
    assert not w.service.signals.wait_for_work(0)


def test_a_permanent_error_fails_the_delivery_at_once() -> None:
    w = world()
    w.team.failures = [PermanentChannelError("401 unauthorised")]
    delivery = w.send_now()
    w.events.clear()

    run_queue(w.service)

    saved = w.stored(delivery.id)
    assert (saved.status, saved.error, saved.sent_at) == (DeliveryStatus.FAILED, "401 unauthorised", None)
    assert saved.attempts == (Attempt(1, START, 250.0, "401 unauthorised"),)
    assert len(w.team.tried) == 1
    assert (w.metrics.outcomes, w.metrics.retries) == ([("team", "failed", 1)], [])
    assert w.events == [
        DeliveryFailed(
            delivery_id=delivery.id,
            reminder_id=w.reminder.id,
            channel="team",
            attempts=1,
            attempts_made=1,
            scheduled_for=None,
            reason="401 unauthorised",
        )
    ]


def test_a_bug_in_a_channel_fails_the_delivery_without_leaking_its_message() -> None:
    w = world()
    w.team.failures = [RuntimeError("token=s3cr3t")]
    delivery = w.send_now()

    run_queue(w.service)

    saved = w.stored(delivery.id)
    assert saved.status is DeliveryStatus.FAILED
    assert saved.error == "unexpected RuntimeError in channel 'team'"
    assert [a.error for a in saved.attempts] == ["unexpected RuntimeError in channel 'team'"]
    assert len(w.team.tried) == 1


def test_a_slot_fired_by_the_tick_waits_in_the_queue_and_is_sent_under_the_slots_key() -> None:
    w = world()
    now = w.clock.advance(hours=1, seconds=30)

    tick(w.service, now)

    [delivery] = ledger(w.service)
    assert (delivery.status, delivery.scheduled_for, w.team.tried) == (DeliveryStatus.PENDING, SLOT, [])
    assert ReminderDue(reminder_id=w.reminder.id, delivery_id=delivery.id, scheduled_for=SLOT) in w.events
    assert w.service.signals.wait_for_work(0)

    run_queue(w.service)

    saved = w.stored(delivery.id)
    # Late by the 30 s the slot waited for its tick; the quarter second the send took does not count.
    assert (saved.status, saved.first_attempt_at, saved.sent_at, saved.lateness_seconds) == (
        DeliveryStatus.SENT,
        now,
        now + QUARTER_SECOND,
        30.0,
    )
    [sent] = w.team.sent
    assert (sent.scheduled_for, sent.idempotency_key) == (SLOT, f"{w.reminder.id}:2026-01-05T09:00:00+00:00")
    assert (w.metrics.outcomes, w.metrics.lateness) == ([("team", "sent", 1)], [30.0])


def delete_the_reminder(w: World) -> None:
    w.service.bus.handle(DeleteReminder(actor=admin(w.service), reminder_id=w.reminder.id))


def remove_the_owner_only(w: World) -> None:
    # The user is gone but their reminders are not (the memory store does not cascade by itself).
    with MemoryUnitOfWork(w.store) as uow:
        user = uow.users.get(w.owner.id)
        assert user is not None
        uow.users.remove(user)
        uow.commit()


@pytest.mark.parametrize("disappear", [delete_the_reminder, remove_the_owner_only])
def test_a_delivery_whose_reminder_or_owner_is_gone_is_cancelled_unsent(
    disappear: Callable[[World], None],
) -> None:
    w = world()
    tick(w.service, w.clock.advance(hours=1))
    [delivery] = ledger(w.service)
    disappear(w)
    w.events.clear()

    assert run_queue(w.service) == []

    saved = w.stored(delivery.id)
    assert (saved.status, saved.error, saved.attempts) == (DeliveryStatus.CANCELLED, REMINDER_GONE, ())
    assert w.team.tried == []
    assert w.metrics.outcomes == [("team", "cancelled", 0)]
    assert w.events == [
        DeliveryCancelled(
            delivery_id=delivery.id,
            reminder_id=w.reminder.id,
            channel="team",
            scheduled_for=SLOT,
            reason=REMINDER_GONE,
        )
    ]


def test_whoever_waits_on_a_delivery_hears_each_of_its_outcomes_and_no_other() -> None:
    w = world()
    w.team.failures = [TransientChannelError("timeout")]
    waited = w.send_now()
    w.clock.advance(seconds=1)
    other = w.send_now()
    heard: list[DeliveryStatus] = []
    stop = w.service.signals.listen(waited.id, lambda: heard.append(w.stored(waited.id).status))

    run_queue(w.service)
    stop()
    w.service.signals.outcome_recorded(waited.id)

    # The first outcome is the retry scheduled after the timeout, the second the send.
    assert heard == [DeliveryStatus.PENDING, DeliveryStatus.SENT]
    assert w.stored(other.id).status is DeliveryStatus.SENT
