"""The team's page: its members, a member added, a role changed, a member deactivated or back.

Every permission is the application's: its views and commands refuse a member (the 403 page) and
another team's people (the 404 page).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Final
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application import web_views
from application.commands import CreateUser, NewUser, UpdateUser, UserPatch
from application.repositories import Page
from domain.errors import Conflict, DuplicateEmail, InvalidInput
from domain.roles import Role
from domain.time_zones import time_zone_names
from domain.user import User
from entrypoints.web import paging
from entrypoints.web.actions import HOME, read, run, see_other
from entrypoints.web.forms import WHOLE, Problems, as_body, form, problems, text
from entrypoints.web.pages import page
from entrypoints.web.rendering import render
from entrypoints.web.viewer import viewer

PER_PAGE: Final = 50
TEAM: Final = "/app/team"
ROLES: Final = [(Role.MEMBER.value, "Member"), (Role.ADMIN.value, "Admin")]
_NEW_MEMBER: Final = ("name", "email", "role", "timezone")


@cache
def _zones() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(time_zone_names())]


def _pages(request: Request, members: Page[User]) -> paging.Paging:
    """The pager of the team's own address. A refused form answers at the form's address, with the
    first page: its links still lead to the team's pages."""
    found = paging.paging(request, members)
    if request.url.path == TEAM:
        return found
    after = f"{TEAM}?{urlencode({paging.PARAMETER: 2})}" if found.next_url else None
    return replace(found, previous_url=None, next_url=after, first_url=TEAM)


async def _team_page(
    request: Request,
    *,
    status: int = 200,
    found: Problems | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    offset = paging.offset(request, PER_PAGE) if request.url.path == TEAM else 0
    members = await read(request, web_views.team_members, limit=PER_PAGE, offset=offset)
    default = {"name": "", "email": "", "role": Role.MEMBER.value, "timezone": viewer(request).user.timezone}
    return render(
        request,
        "admin/team.html",
        status=status,
        members=members.items,
        paging=_pages(request, members),
        problems=found or {},
        values=values or default,
        roles=ROLES,
        role_names=dict(ROLES),
        zones=_zones(),
    )


@page
async def show_team(request: Request) -> Response:
    return await _team_page(request)


@page
async def add_member(request: Request) -> Response:
    data = await form(request)
    values = {name: text(data, name) for name in _NEW_MEMBER}
    try:
        body = as_body(dict(values), NewUser)
        fields = {name: getattr(body, name) for name in NewUser.model_fields}
        await run(request, CreateUser(actor=viewer(request).actor, **fields))
    except (ValidationError, InvalidInput) as refused:
        return await _team_page(request, status=400, found=problems(refused), values=values)
    except DuplicateEmail as refused:
        return await _team_page(request, status=409, found={"email": [refused.message]}, values=values)
    return see_other(TEAM, "member-added")


@page
async def change_role(request: Request) -> Response:
    data = await form(request)
    return await _change_member(request, {"role": text(data, "role")})


@page
async def change_active(request: Request) -> Response:
    data = await form(request)
    return await _change_member(request, {"active": text(data, "active")})


async def _change_member(request: Request, changes: dict[str, object]) -> Response:
    """A refusal (the last admin, a bad value) is shown on the team page, above its table."""
    try:
        patch = as_body(changes, UserPatch)
        command = UpdateUser(
            actor=viewer(request).actor, user_id=request.path_params["user_id"], changes=patch
        )
        changed: User = await run(request, command)
    except (ValidationError, InvalidInput) as refused:
        messages = [message for found in problems(refused).values() for message in found]
        return await _team_page(request, status=400, found={WHOLE: messages})
    except Conflict as refused:
        return await _team_page(request, status=409, found={WHOLE: [refused.message]})
    if changed.id == viewer(request).user.id and not changed.is_active_admin:
        return see_other(HOME, "member-saved")  # no longer an admin: the team page would refuse them
    return see_other(TEAM, "member-saved")


ROUTES = [
    Route("/team", show_team, methods=["GET"]),
    Route("/team/members", add_member, methods=["POST"]),
    Route("/team/members/{user_id}/role", change_role, methods=["POST"]),
    Route("/team/members/{user_id}/active", change_active, methods=["POST"]),
]
