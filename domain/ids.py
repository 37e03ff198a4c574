"""Opaque identifiers: random, never counters, so they reveal nothing and never collide across stores."""

from __future__ import annotations

import uuid

# The ids this service issues are 32 hex digits; an id longer than this cannot be one of them.
MAX_ID_LENGTH = 64


def new_id() -> str:
    return uuid.uuid4().hex
