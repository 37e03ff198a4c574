"""A fast webhook receiver for the lag benchmark: a bare ASGI app on uvicorn, in its own process.

    python -m bench.delivery_receiver --port 8123

It answers every request 200 at once, after reading the body. POST /hook records the moment each
request arrived (the wall clock when the app is called, headers read) and its `Idempotency-Key`;
POST /ceiling is the same request without the record, for the load generator that measures what
this receiver can take. GET /arrivals returns the records as JSON, GET /count how many distinct
keys have arrived, DELETE /arrivals forgets them.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_OK = [(b"content-type", b"text/plain"), (b"content-length", b"2")]


class Receiver:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []
        self.keys: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        arrived = time.time()
        path, method = scope["path"], scope["method"]
        more = True
        while more:  # the whole body, as a real receiver would read it
            message = await receive()
            more = message.get("more_body", False)
        if path == "/hook":
            key = next((value for name, value in scope["headers"] if name == b"idempotency-key"), b"")
            self.arrivals.append((arrived, key.decode()))
            self.keys.add(key.decode())
        elif path in ("/arrivals", "/count") and method == "GET":
            body = json.dumps(self.arrivals if path == "/arrivals" else len(self.keys)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        elif path == "/arrivals" and method == "DELETE":
            self.arrivals, self.keys = [], set()
        await send({"type": "http.response.start", "status": 200, "headers": _OK})
        await send({"type": "http.response.body", "body": b"ok"})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.delivery_receiver", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    uvicorn.run(
        Receiver(), host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="on"
    )


if __name__ == "__main__":
    main()
