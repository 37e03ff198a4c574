"""The scheduler: slots fire on time, daily, weekly and once, across DST and downtime.

Driven through the real bus over the memory store with a fixed clock: each tick records the slots
that came due, and the queue (run inline, as a worker would) sends them. Exactly-once under races
and backlogs is in test_scheduler_exactly_once.py, retries of scheduled slots in
test_scheduled_delivery.py, the ticker itself in test_ticker.py.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from application import views
from application.handlers.scheduling import TickResult
from domain.delivery import DeliveryStatus
from domain.reminder import Reminder
from domain.schedule import Frequency
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, MetricsRecorder, RecordingChannel, admin, make_service, run_queue
from tests.unit.world import SLOT, add_owner, create_reminder, ledger, tick, tick_and_send


def tick_until(service: Service, clock: FixedClock, end: datetime, *, every: timedelta) -> None:
    """A running service: one tick every `every` from the clock's time up to `end`, each followed by
    its worker sending what is due."""
    while clock.current <= end:
        tick_and_send(service, clock, clock.current)
        clock.advance(seconds=every.total_seconds())


def reminder_now(service: Service, reminder: Reminder) -> Reminder:
    return views.get_reminder(service.uow_factory, admin(service), reminder.id)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(day: date, hour: int, zone: str) -> datetime:
    """`hour` o'clock on `day` in `zone`, as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(zone)).astimezone(UTC)


# -- firing once, daily and weekly ---------------------------------------------------------------


def test_a_once_reminder_records_its_slot_which_the_queue_sends_and_retires(
    service: Service, owner: User, team: RecordingChannel, metrics: MetricsRecorder, clock: FixedClock
) -> None:
    reminder = create_reminder(service, owner, frequency=Frequency.ONCE, date=date(2026, 1, 5))
    now = clock.advance(hours=1, seconds=42)

    assert tick(service, now) == TickResult(due=1, fired=1, more=False)
    [queued] = ledger(service)
    assert (queued.status, team.tried) == (DeliveryStatus.PENDING, [])
    run_queue(service)

    [delivery] = ledger(service)
    assert (delivery.reminder_id, delivery.scheduled_for, delivery.status) == (
        reminder.id,
        SLOT,
        DeliveryStatus.SENT,
    )
    assert (delivery.sent_at, delivery.lateness_seconds) == (now, 42.0)
    [sent] = team.sent
    assert (sent.channel, sent.scheduled_for, sent.delivery_id) == ("team", SLOT, delivery.id)
    assert (metrics.outcomes, metrics.lateness) == ([("team", "sent", 1)], [42.0])
    retired = reminder_now(service, reminder)
    assert (retired.active, retired.next_run_at, retired.last_run_at) == (False, None, now)


def test_a_once_reminder_fires_once_however_many_ticks_follow(
    service: Service, owner: User, team: RecordingChannel, clock: FixedClock
) -> None:
    create_reminder(service, owner, frequency=Frequency.ONCE)

    tick_and_send(service, clock, utc(2026, 1, 5, 9))
    later = tick_and_send(service, clock, utc(2026, 1, 6, 9))

    assert later == TickResult(due=0, fired=0, more=False)
    assert len(ledger(service)) == 1
    assert len(team.sent) == 1


def test_nothing_fires_before_its_time(
    service: Service, owner: User, team: RecordingChannel, clock: FixedClock
) -> None:
    create_reminder(service, owner)

    result = tick_and_send(service, clock, SLOT - timedelta(seconds=1))

    assert result == TickResult(due=0, fired=0, more=False)
    assert (ledger(service), team.tried) == ([], [])


def test_a_daily_reminder_fires_each_local_day_and_moves_to_the_next(
    service: Service, owner: User, team: RecordingChannel, clock: FixedClock
) -> None:
    reminder = create_reminder(service, owner, time_of_day="10:00", timezone="Europe/Berlin")
    berlin_ten = [utc(2026, 1, day, 9, 0) for day in (5, 6, 7, 8)]
    assert reminder.next_run_at == berlin_ten[0]

    for slot, following in itertools.pairwise(berlin_ten):
        now = slot + timedelta(seconds=3)
        tick_and_send(service, clock, now)
        moved = reminder_now(service, reminder)
        assert (moved.active, moved.last_run_at, moved.next_run_at) == (True, now, following)

    assert [d.scheduled_for for d in ledger(service)] == berlin_ten[:3]
    assert [n.scheduled_for for n in team.sent] == berlin_ten[:3]
    assert [d.lateness_seconds for d in ledger(service)] == [3.0, 3.0, 3.0]


def test_a_weekly_reminder_fires_on_its_weekdays_only(
    service: Service, owner: User, team: RecordingChannel, clock: FixedClock
) -> None:
    # Monday and Thursday at 17:30 in New York (UTC-5 in January).
    reminder = create_reminder(
        service,
        owner,
        time_of_day="17:30",
        frequency=Frequency.WEEKLY,
        weekdays=[3, 0],
        timezone="America/New_York",
    )

    tick_until(service, clock, utc(2026, 1, 18, 23, 59), every=timedelta(minutes=30))

    slots = [
        utc(2026, 1, 5, 22, 30),
        utc(2026, 1, 8, 22, 30),
        utc(2026, 1, 12, 22, 30),
        utc(2026, 1, 15, 22, 30),
    ]
    assert [(d.scheduled_for, d.status) for d in ledger(service)] == [(s, DeliveryStatus.SENT) for s in slots]
    assert [n.scheduled_for for n in team.sent] == slots
    assert reminder_now(service, reminder).next_run_at == utc(2026, 1, 19, 22, 30)


