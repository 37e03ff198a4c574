"""Where to start: `/` points to the documentation and the health check; `/docs` is Swagger UI.

Swagger UI's files come from the swagger-ui-py package and are served by the service itself, so
the documentation works without internet access. `/docs` is a page, not an API operation: it is
a plain route and stays out of the OpenAPI document.
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files
from pathlib import Path

from pydantic import Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from entrypoints.http.api import Operation, json_response
from entrypoints.http.schemas import Out

DOCS = "/docs"
ASSETS = "/docs/assets"
# The Swagger UI files the page needs, with their media types; nothing else of the package is served.
_FILES = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
# Starts Swagger UI on the document named by the page; no validator badge, which would call out.
_START = b"""window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayRequestDuration: true,
    validatorUrl: null,
  });
});
"""
_CACHE = {"Cache-Control": "public, max-age=3600"}


class ServiceIndexOut(Out):
    service: str = Field(examples=["Team Reminder Service"])
    version: str
    docs: str = Field(description="Interactive API documentation (HTML).", examples=["/docs"])
    health: str = Field(examples=["/health"])
    openapi: str = Field(description="The OpenAPI 3.1 document.", examples=["/openapi.json"])


@cache
def _swagger_ui() -> Path:
    return Path(str(files("swagger_ui") / "static"))


def _url(request: Request, path: str) -> str:
    root: str = request.scope.get("root_path", "")
    return root + path


def _wants_html(request: Request) -> bool:
    """A browser's Accept names text/html; curl's */* and API clients' application/json do not."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


async def index(request: Request) -> Response:
    if _wants_html(request):
        return RedirectResponse(_url(request, "/app/"), status_code=303)
    return json_response(
        ServiceIndexOut(
            service=request.state.openapi["info"]["title"],
            version=request.state.version,
            docs=_url(request, DOCS),
            health=_url(request, "/health"),
            openapi=_url(request, "/openapi.json"),
        )
    )


async def docs(request: Request) -> Response:
    title = html.escape(f"{request.state.openapi['info']['title']} API", quote=True)
    assets = html.escape(_url(request, ASSETS), quote=True)
    document = html.escape(_url(request, "/openapi.json"), quote=True)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui" data-openapi="{document}"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script src="{assets}/start.js"></script>
</body>
</html>
"""
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name == "start.js":
        return Response(_START, media_type="text/javascript; charset=utf-8", headers=_CACHE)
    if name not in _FILES:
        raise HTTPException(404)
    return FileResponse(_swagger_ui() / name, media_type=_FILES[name], headers=_CACHE)


OPERATIONS = [
    Operation("GET", "/", index, "Where to start: the documentation, health and the OpenAPI document "
              "(a browser asking for HTML is sent on to the web app, /app/)",
              "operations", response=ServiceIndexOut, public=True),
]  # fmt: skip
ROUTES = [
    Route(DOCS, docs, methods=["GET"]),
    Route(f"{ASSETS}/{{name}}", asset, methods=["GET"]),
]
