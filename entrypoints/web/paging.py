"""Long lists a page at a time: the page asked for in the address, and links to the pages beside it
that keep every other query parameter (the filters) as it was."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

from starlette.requests import Request

from application.repositories import Page

PARAMETER: Final = "page"
# Further than any list goes: a larger number is read as this, not as a huge offset.
_LAST: Final = 100_000


@dataclass(frozen=True, slots=True)
class Paging:
    number: int
    first: int  # the position of the first item shown, from 1; 0 when none is
    last: int
    total: int
    previous_url: str | None
    next_url: str | None
    first_url: str


def number(request: Request) -> int:
    """The page asked for, from 1; anything else reads as the first."""
    raw = request.query_params.get(PARAMETER, "")
    return min(int(raw), _LAST) if raw.isdecimal() and 0 < len(raw) <= 6 and int(raw) > 0 else 1


def offset(request: Request, per_page: int) -> int:
    return (number(request) - 1) * per_page


def here(request: Request, **replaced: Any) -> str:
    """This page's address with some query parameters replaced (None: removed); a notice shown once
    is never carried on."""
    pairs = [
        (name, value)
        for name, value in request.query_params.multi_items()
        if name not in replaced and name != "notice"
    ]
    pairs += [(name, str(value)) for name, value in replaced.items() if value is not None]
    query = urlencode(pairs)
    return request.url.path + (f"?{query}" if query else "")


def paging(request: Request, page: Page[Any]) -> Paging:
    current = number(request)
    shown = len(page.items)
    return Paging(
        number=current,
        first=page.offset + 1 if shown else 0,
        last=page.offset + shown,
        total=page.total,
        previous_url=here(request, page=current - 1 if current > 2 else None) if current > 1 else None,
        next_url=here(request, page=current + 1) if page.offset + shown < page.total else None,
        first_url=here(request, page=None),
    )
