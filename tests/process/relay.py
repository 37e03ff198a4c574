"""A relay that calls the service with an API key on behalf of a webhook, which carries none.

`Relay(service_url, key)` listens on 127.0.0.1 and forwards every POST, path and body unchanged,
to the service with `Authorization: Bearer <key>`; it answers with the service's status and body
once the service has answered (502 when it could not). A webhook pointed at the relay calls the
service as the key's user, and waits on the service just as if it called the service directly.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests.process.api import bearer

HOST = "127.0.0.1"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a sender that gave up on its call, which the service under test may well do


class Relay:
    def __init__(self, service_url: str, key: str, *, timeout: float = 30) -> None:
        self._upstream = httpx.Client(base_url=service_url, headers=bearer(key), timeout=timeout)
        self._server = _Server((HOST, 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def __enter__(self) -> Relay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._upstream.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        upstream = self._upstream

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                content_type = self.headers.get("Content-Type", "application/json")
                try:
                    answer = upstream.post(self.path, content=body, headers={"Content-Type": content_type})
                    status, content = answer.status_code, answer.content
                except httpx.HTTPError:
                    status, content = 502, b"{}"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
