"""Snooze, acknowledge, repeat until acknowledged, and failure alerts, through the real bus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application import views
from application.channels import PermanentChannelError
from application.commands import AcknowledgeDelivery, CreateReminder, RepeatIn, SnoozeDelivery
from domain.delivery import Delivery, DeliveryKind, DeliveryStatus
from domain.errors import Forbidden, InvalidInput, NotFound, NotSnoozable
from domain.reminder import Reminder
from domain.schedule import Frequency
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, RecordingChannel, actor_of, admin, make_service, new_team, run_queue
from tests.unit.people import Person
from tests.unit.world import ledger, tick

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def email() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def service(clock: FixedClock, email: RecordingChannel) -> Service:
    return make_service(clock=clock, channels={"email": email})


def remind(service: Service, person: Person, **fields: Any) -> Reminder:
    values: dict[str, Any] = {
        "title": "Expenses",
        "message": "Submit them",
        "channel": "email",
        "time_of_day": "09:00",
        "frequency": Frequency.DAILY,
        **fields,
    }
    reminder: Reminder = service.bus.handle(CreateReminder(actor=person.actor, **values))
    return reminder


def fire(service: Service, clock: FixedClock, at: datetime = SLOT) -> Delivery:
    clock.current = at
    tick(service, at)
    (sent,) = [d for d in run_queue(service) if d.kind is DeliveryKind.SCHEDULED]
    return sent


def of_kind(service: Service, kind: DeliveryKind) -> list[Delivery]:
    return [d for d in ledger(service, alerts=True) if d.kind is kind]


def send_due(service: Service, clock: FixedClock, minutes: float) -> list[Delivery]:
    clock.advance(minutes=minutes)
    return run_queue(service)


def test_snooze_makes_a_follow_up_due_later_and_the_schedule_stays(
    service: Service, clock: FixedClock, ann: Person, email: RecordingChannel
) -> None:
    reminder = remind(service, ann)
    sent = fire(service, clock)

    follow_up: Delivery = service.bus.handle(SnoozeDelivery(actor=ann.actor, delivery_id=sent.id, minutes=10))

    assert follow_up.kind is DeliveryKind.SNOOZE
    assert follow_up.parent_delivery_id == sent.id
    assert follow_up.status is DeliveryStatus.PENDING
    assert follow_up.next_attempt_at == SLOT + timedelta(minutes=10)
    assert send_due(service, clock, 9) == []
    (again,) = send_due(service, clock, 1)
    assert again.id == follow_up.id
    assert again.status is DeliveryStatus.SENT
    with service.uow_factory() as uow:
        assert uow.reminders.get(reminder.id).next_run_at == SLOT + timedelta(days=1)  # type: ignore[union-attr]
    snoozed_again: Delivery = service.bus.handle(
        SnoozeDelivery(actor=ann.actor, delivery_id=again.id, until=clock.current + timedelta(hours=1))
    )
    assert snoozed_again.parent_delivery_id == again.id


def test_snooze_refuses_bad_times_and_unsent_deliveries(
    service: Service, clock: FixedClock, ann: Person
) -> None:
    remind(service, ann)
    sent = fire(service, clock)
    for bad in ({}, {"minutes": 5, "until": clock.current + timedelta(hours=1)}):
        with pytest.raises(InvalidInput):
            service.bus.handle(SnoozeDelivery(actor=ann.actor, delivery_id=sent.id, **bad))
    with pytest.raises(InvalidInput, match="7 days"):
        service.bus.handle(
            SnoozeDelivery(actor=ann.actor, delivery_id=sent.id, until=clock.current + timedelta(days=8))
        )
    with pytest.raises(InvalidInput, match="future"):
        service.bus.handle(
            SnoozeDelivery(actor=ann.actor, delivery_id=sent.id, until=clock.current - timedelta(minutes=1))
        )
    pending: Delivery = service.bus.handle(SnoozeDelivery(actor=ann.actor, delivery_id=sent.id, minutes=5))
    with pytest.raises(NotSnoozable):
        service.bus.handle(SnoozeDelivery(actor=ann.actor, delivery_id=pending.id, minutes=5))


def test_only_the_recipient_or_an_admin_answers_a_delivery(
    service: Service, clock: FixedClock, ann: Person, bob: Person
) -> None:
    remind(service, ann)
    sent = fire(service, clock)
    with pytest.raises(Forbidden):
        service.bus.handle(AcknowledgeDelivery(actor=bob.actor, delivery_id=sent.id))
    other = actor_of(new_team(service, "Other", "other@example.com"))
    with pytest.raises(NotFound):
        service.bus.handle(AcknowledgeDelivery(actor=other, delivery_id=sent.id))
    acked: Delivery = service.bus.handle(AcknowledgeDelivery(actor=admin(service), delivery_id=sent.id))
    assert acked.acknowledged_by == admin(service).user_id


def test_acknowledging_records_who_and_when_once(service: Service, clock: FixedClock, ann: Person) -> None:
    remind(service, ann)
    sent = fire(service, clock)
    clock.advance(minutes=3)

    first: Delivery = service.bus.handle(AcknowledgeDelivery(actor=ann.actor, delivery_id=sent.id))
    clock.advance(minutes=3)
    again: Delivery = service.bus.handle(AcknowledgeDelivery(actor=admin(service), delivery_id=sent.id))

    assert first.acknowledged_at == again.acknowledged_at == SLOT + timedelta(minutes=3)
    assert again.acknowledged_by == ann.user.id


def test_repeats_until_acknowledged_then_stops(
    service: Service, clock: FixedClock, ann: Person, email: RecordingChannel
) -> None:
    remind(service, ann, repeat_until_ack=RepeatIn(every_minutes=10, max_times=5))
    sent = fire(service, clock)
    (first_repeat,) = send_due(service, clock, 10)
    assert first_repeat.kind is DeliveryKind.REPEAT
    assert first_repeat.parent_delivery_id == sent.id
    (waiting,) = [d for d in of_kind(service, DeliveryKind.REPEAT) if d.status is DeliveryStatus.PENDING]

    clock.advance(minutes=10)  # the second repeat is due, but not yet claimed
    service.bus.handle(AcknowledgeDelivery(actor=ann.actor, delivery_id=first_repeat.id))

    assert run_queue(service) == []
    withdrawn = next(d for d in ledger(service) if d.id == waiting.id)
    assert withdrawn.status is DeliveryStatus.CANCELLED
    assert len(email.sent) == 2
    root = next(d for d in ledger(service) if d.id == sent.id)
    assert root.acknowledged_by == ann.user.id


def test_repeats_stop_after_max_times(service: Service, clock: FixedClock, ann: Person) -> None:
    remind(service, ann, repeat_until_ack=RepeatIn(every_minutes=5, max_times=2))
    fire(service, clock)
    for _ in range(5):
        send_due(service, clock, 5)
    repeats = of_kind(service, DeliveryKind.REPEAT)
    assert len(repeats) == 2
    assert all(d.status is DeliveryStatus.SENT for d in repeats)


def failing_hook(clock: FixedClock, email: RecordingChannel) -> tuple[Service, Reminder]:
    """A service whose "hook" channel fails every send, and the admin's reminder through it at 09:00
    and 20:00 UTC."""
    failing = RecordingChannel([PermanentChannelError("HTTP 500")] * 10, takes_target=True)
    service = make_service(clock=clock, channels={"email": email, "hook": failing})
    reminder: Reminder = service.bus.handle(
        CreateReminder(
            actor=admin(service),
            title="Deploy",
            message="Ship it",
            channel="hook",
            target="https://hooks.example.com/x",
            cron="0 9,20 * * *",
            frequency=Frequency.CRON,
        )
    )
    return service, reminder


def test_a_failed_delivery_alerts_its_owner_once_a_day(clock: FixedClock, email: RecordingChannel) -> None:
    service, reminder = failing_hook(clock, email)
    owner = admin(service)
    clock.current = SLOT
    tick(service, SLOT)
    run_queue(service)
    clock.current = SLOT + timedelta(hours=2)
    run_queue(service)

    (alert,) = of_kind(service, DeliveryKind.ALERT)
    assert alert.status is DeliveryStatus.SENT
    assert alert.channel == "email"
    assert alert.recipient_id == owner.user_id
    assert alert.reminder_id == reminder.id
    (sent,) = email.sent
    assert "Deploy" in sent.title
    assert "HTTP 500" in sent.message
    assert "2026-01-05" in sent.message

    clock.current = SLOT + timedelta(hours=11)  # the 20:00 slot fails too, within 24 hours of the alert
    tick(service, clock.current)
    run_queue(service)
    assert len(of_kind(service, DeliveryKind.ALERT)) == 1
    clock.current = SLOT + timedelta(days=1)
    tick(service, clock.current)
    run_queue(service)
    assert len(of_kind(service, DeliveryKind.ALERT)) == 2


def test_a_failed_alert_is_recorded_and_not_alerted_about(clock: FixedClock) -> None:
    service, _ = failing_hook(clock, RecordingChannel([PermanentChannelError("no mail")] * 10))
    clock.current = SLOT
    tick(service, SLOT)
    run_queue(service)

    (alert,) = of_kind(service, DeliveryKind.ALERT)
    assert alert.status is DeliveryStatus.FAILED
    assert len(ledger(service, alerts=True)) == 2


def test_a_repeat_claimed_after_its_delivery_was_acknowledged_is_cancelled_unsent(
    service: Service, clock: FixedClock, ann: Person, email: RecordingChannel
) -> None:
    """The claim checks the acknowledgement too: a repeat the acknowledgement's commit did not reach
    (it raced with it) is cancelled when a worker takes it, never sent."""
    remind(service, ann, repeat_until_ack=RepeatIn(every_minutes=10, max_times=3))
    sent = fire(service, clock)
    with service.uow_factory() as uow:  # acknowledged behind the handler's back: the repeat still waits
        root = uow.deliveries.get(sent.id)
        assert root is not None
        root.acknowledge(ann.user.id, clock.current)
        uow.commit()

    assert send_due(service, clock, 10) == []

    (repeat,) = of_kind(service, DeliveryKind.REPEAT)
    assert repeat.status is DeliveryStatus.CANCELLED
    assert repeat.error == "acknowledged before it was sent"
    assert len(email.sent) == 1


def test_a_member_lists_the_deliveries_addressed_to_them_beside_their_own(
    service: Service, clock: FixedClock, ann: Person, bob: Person
) -> None:
    remind(service, ann, recipients=[ann.user.id, bob.user.id], title="Team notes")
    remind(service, ann, title="Ann's own")
    clock.current = SLOT
    tick(service, SLOT)
    run_queue(service)

    bobs = views.list_deliveries(service.uow_factory, bob.actor, limit=50, offset=0)
    anns = views.list_deliveries(service.uow_factory, ann.actor, limit=50, offset=0)

    assert [d.recipient_id for d in bobs.items] == [bob.user.id]
    assert bobs.total == 1
    assert anns.total == 3  # her two reminders' deliveries: one to each recipient, and her own
