"""The status page's chart of deliveries per hour, as numbers a template draws: no markup here.

Twenty-four slots, the current hour (in UTC, as the counts are) and the 23 before it, each labelled
by the time its hour starts in the viewer's zone: a zone half or three quarters of an hour off UTC
shows slots starting at :30 or :45, and a day of a daylight-saving change skips or repeats an hour
label, because the slots are real hours. Each slot's bar stacks the outcomes in a fixed order, so
the same outcome is always at the same place in every bar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from application.repositories import HourlyCount
from application.web_views import CHART_HOURS
from domain.delivery import DeliveryStatus


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str  # also the CSS class and pattern id suffix: fixed words only
    label: str
    statuses: frozenset[DeliveryStatus]


OUTCOMES: Final = (
    Outcome("sent", "Sent", frozenset({DeliveryStatus.SENT})),
    Outcome("failed", "Failed", frozenset({DeliveryStatus.FAILED})),
    Outcome("missed", "Missed", frozenset({DeliveryStatus.MISSED})),
    Outcome("cancelled", "Cancelled", frozenset({DeliveryStatus.CANCELLED})),
    Outcome(
        "waiting",
        "Waiting",
        frozenset({DeliveryStatus.PENDING, DeliveryStatus.DEFERRED, DeliveryStatus.SENDING}),
    ),
)
_OUTCOME_OF: Final = {status: outcome.key for outcome in OUTCOMES for status in outcome.statuses}

# The drawing's own units (the SVG's viewBox); it scales to the page's width.
# Small enough that its 14-unit text stays readable where the page scales it down.
WIDTH: Final = 600
HEIGHT: Final = 280
LEFT: Final = 40  # room for the axis's numbers
RIGHT: Final = 8
TOP: Final = 12
BOTTOM: Final = 46  # room for the hour labels and the axis's name
BAR_SHARE: Final = 0.7  # of a slot's width; the rest is the gap between bars
LABEL_EVERY: Final = 3  # hours between labels on the axis: 24 labels would not fit on a phone
_MAX_TICKS: Final = 5


@dataclass(frozen=True, slots=True)
class Segment:
    outcome: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime  # UTC
    label: str  # "HH:MM" in the viewer's zone
    long_label: str  # the day too, and the zone's abbreviation
    counts: dict[str, int]  # by outcome key, every outcome present
    total: int
    segments: tuple[Segment, ...]  # bottom to top, only outcomes with deliveries
    centre: float  # x of the bar's middle, where its label goes
    on_axis: bool  # whether the axis shows its label


@dataclass(frozen=True, slots=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    desc: str
    slots: tuple[Slot, ...]
    ticks: tuple[Tick, ...]
    totals: dict[str, int]
    total: int
    outcomes: tuple[Outcome, ...] = OUTCOMES
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    baseline: int = HEIGHT - BOTTOM


def build_chart(counts: Iterable[HourlyCount], *, now: datetime, zone: ZoneInfo) -> Chart:
    """The chart of `counts` (UTC hours) for the CHART_HOURS hours up to `now`, labelled in `zone`."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    starts = [current - timedelta(hours=CHART_HOURS - 1 - index) for index in range(CHART_HOURS)]
    by_hour: dict[datetime, dict[str, int]] = {start: dict.fromkeys(_keys(), 0) for start in starts}
    for count in counts:
        slot = by_hour.get(count.hour.astimezone(UTC))
        if slot is not None:
            slot[_OUTCOME_OF[count.status]] += count.count
    top_value, step = _scale(max((sum(slot.values()) for slot in by_hour.values()), default=0))
    plot_height = HEIGHT - BOTTOM - TOP
    slot_width = (WIDTH - RIGHT - LEFT) / CHART_HOURS
    slots = tuple(
        _slot(start, by_hour[start], index, slot_width, plot_height / top_value, zone)
        for index, start in enumerate(starts)
    )
    ticks = tuple(
        Tick(value, _round(HEIGHT - BOTTOM - value * plot_height / top_value))
        for value in range(0, top_value + 1, step)
    )
    totals = {key: sum(slot.counts[key] for slot in slots) for key in _keys()}
    total = sum(totals.values())
    return Chart(
        title="Deliveries per hour over the last 24 hours, by outcome",
        desc=_summary(totals, total),
        slots=slots,
        ticks=ticks,
        totals=totals,
        total=total,
    )


def _keys() -> list[str]:
    return [outcome.key for outcome in OUTCOMES]


def _slot(
    start: datetime, counts: dict[str, int], index: int, slot_width: float, unit: float, zone: ZoneInfo
) -> Slot:
    bar_width = slot_width * BAR_SHARE
    x = LEFT + index * slot_width + (slot_width - bar_width) / 2
    segments: list[Segment] = []
    # Stacked from the exact running total, so rounding never opens a gap or overlaps two segments.
    below = 0
    for key in _keys():
        count = counts[key]
        if count == 0:
            continue
        bottom = HEIGHT - BOTTOM - below * unit
        upper = HEIGHT - BOTTOM - (below + count) * unit
        segments.append(
            Segment(key, count, _round(x), _round(upper), _round(bar_width), _round(bottom - upper))
        )
        below += count
    local = start.astimezone(zone)
    return Slot(
        start=start,
        label=f"{local:%H:%M}",
        long_label=f"{local:%a} {local.day} {local:%b}, {local:%H:%M} {local.tzname()}",
        counts=counts,
        total=below,
        segments=tuple(segments),
        centre=_round(LEFT + (index + 0.5) * slot_width),
        # Counted from the newest hour, so the current hour always has its label.
        on_axis=(CHART_HOURS - 1 - index) % LABEL_EVERY == 0,
    )


def _scale(highest: int) -> tuple[int, int]:
    """The axis's top value and the step between its ticks: a round step (1, 2 or 5 times a power of
    ten) giving at most five steps, so the ticks read easily."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if -(-highest // (step * factor)) <= _MAX_TICKS - 1:
                size = step * factor
                return max(1, -(-highest // size)) * size, size
        step *= 10


def _summary(totals: dict[str, int], total: int) -> str:
    parts = ", ".join(f"{totals[outcome.key]} {outcome.label.lower()}" for outcome in OUTCOMES)
    were = "delivery was" if total == 1 else "deliveries were"
    return f"In the last 24 hours, {total} {were} due: {parts}."


def _round(value: float) -> float:
    return round(value, 2)
