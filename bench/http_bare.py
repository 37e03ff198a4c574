"""The framework's own ceiling for the HTTP benchmark: a bare Starlette app on the same uvicorn settings as
`reminders serve`, answering the same paths with the same bytes the service answered, and nothing else.

    python -m bench.http_bare --port 8123 --responses responses.json

`responses.json` is a list of {"method", "path", "status", "body"}: one route per exact path (the
query string is ignored, as routing ignores it). A POST reads the whole body before it answers.
No middleware of ours, no store, no logging per request: only what Starlette itself does.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _endpoint(status: int, body: bytes, *, read_body: bool) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if read_body:
            await request.body()
        return Response(body, status_code=status, media_type="application/json")

    return endpoint


def build(responses: list[dict[str, Any]]) -> Starlette:
    routes = [
        Route(
            item["path"],
            _endpoint(int(item["status"]), str(item["body"]).encode(), read_body=item["method"] == "POST"),
            methods=[item["method"]],
        )
        for item in responses
    ]
    return Starlette(routes=routes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http_bare", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--responses", type=Path, required=True)
    args = parser.parse_args(argv)
    app = build(json.loads(args.responses.read_text()))
    # As entrypoints/cli.py runs the service: uvicorn's defaults (uvloop and httptools when installed),
    # no access log, lifespan on.
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
