"""Calendar rules (RFC 5545 RRULE) a schedule takes: the text checked, normalised and described.

A rule only chooses days; the schedule's time_of_day sets the time, so frequencies finer than a day and
the parts that choose hours, minutes or seconds are refused. python-dateutil parses the rule; this module
only looks at its parts for what the service does not take (what RFC 5545 forbids and dateutil lets
through, and what would make a rule loop or never fire). UNTIL is a local date (the whole day included),
a local date and time, or a UTC instant ending in Z, as RFC 5545 writes them.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import UTC, datetime, time
from functools import lru_cache
from typing import Any

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from domain.errors import InvalidSchedule, quoted, shortened

FREQUENCIES = {"DAILY": DAILY, "WEEKLY": WEEKLY, "MONTHLY": MONTHLY, "YEARLY": YEARLY}
_FINER = frozenset({"HOURLY", "MINUTELY", "SECONDLY"})
_PARTS = frozenset(
    {"FREQ", "UNTIL", "COUNT", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH"}
    | {"BYSETPOS", "WKST", "BYHOUR", "BYMINUTE", "BYSECOND"}
)
_TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
# Without any of these, dateutil takes the day (and for YEARLY the month) from DTSTART.
_DAY_PARTS = ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO")
_CHARACTERS = frozenset(string.ascii_uppercase + string.digits + ";=,+-")
EXAMPLE = "FREQ=MONTHLY;BYDAY=2TU"
# A period between occurrences longer than a hundred years (the horizon searched) is not a schedule.
_LONGEST_INTERVAL = {"DAILY": 36500, "WEEKLY": 5200, "MONTHLY": 1200, "YEARLY": 100}
# COUNT bounds the work of finding where a counted series ends; longer series have UNTIL or ends_on.
MAX_COUNT = 1000
# Any date does to check a rule's text; the rule is expanded later from the schedule's starts_on.
_PROBE = datetime(2000, 1, 3)


def _refuse(message: str) -> InvalidSchedule:
    return InvalidSchedule("rrule", message)


@dataclass(frozen=True, slots=True)
class RuleText:
    """A rule's text once checked: the normalised text and what expanding it needs to know."""

    text: str
    frequency: int
    interval: int
    week_start: int
    count: int | None
    until_local: datetime | None  # naive, in the schedule's zone
    until_utc: datetime | None  # an UNTIL written in UTC stays that instant in any zone
    day_from_start: bool  # no part chooses the day: DTSTART's day (and weekday) is the rule's
    month_from_start: bool  # FREQ=YEARLY with no month and no day chosen: DTSTART's month too
    chooses_month: bool  # BYMONTH is given


@lru_cache(maxsize=4096)
def check_rule(text: str) -> RuleText:
    """The rule's text checked and normalised (upper case, no blanks, no RRULE: prefix); InvalidSchedule
    naming "rrule" in words when the service does not take it."""
    normalised = "".join(text.split()).upper().removeprefix("RRULE:")
    if not normalised:
        raise _refuse(f"rrule must not be empty; write a rule such as {EXAMPLE}")
    if "DTSTART" in normalised:
        raise _refuse("rrule must not hold DTSTART: the series starts on starts_on")
    if ":" in normalised:
        raise _refuse("rrule holds one rule and no other property such as EXDATE (use skip_dates for that)")
    if not set(normalised) <= _CHARACTERS:
        raise _refuse("rrule may use only letters, digits and the characters ; = , + -")
    parts = _parts(normalised)
    until = _until(parts.get("UNTIL"))
    rule = parse_rule(normalised, _PROBE, shown=text)
    attributes: dict[str, Any] = vars(rule)  # dateutil keeps the parsed parts in these attributes
    _check_values(parts, attributes)
    chooses_day = any(name in parts for name in _DAY_PARTS)
    is_utc = until is not None and parts["UNTIL"].endswith("Z")
    return RuleText(
        text=normalised,
        frequency=FREQUENCIES[parts["FREQ"]],
        interval=attributes["_interval"],
        week_start=attributes["_wkst"] if "WKST" in parts else 0,  # RFC 5545's default, Monday
        count=attributes["_count"],
        until_local=None if is_utc else until,
        until_utc=until.replace(tzinfo=UTC) if is_utc and until is not None else None,
        day_from_start=not chooses_day,
        month_from_start=not chooses_day and "BYMONTH" not in parts and parts["FREQ"] == "YEARLY",
        chooses_month="BYMONTH" in parts,
    )


