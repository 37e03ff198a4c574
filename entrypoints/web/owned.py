"""A person's own things on the pages: another member's reminder or delivery reads as one that does
not exist, as another team's does, so no page tells that it is there.

The application decides (it refuses with Forbidden, as the API's 403); a page only words the
refusal, as `pages.page` words every other one.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from starlette.requests import Request

from application import views
from domain.errors import Forbidden, NotFound
from domain.reminder import Reminder
from entrypoints.web.actions import read

T = TypeVar("T")


async def mine(awaitable: Awaitable[T]) -> T:
    """The view's or command's answer; its refusal of another person's thing as "Not found"."""
    try:
        return await awaitable
    except Forbidden:
        raise NotFound("page", "") from None


async def own_reminder(request: Request) -> Reminder:
    """The reminder the address names, if the viewer may see it."""
    reminder: Reminder = await mine(read(request, views.get_reminder, request.path_params["reminder_id"]))
    return reminder
