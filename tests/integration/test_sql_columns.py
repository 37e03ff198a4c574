"""The delivery queue's columns on the SQL stores: each queue field of a Delivery is stored in its own
column (the queries that claim, expire and count work read them there) and comes back exactly as
written, timezone-aware UTC to the microsecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from adapters.sql import tables
from adapters.sql.unit_of_work import SqlUnitOfWork
from domain.delivery import Attempt, Delivery, DeliveryStatus
from tests.builders import NOW, make_reminder, make_user, save
from tests.stores import MakeStore, StoreUnderTest

QUEUE_COLUMNS = (
    "next_attempt_at",
    "claimed_by",
    "claimed_at",
    "lease_expires_at",
    "claim_token",
    "round_start",
)
# Microseconds, so a store that truncates them is caught.
LATER = NOW + timedelta(seconds=90, microseconds=123_456)
WORKER = "host-a:4242:5f3c1e"


def stored_row(store: StoreUnderTest, delivery_id: str) -> dict[str, Any]:
    uow = store.uow_factory()
    assert isinstance(uow, SqlUnitOfWork)
    with uow:
        columns = [tables.deliveries.c[name] for name in ("status", *QUEUE_COLUMNS)]
        query = select(*columns).where(tables.deliveries.c.id == delivery_id)
        return dict(uow.connection().execute(query).one()._mapping)


def loaded(store: StoreUnderTest, delivery_id: str) -> Delivery:
    with store.uow_factory() as uow:
        delivery = uow.deliveries.get(delivery_id)
        assert delivery is not None
        return delivery


def queue_fields(delivery: Delivery) -> dict[str, Any]:
    return {"status": delivery.status, **{name: getattr(delivery, name) for name in QUEUE_COLUMNS}}


def saved_delivery(store: StoreUnderTest) -> Delivery:
    owner = make_user()
    reminder = make_reminder(owner)
    delivery = Delivery.open(
        reminder_id=reminder.id,
        team_id=reminder.team_id,
        owner_id=reminder.owner_id,
        channel="log",
        scheduled_for=NOW,
        now=NOW,
    )
    save(store, owner, reminder, delivery)
    return delivery


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_claim_round_trips_in_its_columns(make_store: MakeStore, kind: str) -> None:
    store = make_store(kind)
    delivery = saved_delivery(store)
    with store.uow_factory() as uow:
        claimed = uow.deliveries.get(delivery.id)
        assert claimed is not None
        token = claimed.claim(WORKER, LATER, lease=timedelta(seconds=45))
        uow.commit()

    expected = {
        "status": DeliveryStatus.SENDING,
        "next_attempt_at": None,
        "claimed_by": WORKER,
        "claimed_at": LATER,
        "lease_expires_at": LATER + timedelta(seconds=45),
        "claim_token": token,
        "round_start": 0,
    }
    back = loaded(store, delivery.id)
    assert queue_fields(back) == expected
    assert back.claimed_at is not None
    assert back.lease_expires_at is not None
    assert (back.claimed_at.tzinfo, back.lease_expires_at.tzinfo) == (UTC, UTC)
    assert back.holds(token, LATER + timedelta(seconds=44))
    assert not back.holds(token, LATER + timedelta(seconds=45))
    assert stored_row(store, delivery.id) == {**expected, "status": "sending"}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_retry_in_a_new_round_round_trips_and_clears_the_claim_columns(
    make_store: MakeStore, kind: str
) -> None:
    store = make_store(kind)
    delivery = saved_delivery(store)
    retry_at = LATER + timedelta(seconds=30, microseconds=7)
    with store.uow_factory() as uow:
        taken = uow.deliveries.get(delivery.id)
        assert taken is not None
        token = taken.claim(WORKER, LATER, lease=timedelta(seconds=60))
        taken.fail(token, Attempt(1, LATER, 12.5, "refused"), now=LATER)
        taken.reopen(LATER)
        token = taken.claim(WORKER, LATER, lease=timedelta(seconds=60))
        taken.retry_later(token, Attempt(2, LATER, 3.25, "timeout"), now=LATER, at=retry_at)
        uow.commit()

    back = loaded(store, delivery.id)
    assert queue_fields(back) == {
        "status": DeliveryStatus.PENDING,
        "next_attempt_at": retry_at,
        "claimed_by": None,
        "claimed_at": None,
        "lease_expires_at": None,
        "claim_token": None,
        "round_start": 1,
    }
    assert back.next_attempt_at is not None
    assert back.next_attempt_at.tzinfo is UTC
    assert (back.round_attempts, [a.error for a in back.attempts]) == (1, ["refused", "timeout"])
    assert stored_row(store, delivery.id) == {**queue_fields(back), "status": "pending"}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_time_given_in_another_zone_is_stored_as_the_same_instant(make_store: MakeStore, kind: str) -> None:
    store = make_store(kind)
    delivery = saved_delivery(store)
    berlin = datetime(2026, 1, 5, 10, 0, 0, 500, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    with store.uow_factory() as uow:
        taken = uow.deliveries.get(delivery.id)
        assert taken is not None
        token = taken.claim(WORKER, NOW, lease=timedelta(seconds=60))
        taken.release(token, now=NOW, at=berlin)
        uow.commit()

    back = loaded(store, delivery.id)
    assert back.next_attempt_at == berlin
    assert back.next_attempt_at is not None
    assert back.next_attempt_at.utcoffset() == timedelta(0)
    with store.uow_factory() as uow:
        assert [d.id for d in uow.deliveries.claimable(berlin, limit=5)] == [delivery.id]
        assert uow.deliveries.claimable(berlin - timedelta(microseconds=1), limit=5) == []
