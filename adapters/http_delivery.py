"""One HTTP POST to a receiver, its outcome mapped to sent, transient or permanent.

Shared by the webhook and Slack channels. 2xx is sent; 429 and 5xx are transient (with the
peer's Retry-After, when it gives one); timeouts and connection errors are transient; a 3xx is
permanent because redirects are not followed (a redirected POST may be replayed as a GET, or to a
host the target never named); every other status is permanent. Error texts name the receiver by
host only, since a webhook URL's path is often its credential; they pass through `redact`, and any
longer piece of the target URL that the receiver echoes back is masked too. Of a peer's answer only
the status line is kept, never its body: the error is stored, logged and shown to callers, and a
body is the peer's to fill. The HTTP library's own (debug) log lines name the host and port, never
the path.

Unless private targets are allowed, connections go only to public addresses
(adapters/outbound_addresses.py), judged on the address actually connected to.
"""

from __future__ import annotations

import base64
import os
import ssl
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from importlib.util import find_spec
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit
from urllib.request import getproxies_environment, proxy_bypass

import certifi
import httpcore
import httpx

from adapters.outbound_addresses import NonPublicAddress, PublicOnlyBackend, check_public_host
from application.channels import PermanentChannelError, TransientChannelError
from domain.errors import InvalidTarget
from domain.redaction import MASK, redact

# The most of a peer's reason phrase an error keeps.
_REASON_LENGTH = 60
_DRAIN_LIMIT = 64 * 1024
# Shorter pieces of a URL ("hooks", "v1") are words, not credentials.
_SCRUBBED_LENGTH = 8
USER_AGENT = "team-reminders"
# An idle connection is closed after this long (as httpx does), before most receivers close it.
_KEEPALIVE_SECONDS = 5.0


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


class HttpPoster:
    """POSTs over kept-alive connections, at most `connections` at once.

    It talks to httpcore's connection pool, the transport layer under httpx, without httpx's
    client layer: a delivery needs none of its cookies, redirects, auth flows or event hooks, and
    they cost about 40 % of a send's CPU (docs/benchmarks.md, "the webhook client"), which is what
    bounds how fast one process sends to a fast receiver.
    """

    def __init__(
        self, *, connections: int, allow_private_targets: bool = False, user_agent: str = USER_AGENT
    ) -> None:
        self._connections = connections
        self._allow_private_targets = allow_private_targets
        self._ssl_context = trusted_ssl_context()
        self._direct = self._pool(None)
        # As httpx did: the proxies the environment names (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY,
        # NO_PROXY), read once, a pool for each (a proxy this cannot use fails here, at start-up).
        named = getproxies_environment()
        self._proxies = {scheme: url for scheme, url in named.items() if scheme in ("http", "https", "all")}
        self._proxied = {url: self._pool(url) for url in set(self._proxies.values())}
        self._user_agent = user_agent.encode("ascii")

    @property
    def allow_private_targets(self) -> bool:
        return self._allow_private_targets

    def close(self) -> None:
        for pool in (self._direct, *self._proxied.values()):
            pool.close()

    def _pool(self, proxy: str | None) -> httpcore.ConnectionPool:
        # Through a proxy the connection is to the proxy, which the operator chose, so the address
        # connected to says nothing about the target: post() checks the target's host instead.
        checked = proxy is None and not self._allow_private_targets
        return httpcore.ConnectionPool(
            ssl_context=self._ssl_context,
            proxy=None if proxy is None else _proxy(proxy),
            network_backend=PublicOnlyBackend() if checked else None,
            max_connections=self._connections,
            max_keepalive_connections=self._connections,
            keepalive_expiry=_KEEPALIVE_SECONDS,
        )

    def _pool_for(self, url: str) -> httpcore.ConnectionPool:
        if not self._proxies:
            return self._direct
        parts = urlsplit(url)
        proxy = self._proxies.get(parts.scheme.lower()) or self._proxies.get("all")
        if proxy is None or proxy_bypass(parts.hostname or ""):
            return self._direct
        return self._proxied[proxy]

    def post(
        self, url: str, *, content: bytes, headers: Mapping[str, str], timeout: float, peer: str
    ) -> None:
        """POST `content` to `url`; raise the channel error its outcome calls for (`peer` names
        the receiver in it)."""
        scrub = _scrubber(url)
        try:
            target, fixed_headers = _request_target(url)
        except (httpx.InvalidURL, ValueError, TypeError) as error:
            raise PermanentChannelError(scrub(f"{peer} cannot be sent to: {error}")) from None
        request_headers = [(b"User-Agent", self._user_agent), *fixed_headers]
        request_headers += [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ]
        limits = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        pool = self._pool_for(url)
        try:
            if pool is not self._direct:
                # The proxy connects to the target, so its host is resolved here, before the
                # request, and judged as when the reminder was saved: a name this machine cannot
                # resolve (often so behind a proxy) passes, and the proxy's answer may differ from
                # ours; the proxy's own egress rules are the operator's to set.
                check_public_host(target.host.decode("ascii"), allow_private=self._allow_private_targets)
            with pool.stream(
                "POST", target, headers=request_headers, content=content, extensions={"timeout": limits}
            ) as response:
                _raise_for_status(response, peer, scrub)
        except NonPublicAddress as error:
            raise PermanentChannelError(f"{peer} was not contacted: {error.message}") from None
        except httpcore.TimeoutException as error:
            kind = type(error).__name__
            raise TransientChannelError(f"{peer} timed out after {timeout:g}s ({kind})") from None
        except (httpcore.UnsupportedProtocol, httpcore.LocalProtocolError, ValueError, TypeError) as error:
            raise PermanentChannelError(scrub(f"{peer} cannot be sent to: {error}")) from None
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.ProxyError) as error:
            raise TransientChannelError(scrub(f"{peer} could not be reached: {error}")) from None


