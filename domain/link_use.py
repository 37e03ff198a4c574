"""A used action link: links in messages (acknowledge, snooze) work once, so each use is recorded.

The link's nonce is the id: a second use of one link finds its id taken and changes nothing.
Only ever added.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.aggregate import Aggregate


@dataclass(eq=False, kw_only=True)
class LinkUse(Aggregate):
    id: str  # the link's nonce
    team_id: str
    delivery_id: str
    action: str
    used_at: datetime
