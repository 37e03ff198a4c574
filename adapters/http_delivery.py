"""One HTTP POST to a receiver, its outcome mapped to sent, transient or permanent.

Shared by the webhook and Slack channels. 2xx is sent; 429 and 5xx are transient (with the
peer's Retry-After, when it gives one); timeouts and connection errors are transient; a 3xx is
permanent because redirects are not followed (a redirected POST may be replayed as a GET, or to a
host the target never named); every other status is permanent. Error texts name the receiver by
host only, since a webhook URL's path is often its credential; they pass through `redact`, and any
longer piece of the target URL that the receiver echoes back is masked too. httpx's own request
log line, which carries the full URL, is redacted by a filter the channels install.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

import httpx

from application.channels import PermanentChannelError, TransientChannelError
from domain.errors import InvalidTarget
from domain.redaction import MASK, redact

_SNIPPET = 200
_DRAIN_LIMIT = 64 * 1024
# Shorter pieces of a URL ("hooks", "v1") are words, not credentials.
_SCRUBBED_LENGTH = 8


class RedactingFilter(logging.Filter):
    """Masks secrets in httpx's own request log line, which carries the full target URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact(str(arg)) if isinstance(arg, httpx.URL | str) else arg for arg in record.args
            )
        return True


def redact_httpx_logs() -> None:
    """Install the filter on the `httpx` logger once; called by the channels when they are built."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
        logger.addFilter(RedactingFilter())


class HttpTarget(NamedTuple):
    url: str
    scheme: str  # lower case
    host: str  # lower case, without brackets or port
    path: str


def parse_http_url(target: str | None, *, schemes: frozenset[str]) -> HttpTarget:
    """An absolute URL with one of `schemes` and a host; InvalidTarget otherwise (never echoing it)."""
    if not target or not target.strip():
        raise InvalidTarget("target", "this channel needs a target URL")
    url = target.strip()
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError as error:
        raise InvalidTarget("target", f"target is not a valid URL: {redact(str(error))}") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        allowed = " or ".join(sorted(schemes))
        raise InvalidTarget("target", f"target must be an {allowed} URL")
    if not parts.hostname:
        raise InvalidTarget("target", "target URL has no host")
    return HttpTarget(url, scheme, parts.hostname, parts.path)


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date; None when unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an obsolete date form without a zone means GMT
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def pool_limits(connections: int) -> httpx.Limits:
    """A client pool for `connections` requests at once, each connection kept for the next send."""
    return httpx.Limits(max_connections=connections, max_keepalive_connections=connections)


def post(
    client: httpx.Client,
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    timeout: httpx.Timeout,
    peer: str,
) -> None:
    """POST `content` to `url`; raise the channel error its outcome calls for. `peer` names it in errors."""
    scrub = _scrubber(url)
    try:
        with client.stream(
            "POST", url, content=content, headers=dict(headers), timeout=timeout, follow_redirects=False
        ) as response:
            _raise_for_status(response, peer, scrub)
    except httpx.TimeoutException as error:
        seconds = f"{timeout.read:g}s" if timeout.read is not None else "its timeout"
        raise TransientChannelError(f"{peer} timed out after {seconds} ({type(error).__name__})") from None
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL) as error:
        raise PermanentChannelError(scrub(f"{peer} cannot be sent to: {error}")) from None
    except httpx.TransportError as error:
        raise TransientChannelError(scrub(f"{peer} could not be reached: {error}")) from None


def _scrubber(url: str) -> Callable[[str], str]:
    """`redact`, and also masks every longer piece of `url`'s path, query and password, in case a
    receiver echoes the URL (or its token alone) in its answer."""
    parts = urlsplit(url)
    pieces = [*parts.path.split("/"), *(value for _, value in parse_qsl(parts.query)), parts.password or ""]
    secrets = sorted({piece for piece in pieces if len(piece) >= _SCRUBBED_LENGTH}, key=len, reverse=True)

    def scrub(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, MASK)
        return redact(text)

    return scrub


def _raise_for_status(response: httpx.Response, peer: str, scrub: Callable[[str], str]) -> None:
    status = response.status_code
    if 200 <= status < 300:
        _drain(response)
        return
    summary = scrub(f"{peer} answered {status} {response.reason_phrase}{_snippet(response)}")
    if status == 429 or status >= 500:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"), now=datetime.now(UTC))
        raise TransientChannelError(summary, retry_after=retry_after)
    if 300 <= status < 400:
        raise PermanentChannelError(f"{summary} (redirects are not followed)")
    raise PermanentChannelError(summary)


def _drain(response: httpx.Response) -> None:
    """Read a short answer to its end, so the connection goes back to the pool for the next send
    to that receiver (a response closed unread closes its connection); a long one is left unread."""
    read = 0
    try:
        for chunk in response.iter_raw():
            read += len(chunk)
            if read > _DRAIN_LIMIT:
                return
    except httpx.HTTPError:
        pass  # sent all the same: the status decided


def _snippet(response: httpx.Response) -> str:
    # The start of the body often says why (Slack answers "no_service", "invalid_payload"); only
    # the start is read, so a huge or endless body costs nothing.
    head = b""
    try:
        for chunk in response.iter_bytes():
            head += chunk
            if len(head) >= _SNIPPET:
                break
    except httpx.HTTPError:
        pass  # the status alone decides; the body only explains
    text = " ".join(head[:_SNIPPET].decode("utf-8", "replace").split())
    return f": {text}" if text else ""
