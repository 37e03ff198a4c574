"""Who sees which deliveries: a member those of their own reminders, an admin the team's, and
another team none."""

from __future__ import annotations

import pytest

from application import views
from application.channels import PermanentChannelError
from application.commands import RetryDelivery, SendReminderNow
from domain.actor import Actor
from domain.delivery import Delivery, DeliveryStatus
from domain.errors import Forbidden, NotFound
from domain.reminder import Reminder
from entrypoints.bootstrap import Service
from tests.fakes import RecordingChannel, admin, run_queue
from tests.unit.people import Person, outsider, reminder_of


def sent_now(service: Service, person: Person) -> Delivery:
    reminder = reminder_of(service, person, channel="team")
    delivery: Delivery = service.bus.handle(SendReminderNow(actor=person.actor, reminder_id=reminder.id))
    return delivery


def visible(service: Service, actor: Actor, reminder: Reminder | None = None) -> set[str]:
    page = views.list_deliveries(
        service.uow_factory, actor, limit=50, offset=0, reminder_id=reminder.id if reminder else None
    )
    return {delivery.id for delivery in page.items}


def test_a_member_lists_their_own_reminders_deliveries_and_an_admin_the_teams(
    service: Service, ann: Person, bob: Person
) -> None:
    anns, bobs = sent_now(service, ann), sent_now(service, bob)
    stranger = outsider(service)

    assert visible(service, ann.actor) == {anns.id}
    assert visible(service, bob.actor) == {bobs.id}
    assert visible(service, admin(service)) == {anns.id, bobs.id}
    assert visible(service, stranger.actor) == set()


def test_a_member_may_not_read_another_members_deliveries(service: Service, ann: Person, bob: Person) -> None:
    bobs = sent_now(service, bob)

    with pytest.raises(Forbidden):
        views.get_delivery(service.uow_factory, ann.actor, bobs.id)
    with pytest.raises(Forbidden):
        visible(
            service, ann.actor, reminder=views.get_reminder(service.uow_factory, bob.actor, bobs.reminder_id)
        )

    assert views.get_delivery(service.uow_factory, admin(service), bobs.id).id == bobs.id


def test_a_member_may_not_retry_another_members_failed_delivery_but_its_owner_may(
    service: Service, team: RecordingChannel, ann: Person, bob: Person
) -> None:
    team.failures = [PermanentChannelError("401")]
    bobs = sent_now(service, bob)
    run_queue(service)

    with pytest.raises(Forbidden):
        service.bus.handle(RetryDelivery(actor=ann.actor, delivery_id=bobs.id))
    assert views.get_delivery(service.uow_factory, bob.actor, bobs.id).status is DeliveryStatus.FAILED

    retried: Delivery = service.bus.handle(RetryDelivery(actor=bob.actor, delivery_id=bobs.id))
    assert retried.status is DeliveryStatus.PENDING


def test_another_teams_delivery_looks_like_one_that_does_not_exist(service: Service, ann: Person) -> None:
    anns = sent_now(service, ann)
    stranger = outsider(service)

    for delivery_id in (anns.id, "no-such-delivery"):
        with pytest.raises(NotFound) as reading:
            views.get_delivery(service.uow_factory, stranger.actor, delivery_id)
        with pytest.raises(NotFound) as retrying:
            service.bus.handle(RetryDelivery(actor=stranger.actor, delivery_id=delivery_id))
        for raised in (reading, retrying):
            assert raised.value.message == f"delivery {delivery_id!r} was not found"
