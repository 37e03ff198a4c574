"""Whole-team reminders: recipients, each member's own local time, joiners and leavers, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application.commands import (
    CreateReminder,
    CreateUser,
    QuietHoursIn,
    ReminderPatch,
    UpdateReminder,
    UpdateUser,
    UserPatch,
)
from domain.delivery import Delivery, DeliveryKind, DeliveryStatus
from domain.errors import InvalidSchedule
from domain.reminder import Reminder
from domain.schedule import Frequency
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, RecordingChannel, admin, make_service, run_queue
from tests.unit.world import ledger, tick

START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # a Monday; Berlin UTC+1, New York UTC-5, Tokyo UTC+9


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def email() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def hook() -> RecordingChannel:
    return RecordingChannel(takes_target=True)


@pytest.fixture
def service(clock: FixedClock, email: RecordingChannel, hook: RecordingChannel) -> Service:
    return make_service(clock=clock, channels={"email": email, "hook": hook})


def member(service: Service, name: str, timezone: str = "UTC", **fields: Any) -> User:
    user: User = service.bus.handle(
        CreateUser(
            actor=admin(service), name=name, email=f"{name.lower()}@example.com", timezone=timezone, **fields
        )
    )
    return user


def remind(service: Service, owner: User, **fields: Any) -> Reminder:
    values: dict[str, Any] = {
        "title": "Stand-up notes",
        "message": "Write yours",
        "channel": "email",
        "time_of_day": "09:00",
        "frequency": Frequency.DAILY,
        **fields,
    }
    reminder: Reminder = service.bus.handle(CreateReminder(actor=admin(service), owner_id=owner.id, **values))
    return reminder


def run_day(service: Service, clock: FixedClock, *, hours: int = 24, step_minutes: int = 15) -> None:
    """Tick and send every `step_minutes` for `hours`, as a running service would."""
    end = clock.current + timedelta(hours=hours)
    while clock.current < end:
        clock.advance(minutes=step_minutes)
        tick(service, clock.current)
        run_queue(service)


def slots(service: Service) -> list[Delivery]:
    return [d for d in ledger(service) if d.kind is DeliveryKind.SCHEDULED]


def test_each_recipient_gets_the_slot_at_nine_in_their_own_zone(
    service: Service, clock: FixedClock, email: RecordingChannel
) -> None:
    berlin = member(service, "Berta", "Europe/Berlin")
    york = member(service, "Noah", "America/New_York")
    tokyo = member(service, "Toshi", "Asia/Tokyo")
    remind(service, berlin, recipients=[berlin.id, york.id, tokyo.id], local_time="recipient")

    run_day(service, clock)

    fired = {d.recipient_id: d.scheduled_for for d in slots(service)}
    assert fired == {
        berlin.id: datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
        york.id: datetime(2026, 1, 5, 14, 0, tzinfo=UTC),
        tokyo.id: datetime(2026, 1, 6, 0, 0, tzinfo=UTC),
    }
    assert sorted(n.to_email for n in email.sent) == [
        "berta@example.com",
        "noah@example.com",
        "toshi@example.com",
    ]
    assert all(d.status is DeliveryStatus.SENT for d in slots(service))


def test_a_team_reminder_reaches_every_active_member_and_a_joiner_from_their_next_slot(
    service: Service, clock: FixedClock
) -> None:
    owner = member(service, "Olga")
    gone = member(service, "Gus")
    service.bus.handle(UpdateUser(actor=admin(service), user_id=gone.id, changes=UserPatch(active=False)))
    remind(service, owner, recipients="team")

    run_day(service, clock, hours=4)  # to 10:00 UTC: the 09:00 slot fired
    first = {d.recipient_id for d in slots(service)}
    assert owner.id in first
    assert gone.id not in first
    assert admin(service).user_id in first  # admins are members too

    late = member(service, "Lena")
    run_day(service, clock)
    second_day = {d.recipient_id for d in slots(service) if d.scheduled_for and d.scheduled_for.day == 6}
    assert late.id in second_day
    assert late.id not in {d.recipient_id for d in slots(service) if d.scheduled_for.day == 5}  # type: ignore[union-attr]


def test_a_target_channel_gets_one_delivery_per_slot_for_the_whole_team(
    service: Service, clock: FixedClock, hook: RecordingChannel
) -> None:
    owner = member(service, "Olga")
    member(service, "Pia")
    remind(service, owner, recipients="team", channel="hook", target="#general")

    run_day(service, clock, hours=4)

    assert [(d.recipient_id, d.status) for d in slots(service)] == [(None, DeliveryStatus.SENT)]
    assert len(hook.sent) == 1


def test_a_joiner_in_an_earlier_zone_is_not_kept_waiting_for_the_others(
    service: Service, clock: FixedClock
) -> None:
    york = member(service, "Noah", "America/New_York")
    reminder = remind(service, york, recipients="team", local_time="recipient")
    berlin = member(service, "Berta", "Europe/Berlin")  # joins at 06:00 UTC, before 08:00 UTC

    run_day(service, clock, hours=3)  # to 09:00 UTC

    fired = [d for d in slots(service) if d.recipient_id == berlin.id]
    assert [d.scheduled_for for d in fired] == [datetime(2026, 1, 5, 8, 0, tzinfo=UTC)]
    assert fired[0].status is DeliveryStatus.SENT
    assert reminder.id == fired[0].reminder_id


def test_a_slot_in_quiet_hours_waits_until_they_end(service: Service, clock: FixedClock) -> None:
    owner = member(service, "Quinn", quiet_hours=QuietHoursIn(start="08:30", end="10:00"))
    remind(service, owner)

    clock.current = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    tick(service, clock.current)
    run_queue(service)
    (waiting,) = slots(service)
    assert waiting.status is DeliveryStatus.DEFERRED
    assert waiting.reason == "quiet_hours"
    assert waiting.deferred_until == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)

    clock.current = datetime(2026, 1, 5, 9, 59, tzinfo=UTC)
    assert run_queue(service) == []
    clock.current = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    (sent,) = run_queue(service)
    assert sent.id == waiting.id
    assert sent.status is DeliveryStatus.SENT
    assert sent.lateness_seconds == 0.0  # on time: due when the quiet hours ended, not at the slot


def test_a_recurring_reminder_past_its_end_becomes_inactive(service: Service, clock: FixedClock) -> None:
    owner = member(service, "Olga")
    reminder = remind(
        service, owner, frequency=Frequency.RRULE, rrule="FREQ=DAILY;COUNT=2", starts_on="2026-01-05"
    )

    run_day(service, clock, hours=72)

    assert len(slots(service)) == 2
    with service.uow_factory() as uow:
        stored = uow.reminders.get(reminder.id)
    assert stored is not None
    assert stored.active is False
    assert stored.next_run_at is None


def test_a_one_off_in_each_recipients_own_time_reaches_every_zone(
    service: Service, clock: FixedClock
) -> None:
    tokyo = member(service, "Toshi", "Asia/Tokyo")
    berlin = member(service, "Berta", "Europe/Berlin")
    reminder = remind(
        service,
        tokyo,
        frequency=Frequency.ONCE,
        date="2026-01-06",
        timezone="America/New_York",  # only labels it: nobody receives it in New York
        recipients=[tokyo.id, berlin.id],
        local_time="recipient",
    )

    run_day(service, clock, hours=48)

    fired = {d.recipient_id: d.scheduled_for for d in slots(service)}
    assert fired == {
        tokyo.id: datetime(2026, 1, 6, 0, 0, tzinfo=UTC),
        berlin.id: datetime(2026, 1, 6, 8, 0, tzinfo=UTC),
    }
    with service.uow_factory() as uow:
        stored = uow.reminders.get(reminder.id)
    assert stored is not None
    assert (stored.active, stored.next_run_at) == (False, None)


def test_the_recipients_zones_decide_whether_a_slot_is_still_to_come(service: Service) -> None:
    york = member(service, "Noah", "America/New_York")
    tokyo = member(service, "Toshi", "Asia/Tokyo")
    fields: dict[str, Any] = {
        "frequency": Frequency.ONCE,
        "date": "2026-01-05",  # 09:00 on the 5th is past in Tokyo at 06:00 UTC, still to come in New York
        "timezone": "Asia/Tokyo",
        "local_time": "recipient",
    }

    reminder = remind(service, york, recipients=[york.id], **fields)
    assert reminder.next_run_at == datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
    with pytest.raises(InvalidSchedule, match="any recipient's time zone"):
        remind(service, tokyo, recipients=[tokyo.id], **{**fields, "timezone": "America/New_York"})


def test_moved_later_after_a_recipient_got_it_it_is_not_sent_to_them_again_that_day(
    service: Service, clock: FixedClock
) -> None:
    berlin = member(service, "Berta", "Europe/Berlin")
    york = member(service, "Noah", "America/New_York")
    reminder = remind(service, berlin, recipients=[berlin.id, york.id], local_time="recipient")
    run_day(service, clock, hours=3)  # to 09:00 UTC: Berlin had its 09:00 (08:00 UTC); New York not yet

    service.bus.handle(
        UpdateReminder(
            actor=admin(service), reminder_id=reminder.id, changes=ReminderPatch(time_of_day="11:00")
        )
    )
    run_day(service, clock, hours=36)

    fired = sorted((d.recipient_id == berlin.id, d.scheduled_for) for d in slots(service))
    assert fired == [
        (False, datetime(2026, 1, 5, 16, 0, tzinfo=UTC)),  # New York: 11:00 on the 5th, its first that day
        (False, datetime(2026, 1, 6, 16, 0, tzinfo=UTC)),
        (True, datetime(2026, 1, 5, 8, 0, tzinfo=UTC)),  # Berlin: 09:00 on the 5th, then 11:00 from the 6th
        (True, datetime(2026, 1, 6, 10, 0, tzinfo=UTC)),
    ]


def test_a_delivery_waiting_out_quiet_hours_follows_them_when_they_change(
    service: Service, clock: FixedClock
) -> None:
    owner = member(service, "Quinn", quiet_hours=QuietHoursIn(start="08:30", end="10:00"))
    remind(service, owner)
    clock.current = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    tick(service, clock.current)
    (waiting,) = slots(service)

    later = QuietHoursIn(start="08:00", end="11:00")
    service.bus.handle(
        UpdateUser(actor=admin(service), user_id=owner.id, changes=UserPatch(quiet_hours=later))
    )
    (moved,) = slots(service)
    assert (moved.status, moved.deferred_until) == (
        DeliveryStatus.DEFERRED,
        datetime(2026, 1, 5, 11, 0, tzinfo=UTC),
    )

    clock.current = datetime(2026, 1, 5, 9, 15, tzinfo=UTC)
    service.bus.handle(
        UpdateUser(
            actor=admin(service), user_id=owner.id, changes=UserPatch.model_validate({"quiet_hours": None})
        )
    )
    (sent,) = run_queue(service)
    assert sent.id == waiting.id
    assert sent.status is DeliveryStatus.SENT
    assert (sent.reason, sent.deferred_until, sent.lateness_seconds) == ("quiet_hours", clock.current, 0.0)
