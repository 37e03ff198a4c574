"""Columns the SQL store keeps for the delivery queue: a unit of work's writes leave them alone."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from adapters.sql import tables
from adapters.sql.unit_of_work import SqlUnitOfWork
from domain.delivery import Delivery
from tests.builders import NOW, make_reminder, make_user, save
from tests.stores import MakeStore


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_updating_a_delivery_keeps_the_queue_owned_claimed_by(make_store: MakeStore, kind: str) -> None:
    store = make_store(kind)
    owner = make_user()
    reminder = make_reminder(owner)
    delivery = Delivery.open(reminder_id=reminder.id, channel="log", scheduled_for=None, now=NOW)
    save(store, owner, reminder, delivery)
    uow = store.uow_factory()
    assert isinstance(uow, SqlUnitOfWork)
    with uow:
        uow.connection(write=True).execute(
            update(tables.deliveries)
            .where(tables.deliveries.c.id == delivery.id)
            .values(claimed_by="worker-7")
        )
        uow.connection().commit()

    with store.uow_factory() as uow:
        loaded = uow.deliveries.get(delivery.id)
        assert loaded is not None
        loaded.claim(NOW)
        uow.commit()

    with store.uow_factory() as uow:
        assert isinstance(uow, SqlUnitOfWork)
        query = select(tables.deliveries.c.claimed_by).where(tables.deliveries.c.id == delivery.id)
        assert uow.connection().execute(query).scalar_one() == "worker-7"
