"""What every page shares: the session resolved before it runs, and refusals shown as pages.

`page` wraps each page's endpoint. A refusal becomes a page that says what happened in words, with
the status the API would give: a thing of another team, like a thing that does not exist, is
"Not found"; nothing from an exception ever reaches the page but its message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Final
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from application.unit_of_work import StoreUnavailable
from application.web_sessions import resolve_session
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.ids import MAX_ID_LENGTH
from entrypoints.http.api import service
from entrypoints.web import cookies
from entrypoints.web.actions import TooMany
from entrypoints.web.csrf import CsrfRefused
from entrypoints.web.rendering import render
from entrypoints.web.viewer import SignInNeeded

log = logging.getLogger(__name__)
Endpoint = Callable[[Request], Awaitable[Response]]
SIGN_IN: Final = "/app/sign-in"


def page(endpoint: Endpoint) -> Endpoint:
    @wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            if any(len(value) > MAX_ID_LENGTH for value in request.path_params.values()):
                raise NotFound("page", "")
            await _resolve_viewer(request)
            return await endpoint(request)
        except SignInNeeded:
            return _to_sign_in(request)
        except NotFound:
            return not_found(request)
        except (Forbidden, CsrfRefused) as refused:
            return forbidden(request, refused)
        except TooMany as too_many:
            return error_page(
                request,
                429,
                "Too many requests",
                f"You have sent too many changes in a short time. Try again in {too_many.retry_after} s.",
                headers={"Retry-After": str(too_many.retry_after)},
            )
        except StoreUnavailable:
            log.warning("the store is unavailable")
            return error_page(
                request, 503, "Service busy", "The service cannot reach its store. Try again shortly."
            )
        except (Conflict, InvalidInput) as refused:
            status = 409 if isinstance(refused, Conflict) else 400
            return error_page(request, status, "That did not work", _sentence(refused.message))
        except HTTPException as refused:
            # The framework's own refusals of a request (a form with too many fields, a broken body).
            return error_page(request, refused.status_code, "That did not work", _sentence(refused.detail))
        except Exception:
            # Logged whole, with the request id; the page says only that it failed.
            log.exception("page failed")
            message = "Something went wrong on our side, and it has been logged. Try again shortly."
            return error_page(request, 500, "Something went wrong", message)

    return wrapped


async def _resolve_viewer(request: Request) -> None:
    request.state.signed_in = None
    token = cookies.session_token(request)
    if token is None:
        return
    the_service = service(request)
    request.state.signed_in = await run_in_threadpool(
        resolve_session, the_service.uow_factory, token, now=the_service.clock.now()
    )


def _to_sign_in(request: Request) -> RedirectResponse:
    query: dict[str, str] = {}
    if request.method in ("GET", "HEAD") and request.url.path != SIGN_IN:
        query["next"] = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    ended = cookies.session_token(request) is not None  # it named no live session
    if ended:
        query["notice"] = "session-ended"
    response = RedirectResponse(SIGN_IN + (f"?{urlencode(query)}" if query else ""), status_code=303)
    if ended:
        cookies.clear_session(response, request)
    return response


def _sentence(message: str) -> str:
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."


def not_found(request: Request) -> Response:
    return error_page(request, 404, "Not found", "There is nothing here, or it is not yours to see.")


def forbidden(request: Request, refused: Exception) -> Response:
    if isinstance(refused, CsrfRefused):
        message = (
            "This form has expired or did not come from this service. Go back, reload the page and try again."
        )
    else:
        message = _sentence(getattr(refused, "message", "")) or "You may not do that."
    return error_page(request, 403, "Not allowed", message)


def error_page(
    request: Request, status: int, heading: str, message: str, *, headers: dict[str, str] | None = None
) -> Response:
    response = render(request, "error.html", status=status, heading=heading, message=message)
    response.headers.update(headers or {})
    return response


@page
async def unknown(request: Request) -> Response:
    """Any other address under /app, with any method."""
    return not_found(request)
