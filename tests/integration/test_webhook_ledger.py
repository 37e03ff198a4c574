"""What a user sees in the delivery ledger when a webhook receiver struggles or refuses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.webhook_channel import WebhookChannel
from application import views
from application.commands import CheckDueReminders, CreateReminder, CreateUser
from domain.delivery import Delivery, DeliveryStatus
from domain.schedule import Frequency
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, make_service
from tests.integration.conftest import TIMEOUT
from tests.integration.peers import HOST, HttpReceiver, Reply


@pytest.fixture
def webhook() -> Iterator[WebhookChannel]:
    channel = WebhookChannel(secret="ledger-secret", timeout=TIMEOUT)
    yield channel
    channel.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def service(clock: FixedClock, webhook: WebhookChannel) -> Service:
    return make_service(clock=clock, channels={"webhook": webhook})


def fire_one_slot(service: Service, clock: FixedClock, receiver: HttpReceiver) -> Delivery:
    owner = service.bus.handle(CreateUser(name="Ann", email="ann@example.com"))
    reminder = service.bus.handle(
        CreateReminder(
            owner_id=owner.id,
            title="Deploy",
            message="Ship it",
            channel="webhook",
            target=f"http://{HOST}:{receiver.port}/hook",
            time_of_day="08:30",
            frequency=Frequency.DAILY,
        )
    )
    clock.advance(minutes=31)
    service.bus.handle(CheckDueReminders(now=clock.now()))
    page = views.list_deliveries(service.uow_factory, reminder_id=reminder.id, limit=10, offset=0)
    assert page.total == 1
    return page.items[0]


def test_two_503s_then_a_200_is_one_delivery_sent_after_three_attempts_with_one_key(
    service: Service, clock: FixedClock, receiver: HttpReceiver
) -> None:
    receiver.replies = [Reply(503), Reply(503), Reply(200)]

    delivery = fire_one_slot(service, clock, receiver)

    assert delivery.status is DeliveryStatus.SENT
    assert [attempt.number for attempt in delivery.attempts] == [1, 2, 3]
    assert [attempt.error is None for attempt in delivery.attempts] == [False, False, True]
    keys = {request.headers["idempotency-key"] for request in receiver.requests}
    assert len(receiver.requests) == 3
    assert keys == {f"{delivery.reminder_id}:{delivery.scheduled_for.isoformat()}"}  # type: ignore[union-attr]


def test_a_404_is_a_delivery_failed_after_one_attempt_with_the_error_recorded(
    service: Service, clock: FixedClock, receiver: HttpReceiver
) -> None:
    receiver.replies = [Reply(404)]

    delivery = fire_one_slot(service, clock, receiver)

    assert delivery.status is DeliveryStatus.FAILED
    assert len(delivery.attempts) == 1
    assert delivery.error is not None
    assert "404" in delivery.error
    assert delivery.attempts[0].error == delivery.error
    assert len(receiver.requests) == 1
