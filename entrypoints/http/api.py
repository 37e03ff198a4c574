"""Declaring an operation once: it yields both the Starlette route and its OpenAPI entry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application.commands import ActorCommand, Body, Command
from domain.actor import Actor
from domain.errors import NotFound
from domain.ids import MAX_ID_LENGTH
from entrypoints.bootstrap import Service
from entrypoints.http.problems import ApiError, from_validation_error, invalid
from entrypoints.http.reads import run_read

M = TypeVar("M", bound=BaseModel)
P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C", bound=ActorCommand)
Endpoint = Callable[[Request], Awaitable[Response]]
# Every path parameter is the id of the entity it is named after, except this one.
_ENTITIES = {"owner_id": "user"}


@dataclass(frozen=True, slots=True)
class BodyExample:
    """A whole request body, named, as the document shows it: how the fields go together."""

    name: str
    summary: str
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    # The documented path; the route also answers without (or with) the trailing slash.
    path: str
    endpoint: Endpoint
    summary: str
    tag: str
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    # Other success statuses that answer with the same response model (202 while still working).
    also_returns: tuple[int, ...] = ()
    # Error statuses whose body extends the one error shape (with all of its fields).
    error_models: tuple[tuple[int, type[BaseModel]], ...] = ()
    media_type: str = "application/json"
    # Answers without an API key (health, metrics, the documentation).
    public: bool = False
    # Request bodies to show, beyond the examples of each field.
    examples: tuple[BodyExample, ...] = ()

    @property
    def route_path(self) -> str:
        return self.path.rstrip("/") or "/"


def routes(operations: Sequence[Operation]) -> list[Route]:
    """One route per path, so a wrong method gets a 405 whose Allow header lists every method."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    for op in operations:
        by_path.setdefault(op.route_path, {})[op.method] = op.endpoint
    return [
        Route(path, _ids_checked(_by_method(endpoints)), methods=list(endpoints))
        for path, endpoints in by_path.items()
    ]


def _ids_checked(endpoint: Endpoint) -> Endpoint:
    """A path id longer than any the service issues is a 404 at once: nothing looks it up, and the
    answer does not quote it back."""

    @wraps(endpoint)
    async def checked(request: Request) -> Response:
        for name, value in request.path_params.items():
            if len(value) > MAX_ID_LENGTH:
                raise NotFound(_ENTITIES.get(name, name.removesuffix("_id")), value)
        return await endpoint(request)

    return checked


def _by_method(endpoints: dict[str, Endpoint]) -> Endpoint:
    if len(endpoints) == 1:
        return next(iter(endpoints.values()))

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await endpoints[method](request)

    return endpoint


def service(request: Request) -> Service:
    found: Service = request.state.service
    return found


def actor(request: Request) -> Actor:
    """Who is calling: set by the authentication middleware for every route that is not public."""
    found: Actor = request.state.actor
    return found


def given(request: Request, command_type: type[C], body: Body | None = None, **fields: Any) -> C:
    """The command a request gives: the body's fields, the path's, and the caller as its actor."""
    values = {} if body is None else {name: getattr(body, name) for name in type(body).model_fields}
    return command_type.model_validate({**values, **fields, "actor": actor(request)})


async def handle(request: Request, command: Command) -> Any:
    """Hand a command to the bus on a worker thread: the core is synchronous."""
    return await run_in_threadpool(service(request).bus.handle, command)


async def read(request: Request, view: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a view that reads one thing by its id: inline on SQLite, else on a worker thread. Pages and
    other reads go through `run_in_threadpool` (entrypoints/http/reads.py says why)."""
    return await run_read(request.scope["state"], view, *args, **kwargs)


async def read_body(request: Request, model: type[M]) -> M:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(415, "send the body as application/json")
    raw = await request.body()
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as error:
        raise from_validation_error(error, where="body") from None


def read_query(request: Request, model: type[M]) -> M:
    pairs = request.query_params.multi_items()
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise invalid(name, "given more than once")
        seen.add(name)
    try:
        return model.model_validate(dict(pairs))
    except ValidationError as error:
        raise from_validation_error(error, where="query") from None


def json_response(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")
