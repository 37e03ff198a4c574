"""The IANA time zones a schedule (or a person) may name."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from domain.errors import InvalidSchedule, quoted

# Files of the zone database that name no place, though ZoneInfo may load them: Factory (a
# placeholder), localtime (the machine's own zone), posixrules (defaults for POSIX TZ strings), and
# the copies of the whole database under posix/ and right/ (the latter counting leap seconds).
_NOT_PLACES = frozenset({"Factory", "localtime", "posixrules"})
_COPIES = ("posix/", "right/")


@cache
def time_zone_names() -> frozenset[str]:
    """The IANA time zone names a schedule accepts: the ones the API documents, and no others."""
    return frozenset(
        name for name in available_timezones() if name not in _NOT_PLACES and not name.startswith(_COPIES)
    )


def check_zone_name(name: str) -> None:
    """InvalidSchedule unless `name` is one of time_zone_names()."""
    if name not in time_zone_names():
        raise InvalidSchedule("timezone", f"unknown time zone {quoted(name)}")


def open_zone(name: str) -> ZoneInfo:
    """The zone named `name`, whether or not it is still listed: a schedule stored before the list
    above narrowed must still load."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule("timezone", f"unknown time zone {quoted(name)}") from None


def check_timezone(name: str) -> str:
    """The name itself, once known to be a time zone this service accepts."""
    check_zone_name(name)
    return name
