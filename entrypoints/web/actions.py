"""Running a command or a view for a page, on a worker thread (the core is synchronous)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse

from application.commands import Command
from application.messagebus import EventHandlersFailed
from application.unit_of_work import UnitOfWorkFactory
from domain.actor import Actor
from entrypoints.http.api import service
from entrypoints.web.viewer import viewer

T = TypeVar("T")
HOME: Final = "/app/reminders"


class TooMany(Exception):
    """A person's sends or writes through the pages went past the service's rate limits."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


async def run(request: Request, command: Command, *, send: bool = False, counted: bool = True) -> Any:
    """Hand a command to the bus. A signed-in person's writes count against the same limits as an
    API key's (per person here: a page has no key); `send` marks a send-now or retry. Signing in and
    out is not `counted`: a person at their limit can still end their session."""
    limiter = getattr(request.state, "rate_limiter", None)
    signed_in = getattr(request.state, "signed_in", None)
    if counted and limiter is not None and signed_in is not None:
        refusal = await limiter.check(f"web:{signed_in.user.id}", send=send)
        if refusal is not None:
            raise TooMany(refusal.retry_after)
    try:
        return await run_in_threadpool(service(request).bus.handle, command)
    except EventHandlersFailed as failed:
        # The command was committed; only work that followed it failed (and is logged by the bus).
        # Showing an error would invite the person to do it again.
        return failed.result


async def read(request: Request, view: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A view of the application, as the viewer: `view(uow_factory, actor, *args, **kwargs)`."""
    actor: Actor = viewer(request).actor
    return await run_in_threadpool(view, service(request).uow_factory, actor, *args, **kwargs)


def local_path(candidate: str | None, fallback: str = HOME) -> str:
    """A place in the app to go back to: only a path of ours, never another site."""
    if not candidate or not candidate.startswith("/app/") or candidate.startswith("/app//"):
        return fallback
    if any(character in candidate for character in "\\\r\n"):
        return fallback
    return candidate


def see_other(url: str, notice: str | None = None) -> RedirectResponse:
    """After a post: 303, so a reload does not post again."""
    if notice is not None:
        url += ("&" if "?" in url else "?") + urlencode({"notice": notice})
    return RedirectResponse(url, status_code=303)


def uow_factory(request: Request) -> UnitOfWorkFactory:
    return service(request).uow_factory
