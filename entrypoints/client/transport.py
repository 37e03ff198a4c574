"""One HTTP request to a running service, its JSON answer, and the API's one error shape.

Standard library only (`urllib.request`): the client needs nothing the service does not.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

URL_VARIABLE = "REMINDERS_URL"
KEY_VARIABLE = "REMINDERS_API_KEY"
DEFAULT_URL = "http://127.0.0.1:8000"
# Longer than the service's own wait on a send-now (--send-wait-seconds, 10 by default), so the
# client hears the service's answer (sent, failed, or 202 still retrying) instead of timing out.
TIMEOUT_SECONDS = 60.0
USER_AGENT = "team-reminders-cli"

Query = Mapping[str, str | int | bool | None]


class ClientError(Exception):
    """Anything that keeps a command from getting its answer; str() is the line to print."""


class ServiceError(ClientError):
    """A non-2xx answer, read from the API's error shape {"code", "message", "details", "request_id"};
    `code` is empty when the answer was not in that shape."""

    def __init__(
        self, status: int, code: str, message: str, details: Any = None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.request_id = request_id


class Unreachable(ClientError):
    """No HTTP answer at all: nothing listening, an unknown host, or no answer in time."""


@dataclass(frozen=True)
class Reply:
    status: int
    text: str  # the JSON exactly as the service sent it; empty for 204
    body: Any  # that JSON decoded, or None when empty


class ServiceClient:
    def __init__(
        self, base_url: str, *, api_key: str | None = None, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        parts = urllib.parse.urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ClientError(f"{URL_VARIABLE} must be an http:// or https:// URL, not {base_url!r}")
        self.base_url = base_url.strip().rstrip("/")
        self._api_key = api_key or None
        self._timeout = timeout
        # Proxies from the environment apply, as for any HTTP tool.
        self._opener = urllib.request.build_opener()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ServiceClient:
        return cls(environ.get(URL_VARIABLE) or DEFAULT_URL, api_key=environ.get(KEY_VARIABLE))

    def get(self, path: str, query: Query | None = None) -> Reply:
        return self.request("GET", path, query=query)

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> Reply:
        return self.request("POST", path, body=body)

    def delete(self, path: str) -> Reply:
        return self.request("DELETE", path)

    def request(
        self, method: str, path: str, *, query: Query | None = None, body: Mapping[str, Any] | None = None
    ) -> Reply:
        url = self.base_url + path + _query_string(query)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        if self._api_key:
            # Never carried along a redirect, to whichever host it names.
            request.add_unredirected_header("Authorization", f"Bearer {self._api_key}")
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                raw = response.read()
                body = _decode(raw, self.base_url)
                return Reply(response.status, raw.decode(errors="replace"), body)
        except urllib.error.HTTPError as error:
            try:
                raw = error.read()
            except OSError:
                raw = b""
            finally:
                error.close()
            raise _service_error(error.code, error.reason, raw, self.base_url) from None
        except urllib.error.URLError as error:
            raise self._unreachable(error.reason) from None
        except (TimeoutError, OSError) as error:
            raise self._unreachable(error) from None
        except http.client.HTTPException:
            raise ClientError(f"{self.base_url} did not answer as an HTTP service") from None

    def _unreachable(self, reason: object) -> Unreachable:
        if isinstance(reason, TimeoutError):
            return Unreachable(f"the service at {self.base_url} gave no answer within {self._timeout:g} s")
        return Unreachable(
            f"cannot reach the service at {self.base_url} ({_why(reason)}); "
            f"is it running? Set {URL_VARIABLE} to its address."
        )


def segment(value: str) -> str:
    """An id as one path segment, whatever characters it holds."""
    return urllib.parse.quote(value, safe="")


def _query_string(query: Query | None) -> str:
    pairs = {
        name: ("true" if value else "false") if isinstance(value, bool) else str(value)
        for name, value in (query or {}).items()
        if value is not None
    }
    return "?" + urllib.parse.urlencode(pairs) if pairs else ""


def _decode(raw: bytes, base_url: str) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ClientError(f"{base_url} answered with something that is not JSON") from None


def _service_error(status: int, reason: object, raw: bytes, base_url: str) -> ServiceError:
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return ServiceError(
            status,
            str(body.get("code") or "error"),
            body["message"],
            body.get("details"),
            body.get("request_id"),
        )
    # Not the service's error shape: something else answers at that address (a proxy, another app).
    return ServiceError(status, "", f"{base_url} answered HTTP {status} {reason}".strip())


def _why(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__
