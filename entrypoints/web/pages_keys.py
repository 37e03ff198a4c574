"""A member's API keys: listed, created (the key shown once, on the answer alone) and revoked.

An admin manages everyone's in the team, a member their own, as the API allows. The application
decides; another member's keys read as keys that do not exist (the 404 page), as another team's do.
"""

from __future__ import annotations

from typing import Final

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application import views
from application.commands import CreateApiKey, NewKey, RevokeApiKey
from application.handlers.keys import IssuedKey
from domain.errors import InvalidInput
from domain.user import User
from entrypoints.web import paging
from entrypoints.web.actions import local_path, read, run, see_other
from entrypoints.web.forms import Problems, as_body, form, problems, text
from entrypoints.web.owned import mine
from entrypoints.web.pages import page
from entrypoints.web.rendering import render
from entrypoints.web.viewer import viewer

PER_PAGE: Final = 50


def _keys_path(user_id: str) -> str:
    return f"/app/team/members/{user_id}/keys"


async def _keys_page(
    request: Request, *, status: int = 200, found: Problems | None = None, name: str = ""
) -> Response:
    user_id = request.path_params["user_id"]
    # The keys first: the policy refuses another member's here, before anything is shown.
    keys = await mine(
        read(request, views.list_keys_of, user_id, limit=PER_PAGE, offset=paging.offset(request, PER_PAGE))
    )
    owner = await read(request, views.get_user, user_id)
    return render(
        request,
        "admin/keys.html",
        status=status,
        owner=owner,
        keys=keys.items,
        paging=paging.paging(request, keys),
        back=paging.here(request),
        problems=found or {},
        name=name,
    )


@page
async def show_keys(request: Request) -> Response:
    return await _keys_page(request)


@page
async def create_key(request: Request) -> Response:
    """The new key is on this answer alone: not in a redirect, a notice or any later page."""
    data = await form(request)
    name = text(data, "name")
    user_id = request.path_params["user_id"]
    # The owner before the key: once the key exists, nothing must fail before it is shown.
    owner: User = await read(request, views.get_user, user_id)
    try:
        body = as_body({"name": name}, NewKey)
        issued: IssuedKey = await mine(
            run(request, CreateApiKey(actor=viewer(request).actor, user_id=owner.id, name=body.name))
        )
    except (ValidationError, InvalidInput) as refused:
        return await _keys_page(request, status=400, found=problems(refused), name=name)
    return render(
        request,
        "admin/key_created.html",
        status=201,
        owner=owner,
        key=issued.key,
        plain=issued.plain,
        back=_keys_path(owner.id),
    )


@page
async def revoke_key(request: Request) -> Response:
    data = await form(request)
    signed_in = viewer(request)
    await mine(run(request, RevokeApiKey(actor=signed_in.actor, key_id=request.path_params["key_id"])))
    return see_other(local_path(text(data, "next"), _keys_path(signed_in.user.id)), "key-revoked")


ROUTES = [
    Route("/team/members/{user_id}/keys", show_keys, methods=["GET"]),
    Route("/team/members/{user_id}/keys", create_key, methods=["POST"]),
    Route("/keys/{key_id}/revoke", revoke_key, methods=["POST"]),
]
