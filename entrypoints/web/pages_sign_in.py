"""Signing in and out: with an API key, or with a one-time link sent by email.

A session is a random token in an HTTP-only cookie, its hash in the store. Signing in again replaces
the browser's session; signing out ends it in the store, so a copied cookie stops working too.
Attempts are counted per client address against the send limit, so a key cannot be guessed fast.
"""

from __future__ import annotations

import logging
from typing import Final

from pydantic import ValidationError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application.commands import EndWebSession, RedeemSignInLink, SendSignInLinks, StartWebSession
from domain.errors import SignInLinkRefused, Unauthorized
from entrypoints.bootstrap import Service
from entrypoints.http.api import service
from entrypoints.web import cookies
from entrypoints.web.actions import TooMany, local_path, run, see_other
from entrypoints.web.forms import form, text
from entrypoints.web.forms import problems as problems_of
from entrypoints.web.pages import SIGN_IN, error_page, page
from entrypoints.web.rendering import render
from entrypoints.web.viewer import maybe_viewer

log = logging.getLogger(__name__)
_KEY_REFUSED: Final = (
    "That key was not accepted: check that it is whole, that it has not been revoked, and that your "
    "account is active (an admin of your team can tell)."
)
_MAX_KEY: Final = 200
_MAX_EMAIL: Final = 320


async def _count_attempt(request: Request, mailbox: str | None = None) -> None:
    """Each attempt counts against the write limit of the client's address: generous, since an
    office behind one address signs in from it, yet far too few tries to guess a key's 256 random
    bits. A request for a link counts against the send limit of the mailbox too, so no inbox is
    flooded from any number of addresses."""
    limiter = getattr(request.state, "rate_limiter", None)
    if limiter is None:
        return
    client = request.client.host if request.client else "unknown"
    counted = [(f"sign-in:address:{client}", False)]
    if mailbox is not None:
        counted.append((f"sign-in:mailbox:{mailbox}", True))
    for name, send in counted:
        refusal = await limiter.check(name, send=send)
        if refusal is not None:
            raise TooMany(refusal.retry_after)


def _signed_in(request: Request, token: str, next_path: str) -> Response:
    response = see_other(next_path, "signed-in")
    cookies.set_session(response, request, token)
    return response


async def _end_current(request: Request) -> None:
    old = cookies.session_token(request)
    if old is not None:
        await run(request, EndWebSession(token=old), counted=False)


def _email_enabled(request: Request) -> bool:
    return getattr(service(request), "sign_in_mailer", None) is not None


def _form_page(
    request: Request,
    *,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    next_path: str = "",
    email: str = "",
) -> Response:
    return render(
        request,
        "sign_in.html",
        status=status,
        problems=problems or {},
        next=next_path,
        email=email,
        email_enabled=_email_enabled(request),
    )


@page
async def show_sign_in(request: Request) -> Response:
    next_path = local_path(request.query_params.get("next"))
    if maybe_viewer(request) is not None:
        return see_other(next_path)
    return _form_page(request, next_path=next_path)


@page
async def sign_in_with_key(request: Request) -> Response:
    data = await form(request)
    next_path = local_path(text(data, "next"))
    key = text(data, "api_key")
    await _count_attempt(request)
    if not key or len(key) > _MAX_KEY:
        return _form_page(
            request, status=400, problems={"api_key": ["Enter your API key."]}, next_path=next_path
        )
    try:
        started = await run(request, StartWebSession(api_key=key), counted=False)
    except Unauthorized:
        return _form_page(request, status=401, problems={"api_key": [_KEY_REFUSED]}, next_path=next_path)
    await _end_current(request)
    return _signed_in(request, started.token, next_path)


@page
async def send_sign_in_link(request: Request) -> Response:
    data = await form(request)
    email = text(data, "email")
    if not _email_enabled(request):
        return error_page(request, 404, "Not found", "Sign-in by email is not set up on this service.")
    await _count_attempt(request, email.lower()[:_MAX_EMAIL])
    try:
        command = SendSignInLinks(email=email, base_url=request.state.public_url)
    except ValidationError as refused:
        problems = {"email": problems_of(refused).get("email", ["Enter your email address."])}
        return _form_page(request, status=400, problems=problems, email=email[:_MAX_EMAIL])
    response = see_other(SIGN_IN, "link-sent")
    # Mailed after the answer: a known address must not answer later than an unknown one.
    response.background = BackgroundTask(_send_links, service(request), command)
    return response


def _send_links(the_service: Service, command: SendSignInLinks) -> None:
    try:
        the_service.bus.handle(command)
    except Exception:  # the person has their answer already; the log has the rest
        log.exception("sending sign-in links failed")


@page
async def show_link(request: Request) -> Response:
    """Opening the link only shows a button: a mail scanner that fetches it signs nobody in."""
    # The address is the secret: the pages' Referrer-Policy (same-origin) keeps it from every other
    # site. "no-referrer" would do no more, and would make the browser post the form as from
    # origin "null", which the form check refuses.
    return render(request, "sign_in_link.html")


@page
async def use_link(request: Request) -> Response:
    await form(request)
    try:
        started = await run(request, RedeemSignInLink(token=request.path_params["token"]), counted=False)
    except SignInLinkRefused as refused:
        heading = "This link has been used" if refused.used else "This link has expired"
        message = "A sign-in link works once, within 15 minutes. Ask for a new one on the sign-in page."
        return error_page(request, 410, heading, message)
    except Unauthorized:
        return error_page(request, 400, "This link is not valid", "Ask for a new one on the sign-in page.")
    await _end_current(request)
    return _signed_in(request, started.token, local_path(None))


@page
async def sign_out(request: Request) -> Response:
    await form(request)
    await _end_current(request)
    response = see_other(SIGN_IN, "signed-out")
    cookies.clear_session(response, request)
    return response


@page
async def home(request: Request) -> Response:
    return see_other("/app/reminders" if maybe_viewer(request) else SIGN_IN)


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/sign-in", show_sign_in, methods=["GET"]),
    Route("/sign-in", sign_in_with_key, methods=["POST"]),
    Route("/sign-in/email", send_sign_in_link, methods=["POST"]),
    Route("/sign-in/link/{token}", show_link, methods=["GET"]),
    Route("/sign-in/link/{token}", use_link, methods=["POST"]),
    Route("/sign-out", sign_out, methods=["POST"]),
]
