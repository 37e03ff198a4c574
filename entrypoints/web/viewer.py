"""Who is looking at a page: the person signed in through the session cookie, if anyone.

`pages.page` resolves the cookie once per request before the page runs; a page then asks for the
viewer it needs. Whether the viewer may see or do something is still the application's policy:
a member asking for an admin's page is refused there, not by a role check of ours.
"""

from __future__ import annotations

from starlette.requests import Request

from application.web_sessions import SignedIn


class SignInNeeded(Exception):
    """The page needs a signed-in person and there is none (or the session has ended)."""


def viewer(request: Request) -> SignedIn:
    signed_in: SignedIn | None = getattr(request.state, "signed_in", None)
    if signed_in is None:
        raise SignInNeeded
    return signed_in


def maybe_viewer(request: Request) -> SignedIn | None:
    signed_in: SignedIn | None = getattr(request.state, "signed_in", None)
    return signed_in
