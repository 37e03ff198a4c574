"""Exception handlers: domain errors and framework errors mapped onto HTTP statuses, one shape for all."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from application.unit_of_work import StoreUnavailable
from domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unauthorized
from entrypoints.http.problems import ApiError, FieldProblem, error_response
from entrypoints.http.validation_messages import with_example

log = logging.getLogger(__name__)

# Fields whose domain errors are about the value's form, so an example of a good value helps.
_SHOWN_BY_EXAMPLE = frozenset({"time_of_day", "timezone", "email"})
_NOT_TAKEN = "is not taken"
_FRAMEWORK_MESSAGES = {
    404: "no such resource",
    405: "method not allowed on this resource",
}


def input_problem(error: InvalidInput) -> FieldProblem:
    """A domain refusal of one field, in the words the API and the pages both show."""
    message = error.message
    # A field refused outright (a time_of_day sent with cron) is not helped by an example of it.
    if error.field in _SHOWN_BY_EXAMPLE and _NOT_TAKEN not in message:
        message = with_example(error.field, message)
    return FieldProblem(field=error.field, message=message)


def on_api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error_response(error.status, error.message, error.details, error.headers)


def on_http_exception(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    message = _FRAMEWORK_MESSAGES.get(error.status_code, error.detail)
    return error_response(error.status_code, message, None, dict(error.headers or {}))


def on_domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, DomainError)
    if isinstance(error, InvalidInput):
        return error_response(400, "the request is not valid", [input_problem(error)])
    if isinstance(error, NotFound):
        return error_response(404, error.message)
    if isinstance(error, Forbidden):
        return error_response(403, error.message)
    if isinstance(error, Unauthorized):
        return error_response(401, error.message, None, {"WWW-Authenticate": "Bearer"})
    if isinstance(error, Conflict):
        return error_response(409, error.message)
    log.error("unmapped domain error", exc_info=error)
    return error_response(500, "internal error")


def on_store_unavailable(request: Request, error: Exception) -> Response:
    log.warning("the store is unavailable", extra={"error": str(error)})
    return error_response(503, "the store is unavailable; try again shortly", None, {"Retry-After": "1"})


EXCEPTION_HANDLERS = {
    StoreUnavailable: on_store_unavailable,
    ApiError: on_api_error,
    HTTPException: on_http_exception,
    DomainError: on_domain_error,
}