def _parts(normalised: str) -> dict[str, str]:
    """NAME=VALUE pairs, looked at only for what is refused; dateutil parses their values."""
    parts: dict[str, str] = {}
    for piece in normalised.split(";"):
        name, equals, value = piece.partition("=")
        if not (equals and name and value) or "=" in value:
            raise _refuse(f"rrule parts are NAME=VALUE pairs separated by semicolons, such as {EXAMPLE}")
        if name in parts:
            raise _refuse(f"rrule names {name} more than once")
        parts[name] = value
    unknown = sorted(set(parts) - _PARTS)
    if unknown:
        raise _refuse(f"rrule part {quoted(unknown[0])} is not an RFC 5545 rule part")
    if any(name in parts for name in _TIME_PARTS):
        raise _refuse("rrule must not hold BYHOUR, BYMINUTE or BYSECOND: time_of_day sets the time")
    frequency = parts.get("FREQ")
    if frequency is None:
        raise _refuse("rrule needs FREQ: DAILY, WEEKLY, MONTHLY or YEARLY")
    if frequency not in FREQUENCIES:
        finer = " (a reminder's rule chooses days; time_of_day sets the time)" if frequency in _FINER else ""
        raise _refuse(f"rrule FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY{finer}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise _refuse("rrule may hold COUNT or UNTIL, not both")
    return parts


def _until(value: str | None) -> datetime | None:
    """UNTIL as RFC 5545 writes it; a date alone ends the series after that whole local day."""
    if value is None:
        return None
    for layout, length in (("%Y%m%d", 8), ("%Y%m%dT%H%M%S", 15), ("%Y%m%dT%H%M%SZ", 16)):
        if len(value) == length and value[:8].isdigit():
            try:
                moment = datetime.strptime(value, layout)
            except ValueError:
                break
            return datetime.combine(moment.date(), time.max) if length == 8 else moment
    message = (
        "rrule UNTIL must be a local date (YYYYMMDD), a local date and time (YYYYMMDDTHHMMSS) "
        "or a UTC date and time ending in Z (YYYYMMDDTHHMMSSZ)"
    )
    raise _refuse(message)


def parse_rule(normalised: str, start: datetime, *, shown: str | None = None) -> rrule:
    """dateutil's rule for the text from `start`, its UNTIL read as a naive local time."""
    try:
        rule = rrulestr(normalised, dtstart=start, ignoretz=True)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        reason = str(error)
        # dateutil's own reasons are in words; Python's (unpacking, missing arguments) are not.
        worded = reason.startswith(("invalid", "unknown", "Invalid", "bysetpos"))
        said = f": {shortened(reason)}" if worded else ""
        raise _refuse(f"rrule {quoted(shown or normalised)} is not a valid recurrence rule{said}") from None
    assert isinstance(rule, rrule)  # one rule, no set: checked above
    return rule


def _check_values(parts: dict[str, str], attributes: dict[str, Any]) -> None:
    """What dateutil takes but RFC 5545 does not, or what would make a rule loop or never match."""
    frequency = parts["FREQ"]
    interval = attributes["_interval"]
    if interval < 1:
        raise _refuse("rrule INTERVAL must be at least 1")
    longest = _LONGEST_INTERVAL[frequency]
    if interval > longest:
        raise _refuse(f"rrule INTERVAL must be at most {longest} with FREQ={frequency} (a hundred years)")
    count = attributes["_count"]
    if count is not None and not 1 <= count <= MAX_COUNT:
        raise _refuse(f"rrule COUNT must be 1 to {MAX_COUNT}; for a longer series use UNTIL or ends_on")
    ranges = {
        "BYMONTH": (attributes["_bymonth"] or (), 1, 12),
        "BYMONTHDAY": ((*attributes["_bymonthday"], *attributes["_bynmonthday"]), -31, 31),
        "BYYEARDAY": (attributes["_byyearday"] or (), -366, 366),
        "BYWEEKNO": (attributes["_byweekno"] or (), -53, 53),
        "BYDAY": (tuple(n for _, n in attributes["_bynweekday"] or ()), -53, 53),
    }
    for name, (values, low, high) in ranges.items():
        if name in parts and any(value == 0 or not low <= value <= high for value in values):
            raise _refuse(f"rrule {name} values must be {low} to {high}, and not 0")
    # dateutil drops a BYMONTHDAY of 0 silently; RFC 5545 has no day 0.
    month_days = parts["BYMONTHDAY"].split(",") if "BYMONTHDAY" in parts else []
    if any(not day.lstrip("+-").strip("0") for day in month_days):
        raise _refuse("rrule BYMONTHDAY values must be -31 to 31, and not 0")
    if frequency in ("DAILY", "WEEKLY") and any(character.isdigit() for character in parts.get("BYDAY", "")):
        raise _refuse("rrule BYDAY may carry a number (such as 2TU) only with FREQ=MONTHLY or FREQ=YEARLY")
    if frequency != "YEARLY" and ("BYWEEKNO" in parts or "BYYEARDAY" in parts):
        raise _refuse("rrule BYWEEKNO and BYYEARDAY go only with FREQ=YEARLY")
    if frequency == "WEEKLY" and "BYMONTHDAY" in parts:
        raise _refuse("rrule BYMONTHDAY does not go with FREQ=WEEKLY")
    if "BYSETPOS" in parts:
        _check_positions(frequency, parts, attributes)


def _check_positions(frequency: str, parts: dict[str, str], attributes: dict[str, Any]) -> None:
    """BYSETPOS picks among the days each period has; asking for more than a period can have never fires."""
    if set(parts) <= {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYSETPOS"}:
        raise _refuse("rrule BYSETPOS needs another BY part, such as BYDAY, to choose from")
    if frequency == "DAILY":
        raise _refuse("rrule BYSETPOS does not go with FREQ=DAILY: a day has only one time to choose")
    most = {"WEEKLY": len(attributes["_byweekday"] or ()) or 1, "MONTHLY": 31, "YEARLY": 366}[frequency]
    if any(abs(position) > most for position in attributes["_bysetpos"]):
        unit = {"WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}[frequency]
        raise _refuse(f"rrule BYSETPOS values must be -{most} to {most}: no {unit} has more days to choose")
