"""The audit trail as its page shows it: the filters read as the API reads them (times in the viewer's
zone), and each entry as a row of short texts. Values arrive already redacted by the audit mechanism."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from domain.audit import AuditEntry
from entrypoints.http.queries import AuditQuery
from entrypoints.web.forms import Problems, problems

FILTERS: Final = ("action", "actor_id", "target_id", "since", "until")  # the words first, then the moments
_MOMENT_EXAMPLE: Final = "enter a date and time, for example 2026-01-31 09:00"
_MAX_MOMENT: Final = 40
_SHOWN_VALUE: Final = 80  # characters of a changed value shown
_SHOWN_CHANGES: Final = 3  # changes listed before the rest fold away


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: str | None  # None: the field had no value (a creation)
    after: str


@dataclass(frozen=True, slots=True)
class AuditRow:
    at: datetime
    who: str
    who_id: str | None
    action: str
    target_type: str
    target_id: str
    changes: list[Change]
    more: list[Change]  # folded away, to keep a creation's dozen fields from filling the page
    request_id: str | None


def read_filters(given: dict[str, str], zone: ZoneInfo) -> tuple[Problems, AuditQuery | None]:
    """The filters as the API's query (None, with the problems by field, when one cannot be read).
    `since` and `until` are wall-clock times in `zone`, as a datetime-local field sends them."""
    found: Problems = {}
    values: dict[str, Any] = {
        name: given[name] for name in ("action", "actor_id", "target_id") if given[name]
    }
    for name in ("since", "until"):
        if given[name]:
            moment = _local_moment(given[name], zone)
            if moment is None:
                found[name] = [f"{name} is not a date and time: {_MOMENT_EXAMPLE}"]
            else:
                values[name] = moment
    try:
        query = AuditQuery.model_validate(values)
    except ValidationError as error:
        for name, messages in problems(error).items():
            found.setdefault(name, []).extend(messages)
        return found, None
    return found, None if found else query


def _local_moment(raw: str, zone: ZoneInfo) -> datetime | None:
    if len(raw) > _MAX_MOMENT:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def row(entry: AuditEntry, names: dict[str, str]) -> AuditRow:
    """An entry, its actor named when still in the team (else their id), "system" for none."""
    who_id = entry.actor_user_id
    # A creation records every field: its own id and its team's are already on the row.
    known = {"id": entry.target_id, "team_id": entry.team_id}
    changes = [
        Change(field, None if pair[0] is None else _shown(pair[0]), _shown(pair[-1]))
        for field, pair in entry.changes.items()
        if pair and pair[0] != pair[-1] and not (pair[0] is None and known.get(field) == pair[-1])
    ]
    folded = len(changes) > _SHOWN_CHANGES + 1  # never fold away a single change
    return AuditRow(
        at=entry.at,
        who="system" if who_id is None else names.get(who_id, who_id),
        who_id=who_id,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        changes=changes[:_SHOWN_CHANGES] if folded else changes,
        more=changes[_SHOWN_CHANGES:] if folded else [],
        request_id=entry.request_id,
    )


def _shown(value: Any) -> str:
    """A value in a few characters: text as it is, anything else as JSON."""
    if value is None:
        return "—"
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return shown if len(shown) <= _SHOWN_VALUE else shown[: _SHOWN_VALUE - 1] + "…"
