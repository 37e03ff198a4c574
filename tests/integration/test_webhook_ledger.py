"""What a user sees in the delivery ledger when a webhook receiver struggles or refuses, or when the
worker sending to it dies: the queue, worked inline (tests.fakes.run_queue), against a real receiver,
on every store."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest

from adapters.webhook_channel import WebhookChannel
from application import views
from application.commands import (
    AttemptOutcome,
    CheckDueReminders,
    CreateReminder,
    CreateUser,
    ExpireLeases,
    RecordOutcomes,
)
from application.retry_policy import RetryPolicy
from domain.delivery import Delivery, DeliveryStatus
from domain.schedule import Frequency
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, admin, claim, make_service, run_queue
from tests.integration.conftest import TIMEOUT
from tests.integration.peers import HOST, HttpReceiver, Reply, Request
from tests.stores import KINDS, MakeStore


@pytest.fixture
def webhook() -> Iterator[WebhookChannel]:
    channel = WebhookChannel(secret="ledger-secret", timeout=TIMEOUT, allow_private_targets=True)
    yield channel
    channel.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(params=KINDS)
def service(
    request: pytest.FixtureRequest, make_store: MakeStore, clock: FixedClock, webhook: WebhookChannel
) -> Service:
    store = make_store(request.param)
    return make_service(clock=clock, channels={"webhook": webhook}, uow_factory=store.uow_factory)


def fire_one_slot(service: Service, clock: FixedClock, receiver: HttpReceiver) -> str:
    """A daily webhook reminder whose 08:30 slot fires; returns the id of the slot's delivery."""
    owner = service.bus.handle(CreateUser(actor=admin(service), name="Ann", email="ann@example.com"))
    reminder = service.bus.handle(
        CreateReminder(
            actor=admin(service),
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
    page = views.list_deliveries(
        service.uow_factory, admin(service), reminder_id=reminder.id, limit=10, offset=0
    )
    assert page.total == 1
    assert page.items[0].status is DeliveryStatus.PENDING
    return page.items[0].id


def stored(service: Service, delivery_id: str) -> Delivery:
    return views.get_delivery(service.uow_factory, admin(service), delivery_id)


def slot_key(delivery: Delivery) -> str:
    assert delivery.scheduled_for is not None
    return f"{delivery.reminder_id}:{delivery.scheduled_for.isoformat()}"


def test_two_503s_then_a_200_is_one_delivery_sent_after_three_attempts_with_one_key(
    service: Service, clock: FixedClock, receiver: HttpReceiver
) -> None:
    receiver.replies = [Reply(503), Reply(503), Reply(200)]
    delivery_id = fire_one_slot(service, clock, receiver)

    run_queue(service)

    delivery = stored(service, delivery_id)
    assert delivery.status is DeliveryStatus.SENT
    assert [attempt.number for attempt in delivery.attempts] == [1, 2, 3]
    assert [attempt.error is None for attempt in delivery.attempts] == [False, False, True]
    assert len(receiver.requests) == 3
    assert {request.headers["idempotency-key"] for request in receiver.requests} == {slot_key(delivery)}


def test_a_404_is_a_delivery_failed_after_one_attempt_with_the_error_recorded(
    service: Service, clock: FixedClock, receiver: HttpReceiver
) -> None:
    receiver.replies = [Reply(404)]
    delivery_id = fire_one_slot(service, clock, receiver)

    run_queue(service)

    delivery = stored(service, delivery_id)
    assert delivery.status is DeliveryStatus.FAILED
    assert len(delivery.attempts) == 1
    assert delivery.error is not None
    assert "404" in delivery.error
    assert delivery.attempts[0].error == delivery.error
    assert len(receiver.requests) == 1


def test_a_503_with_retry_after_shows_the_attempt_so_far_and_waits_as_asked_before_the_next(
    make_store: MakeStore, clock: FixedClock, webhook: WebhookChannel, receiver: HttpReceiver
) -> None:
    service = make_service(
        clock=clock,
        channels={"webhook": webhook},
        uow_factory=make_store("sqlite").uow_factory,
        retry_policy=RetryPolicy(attempts=4, base_seconds=0, max_seconds=60),
    )
    receiver.replies = [Reply(503, b"busy", {"Retry-After": "20"}), Reply(200)]
    delivery_id = fire_one_slot(service, clock, receiver)

    run_queue(service)

    waiting = stored(service, delivery_id)
    assert waiting.status is DeliveryStatus.PENDING
    assert [attempt.error is not None for attempt in waiting.attempts] == [True]
    assert waiting.next_attempt_at is not None
    assert (waiting.next_attempt_at - clock.now()).total_seconds() == 20
    clock.advance(seconds=19)
    assert run_queue(service) == []
    clock.advance(seconds=1)

    run_queue(service)

    sent = stored(service, delivery_id)
    assert (sent.status, len(sent.attempts)) == (DeliveryStatus.SENT, 2)
    assert len(receiver.requests) == 2


def test_a_receiver_slow_to_answer_does_not_make_the_delivery_late(
    service: Service, clock: FixedClock, receiver: HttpReceiver
) -> None:
    """The POST arrives a minute after the 08:30 slot and the receiver takes 3.57 s to answer: the
    ledger says the delivery was a minute late, and when the answer came."""

    def answer_slowly(request: Request) -> Reply:
        clock.advance(seconds=3.57)
        return Reply(200)

    receiver.responder = answer_slowly
    delivery_id = fire_one_slot(service, clock, receiver)
    posted_at = clock.now()

    run_queue(service)

    delivery = stored(service, delivery_id)
    assert delivery.status is DeliveryStatus.SENT
    assert (delivery.first_attempt_at, delivery.sent_at) == (posted_at, posted_at + timedelta(seconds=3.57))
    assert (delivery.lateness_seconds, delivery.via) == (60, None)
    assert len(receiver.requests) == 1


def test_a_webhook_sent_again_after_its_worker_died_keeps_its_idempotency_key(
    service: Service, clock: FixedClock, receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    """At-least-once: the receiver may get the POST twice, and can tell by the key that it is one."""
    delivery_id = fire_one_slot(service, clock, receiver)
    [job] = claim(service, worker="dies", lease_seconds=60)
    result = service.sender.attempt(job.notification, number=job.attempt_number)  # ... and dies unrecorded
    assert len(receiver.requests) == 1

    clock.advance(seconds=60)
    assert service.bus.handle(ExpireLeases(limit=10)) == 1
    run_queue(service, worker="survivor")

    delivery = stored(service, delivery_id)
    assert delivery.status is DeliveryStatus.SENT
    assert [attempt.number for attempt in delivery.attempts] == [1]
    keys = [request.headers["idempotency-key"] for request in receiver.requests]
    assert keys == [slot_key(delivery)] * 2
    page = views.list_deliveries(
        service.uow_factory, admin(service), reminder_id=delivery.reminder_id, limit=10, offset=0
    )
    assert page.total == 1

    caplog.set_level(logging.WARNING)
    late = AttemptOutcome(job.delivery_id, job.token, result.attempt)  # had the dead worker come back
    assert service.bus.handle(RecordOutcomes(outcomes=[late])) == []
    assert stored(service, delivery_id).attempts == delivery.attempts
    assert any(record.getMessage().startswith("late outcome refused") for record in caplog.records)
