"""A deactivated user's reminders are not sent: their slots pass with nothing recorded, sending on
demand is refused, and deliveries already queued are cancelled. Reactivated, they resume from the
next slot, with no storm of the ones that passed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application import views
from application.channels import PermanentChannelError
from application.commands import UpdateUser, UserPatch
from application.handlers.queue import OWNER_INACTIVE
from domain.delivery import DeliveryStatus
from domain.errors import InactiveUser
from tests.fakes import FixedClock, RecordingChannel, admin, make_service, run_queue
from tests.unit.world import (
    SLOT,
    START,
    World,
    add_owner,
    create_reminder,
    ledger,
    retry,
    stored,
    tick,
    tick_and_send,
    world,
)

DAY = timedelta(days=1)


def set_active(w: World, active: bool) -> None:
    changes = UserPatch(active=active)
    w.service.bus.handle(UpdateUser(actor=admin(w.service), user_id=w.owner.id, changes=changes))


def run_every_minute(w: World, *, days: int) -> None:
    """The service running for `days` from the clock's time: a tick each minute, each followed by a send."""
    end = w.clock.current + days * DAY
    while w.clock.current < end:
        tick_and_send(w.service, w.clock, w.clock.advance(minutes=1))


def test_a_deactivated_owners_slots_pass_with_nothing_recorded() -> None:
    w = world()
    set_active(w, False)

    run_every_minute(w, days=3)

    assert ledger(w.service) == []
    assert w.team.tried == []
    reminder = views.get_reminder(w.service.uow_factory, admin(w.service), w.reminder.id)
    assert (reminder.active, reminder.next_run_at) == (True, SLOT + 3 * DAY)


def test_sending_a_deactivated_owners_reminder_now_is_refused() -> None:
    w = world()
    set_active(w, False)

    with pytest.raises(InactiveUser):
        w.send_now()

    assert ledger(w.service) == []


def test_a_delivery_queued_before_its_owner_was_deactivated_is_cancelled_unsent() -> None:
    w = world()
    tick(w.service, w.clock.advance(hours=1))
    queued = w.send_now()
    set_active(w, False)

    run_queue(w.service)

    statuses = [(d.status, d.error) for d in ledger(w.service)]
    assert statuses == [(DeliveryStatus.CANCELLED, OWNER_INACTIVE)] * 2
    assert w.stored(queued.id).attempts == ()
    assert w.team.tried == []


def test_a_reactivated_owners_reminder_resumes_from_its_next_slot() -> None:
    w = world()
    set_active(w, False)
    run_every_minute(w, days=3)  # to 08:00 on the fourth day, the three slots passed

    set_active(w, True)
    run_every_minute(w, days=1)

    [delivery] = ledger(w.service)
    assert (delivery.scheduled_for, delivery.status) == (SLOT + 3 * DAY, DeliveryStatus.SENT)
    assert [n.scheduled_for for n in w.team.sent] == [SLOT + 3 * DAY]


def test_reactivated_after_the_days_slot_it_waits_for_tomorrow() -> None:
    w = world()
    set_active(w, False)
    run_every_minute(w, days=1)
    tick_and_send(w.service, w.clock, w.clock.advance(hours=2))  # 10:00: the 09:00 slot has passed

    set_active(w, True)
    run_every_minute(w, days=1)

    assert [d.scheduled_for for d in ledger(w.service)] == [SLOT + 2 * DAY]


def test_a_full_batch_of_passed_slots_does_not_hold_back_the_reminders_behind_it() -> None:
    clock = FixedClock(START)
    service = make_service(clock=clock, channels={"team": RecordingChannel()}, batch_size=2)
    leaving = add_owner(service, "ann@example.com")
    create_reminder(service, leaving, title="First")
    create_reminder(service, leaving, title="Second")
    active = create_reminder(service, add_owner(service, "bob@example.com"), time_of_day="09:01")
    changes = UserPatch(active=False)
    service.bus.handle(UpdateUser(actor=admin(service), user_id=leaving.id, changes=changes))

    first = tick(service, SLOT + timedelta(minutes=2))
    second = tick(service, SLOT + timedelta(minutes=2))

    # Passing two slots is progress: the ticker runs again at once rather than after its interval.
    assert (first.due, first.fired, first.more) == (2, 0, True)
    assert (second.due, second.fired) == (1, 1)
    assert [d.reminder_id for d in ledger(service)] == [active.id]


def test_retrying_a_deactivated_owners_failed_delivery_is_refused() -> None:
    w = world()
    w.team.failures = [PermanentChannelError("410 gone")]
    failed = w.send_now()
    run_queue(w.service)
    assert stored(w.service, failed.id).status is DeliveryStatus.FAILED
    set_active(w, False)

    with pytest.raises(InactiveUser):
        retry(w.service, failed.id)

    assert stored(w.service, failed.id).status is DeliveryStatus.FAILED
