"""The status page's chart: 24 hourly slots labelled in the viewer's zone, bars stacked by outcome to
the right heights, and a one-line summary of the totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from application.repositories import HourlyCount
from domain.delivery import DeliveryStatus
from entrypoints.web.chart import BOTTOM, HEIGHT, TOP, Chart, build_chart

NOW = datetime(2026, 1, 5, 8, 20, tzinfo=UTC)
CURRENT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
PLOT = HEIGHT - BOTTOM - TOP
UTC_ZONE = ZoneInfo("UTC")


def count(hours_ago: int, status: DeliveryStatus, number: int, *, current: datetime = CURRENT) -> HourlyCount:
    return HourlyCount(hour=current - timedelta(hours=hours_ago), status=status, count=number)


def chart_of(*counts: HourlyCount, now: datetime = NOW, zone: ZoneInfo = UTC_ZONE) -> Chart:
    return build_chart(counts, now=now, zone=zone)


def test_an_empty_day_has_24_empty_slots_an_axis_and_zero_totals() -> None:
    chart = chart_of()

    assert len(chart.slots) == 24
    assert all(slot.total == 0 and slot.segments == () for slot in chart.slots)
    assert [tick.value for tick in chart.ticks] == [0, 1]
    assert chart.total == 0
    assert chart.desc == (
        "In the last 24 hours, 0 deliveries were due: 0 sent, 0 failed, 0 missed, 0 cancelled, 0 waiting."
    )


def test_slots_run_from_23_hours_ago_to_the_current_hour() -> None:
    chart = chart_of()

    assert chart.slots[0].start == CURRENT - timedelta(hours=23)
    assert chart.slots[-1].start == CURRENT
    assert chart.slots[-1].label == "08:00"
    assert chart.slots[-1].on_axis
    assert sum(slot.on_axis for slot in chart.slots) == 8


def test_bars_stack_each_outcome_on_the_one_below_in_proportion_to_the_tallest() -> None:
    chart = chart_of(
        count(0, DeliveryStatus.SENT, 2),
        count(0, DeliveryStatus.FAILED, 1),
        count(0, DeliveryStatus.PENDING, 1),
        count(5, DeliveryStatus.SENT, 2),
    )

    # The tallest bar holds 4: the axis runs 0 to 4 in steps of 1.
    assert [tick.value for tick in chart.ticks] == [0, 1, 2, 3, 4]
    assert chart.ticks[0].y == HEIGHT - BOTTOM
    assert chart.ticks[-1].y == TOP
    newest = chart.slots[-1]
    assert [(s.outcome, s.count) for s in newest.segments] == [("sent", 2), ("failed", 1), ("waiting", 1)]
    sent, failed, waiting = newest.segments
    assert sent.height == pytest.approx(PLOT / 2)
    assert failed.height == waiting.height == pytest.approx(PLOT / 4)
    assert sent.y + sent.height == pytest.approx(HEIGHT - BOTTOM)
    assert failed.y + failed.height == pytest.approx(sent.y)
    assert waiting.y + waiting.height == pytest.approx(failed.y)
    assert waiting.y == pytest.approx(TOP)
    older = chart.slots[-6]
    assert [s.outcome for s in older.segments] == ["sent"]
    assert older.segments[0].height == pytest.approx(PLOT / 2)
    assert older.segments[0].x < sent.x


def test_the_axis_takes_a_round_step() -> None:
    chart = chart_of(count(1, DeliveryStatus.SENT, 17))

    assert [tick.value for tick in chart.ticks] == [0, 5, 10, 15, 20]
    assert chart.slots[-2].segments[0].height == pytest.approx(PLOT * 17 / 20)


def test_every_waiting_status_counts_as_waiting_and_counts_outside_the_day_are_left_out() -> None:
    chart = chart_of(
        count(2, DeliveryStatus.PENDING, 1),
        count(2, DeliveryStatus.DEFERRED, 2),
        count(2, DeliveryStatus.SENDING, 3),
        count(24, DeliveryStatus.SENT, 9),
        count(-1, DeliveryStatus.PENDING, 9),
    )

    assert chart.slots[-3].counts["waiting"] == 6
    assert chart.totals == {"sent": 0, "failed": 0, "missed": 0, "cancelled": 0, "waiting": 6}


def test_the_summary_totals_every_outcome() -> None:
    chart = chart_of(
        count(0, DeliveryStatus.SENT, 3),
        count(3, DeliveryStatus.SENT, 4),
        count(3, DeliveryStatus.MISSED, 1),
        count(9, DeliveryStatus.CANCELLED, 2),
        count(20, DeliveryStatus.FAILED, 1),
    )

    assert chart.desc == (
        "In the last 24 hours, 11 deliveries were due: 7 sent, 1 failed, 1 missed, 2 cancelled, 0 waiting."
    )
    one = chart_of(count(0, DeliveryStatus.SENT, 1))
    assert one.desc.startswith("In the last 24 hours, 1 delivery was due:")


def test_slots_are_labelled_in_a_zone_three_quarters_of_an_hour_off_utc() -> None:
    chart = chart_of(zone=ZoneInfo("Asia/Kathmandu"))  # UTC+05:45

    assert len(chart.slots) == 24
    assert chart.slots[-1].label == "13:45"
    assert chart.slots[0].label == "14:45"  # 23 hours earlier, the day before
    assert all(slot.label.endswith(":45") for slot in chart.slots)
    assert chart.slots[-1].long_label == "Mon 5 Jan, 13:45 +0545"


def test_a_day_when_clocks_go_forward_skips_the_missing_hour_but_keeps_24_slots() -> None:
    # Europe/Berlin, 29 March 2026: 02:00 CET becomes 03:00 CEST (01:00 UTC).
    now = datetime(2026, 3, 29, 12, 10, tzinfo=UTC)

    labels = [slot.label for slot in chart_of(now=now, zone=ZoneInfo("Europe/Berlin")).slots]

    assert len(labels) == 24
    assert "02:00" not in labels
    assert labels[-1] == "14:00"
    assert labels[labels.index("01:00") + 1] == "03:00"


def test_a_day_when_clocks_go_back_shows_the_repeated_hour_twice_with_its_zone() -> None:
    # Europe/Berlin, 25 October 2026: 03:00 CEST becomes 02:00 CET (01:00 UTC).
    now = datetime(2026, 10, 25, 12, 10, tzinfo=UTC)

    slots = chart_of(now=now, zone=ZoneInfo("Europe/Berlin")).slots

    assert len(slots) == 24
    assert [slot.label for slot in slots].count("02:00") == 2
    twice = [slot.long_label for slot in slots if slot.label == "02:00"]
    assert twice == ["Sun 25 Oct, 02:00 CEST", "Sun 25 Oct, 02:00 CET"]
