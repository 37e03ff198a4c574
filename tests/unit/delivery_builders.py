"""Deliveries in each state, built through the aggregate's own methods, for the domain tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.delivery import Attempt, Delivery

SLOT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = SLOT + timedelta(seconds=5)
LEASE = timedelta(seconds=60)


def pending(*, scheduled_for: datetime | None = SLOT) -> Delivery:
    delivery = Delivery.open(
        reminder_id="r-1", team_id="t-1", owner_id="u-1", channel="log", scheduled_for=scheduled_for, now=NOW
    )
    delivery.pull_events()
    return delivery


def missed() -> Delivery:
    return Delivery.open(
        reminder_id="r-1",
        team_id="t-1",
        owner_id="u-1",
        channel="log",
        scheduled_for=SLOT,
        now=NOW,
        missed=True,
    )


def attempt(number: int = 1, error: str | None = None, *, at: datetime = NOW) -> Attempt:
    return Attempt(number=number, started_at=at, duration_ms=12.5, error=error)


def claimed(delivery: Delivery | None = None, *, at: datetime = NOW) -> tuple[Delivery, str]:
    delivery = delivery or pending()
    return delivery, delivery.claim("w-1", at, lease=LEASE)


def sent() -> Delivery:
    delivery, token = claimed()
    delivery.succeed(token, attempt(), now=NOW)
    delivery.pull_events()
    return delivery


def failed(*, tries: int = 1) -> Delivery:
    delivery = pending()
    for number in range(1, tries):
        token = delivery.claim("w-1", NOW, lease=LEASE)
        delivery.retry_later(token, attempt(number, "timeout"), now=NOW, at=NOW)
    token = delivery.claim("w-1", NOW, lease=LEASE)
    delivery.fail(token, attempt(tries, "timeout"), now=NOW)
    delivery.pull_events()
    return delivery


def cancelled() -> Delivery:
    delivery, token = claimed()
    delivery.cancel("gone", token=token, now=NOW)
    return delivery
