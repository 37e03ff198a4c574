"""/users: the team's users, created, read, listed, changed and deleted."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from application import views
from application.commands import CreateUser, DeleteUser, NewUser, UpdateUser, UserPatch
from entrypoints.http.api import (
    Operation,
    actor,
    given,
    handle,
    json_response,
    read,
    read_body,
    read_query,
    service,
)
from entrypoints.http.examples import NEW_USER, USER_CHANGES
from entrypoints.http.queries import UserQuery
from entrypoints.http.schemas import UserOut, UserPage


async def create_user(request: Request) -> Response:
    user = await handle(request, given(request, CreateUser, await read_body(request, NewUser)))
    return json_response(UserOut.of(user), 201)


async def list_users(request: Request) -> Response:
    query = read_query(request, UserQuery)
    page = await run_in_threadpool(
        views.list_users,
        service(request).uow_factory,
        actor(request),
        limit=query.limit,
        offset=query.offset,
        active=query.active,
        role=query.role,
    )
    return json_response(UserPage.of(page, UserOut.of))


async def get_user(request: Request) -> Response:
    user = await read(
        request, views.get_user, service(request).uow_factory, actor(request), request.path_params["user_id"]
    )
    return json_response(UserOut.of(user))


async def update_user(request: Request) -> Response:
    changes = await read_body(request, UserPatch)
    command = given(request, UpdateUser, user_id=request.path_params["user_id"], changes=changes)
    return json_response(UserOut.of(await handle(request, command)))


async def delete_user(request: Request) -> Response:
    await handle(request, given(request, DeleteUser, user_id=request.path_params["user_id"]))
    return Response(status_code=204)


OPERATIONS = [
    Operation(
        "POST", "/users/", create_user, "Create a user in your team (admins)", "users",
        status=201, body=NewUser, response=UserOut, errors=(400, 403, 409, 413, 415), examples=NEW_USER,
    ),
    Operation(
        "GET", "/users/", list_users, "List your team's users in creation order", "users",
        query=UserQuery, response=UserPage, errors=(400,),
    ),
    Operation("GET", "/users/{user_id}", get_user, "Get a user", "users", response=UserOut, errors=(404,)),
    Operation(
        "PATCH", "/users/{user_id}", update_user,
        "Change a user: yourself (name, email, time zone, quiet hours), or anyone in the team (admins: "
        "also role and active flag)", "users",
        body=UserPatch, response=UserOut, errors=(400, 403, 404, 409, 413, 415), examples=USER_CHANGES,
    ),
    Operation(
        "DELETE", "/users/{user_id}", delete_user, "Delete a user, their reminders and keys (admins)",
        "users", status=204, errors=(403, 404, 409),
    ),
]  # fmt: skip
