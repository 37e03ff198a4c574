"""The floor under `GET /users/{id}`: the least any implementation can spend on it under the issue's
conditions, measured beside the bare app by `python -m bench.http --floor`.

    python -m bench.http_floor --port 8124 --database bench.db --responses responses.json

The same uvicorn settings as `reminders serve`, and only what every such request must do:
- the access log line of `reminders serve` (its `RequestContextMiddleware`, JSON at INFO);
- the Bearer key checked against the store (the key and its user in one statement, SHA-256 compared
  in constant time, revoked keys and deactivated users refused);
- the user read from the store, scoped to the caller's team.

Everything else is left out: the rest of the middleware, the unit of work, SQLAlchemy (the store is
read with `sqlite3` on one connection, on the event loop), the aggregates and the response models
(the answer is the bytes the service answered). No service should be built like this; it shows how
far the real one could get at best.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sqlite3
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.api_key import split_key
from entrypoints.http.middleware import RequestContextMiddleware
from entrypoints.logging_setup import configure_logging

_HOLDER = (
    "SELECT k.secret_hash, k.revoked_at, u.team_id, u.active FROM api_keys AS k"
    " JOIN users AS u ON u.id = k.user_id WHERE k.prefix = ?"
)
_USER = "SELECT id, team_id, name, email, role, timezone, active FROM users WHERE id = ? AND team_id = ?"
_REFUSED = Response(b'{"code":"unauthorized"}', status_code=401, media_type="application/json")
_NOT_FOUND = Response(b'{"code":"not_found"}', status_code=404, media_type="application/json")


def build(database: Path, bodies: dict[str, bytes]) -> Starlette:
    store = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    store.execute("PRAGMA query_only = ON")

    async def get_user(request: Request) -> Response:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        shaped = split_key(presented.strip()) if scheme.lower() == "bearer" else None
        if shaped is None:
            return _REFUSED
        row = store.execute(_HOLDER, (shaped[0],)).fetchone()
        digest = hashlib.sha256(shaped[1].encode()).hexdigest()
        if row is None or not hmac.compare_digest(row[0], digest) or row[1] is not None or not row[3]:
            return _REFUSED
        user = store.execute(_USER, (request.path_params["user_id"], row[2])).fetchone()
        if user is None:
            return _NOT_FOUND
        return Response(bodies[request.scope["path"]], media_type="application/json")

    return Starlette(
        routes=[Route("/users/{user_id}", get_user, methods=["GET"])],
        middleware=[Middleware(RequestContextMiddleware)],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http_floor", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--responses", type=Path, required=True)
    args = parser.parse_args(argv)
    responses: list[dict[str, Any]] = json.loads(args.responses.read_text())
    bodies = {item["path"]: str(item["body"]).encode() for item in responses if item["method"] == "GET"}
    configure_logging("json", "INFO")
    app = build(args.database, bodies)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