# -- daylight saving time ------------------------------------------------------------------------

DST_DAYS = [
    # zone, the DST day, wall-clock time, the instant it fires that day, the next day's slot
    pytest.param(
        "America/New_York", date(2026, 3, 8), "02:30", utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 30),
        id="new-york-spring-gap",
    ),
    pytest.param(
        "Europe/Berlin", date(2026, 3, 29), "02:30", utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30),
        id="berlin-spring-gap",
    ),
    pytest.param(
        "America/New_York", date(2026, 11, 1), "01:30", utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30),
        id="new-york-fall-repeat",
    ),
    pytest.param(
        "Europe/Berlin", date(2026, 10, 25), "02:30", utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30),
        id="berlin-fall-repeat",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("zone", "day", "time_of_day", "fires_at", "next_slot"), DST_DAYS)
def test_on_a_dst_day_a_daily_reminder_fires_exactly_once(
    owner: User,
    service: Service,
    team: RecordingChannel,
    clock: FixedClock,
    zone: str,
    day: date,
    time_of_day: str,
    fires_at: datetime,
    next_slot: datetime,
) -> None:
    clock.current = local(day - timedelta(days=1), 20, zone)
    reminder = create_reminder(service, owner, time_of_day=time_of_day, timezone=zone)
    assert reminder.next_run_at == fires_at

    # A tick every four minutes from 20:00 the evening before to noon of the DST day.
    tick_until(service, clock, local(day, 12, zone), every=timedelta(minutes=4))

    [delivery] = ledger(service)
    assert (delivery.scheduled_for, delivery.status) == (fires_at, DeliveryStatus.SENT)
    assert delivery.lateness_seconds is not None
    assert 0 <= delivery.lateness_seconds < 4 * 60
    assert [n.scheduled_for for n in team.sent] == [fires_at]
    assert reminder_now(service, reminder).next_run_at == next_slot


# -- downtime: missed and coalesced slots --------------------------------------------------------


@pytest.mark.parametrize(
    ("late_by", "newest_status"),
    [
        pytest.param(timedelta(seconds=599), DeliveryStatus.SENT, id="newest-within-grace"),
        pytest.param(timedelta(seconds=600), DeliveryStatus.SENT, id="newest-exactly-at-grace"),
        pytest.param(timedelta(seconds=601), DeliveryStatus.MISSED, id="newest-beyond-grace"),
    ],
)
def test_after_a_three_day_gap_each_slot_is_recorded_and_at_most_the_newest_is_sent(
    clock: FixedClock,
    team: RecordingChannel,
    metrics: MetricsRecorder,
    late_by: timedelta,
    newest_status: DeliveryStatus,
) -> None:
    service = make_service(clock=clock, channels={"team": team}, metrics=metrics, grace_seconds=600)
    reminder = create_reminder(service, add_owner(service))
    now = utc(2026, 1, 8, 9) + late_by  # Thursday 09:00 + late_by

    tick_and_send(service, clock, now)

    slots = [utc(2026, 1, day, 9, 0) for day in (5, 6, 7, 8)]
    entries = ledger(service)
    assert [d.scheduled_for for d in entries] == slots
    assert [d.status for d in entries] == [DeliveryStatus.MISSED] * 3 + [newest_status]
    missed = [d for d in entries if d.status is DeliveryStatus.MISSED]
    assert all(d.sent_at is None and d.attempts == () for d in missed)
    sent_slots = [n.scheduled_for for n in team.sent]
    assert sent_slots == ([slots[-1]] if newest_status is DeliveryStatus.SENT else [])
    assert metrics.missed == ["team"] * len(missed)
    moved_on = reminder_now(service, reminder)
    assert moved_on.next_run_at == utc(2026, 1, 9, 9, 0)
    assert moved_on.next_run_at > now


def test_a_once_reminder_missed_during_downtime_is_recorded_and_retired_unsent(
    service: Service, owner: User, team: RecordingChannel, metrics: MetricsRecorder, clock: FixedClock
) -> None:
    reminder = create_reminder(service, owner, frequency=Frequency.ONCE, date=date(2026, 1, 5))

    tick_and_send(service, clock, utc(2026, 1, 7, 12, 0))

    [delivery] = ledger(service)
    assert (delivery.scheduled_for, delivery.status) == (SLOT, DeliveryStatus.MISSED)
    assert (team.tried, metrics.missed) == ([], ["team"])
    retired = reminder_now(service, reminder)
    assert (retired.active, retired.next_run_at) == (False, None)


def test_running_a_catch_up_tick_again_adds_nothing(
    service: Service, owner: User, team: RecordingChannel, metrics: MetricsRecorder, clock: FixedClock
) -> None:
    create_reminder(service, owner)
    now = utc(2026, 1, 8, 9, 1)
    tick_and_send(service, clock, now)

    again = tick_and_send(service, clock, now)

    assert again == TickResult(due=0, fired=0, more=False)
    assert len(ledger(service)) == 4
    assert len(team.sent) == 1
    assert (len(metrics.missed), metrics.outcomes) == (3, [("team", "sent", 1)])
