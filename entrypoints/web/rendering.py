"""Rendering a page: the Jinja2 environment, what every template may use, and the response headers.

Autoescaping is on for every template, so every value is escaped unless a template says otherwise
(none does). The Content-Security-Policy allows scripts, styles and images from this service only:
no inline script, no `style` attribute, nothing from another host.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from importlib.resources import files
from typing import Any, Final
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from application.web_sessions import SignedIn
from entrypoints.web import cookies, csrf
from entrypoints.web.notices import NOTICES

POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS: Final = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Pages show a person's own data: no shared cache keeps them, nor does the back button re-show a
    # page after sign-out without asking the service.
    "Cache-Control": "no-store",
}
_UTC: Final = ZoneInfo("UTC")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(files("entrypoints.web") / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["day"] = _day
    env.filters["duration"] = _duration
    return env


def zone_of(request: Request) -> ZoneInfo:
    signed_in: SignedIn | None = getattr(request.state, "signed_in", None)
    if signed_in is None:
        return _UTC
    return ZoneInfo(signed_in.user.timezone)


def when(moment: datetime | None, zone: ZoneInfo) -> str:
    """A moment as the viewer reads it: their zone's wall-clock time, with the zone's abbreviation."""
    if moment is None:
        return "—"
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def _day(value: date | None) -> str:
    return "—" if value is None else f"{value:%a} {value.day} {value:%b %Y}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def csrf_token(request: Request) -> str:
    """The token this page's forms carry. A first visit gets its seed cookie with the response."""
    seed = cookies.csrf_seed(request) or getattr(request.state, "new_csrf_seed", None)
    if seed is None:
        seed = cookies.new_seed()
        request.state.new_csrf_seed = seed
    return csrf.token_for(seed, cookies.session_token(request))


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    zone = zone_of(request)
    token = csrf_token(request)
    notice_key = request.query_params.get("notice")
    values = {
        "request": request,
        "viewer": getattr(request.state, "signed_in", None),
        "zone_name": zone.key,
        "when": lambda moment: when(moment, zone),
        "csrf_field": lambda: Markup('<input type="hidden" name="{}" value="{}">').format(csrf.FIELD, token),
        "notice": NOTICES.get(notice_key) if notice_key else None,
        "current": request.url.path,
        **context,
    }
    body = environment().get_template(template).render(values)
    response = HTMLResponse(body, status_code=status, headers=HEADERS)
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed is not None:
        cookies.set_seed(response, request, seed)
    return response
