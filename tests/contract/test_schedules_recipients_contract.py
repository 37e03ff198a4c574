"""The store contract for calendar rules, recipients, quiet hours, follow-ups and action links: every
store (memory, SQLite, PostgreSQL) behaves the same.

Every new field comes back as stored (and an edit of one writes it); the ledger holds one scheduled
delivery per reminder, recipient and slot, and nothing else; a deferred delivery waits in the queue
like a pending one; a delivery's follow-ups, a reminder's newest delivery of a kind and a team's
reminders in each recipient's own time are found; an action link is used once.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from application.context import acting_as
from domain.actor import Actor
from domain.aggregate import Aggregate
from domain.audience import OWNER, TEAM, LocalTime, Recipients, RepeatUntilAck
from domain.delivery import Delivery, DeliveryKind, DeliveryStatus
from domain.errors import Conflict, DuplicateOccurrence
from domain.link_use import LinkUse
from domain.quiet_hours import QuietHours
from domain.reminder import Reminder
from domain.roles import Role
from domain.schedule import Frequency, Schedule
from domain.user import User
from tests.builders import NOW, TEAM_ID, make_team, make_user, save
from tests.stores import KINDS, MakeStore, StoreUnderTest

SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
T = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> StoreUnderTest:
    return make_store(request.param)


def state(aggregate: Aggregate) -> dict[str, Any]:
    return {
        f.name: getattr(aggregate, f.name) for f in fields(aggregate) if f.name not in ("_events", "version")
    }


def daily() -> Schedule:
    return Schedule(time_of_day=time(9, 0), frequency=Frequency.DAILY)


def remind(
    owner: User,
    *,
    schedule: Schedule | None = None,
    recipients: Recipients = OWNER,
    local_time: LocalTime = LocalTime.REMINDER,
    repeat: RepeatUntilAck | None = None,
    active: bool = True,
    channel: str = "email",
    zones: tuple[str, ...] = (),
) -> Reminder:
    return Reminder.create(
        team_id=owner.team_id,
        owner_id=owner.id,
        title="Stand-up notes",
        message="Post yours, {owner_name}",
        channel=channel,
        target=None,
        schedule=schedule or daily(),
        active=active,
        now=NOW,
        recipients=recipients,
        local_time=local_time,
        repeat_until_ack=repeat,
        zones=zones,
    )


def slot_delivery(
    reminder: Reminder,
    scheduled_for: datetime | None = SLOT,
    *,
    recipient_id: str | None = None,
    now: datetime = NOW,
    quiet_until: datetime | None = None,
) -> Delivery:
    return Delivery.open(
        reminder_id=reminder.id,
        team_id=reminder.team_id,
        owner_id=reminder.owner_id,
        channel=reminder.channel,
        scheduled_for=scheduled_for,
        now=now,
        recipient_id=recipient_id,
        quiet_until=quiet_until,
    )


def record(store: StoreUnderTest, *deliveries: Delivery) -> None:
    with store.uow_factory() as uow:
        for delivery in deliveries:
            uow.deliveries.add(delivery)
        uow.commit()


def ids(aggregates: list[Any]) -> list[str]:
    return [aggregate.id for aggregate in aggregates]


# -- round trips -----------------------------------------------------------------------------------------


RULE_BASED = [
    Schedule(
        time_of_day=time(9, 30),
        frequency=Frequency.RRULE,
        timezone="Europe/Berlin",
        rrule="FREQ=MONTHLY;BYDAY=2TU",
        starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31),
        skip_dates=(date(2026, 2, 10), date(2026, 12, 8)),
    ),
    Schedule(
        time_of_day=None,
        frequency=Frequency.CRON,
        timezone="America/New_York",
        cron="0 9 * * 1-5",
        skip_dates=(date(2026, 7, 3),),
    ),
    Schedule(
        time_of_day=time(7, 0, 15),
        frequency=Frequency.WEEKLY,
        timezone="Asia/Kolkata",
        weekdays=(0, 4),
        starts_on=date(2026, 3, 2),
    ),
]


@pytest.mark.parametrize("schedule", RULE_BASED, ids=["rrule", "cron", "weekly-from"])
def test_a_reminder_with_a_rule_recipients_and_repeats_comes_back_unchanged(
    store: StoreUnderTest, schedule: Schedule
) -> None:
    ann, bob = make_user("ann@example.com"), make_user("bob@example.com")
    listed = remind(
        ann,
        schedule=schedule,
        recipients=Recipients.parse([bob.id, ann.id]),
        local_time=LocalTime.RECIPIENT,
        repeat=RepeatUntilAck(every_minutes=15, max_times=3),
        zones=("Europe/Berlin", "America/New_York"),
    )
    whole_team = remind(ann, schedule=schedule, recipients=TEAM, channel="webhook")
    save(store, ann, bob, listed, whole_team)

    with store.uow_factory() as uow:
        found = uow.reminders.get_many([listed.id, whole_team.id])

    assert {key: state(reminder) for key, reminder in found.items()} == {
        listed.id: state(listed),
        whole_team.id: state(whole_team),
    }
    back = found[listed.id]
    assert back.recipients.user_ids == (bob.id, ann.id)
    assert back.fired_through == NOW
    assert found[whole_team.id].recipients == TEAM


def test_editing_the_schedule_and_the_audience_writes_every_field_they_hold(store: StoreUnderTest) -> None:
    ann, bob = make_user("ann@example.com"), make_user("bob@example.com")
    reminder = remind(ann, repeat=RepeatUntilAck(every_minutes=5, max_times=1))
    save(store, ann, bob, reminder)

    later = NOW + timedelta(minutes=1)
    with store.uow_factory() as uow:
        editing = uow.reminders.get(reminder.id)
        assert editing is not None
        editing.update({"schedule": RULE_BASED[0]}, now=later)
        uow.commit()
    with store.uow_factory() as uow:
        editing = uow.reminders.get(reminder.id)
        assert editing is not None
        assert state(editing)["schedule"] == RULE_BASED[0]
        editing.update(
            {
                "schedule": RULE_BASED[1],
                "recipients": Recipients.parse([bob.id]),
                "local_time": LocalTime.RECIPIENT,
                "repeat_until_ack": None,
            },
            now=later,
            zones=("Asia/Tokyo",),
        )
        edited = state(editing)
        uow.commit()

    with store.uow_factory() as uow:
        back = uow.reminders.get(reminder.id)
    assert back is not None
    assert state(back) == edited
    assert (back.schedule.time_of_day, back.repeat_until_ack, back.fired_through) == (None, None, later)


def test_quiet_hours_and_active_since_come_back_and_clearing_them_is_stored(store: StoreUnderTest) -> None:
    ann = make_user("ann@example.com")
    quiet = QuietHours.build(start="22:00", end="07:00", weekdays=(0, 1, 2, 3, 4))
    ann.update(quiet_hours=quiet, timezone="Europe/Berlin", now=NOW + timedelta(microseconds=5))
    plain = make_user("bob@example.com")
    save(store, ann, plain)

    with store.uow_factory() as uow:
        found = uow.users.get_many([ann.id, plain.id])
    assert {key: state(user) for key, user in found.items()} == {ann.id: state(ann), plain.id: state(plain)}
    assert found[ann.id].quiet_hours == quiet
    assert found[ann.id].active_since == NOW + timedelta(microseconds=5)
    assert found[plain.id].quiet_hours is None

    with store.uow_factory() as uow:
        clearing = uow.users.get(ann.id)
        assert clearing is not None
        clearing.update(quiet_hours=None, now=NOW + timedelta(minutes=1))
        uow.commit()
    with store.uow_factory() as uow:
        cleared = uow.users.get(ann.id)
    assert cleared is not None
    assert cleared.quiet_hours is None


def test_each_team_keeps_its_own_link_secret(store: StoreUnderTest) -> None:
    ours, theirs = make_team("Ours"), make_team("Theirs")
    save(store, ours, theirs)

    with store.uow_factory() as uow:
        found = uow.teams.get_many([ours.id, theirs.id])
    assert {key: state(team) for key, team in found.items()} == {
        ours.id: state(ours),
        theirs.id: state(theirs),
    }
    assert found[ours.id].link_secret != found[theirs.id].link_secret


def test_follow_ups_deferrals_and_acknowledgements_come_back_unchanged(store: StoreUnderTest) -> None:
    ann, bob = make_user("ann@example.com"), make_user("bob@example.com")
    reminder = remind(ann, recipients=TEAM)
    first = slot_delivery(reminder, recipient_id=bob.id)
    deferred = slot_delivery(reminder, recipient_id=ann.id, quiet_until=SLOT + timedelta(hours=2))
    snooze = first.follow_up(DeliveryKind.SNOOZE, due_at=SLOT + timedelta(minutes=10), now=NOW)
    alert = first.follow_up(DeliveryKind.ALERT, due_at=NOW, now=NOW, channel="log", recipient_id=ann.id)
    first.acknowledge(bob.id, NOW + timedelta(microseconds=3))
    save(store, ann, bob, reminder, first, deferred, snooze, alert)

    with store.uow_factory() as uow:
        found = uow.deliveries.get_many(ids([first, deferred, snooze, alert]))
    assert {key: state(d) for key, d in found.items()} == {
        d.id: state(d) for d in (first, deferred, snooze, alert)
    }
    assert (found[deferred.id].status, found[deferred.id].deferred_until, found[deferred.id].reason) == (
        DeliveryStatus.DEFERRED,
        SLOT + timedelta(hours=2),
        "quiet_hours",
    )
    assert (found[snooze.id].kind, found[snooze.id].parent_delivery_id, found[snooze.id].recipient_id) == (
        DeliveryKind.SNOOZE,
        first.id,
        bob.id,
    )
    assert (found[first.id].acknowledged_by, found[first.id].acknowledged_at) == (
        bob.id,
        NOW + timedelta(microseconds=3),
    )

    with store.uow_factory() as uow:
        withdrawing = uow.deliveries.get(snooze.id)
        assert withdrawing is not None
        withdrawing.withdraw("acknowledged", now=NOW)
        uow.commit()
    with store.uow_factory() as uow:
        withdrawn = uow.deliveries.get(snooze.id)
    assert withdrawn is not None
    assert (withdrawn.status, withdrawn.error, withdrawn.next_attempt_at) == (
        DeliveryStatus.CANCELLED,
        "acknowledged",
        None,
    )


# -- the ledger ------------------------------------------------------------------------------------------


def test_the_ledger_holds_one_scheduled_delivery_per_reminder_recipient_and_slot(
    store: StoreUnderTest,
) -> None:
    ann, bob = make_user("ann@example.com"), make_user("bob@example.com")
    reminder, other = remind(ann, recipients=TEAM), remind(bob)
    save(store, ann, bob, reminder, other)

    record(store, slot_delivery(reminder, recipient_id=ann.id), slot_delivery(reminder, recipient_id=bob.id))
    record(store, slot_delivery(reminder))  # the slot's delivery for no one in particular (a target)
    record(store, slot_delivery(other, recipient_id=ann.id))  # another reminder's slot
    record(store, slot_delivery(reminder, SLOT + timedelta(days=1), recipient_id=ann.id))
    for again in (ann.id, bob.id, None):
        with pytest.raises(DuplicateOccurrence):
            record(store, slot_delivery(reminder, recipient_id=again))
    # A missed slot is in the ledger too.
    missed = Delivery.open(
        reminder_id=reminder.id,
        team_id=reminder.team_id,
        owner_id=reminder.owner_id,
        channel="email",
        scheduled_for=SLOT,
        now=T,
        missed=True,
        recipient_id=ann.id,
    )
    with pytest.raises(DuplicateOccurrence):
        record(store, missed)

    with store.uow_factory() as uow:
        page = uow.deliveries.list(limit=20, offset=0, reminder_id=reminder.id)
    assert sorted((d.recipient_id or "", d.scheduled_for) for d in page.items) == sorted(
        [(ann.id, SLOT), (bob.id, SLOT), ("", SLOT), (ann.id, SLOT + timedelta(days=1))]
    )


def test_two_deliveries_of_one_slot_in_one_commit_are_refused_and_nothing_is_recorded(
    store: StoreUnderTest,
) -> None:
    ann = make_user("ann@example.com")
    reminder = remind(ann, recipients=TEAM)
    save(store, ann, reminder)

    with pytest.raises(DuplicateOccurrence):
        record(
            store, slot_delivery(reminder, recipient_id=ann.id), slot_delivery(reminder, recipient_id=ann.id)
        )

    with store.uow_factory() as uow:
        assert uow.deliveries.list(limit=10, offset=0, reminder_id=reminder.id).total == 0


def test_follow_ups_and_send_nows_are_not_in_the_ledger(store: StoreUnderTest) -> None:
    ann = make_user("ann@example.com")
    reminder = remind(ann)
    scheduled = slot_delivery(reminder)
    save(store, ann, reminder, scheduled)

    due = SLOT  # a follow-up due at the very instant of a slot
    record(
        store,
        scheduled.follow_up(DeliveryKind.SNOOZE, due_at=due, now=NOW),
        scheduled.follow_up(DeliveryKind.SNOOZE, due_at=due, now=NOW),
    )
    record(store, scheduled.follow_up(DeliveryKind.REPEAT, due_at=due, now=NOW))
    record(store, scheduled.follow_up(DeliveryKind.ALERT, due_at=due, now=NOW, channel="log"))
    record(store, reminder.open_delivery(NOW), reminder.open_delivery(NOW))

    with store.uow_factory() as uow:
        page = uow.deliveries.list(limit=20, offset=0, reminder_id=reminder.id)
    assert page.total == 7
    assert sum(d.kind is DeliveryKind.SCHEDULED for d in page.items) == 1


# -- the queue -------------------------------------------------------------------------------------------


def test_a_deferred_delivery_is_claimed_like_a_pending_one_once_it_is_due(store: StoreUnderTest) -> None:
    ann = make_user("ann@example.com")
    reminder = remind(ann)
    early = slot_delivery(reminder, SLOT - timedelta(days=3), now=T - timedelta(minutes=2))
    deferred = slot_delivery(
        reminder, SLOT - timedelta(days=2), now=NOW, quiet_until=T - timedelta(minutes=1)
    )
    later = slot_delivery(reminder, SLOT - timedelta(days=1), now=NOW, quiet_until=T + timedelta(hours=1))
    now_due = slot_delivery(reminder, SLOT, now=T)
    save(store, ann, reminder, early, deferred, later, now_due)

    with store.uow_factory() as uow:
        everything = uow.deliveries.claimable(T, limit=10)
        first_two = uow.deliveries.claimable(T, limit=2)
        stats = uow.deliveries.queue_stats(T)
        in_an_hour = uow.deliveries.claimable(T + timedelta(hours=1), limit=10)
        deferred_count = uow.deliveries.count(status=DeliveryStatus.DEFERRED)

    assert ids(everything) == [early.id, deferred.id, now_due.id]
    assert ids(first_two) == [early.id, deferred.id]
    assert (stats.pending, stats.due, stats.in_flight, stats.oldest_due_at) == (
        4,
        3,
        0,
        T - timedelta(minutes=2),
    )
    assert ids(in_an_hour) == [early.id, deferred.id, now_due.id, later.id]
    assert deferred_count == 2

    with store.uow_factory() as uow:
        taken = uow.deliveries.get(deferred.id)
        assert taken is not None
        taken.claim("worker", T, lease=LEASE)
        uow.commit()
    with store.uow_factory() as uow:
        assert ids(uow.deliveries.claimable(T, limit=10)) == [early.id, now_due.id]
        stats = uow.deliveries.queue_stats(T)
    assert (stats.pending, stats.due, stats.in_flight) == (3, 2, 1)


# -- follow-ups, the newest of a kind, reminders in each recipient's time ----------------------------------


def test_follow_ups_are_found_by_their_parents_oldest_first(store: StoreUnderTest) -> None:
    ann = make_user("ann@example.com")
    reminder = remind(ann)
    first, second, unrelated = (slot_delivery(reminder, SLOT + timedelta(days=n)) for n in range(3))
    save(store, ann, reminder, first, second, unrelated)
    snooze = first.follow_up(DeliveryKind.SNOOZE, due_at=T, now=NOW)
    record(store, snooze)
    alert = second.follow_up(DeliveryKind.ALERT, due_at=T, now=NOW, channel="log")
    record(store, alert)
    again = snooze.follow_up(DeliveryKind.SNOOZE, due_at=T + timedelta(minutes=5), now=NOW)
    repeat = first.follow_up(DeliveryKind.REPEAT, due_at=T, now=NOW)
    record(store, again)
    record(store, repeat)

    with store.uow_factory() as uow:
        found = uow.deliveries.follow_ups([second.id, first.id, "no-such-delivery", "nul\x00"])
        same = uow.deliveries.get(repeat.id)
        of_snooze = uow.deliveries.follow_ups({snooze.id})
        none = (uow.deliveries.follow_ups([]), uow.deliveries.follow_ups([unrelated.id]))

    assert ids(found) == [snooze.id, alert.id, repeat.id]
    assert found[2] is same  # one unit of work, one copy of each delivery
    assert ids(of_snooze) == [again.id]
    assert none == ([], [])


def test_deliveries_are_listed_by_kind_and_by_recipient(store: StoreUnderTest) -> None:
    ann, bob = make_user("ann@example.com"), make_user("bob@example.com")
    reminder = remind(ann, recipients=TEAM)
    to_ann, to_bob = (
        slot_delivery(reminder, recipient_id=ann.id),
        slot_delivery(reminder, recipient_id=bob.id),
    )
    snooze = to_bob.follow_up(DeliveryKind.SNOOZE, due_at=T, now=NOW)
    save(store, ann, bob, reminder, to_ann, to_bob, snooze)

    with store.uow_factory() as uow:
        deliveries = uow.deliveries
        snoozes = deliveries.list(limit=10, offset=0, kind=DeliveryKind.SNOOZE)
        for_bob = deliveries.list(limit=10, offset=0, team_id=TEAM_ID, recipient_id=bob.id)
        bobs_slots = deliveries.list(limit=10, offset=0, recipient_id=bob.id, kind=DeliveryKind.SCHEDULED)
        nobody = deliveries.list(limit=10, offset=0, recipient_id="nul\x00")

    assert (ids(snoozes.items), snoozes.total) == ([snooze.id], 1)
    assert (ids(for_bob.items), for_bob.total) == ([snooze.id, to_bob.id], 2)
    assert ids(bobs_slots.items) == [to_bob.id]
    assert nobody.total == 0


def test_a_teams_active_reminders_in_each_recipients_own_time_are_found(store: StoreUnderTest) -> None:
    ann = make_user("ann@example.com")
    stranger = make_user("eve@example.com", team_id="team-2")
    theirs = remind(ann, recipients=TEAM, local_time=LocalTime.RECIPIENT, zones=("Asia/Tokyo",))
    paused = remind(ann, recipients=TEAM, local_time=LocalTime.RECIPIENT, active=False)
    in_its_own = remind(ann, recipients=TEAM)
    elsewhere = remind(stranger, recipients=TEAM, local_time=LocalTime.RECIPIENT)
    save(store, ann, stranger, theirs, paused, in_its_own, elsewhere)

    with store.uow_factory() as uow:
        found = uow.reminders.in_recipient_time(TEAM_ID)
        same = uow.reminders.get(theirs.id)
        nothing = (
            uow.reminders.in_recipient_time("no-such-team"),
            uow.reminders.in_recipient_time("nul\x00"),
        )
    assert ids(found) == [theirs.id]
    assert found[0] is same
    assert nothing == ([], [])

    with store.uow_factory() as uow:
        moved = uow.reminders.get(theirs.id)
        resumed = uow.reminders.get(paused.id)
        switched = uow.reminders.get(in_its_own.id)
        assert moved is not None
        assert resumed is not None
        assert switched is not None
        moved.update({"local_time": LocalTime.REMINDER}, now=NOW)
        resumed.update({"active": True}, now=NOW)
        switched.update({"local_time": LocalTime.RECIPIENT}, now=NOW, zones=("Europe/Berlin",))
        uow.commit()
    with store.uow_factory() as uow:
        assert sorted(ids(uow.reminders.in_recipient_time(TEAM_ID))) == sorted([paused.id, in_its_own.id])


# -- action links ------------------------------------------------------------------------------------------


def use_of(nonce: str, delivery_id: str = "delivery-1", *, action: str = "ack") -> LinkUse:
    return LinkUse(id=nonce, team_id=TEAM_ID, delivery_id=delivery_id, action=action, used_at=NOW)


def test_an_action_link_is_used_once(store: StoreUnderTest) -> None:
    used = use_of("Xy_9-nonce-" + "a" * 43)
    with store.uow_factory() as uow:
        uow.link_uses.add(used)
        uow.commit()

    with store.uow_factory() as uow:
        assert uow.link_uses.get(used.id) is not None
        uow.link_uses.add(use_of(used.id, action="snooze"))
        with pytest.raises(Conflict):
            uow.commit()
    with store.uow_factory() as uow:
        back, missing = uow.link_uses.get(used.id), uow.link_uses.get("never-used")
    assert back is not None
    assert state(back) == state(used)
    assert missing is None


def test_of_two_uses_of_one_link_at_once_only_the_first_commit_counts(store: StoreUnderTest) -> None:
    first, second = store.uow_factory(), store.uow_factory()
    with first, second:
        for uow, action in ((first, "ack"), (second, "snooze")):
            assert uow.link_uses.get("nonce-1") is None
            uow.link_uses.add(use_of("nonce-1", action=action))
        first.commit()
        with pytest.raises(Conflict):
            second.commit()

    with store.uow_factory() as uow:
        back = uow.link_uses.get("nonce-1")
    assert back is not None
    assert back.action == "ack"


def test_the_uses_of_expired_links_are_found_oldest_first_and_removed(store: StoreUnderTest) -> None:
    uses = [use_of(f"nonce-{n}") for n in range(4)]
    for n, use in enumerate(uses):
        use.used_at = NOW + timedelta(days=n)
    with store.uow_factory() as uow:
        for use in uses:
            uow.link_uses.add(use)
        uow.commit()

    with store.uow_factory() as uow:
        old = uow.link_uses.used_before(NOW + timedelta(days=2), limit=10)
        first = uow.link_uses.used_before(NOW + timedelta(days=2), limit=1)
        assert ids(old) == ["nonce-0", "nonce-1"]
        assert ids(first) == ["nonce-0"]
        for use in old:
            uow.link_uses.remove(use)
        uow.commit()
    with store.uow_factory() as uow:
        kept = [uow.link_uses.get(use.id) for use in uses]
    assert [use is not None for use in kept] == [False, False, True, True]


def test_using_a_link_on_someones_behalf_adds_no_audit_entry(store: StoreUnderTest) -> None:
    actor = Actor(user_id="user-1", team_id=TEAM_ID, role=Role.MEMBER)
    with acting_as(actor, NOW), store.uow_factory() as uow:
        uow.link_uses.add(use_of("nonce-2"))
        uow.commit()

    with store.uow_factory() as uow:
        assert uow.audit.list(team_id=TEAM_ID, limit=10, offset=0).total == 0
        assert uow.link_uses.get("nonce-2") is not None
