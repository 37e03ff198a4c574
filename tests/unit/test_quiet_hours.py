"""Quiet hours: windows on the person's local days, overnight ones included, across daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.errors import InvalidInput
from domain.quiet_hours import QuietHours, quiet_hours_from

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


NIGHT = QuietHours.build(start="22:00", end="07:00")


@pytest.mark.parametrize(
    ("moment", "ends"),
    [
        ("2026-01-05T21:59:59+01:00", None),
        ("2026-01-05T22:00:00+01:00", "2026-01-06T07:00:00+01:00"),
        ("2026-01-06T03:00:00+01:00", "2026-01-06T07:00:00+01:00"),  # begun the evening before
        ("2026-01-06T07:00:00+01:00", None),  # the end is exclusive
        ("2026-01-06T12:00:00+01:00", None),
    ],
)
def test_an_overnight_window_runs_to_the_next_morning(moment: str, ends: str | None) -> None:
    assert NIGHT.ends_after(at(moment), BERLIN) == (at(ends) if ends else None)


def test_weekdays_are_the_days_a_window_starts_on() -> None:
    weeknights = QuietHours.build(
        start="22:00", end="07:00", weekdays=(0, 1, 2, 3, 4)
    )  # Monday to Friday evenings
    assert weeknights.ends_after(at("2026-01-10T03:00:00+01:00"), BERLIN) == at(
        "2026-01-10T07:00:00+01:00"
    )  # Fri
    assert weeknights.ends_after(at("2026-01-11T03:00:00+01:00"), BERLIN) is None  # Saturday night: not quiet


def test_the_window_keeps_its_wall_clock_times_across_daylight_saving() -> None:
    # The night the clocks go forward in Berlin (29 March 2026): 07:00 is at 05:00 UTC, not 06:00.
    assert NIGHT.ends_after(at("2026-03-29T01:30:00+01:00"), BERLIN) == at("2026-03-29T07:00:00+02:00")
    day = QuietHours.build(start="02:30", end="03:30")  # starts in the gap: counts from the jump
    assert day.ends_after(at("2026-03-29T03:00:00+02:00"), BERLIN) == at("2026-03-29T03:30:00+02:00")
    assert day.ends_after(at("2026-03-29T01:59:00+01:00"), BERLIN) is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"start": "22:00", "end": "22:00"}, "quiet_hours.end"),
        ({"start": "9:00", "end": "10:00"}, "quiet_hours.start"),
        ({"start": "09:00", "end": "24:00"}, "quiet_hours.end"),
        ({"start": "09:00", "end": "10:00", "weekdays": (7,)}, "quiet_hours.weekdays"),
        ({"start": "09:00", "end": "10:00", "weekdays": ()}, "quiet_hours.weekdays"),
    ],
)
def test_bad_quiet_hours_are_refused_naming_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        QuietHours.build(**fields)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_the_stored_form_reads_back() -> None:
    weekdays = QuietHours.build(start="12:00", end="13:30", weekdays=(5, 6))
    assert quiet_hours_from(weekdays.as_dict()) == weekdays
    assert quiet_hours_from(None) is None
