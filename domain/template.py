"""Title and message templates: named placeholders only, never attribute access, indexing or code.

`{{` and `}}` stand for literal braces. Rendering concatenates literal text and values itself
instead of calling `str.format`, so a template can never reach into an object.
"""

from __future__ import annotations

from functools import lru_cache
from string import Formatter

from domain.errors import InvalidTemplate

# In the order the API documents them, which is also the order error messages list them in.
PLACEHOLDERS = ("owner_name", "title", "scheduled_for_local", "timezone", "date")
_LONGEST_SHOWN = 40

_Piece = tuple[str, str | None]


@lru_cache(maxsize=4096)
def _parse(field: str, template: str) -> tuple[_Piece, ...]:
    """Cached: every delivery renders its reminder's templates, and a team has few of them."""
    try:
        parsed = list(Formatter().parse(template))
    except ValueError:
        raise InvalidTemplate(
            field,
            f"{field} has an unmatched {{ or }}; write {{{{ or }}}} for a literal brace, "
            "or a placeholder such as {owner_name}",
        ) from None
    pieces: list[_Piece] = []
    for literal, name, spec, conversion in parsed:
        if name is not None and (name not in PLACEHOLDERS or spec or conversion):
            raise InvalidTemplate(field, _refusal(field, name, spec, conversion))
        pieces.append((literal, name))
    return tuple(pieces)


def _refusal(field: str, name: str, spec: str | None, conversion: str | None) -> str:
    shown = "{" + name + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
    if len(shown) > _LONGEST_SHOWN:
        shown = shown[: _LONGEST_SHOWN - 2] + "…}"
    if name in PLACEHOLDERS:
        return f"{field} uses {shown}; placeholders take no conversion or format, write {{{name}}}"
    allowed = ", ".join("{" + known + "}" for known in PLACEHOLDERS)
    return f"{field} uses unknown placeholder {shown}; use one of {allowed}"


def validate_template(field: str, template: str) -> None:
    _parse(field, template)


def render(field: str, template: str, values: dict[str, str]) -> str:
    return "".join(literal + (values[name] if name else "") for literal, name in _parse(field, template))
