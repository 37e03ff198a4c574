"""An audit entry: one change, who made it, through which request, and its fields before and after.

Entries are only ever added; nothing edits or deletes one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.aggregate import Aggregate
from domain.ids import new_id

# A changed field: [old, new], each a JSON value ("[redacted]" for targets and secrets).
Changes = dict[str, list[Any]]


@dataclass(eq=False, kw_only=True)
class AuditEntry(Aggregate):
    id: str
    at: datetime
    team_id: str
    # Who acted: a user and the key they used, or the system (both None).
    actor_user_id: str | None
    actor_key_id: str | None
    action: str
    target_type: str
    target_id: str
    request_id: str | None
    changes: Changes = field(default_factory=dict)

    @classmethod
    def record(
        cls,
        *,
        at: datetime,
        team_id: str,
        actor_user_id: str | None,
        actor_key_id: str | None,
        action: str,
        target_type: str,
        target_id: str,
        request_id: str | None,
        changes: Changes,
    ) -> AuditEntry:
        return cls(
            id=new_id(),
            at=at,
            team_id=team_id,
            actor_user_id=actor_user_id,
            actor_key_id=actor_key_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            request_id=request_id,
            changes=changes,
        )
