"""The ticker: fires what is due at the clock's time, and says when it has stopped keeping up."""

from __future__ import annotations

import time
from datetime import timedelta

from application import views
from application.handlers.scheduling import TickResult
from entrypoints.ticker import Ticker
from tests.fakes import FixedClock, RecordingChannel, make_service, run_queue
from tests.unit.world import SLOT, START, add_owner, create_reminder


def test_a_tick_fires_what_is_due_at_the_clocks_time_and_records_when() -> None:
    clock, team = FixedClock(START), RecordingChannel()
    service = make_service(clock=clock, channels={"team": team})
    create_reminder(service, add_owner(service))
    clock.current = SLOT + timedelta(seconds=5)
    ticker = Ticker(service=service, interval=1.0)

    result = ticker.tick()
    run_queue(service)

    assert result == TickResult(due=1, fired=1, more=False)
    assert [n.scheduled_for for n in team.sent] == [SLOT]
    assert ticker.last_tick_at == SLOT + timedelta(seconds=5)
    assert ticker.last_tick_duration_ms is not None
    assert ticker.last_tick_duration_ms >= 0


def test_ticker_health_is_ok_after_a_tick_and_unavailable_once_ticks_stop() -> None:
    clock = FixedClock(START)
    service = make_service(clock=clock)
    create_reminder(service, add_owner(service), channel="log")
    clock.current = SLOT
    ticker = Ticker(service=service, interval=0.05)
    assert ticker.health()["status"] == "unavailable"  # it has never ticked

    ticker.tick()
    fresh = ticker.health()
    time.sleep(0.2)  # more than three intervals
    stale = ticker.health()

    assert fresh["status"] == "ok"
    assert fresh["enabled"] is True
    assert fresh["last_tick_at"] == SLOT.isoformat()
    assert fresh["seconds_since_last_tick"] < 0.15
    assert fresh["last_tick_duration_ms"] == ticker.last_tick_duration_ms
    # The tick fired the slot; sending it is a worker's job, so it waits in the queue.
    assert views.queue_stats(service.uow_factory, clock.current).pending == 1
    assert stale["status"] == "unavailable"
    assert stale["enabled"] is True
    assert stale["seconds_since_last_tick"] >= 0.15
    ticker.tick()
    assert ticker.health()["status"] == "ok"
