"""What a schedule takes from a caller: a time zone from the documented IANA list only, and each
weekday at most once. Refused when built and when revised; a schedule already stored still loads."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from domain.errors import InvalidSchedule
from domain.schedule import Frequency, Schedule, time_zone_names

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NOT_PLACES = ["Factory", "localtime", "posixrules", "posix/Europe/Berlin", "right/UTC", "right/Europe/Berlin"]


def test_the_list_holds_the_iana_names_and_no_files_that_name_no_place() -> None:
    names = time_zone_names()

    assert {"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Etc/GMT+12"} <= names
    assert not names & set(NOT_PLACES)
    assert not [name for name in names if name.startswith(("posix/", "right/"))]


def test_every_listed_zone_is_accepted() -> None:
    for zone in sorted(time_zone_names()):
        built = Schedule.build(time_of_day="09:00", frequency=Frequency.DAILY, timezone=zone, now=NOW)
        assert built.next_occurrence(NOW) is not None, zone


@pytest.mark.parametrize(
    "zone", [*NOT_PLACES, "Mars/Olympus", "europe/berlin", "Europe/Berlin ", "../etc/passwd"]
)
def test_a_zone_outside_the_list_is_refused_when_built_and_when_revised(zone: str) -> None:
    stored = Schedule(time(9), Frequency.DAILY, "UTC")

    with pytest.raises(InvalidSchedule) as built:
        Schedule.build(time_of_day="09:00", frequency=Frequency.DAILY, timezone=zone, now=NOW)
    with pytest.raises(InvalidSchedule) as revised:
        stored.revise(timezone=zone, now=NOW)

    for refusal in (built.value, revised.value):
        assert (refusal.field, refusal.message) == ("timezone", f"unknown time zone {zone!r}")


def test_a_long_zone_is_quoted_short() -> None:
    with pytest.raises(InvalidSchedule) as refused:
        Schedule.build(time_of_day="09:00", frequency=Frequency.DAILY, timezone="Z" * 500, now=NOW)

    assert len(refused.value.message) <= len("unknown time zone ") + 100


def test_a_schedule_stored_with_a_zone_no_longer_listed_still_loads_and_moves() -> None:
    stored = Schedule(time(9), Frequency.DAILY, "Factory")

    moved = stored.revise(time_of_day="10:00", now=NOW)

    assert (moved.timezone, moved.time_of_day) == ("Factory", time(10))


@pytest.mark.parametrize("weekdays", [[0, 0], [1, 3, 1], [6, 6, 6]])
def test_a_repeated_weekday_is_refused_when_built_and_when_revised(weekdays: list[int]) -> None:
    stored = Schedule(time(9), Frequency.WEEKLY, "UTC", (0,))

    with pytest.raises(InvalidSchedule) as built:
        Schedule.build(time_of_day="09:00", frequency=Frequency.WEEKLY, weekdays=weekdays, now=NOW)
    with pytest.raises(InvalidSchedule) as revised:
        stored.revise(weekdays=weekdays, now=NOW)

    for refusal in (built.value, revised.value):
        assert (refusal.field, refusal.message) == ("weekdays", "weekdays must not repeat a day")
