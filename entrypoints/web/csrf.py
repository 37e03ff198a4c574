"""Form tokens against cross-site request forgery.

Every form carries a token derived from the browser's seed cookie (random, HTTP-only, SameSite=Lax)
and, once signed in, its session token: HMAC(seed, session). Another site can neither read the
cookies nor compute the token; a seed planted by a sibling domain is useless without the session it
must be bound to. Posts from another origin are refused before the token is even looked at.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from starlette.requests import Request

from entrypoints.web import cookies

FIELD: Final = "csrf_token"
_SIGNED_OUT: Final = "signed-out"


class CsrfRefused(Exception):
    """The post did not come from one of our own forms."""


def token_for(seed: str, session_token: str | None) -> str:
    bound = (session_token or _SIGNED_OUT).encode()
    return hmac.new(seed.encode(), bound, hashlib.sha256).hexdigest()


def check(request: Request, presented: str | None) -> None:
    origin = request.headers.get("origin")
    if origin is not None and origin not in _allowed_origins(request):
        raise CsrfRefused
    seed = cookies.csrf_seed(request)
    if seed is None or not presented:
        raise CsrfRefused
    expected = token_for(seed, cookies.session_token(request))
    if not hmac.compare_digest(expected, presented):
        raise CsrfRefused


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _allowed_origins(request: Request) -> set[str]:
    """This request's own origin, and the public address's behind a proxy (--public-url)."""
    allowed = {_own_origin(request)}
    public: str | None = getattr(request.state, "public_origin", None)
    if public:
        allowed.add(public)
    return allowed
