"""Real local peers for the channel tests: an HTTP receiver and an SMTP server, both on 127.0.0.1.

Each answers from a script (one reply per request or message, then the default), records what it
received, and can be told to stall longer than a channel's timeout.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


# -- HTTP ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


class HttpReceiver:
    """A ThreadingHTTPServer that answers POSTs from `replies`, then with the default reply."""

    def __init__(self, default: Reply = Reply()) -> None:
        self.default = default
        self.replies: list[Reply] = []
        self.requests: list[Request] = []
        # Decides the reply from the request when set (after the script runs out).
        self.responder: Callable[[Request], Reply] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((HOST, 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://{HOST}:{self.port}{path}"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes stalled handlers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _record(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self.replies:
                return self.replies.pop(0)
        return self.responder(request) if self.responder else self.default

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                reply = receiver._record(Request("POST", self.path, headers, body))
                if reply.delay and receiver._stopping.wait(reply.delay):
                    return
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up waiting, as the timeout tests intend

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


# -- SMTP ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def part(self, subtype: str) -> str:
        """The content of the text/<subtype> part."""
        body = self.message.get_body((subtype,))
        assert body is not None, f"no text/{subtype} part"
        content = body.get_content()
        assert isinstance(content, str)
        return content


class ScriptedSmtpHandler:
    """Answers each DATA from `replies` ("250 ...", "451 ...", "550 ..."), then with 250; the first
    DATAs wait `delays` seconds first, one each. Recipients in `refused` get that reply to RCPT."""

    def __init__(self) -> None:
        self.replies: list[str] = []
        self.refused: dict[str, str] = {}
        self.delays: list[float] = []
        self.mails: list[Mail] = []
        self.attempts = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        reply = self.replies.pop(0) if self.replies else "250 Message accepted for delivery"
        if reply.startswith("250"):
            self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return reply


class SmtpServer:
    """aiosmtpd on a free loopback port; `credentials` turns on AUTH (allowed without TLS here)."""

    def __init__(self, *, credentials: tuple[str, str] | None = None, **controller_options: Any) -> None:
        self.handler = ScriptedSmtpHandler()
        self.port = free_port()
        self.logins: list[str] = []
        options: dict[str, Any] = dict(controller_options)
        if credentials is not None:
            options.update(authenticator=self._authenticator(credentials), auth_require_tls=False)
        self.controller = Controller(self.handler, hostname=HOST, port=self.port, **options)

    def _authenticator(self, credentials: tuple[str, str]) -> Callable[..., AuthResult]:
        user, password = credentials

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and data.login.decode() == user
                and data.password.decode() == password
            )
            if ok:
                self.logins.append(user)
            return AuthResult(success=ok, handled=False)

        return authenticate

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