@lru_cache(maxsize=1024)
def _request_target(url: str) -> tuple[httpcore.URL, tuple[tuple[bytes, bytes], ...]]:
    """The URL as httpx sends it (an IDNA host, the path and query percent-encoded, an IPv6 host
    in brackets in the Host header) and the headers it implies: Host, and Basic credentials for
    the user and password it carries. Parsed once per target: parsing costs more than a send."""
    parsed = httpx.URL(url)
    target = httpcore.URL(
        scheme=parsed.raw_scheme, host=parsed.raw_host, port=parsed.port, target=parsed.raw_path
    )
    headers: list[tuple[bytes, bytes]] = [(b"Host", parsed.netloc)]
    if parsed.username or parsed.password:
        credentials = f"{parsed.username}:{parsed.password}".encode()
        headers.append((b"Authorization", b"Basic " + base64.b64encode(credentials)))
    return target, tuple(headers)


def trusted_ssl_context() -> ssl.SSLContext:
    """Certificates are verified, against SSL_CERT_FILE or SSL_CERT_DIR when the environment names
    one (as httpx does), else certifi's bundle."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile and os.path.isfile(cafile):
        return ssl.create_default_context(cafile=cafile)
    if capath and os.path.isdir(capath):
        return ssl.create_default_context(capath=capath)
    return ssl.create_default_context(cafile=certifi.where())


def _proxy(url: str) -> httpcore.Proxy:
    """A proxy URL's credentials go in Proxy-Authorization, not in the URL it connects to."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme.lower().startswith("socks") and find_spec("socksio") is None:
        raise ValueError("the proxy the environment names is a SOCKS proxy, which needs the socksio package")
    auth = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return httpcore.Proxy(url=f"{parts.scheme}://{netloc}", auth=auth)


@lru_cache(maxsize=1024)
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


def _raise_for_status(response: httpcore.Response, peer: str, scrub: Callable[[str], str]) -> None:
    status = response.status
    if 200 <= status < 300:
        _drain(response)
        return
    reason = " ".join(response.extensions.get("reason_phrase", b"").decode("latin-1").split())
    if len(reason) > _REASON_LENGTH:
        reason = reason[: _REASON_LENGTH - 1] + "…"
    _drain(response)  # never recorded, only read to its end: the connection then serves the next send
    summary = scrub(f"{peer} answered {status} {reason}".rstrip())
    if status == 429 or status >= 500:
        retry_after = retry_after_seconds(_header(response, b"retry-after"), now=datetime.now(UTC))
        raise TransientChannelError(summary, retry_after=retry_after)
    if 300 <= status < 400:
        raise PermanentChannelError(f"{summary} (redirects are not followed)")
    raise PermanentChannelError(summary)


def _header(response: httpcore.Response, name: bytes) -> str | None:
    for key, value in response.headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _drain(response: httpcore.Response) -> None:
    """Read a short answer to its end, so the connection goes back to the pool for the next send
    to that receiver (a response closed unread closes its connection); a long one is left unread."""
    read = 0
    try:
        for chunk in response.iter_stream():
            read += len(chunk)
            if read > _DRAIN_LIMIT:
                return
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.TimeoutException):
        pass  # the status alone decides the outcome
