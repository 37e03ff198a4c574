"""Title and message templates: named placeholders only, never attribute access, indexing or code.

`{{` and `}}` stand for literal braces. Rendering concatenates literal text and values itself
instead of calling `str.format`, so a template can never reach into an object.
"""

from __future__ import annotations

from functools import lru_cache
from string import Formatter

from domain.errors import InvalidTemplate

PLACEHOLDERS = frozenset({"owner_name", "title", "scheduled_for_local", "timezone", "date"})

_Piece = tuple[str, str | None]


@lru_cache(maxsize=4096)
def _parse(field: str, template: str) -> tuple[_Piece, ...]:
    """Cached: every delivery renders its reminder's templates, and a team has few of them."""
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as error:
        raise InvalidTemplate(field, f"{field} is not a valid template: {error}") from None
    pieces: list[_Piece] = []
    for literal, name, spec, conversion in parsed:
        if name is not None and (name not in PLACEHOLDERS or spec or conversion):
            shown = "{" + name + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
            allowed = ", ".join("{" + known + "}" for known in sorted(PLACEHOLDERS))
            raise InvalidTemplate(field, f"{field} uses unknown placeholder {shown}; allowed: {allowed}")
        pieces.append((literal, name))
    return tuple(pieces)


def validate_template(field: str, template: str) -> None:
    _parse(field, template)


def render(field: str, template: str, values: dict[str, str]) -> str:
    return "".join(literal + (values[name] if name else "") for literal, name in _parse(field, template))
