"""The web app's two cookies: the session's token and the form token's seed.

Both are random, HTTP-only and confined to /app. Neither is an API key: the JSON API ignores them.
The session's token is stored nowhere in clear (the store keeps its hash), so the cookie is the
only copy; sign-out ends the session's row, and the cookie with it.
"""

from __future__ import annotations

import secrets
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

SESSION: Final = "reminders_session"
CSRF_SEED: Final = "reminders_csrf"
PATH: Final = "/app"
# Longer than any session lives; the row decides when it ends.
_SESSION_MAX_AGE: Final = 7 * 24 * 3600
_MAX_TOKEN: Final = 200


def session_token(request: Request) -> str | None:
    token = request.cookies.get(SESSION)
    if not token or len(token) > _MAX_TOKEN:
        return None
    return token


def csrf_seed(request: Request) -> str | None:
    seed = request.cookies.get(CSRF_SEED)
    if not seed or len(seed) > _MAX_TOKEN:
        return None
    return seed


def new_seed() -> str:
    return secrets.token_urlsafe(32)


def _secure(request: Request) -> bool:
    """Over HTTPS, as the request came or as the service is published (--public-url https://…): a
    proxy that ends TLS on another host may not say so in the request."""
    public: str = getattr(request.state, "public_origin", "") or ""
    return request.url.scheme == "https" or public.startswith("https:")


def set_session(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION,
        token,
        max_age=_SESSION_MAX_AGE,
        path=PATH,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def clear_session(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION, path=PATH, httponly=True, samesite="lax", secure=_secure(request))


def set_seed(response: Response, request: Request, seed: str) -> None:
    # Lax, like the session: a cross-site post does not carry it, and arriving by a link from another
    # site still sends it, so a page opened that way does not replace it and break other tabs' forms.
    response.set_cookie(CSRF_SEED, seed, path=PATH, httponly=True, samesite="lax", secure=_secure(request))
