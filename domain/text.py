"""Rules shared by the free-text fields people type: names of users, teams and keys."""

from __future__ import annotations

from domain.errors import InvalidInput


def clean_name(field: str, raw: str, *, max_length: int = 200) -> str:
    """Trimmed, not blank, within `max_length`, and without NUL."""
    name = raw.strip()
    if not name:
        raise InvalidInput(field, f"{field} must not be blank")
    if len(name) > max_length:
        raise InvalidInput(field, f"{field} must be at most {max_length} characters")
    if "\x00" in name:
        raise InvalidInput(field, f"{field} must not contain NUL characters")
    return name
