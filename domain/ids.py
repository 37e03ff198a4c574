"""Opaque identifiers: random, never counters, so they reveal nothing and never collide across stores."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return uuid.uuid4().hex
