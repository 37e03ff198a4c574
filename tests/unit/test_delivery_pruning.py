"""Retention: finished deliveries older than the cut are deleted a small batch at a time; so are the
records of used action links, web sessions and sign-in links once they are over; nothing else is."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from adapters.memory import MemoryUnitOfWork
from application.action_links import LINK_LIFETIME
from application.channels import PermanentChannelError, TransientChannelError
from application.commands import DeleteReminder, PruneDeliveries
from application.retry_policy import RetryPolicy
from domain.delivery import Delivery, DeliveryStatus
from domain.errors import DuplicateOccurrence
from domain.ids import new_id
from domain.link_use import LinkUse
from domain.sign_in_link import SIGN_IN_LINK_LIFETIME, SignInLink
from domain.web_session import SESSION_LIFETIME, WebSession
from entrypoints.ticker import SIGN_INS_KEPT, Ticker
from tests.fakes import admin, claim, run_queue
from tests.unit.world import SLOT, World, create_reminder, ledger, send_now, tick, world

YEAR = 365 * 24 * 3600.0


def prune(w: World, before: datetime, limit: int) -> int:
    pruned: int = w.service.bus.handle(PruneDeliveries(before=before, limit=limit))
    return pruned


def one_of_each_kind(w: World) -> dict[str, str]:
    """On the first day: a delivery in each state, oldest first; returns their ids by state."""
    ids = {}
    ids["sent"] = w.send_now().id
    run_queue(w.service)
    w.team.failures = [PermanentChannelError("401")]
    ids["failed"] = w.send_now().id
    run_queue(w.service)
    # Asked to come back in a year, so no worker takes it meanwhile.
    w.team.failures = [TransientChannelError("busy", retry_after=YEAR)]
    ids["retrying"] = w.send_now().id
    run_queue(w.service)
    ids["sending"] = w.send_now().id
    claim(w.service)  # a worker holds it and never reports back
    tick(w.service, w.clock.advance(hours=2))  # the 09:00 slot, an hour past the grace period
    [missed] = [d for d in ledger(w.service) if d.scheduled_for is not None]
    ids["missed"] = missed.id
    gone = create_reminder(w.service, w.owner, target="#team", active=False)
    ids["cancelled"] = send_now(w.service, gone).id
    w.service.bus.handle(DeleteReminder(actor=admin(w.service), reminder_id=gone.id))
    run_queue(w.service)
    statuses = {state: w.stored(delivery_id).status.value for state, delivery_id in ids.items()}
    assert statuses == {state: state for state in ids} | {"retrying": "pending"}
    return ids


def test_only_finished_deliveries_older_than_the_cut_are_pruned_a_batch_at_a_time() -> None:
    w = world(retry_policy=RetryPolicy(attempts=4, base_seconds=1, max_seconds=YEAR))
    old = one_of_each_kind(w)
    w.clock.advance(days=100)
    recent = w.send_now().id
    run_queue(w.service)
    assert w.stored(recent).status is DeliveryStatus.SENT
    cut = w.clock.current - timedelta(days=90)

    counts = [prune(w, cut, limit=2) for _ in range(3)]

    assert counts == [2, 2, 0]
    kept = {d.id for d in ledger(w.service)}
    assert kept == {old["retrying"], old["sending"], recent}


def test_pruning_keeps_a_stored_slot_from_being_recorded_twice() -> None:
    w = world()
    tick(w.service, w.clock.advance(hours=1))  # day 1, 09:00: sent
    run_queue(w.service)
    later = w.clock.advance(days=99)  # day 100, just after 09:00: days 2 to 99 missed, day 100 sent
    tick(w.service, later)
    run_queue(w.service)
    entries = ledger(w.service)
    assert len(entries) == 100

    pruned = prune(w, later - timedelta(days=90), limit=500)

    assert pruned == 1
    slots = [d.scheduled_for for d in ledger(w.service)]
    assert SLOT not in slots
    for slot in (SLOT + timedelta(days=1), SLOT + timedelta(days=99)):
        with MemoryUnitOfWork(w.store) as uow:
            uow.deliveries.add(
                Delivery.open(
                    reminder_id=w.reminder.id,
                    team_id=w.reminder.team_id,
                    owner_id=w.owner.id,
                    channel="team",
                    scheduled_for=slot,
                    now=later,
                )
            )
            with pytest.raises(DuplicateOccurrence):
                uow.commit()


def test_a_tick_prunes_finished_deliveries_past_the_retention_period() -> None:
    w = world()
    old = w.send_now().id
    run_queue(w.service)
    w.clock.advance(days=91)
    recent = w.send_now().id
    run_queue(w.service)
    keeping, forever = (
        Ticker(service=w.service, interval=1.0, keep_deliveries=timedelta(days=90)),
        Ticker(service=w.service, interval=1.0),
    )

    forever.tick()
    assert sent_on_demand(w) == {old, recent}
    keeping.tick()

    assert sent_on_demand(w) == {recent}


def sent_on_demand(w: World) -> set[str]:
    return {d.id for d in ledger(w.service) if d.scheduled_for is None}


def test_the_records_of_used_links_go_once_the_links_have_expired() -> None:
    w = world()
    used = [
        LinkUse(
            id=f"nonce-{days}",
            team_id="t",
            delivery_id="d",
            action="ack",
            used_at=SLOT + timedelta(days=days),
        )
        for days in (0, 6, 8)
    ]
    with w.service.uow_factory() as uow:
        for use in used:
            uow.link_uses.add(use)
        uow.commit()
    now = SLOT + timedelta(days=14)

    w.service.bus.handle(PruneDeliveries(before=SLOT, limit=10, links_used_before=now - LINK_LIFETIME))

    with w.service.uow_factory() as uow:
        assert [uow.link_uses.get(use.id) is not None for use in used] == [False, False, True]


def keep(w: World, *items: WebSession | SignInLink) -> None:
    with w.service.uow_factory() as uow:
        for item in items:
            if isinstance(item, WebSession):
                uow.web_sessions.add(item)
            else:
                uow.sign_in_links.add(item)
        uow.commit()


def session_of(w: World, at: datetime, *, ended: datetime | None = None) -> WebSession:
    session = WebSession.start(token_hash=new_id(), user_id=w.owner.id, team_id=w.owner.team_id, now=at)
    if ended is not None:
        session.end(ended)
    return session


def link_of(w: World, at: datetime) -> SignInLink:
    return SignInLink.issue(token_hash=new_id(), user_id=w.owner.id, team_id=w.owner.team_id, now=at)


def still_there(w: World, *items: WebSession | SignInLink) -> list[bool]:
    with w.service.uow_factory() as uow:
        return [
            (
                uow.web_sessions.get_by_token_hash(item.token_hash)
                if isinstance(item, WebSession)
                else uow.sign_in_links.get_by_token_hash(item.token_hash)
            )
            is not None
            for item in items
        ]


def test_sessions_and_sign_in_links_over_before_the_cut_go_a_batch_at_a_time() -> None:
    w = world()
    now = SLOT + timedelta(days=30)
    cut = now - SIGN_INS_KEPT
    second = timedelta(seconds=1)
    over: list[WebSession | SignInLink] = [
        session_of(w, cut - SESSION_LIFETIME - second),  # expired
        session_of(w, now - timedelta(days=3), ended=cut - second),
        link_of(w, cut - SIGN_IN_LINK_LIFETIME - second),
        link_of(w, cut - SIGN_IN_LINK_LIFETIME - second),
    ]
    kept: list[WebSession | SignInLink] = [
        session_of(w, now - timedelta(days=3), ended=cut),
        session_of(w, cut - SESSION_LIFETIME),  # expires at the cut
        session_of(w, now),
        link_of(w, cut - SIGN_IN_LINK_LIFETIME),
        link_of(w, now),
    ]
    keep(w, *over, *kept)

    w.service.bus.handle(PruneDeliveries(before=SLOT, limit=10))  # not asked: none of them goes
    assert still_there(w, *over, *kept) == [True] * 9
    w.service.bus.handle(PruneDeliveries(before=SLOT, limit=1, sign_ins_before=cut))
    assert still_there(w, *over) == [False, True, False, True]  # one of each per batch
    w.service.bus.handle(PruneDeliveries(before=SLOT, limit=1, sign_ins_before=cut))

    assert still_there(w, *over, *kept) == [False] * 4 + [True] * 5


def test_a_tick_prunes_sessions_and_sign_in_links_over_for_more_than_a_day() -> None:
    w = world()
    started = w.clock.current
    session, link = session_of(w, started, ended=started), link_of(w, started)
    keep(w, session, link)

    def tick_after(hours: int) -> None:
        w.clock.advance(hours=hours)
        # A fresh ticker each time: a ticker prunes at most once a minute.
        Ticker(service=w.service, interval=1.0, keep_deliveries=timedelta(days=90)).tick()

    tick_after(23)
    assert still_there(w, session, link) == [True, True]
    tick_after(2)

    assert still_there(w, session, link) == [False, False]
