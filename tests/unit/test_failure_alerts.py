"""Failure alerts: once per reminder a day even when two workers record failures at once, and an alert
is not the owner's way to answer for the recipient of the delivery it is about."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from application.channels import PermanentChannelError
from application.commands import (
    AcknowledgeDelivery,
    AttemptOutcome,
    CreateReminder,
    RecordOutcomes,
    SnoozeDelivery,
)
from domain.delivery import Delivery, DeliveryKind, DeliveryStatus
from domain.errors import AlertNotAnswerable, Forbidden
from domain.schedule import Frequency
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, RecordingChannel, claim, make_service, run_queue
from tests.unit.people import Person, join
from tests.unit.world import InterleavingStore, ledger, tick

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def failing_email(
    failures: int, store: InterleavingStore | None = None
) -> tuple[Service, FixedClock, Person, Person]:
    clock = FixedClock(START)
    email = RecordingChannel([PermanentChannelError("mailbox full")] * failures)
    service = make_service(clock=clock, channels={"email": email}, store=store)
    return (
        service,
        clock,
        join(service, "ann@example.com", name="Ann"),
        join(service, "bob@example.com", name="Bob"),
    )


def remind(service: Service, owner: Person, recipients: list[str]) -> None:
    service.bus.handle(
        CreateReminder(
            actor=owner.actor,
            title="Expenses",
            message="Submit them",
            channel="email",
            time_of_day="09:00",
            frequency=Frequency.DAILY,
            recipients=recipients,
        )
    )


def of_kind(service: Service, kind: DeliveryKind) -> list[Delivery]:
    return [d for d in ledger(service, alerts=True) if d.kind is kind]


def test_two_failures_recorded_at_once_alert_the_owner_once() -> None:
    store = InterleavingStore()
    service, clock, ann, bob = failing_email(2, store)
    remind(service, ann, [ann.user.id, bob.user.id])
    clock.current = SLOT
    tick(service, SLOT)
    outcomes = []
    for job in claim(service):
        result = service.sender.attempt(job.notification, number=job.attempt_number)
        outcomes.append(AttemptOutcome(job.delivery_id, job.token, result.attempt, result.transient, None))

    # Worker B records its failure while worker A's commit is on its way.
    store.before_next_commit.append(lambda: service.bus.handle(RecordOutcomes(outcomes=[outcomes[1]])))
    service.bus.handle(RecordOutcomes(outcomes=[outcomes[0]]))

    assert [d.status for d in of_kind(service, DeliveryKind.SCHEDULED)] == [DeliveryStatus.FAILED] * 2
    assert len(of_kind(service, DeliveryKind.ALERT)) == 1


def test_an_alert_is_not_snoozed_or_acknowledged_and_answers_nothing_for_the_recipient() -> None:
    service, clock, ann, bob = failing_email(1)
    remind(service, ann, [bob.user.id])
    clock.current = SLOT
    tick(service, SLOT)
    run_queue(service)  # Bob's delivery fails for good; the alert to Ann is sent
    (bobs,) = of_kind(service, DeliveryKind.SCHEDULED)
    (alert,) = of_kind(service, DeliveryKind.ALERT)
    snooze: Delivery = service.bus.handle(SnoozeDelivery(actor=bob.actor, delivery_id=bobs.id, minutes=30))

    with pytest.raises(Forbidden):
        service.bus.handle(AcknowledgeDelivery(actor=ann.actor, delivery_id=bobs.id))
    with pytest.raises(AlertNotAnswerable):
        service.bus.handle(AcknowledgeDelivery(actor=ann.actor, delivery_id=alert.id))
    with pytest.raises(AlertNotAnswerable):
        service.bus.handle(SnoozeDelivery(actor=ann.actor, delivery_id=alert.id, minutes=5))

    after = {d.id: d for d in ledger(service, alerts=True)}
    assert after[bobs.id].acknowledged_by is None
    assert after[alert.id].acknowledged_by is None
    assert after[snooze.id].status is DeliveryStatus.PENDING
