"""/users: create, read, list, change and delete users."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from application import views
from application.commands import CreateUser, DeleteUser, UpdateUser, UserPatch
from entrypoints.http.api import Operation, handle, json_response, read_body, read_query, service
from entrypoints.http.queries import UserQuery
from entrypoints.http.schemas import UserOut, UserPage


async def create_user(request: Request) -> Response:
    user = await handle(request, await read_body(request, CreateUser))
    return json_response(UserOut.of(user), 201)


async def list_users(request: Request) -> Response:
    query = read_query(request, UserQuery)
    page = await run_in_threadpool(
        views.list_users,
        service(request).uow_factory,
        limit=query.limit,
        offset=query.offset,
        active=query.active,
    )
    return json_response(UserPage.of(page, UserOut.of))


async def get_user(request: Request) -> Response:
    user = await run_in_threadpool(
        views.get_user, service(request).uow_factory, request.path_params["user_id"]
    )
    return json_response(UserOut.of(user))


async def update_user(request: Request) -> Response:
    changes = await read_body(request, UserPatch)
    user = await handle(request, UpdateUser(user_id=request.path_params["user_id"], changes=changes))
    return json_response(UserOut.of(user))


async def delete_user(request: Request) -> Response:
    await handle(request, DeleteUser(user_id=request.path_params["user_id"]))
    return Response(status_code=204)


OPERATIONS = [
    Operation(
        "POST", "/users/", create_user, "Create a user", "users",
        status=201, body=CreateUser, response=UserOut, errors=(400, 409, 413, 415),
    ),
    Operation(
        "GET", "/users/", list_users, "List users in creation order", "users",
        query=UserQuery, response=UserPage, errors=(400,),
    ),
    Operation("GET", "/users/{user_id}", get_user, "Get a user", "users", response=UserOut, errors=(404,)),
    Operation(
        "PATCH", "/users/{user_id}", update_user, "Change a user's name, email or active flag", "users",
        body=UserPatch, response=UserOut, errors=(400, 404, 409, 413, 415),
    ),
    Operation(
        "DELETE", "/users/{user_id}", delete_user, "Delete a user and their reminders", "users",
        status=204, errors=(404, 409),
    ),
]  # fmt: skip
