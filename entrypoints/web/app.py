"""The web app's routes, all under /app, and its static files."""

from __future__ import annotations

from importlib.resources import files
from typing import Final

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from entrypoints.web import (
    pages,
    pages_audit,
    pages_deliveries,
    pages_keys,
    pages_reminders,
    pages_sign_in,
    pages_status,
    pages_team,
)

PREFIX: Final = "/app"
_STATIC: Final = {
    "app.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
}
# Served with the page's version in mind: revalidated, so a new release's files are used at once.
_STATIC_HEADERS: Final = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _STATIC:
        return await pages.unknown(request)
    path = str(files("entrypoints.web") / "static" / name)
    return FileResponse(path, media_type=_STATIC[name], headers=_STATIC_HEADERS)


def _areas() -> list[Route]:
    return [
        *pages_sign_in.ROUTES,
        *pages_reminders.ROUTES,
        *pages_deliveries.ROUTES,
        *pages_team.ROUTES,
        *pages_keys.ROUTES,
        *pages_audit.ROUTES,
        *pages_status.ROUTES,
    ]


def routes() -> list[BaseRoute]:
    found: list[BaseRoute] = [
        Route(PREFIX + route.path.rstrip("/"), route.endpoint, methods=route.methods) for route in _areas()
    ]
    found.append(Route(PREFIX + "/static/{name}", static, methods=["GET"]))
    # Last: every other address under /app, whatever the method, is a page that says so.
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    found.append(Route(PREFIX + "/{rest:path}", pages.unknown, methods=methods))
    return found
