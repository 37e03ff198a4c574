"""Plain-text tables for a terminal: columns padded to their widest cell, and `name: value` blocks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

EMPTY = "-"


def cell(value: Any) -> str:
    """A JSON value as a short cell: null as "-", booleans as yes/no, timestamps in UTC to the second."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return _timestamp(value) or " ".join(value.split())
    return str(value)


def clip(value: Any, width: int) -> Any:
    """A long text cut to `width` characters for a table column; other values as they are."""
    if not isinstance(value, str):
        return value
    text = " ".join(value.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[cell(value) for value in row] for row in rows]
    widths = [max([len(header)] + [len(row[index]) for row in cells]) for index, header in enumerate(headers)]
    lines = [headers, *cells]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def fields(pairs: Sequence[tuple[str, Any]]) -> str:
    width = max(len(name) for name, _ in pairs)
    return "\n".join(f"{name + ':':<{width + 1}}  {cell(value)}".rstrip() for name, value in pairs)


def _timestamp(text: str) -> str | None:
    """The wire's ISO 8601 timestamps ("2026-01-05T09:00:00.123456+00:00") as "2026-01-05 09:00:00 UTC"."""
    if len(text) < 20 or text[10] != "T":
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
