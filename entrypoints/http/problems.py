"""The one error shape: every non-2xx answer is {"code", "message", "details", "request_id"}."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from domain.errors import shortened
from entrypoints.http import context
from entrypoints.http.validation_messages import describe, one_per_union

CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    502: "delivery_failed",
    503: "unavailable",
}


class FieldProblem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="Dotted path of the offending input; 'body' or 'query' for the whole.")
    message: str


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(examples=["validation_error"])
    message: str
    details: list[FieldProblem] | dict[str, Any] | None = Field(
        description="Per-field problems for validation errors; the delivery for delivery_failed."
    )
    request_id: str | None = Field(description="Matches the X-Request-ID header and the log lines.")


class ApiError(Exception):
    """Raised anywhere in the HTTP layer; rendered in the one error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        details: list[FieldProblem] | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details
        self.headers = headers


def invalid(field: str, message: str) -> ApiError:
    """A 400 about one field; `field` may be the caller's own (a query parameter's name): it is cut short."""
    return ApiError(400, "the request is not valid", [FieldProblem(field=shortened(field), message=message)])


def from_validation_error(error: ValidationError, *, where: str) -> ApiError:
    """One problem per pydantic error, in words; the input is read to explain it, never echoed whole."""
    problems = [
        FieldProblem(
            field=shortened(".".join(str(part) for part in item["loc"])) or where,
            message=describe(item, where=where),
        )
        for item in one_per_union(error.errors(include_url=False, include_input=True))
    ]
    return ApiError(400, "the request is not valid", problems)


def error_response(
    status: int,
    message: str,
    details: list[FieldProblem] | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = ErrorBody(
        code=CODES.get(status, "error"), message=message, details=details, request_id=context.request_id.get()
    )
    return Response(
        body.model_dump_json(), status_code=status, media_type="application/json", headers=headers
    )
