"""/links/{token}: the signed acknowledge and snooze links in messages, as pages for a browser.

The link is the permission: no API key, so the authentication lets these paths through. Opening
one (GET) only looks: it shows what the button will do, so a link scanner or a mail preview that
fetches it changes nothing. The button (POST) acts, once. A tampered link is 403, an expired or
used one 410, each a page that says so, and nothing changes.

The token is a secret: no page shows it, and the access log masks it (`masked`). These are pages,
not API operations: plain routes, outside the OpenAPI document, answering in HTML.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from application import link_views
from application.action_links import LinkRefused
from application.commands import FollowActionLink
from application.handlers.answers import LinkUsed
from application.link_views import LinkView
from application.messagebus import EventHandlersFailed
from application.unit_of_work import StoreUnavailable
from domain.delivery import Delivery
from domain.errors import Conflict, NotFound, NotSnoozable
from domain.redaction import MASK
from entrypoints.http.api import handle, service
from entrypoints.http.link_pages import confirmation, page

PREFIX: Final = "/links"
# The web app's emailed sign-in links: their path is a secret too.
SIGN_IN_PREFIX: Final = "/app/sign-in/link"
# As FollowActionLink takes it: anything longer is no token of ours.
_MAX_TOKEN: Final = 1000
_FORM: Final = "application/x-www-form-urlencoded"
_WHOLE_MINUTES: Final = re.compile(r"[0-9]{1,4}")
_NOTHING_CHANGED: Final = "Nothing was changed."
_MINUTES_HINT: Final = "Choose how long to snooze it: 1 to 1440 minutes."


class _BadForm(Exception):
    """The posted form is not one the confirmation page sends."""


def masked(path: str) -> str:
    """`path` as a log line may show it: a link's token masked, every other path as it is."""
    for prefix in (PREFIX, SIGN_IN_PREFIX):
        if path.startswith(prefix + "/"):
            return f"{prefix}/{MASK}"
    return path


def _token(request: Request) -> str:
    token: str = request.path_params["token"]
    if len(token) > _MAX_TOKEN:
        raise LinkRefused(expired=False)
    return token


async def _look(request: Request, token: str) -> LinkView:
    the_service = service(request)
    return await run_in_threadpool(
        link_views.look_at_link, the_service.uow_factory, token, clock=the_service.clock
    )


async def show_link(request: Request) -> Response:
    """What the link's button will do; nothing changes."""
    try:
        view = await _look(request, _token(request))
    except (LinkRefused, LinkUsed, NotFound, StoreUnavailable) as refused:
        return _refusal(refused)
    return confirmation(view)


async def follow_link(request: Request) -> Response:
    """Acknowledge or snooze, once; a snooze for the posted `minutes` (10 when none is posted)."""
    try:
        token = _token(request)
        minutes = _minutes(request, await request.body())
        view = await _look(request, token)
    except _BadForm:
        return page(400, "Choose how long to snooze", [_MINUTES_HINT, _NOTHING_CHANGED])
    except (LinkRefused, LinkUsed, NotFound, StoreUnavailable) as refused:
        return _refusal(refused)
    command = FollowActionLink(token=token, minutes=minutes if view.action == "snooze" else None)
    try:
        result: Delivery = await handle(request, command)
    except EventHandlersFailed as failed:
        result = failed.result  # the action was committed; only what followed it failed
    except NotSnoozable as refused:
        return _refusal(refused)
    except Conflict:
        # Someone used the link at the same moment, or changed the delivery meanwhile.
        return await _after_conflict(request, token)
    except (LinkRefused, LinkUsed, NotFound, StoreUnavailable) as refused:
        return _refusal(refused)
    return _done(view, result)


async def link(request: Request) -> Response:
    if request.method == "POST":
        return await follow_link(request)
    return await show_link(request)


def _minutes(request: Request, body: bytes) -> int | None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not body:
        return None
    if media_type != _FORM:
        raise _BadForm()
    try:
        fields = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=5, strict_parsing=True
        )
    except (UnicodeDecodeError, ValueError):
        raise _BadForm() from None
    given = [value for name, value in fields if name == "minutes"]
    if not given:
        return None
    if len(given) > 1 or not _WHOLE_MINUTES.fullmatch(given[0]) or not 1 <= int(given[0]) <= 1440:
        raise _BadForm()
    return int(given[0])


async def _after_conflict(request: Request, token: str) -> Response:
    try:
        await _look(request, token)
    except (LinkRefused, LinkUsed, NotFound, StoreUnavailable) as refused:
        return _refusal(refused)
    return page(
        409,
        "Please try again",
        [
            "The reminder changed while you were answering it.",
            _NOTHING_CHANGED,
            "Use the link again to retry.",
        ],
    )


def _named(view: LinkView) -> str:
    return f"the reminder “{view.title}”" if view.title is not None else "the reminder"


def _local(moment: datetime, timezone: str) -> str:
    there = moment.astimezone(ZoneInfo(timezone))
    return f"{there.strftime('%Y-%m-%d %H:%M')} ({timezone})"


def _done(view: LinkView, result: Delivery) -> HTMLResponse:
    if view.action == "ack":
        return page(
            200,
            "Acknowledged",
            [f"You acknowledged {_named(view)}.", "Its repeats and snoozes still waiting will not be sent."],
        )
    due = result.scheduled_for or result.next_attempt_at
    until = _local(due, view.timezone) if due is not None else "later"
    return page(200, f"Snoozed until {until}", [f"{_sentence(_named(view))} will be sent again then."])


def _refusal(error: Exception) -> HTMLResponse:
    """The page for a link that cannot be used; none of them quotes the link or the error's text."""
    if isinstance(error, LinkRefused) and error.expired:
        return page(
            410,
            "This link has expired",
            ["Links in reminders work for 7 days.", _NOTHING_CHANGED],
        )
    if isinstance(error, LinkRefused):
        return page(
            403,
            "This link is not valid",
            ["It may have been cut short or changed on its way.", _NOTHING_CHANGED],
        )
    if isinstance(error, LinkUsed):
        return page(410, "This link was used already", ["Each link works once.", _NOTHING_CHANGED])
    if isinstance(error, NotFound):
        return page(
            410,
            "This link no longer works",
            ["The person it was for is no longer an active member of the team.", _NOTHING_CHANGED],
        )
    if isinstance(error, NotSnoozable):
        return page(
            409,
            "This reminder cannot be snoozed yet",
            ["Only a reminder that was sent, or failed to be sent, can be snoozed.", _NOTHING_CHANGED],
        )
    return page(
        503,
        "Please try again shortly",
        ["The service cannot reach its store just now.", _NOTHING_CHANGED],
        {"Retry-After": "1"},
    )


# One route, so a wrong method gets a 405 whose Allow header names both.
ROUTES = [Route(PREFIX + "/{token}", link, methods=["GET", "POST"])]


def _sentence(text: str) -> str:
    """`text` opening a sentence: its first letter capitalised, the rest (a title) as written."""
    return text[:1].upper() + text[1:]
