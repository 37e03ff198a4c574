"""Cron schedules: five fields (minute, hour, day of month, month, day of week), read by cronsim and
evaluated on the schedule's local wall clock; the schedule maps each local time to an instant.

cronsim also reads a leading seconds field; a schedule takes exactly five fields, as cron writes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import lru_cache

from cronsim import CronSim, CronSimError

from domain.errors import InvalidSchedule, quoted

EXAMPLE = "0 9 * * 1-5"
_FIELDS = ("minute", "hour", "day of month", "month", "day of week")
# Any moment does to check an expression's text.
_PROBE = datetime(2000, 1, 1)


@lru_cache(maxsize=4096)
def check_cron(text: str) -> str:
    """The expression with its fields separated by single spaces, in upper case; InvalidSchedule naming
    "cron" in words when cronsim cannot read it or it can never fire."""
    fields = text.split()
    if len(fields) != 5:
        message = f"cron must have exactly five fields ({', '.join(_FIELDS)}), such as {EXAMPLE}"
        raise InvalidSchedule("cron", message)
    expression = " ".join(fields).upper()
    try:
        CronSim(expression, _PROBE)
    except CronSimError as error:
        raise InvalidSchedule("cron", _explain(expression, fields, error)) from None
    return expression


def _explain(expression: str, fields: list[str], error: CronSimError) -> str:
    # cronsim names the field it could not read ("Bad day-of-month"); say it in words.
    field = str(error).removeprefix("Bad ").replace("-", " ")
    if field == "day of month":
        any_month = " ".join([*fields[:3], "*", fields[4]])
        try:
            CronSim(any_month, _PROBE)
        except CronSimError:
            pass
        else:
            return f"cron {quoted(expression)} never fires: none of its months has that day of the month"
    if field in _FIELDS:
        return f"the {field} field of cron {quoted(expression)} is not valid"
    return f"cron {quoted(expression)} is not a valid cron expression, such as {EXAMPLE}"


def cron_walls(expression: str, begin: datetime) -> Iterator[datetime]:
    """The expression's local (naive) times at or after `begin` (to the second), in order; they stop
    when cronsim finds none within fifty years."""
    yield from CronSim(expression, begin - timedelta(seconds=1))
