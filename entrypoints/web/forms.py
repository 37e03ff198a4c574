"""Reading a posted form: its token checked, its fields turned into a command's body, and refusals
turned back into messages beside the fields they concern, in the API's own words."""

from __future__ import annotations

from typing import Final, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request

from domain.audience import MAX_RECIPIENTS
from domain.errors import InvalidInput
from entrypoints.http.errors import input_problem
from entrypoints.http.problems import ApiError, FieldProblem, from_validation_error
from entrypoints.web import csrf

M = TypeVar("M", bound=BaseModel)
# The whole form, for a problem that no one field owns.
WHOLE: Final = "body"
# Enough for a reminder addressed to as many people as one may name, and its other fields.
_MAX_FIELDS: Final = MAX_RECIPIENTS + 100

Problems = dict[str, list[str]]


async def form(request: Request) -> FormData:
    """The posted fields, once the form token proves the post came from one of our pages."""
    data = await request.form(max_files=0, max_fields=_MAX_FIELDS)
    token = data.get(csrf.FIELD)
    csrf.check(request, token if isinstance(token, str) else None)
    return data


def text(data: FormData, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def texts(data: FormData, name: str) -> list[str]:
    return [value.strip() for value in data.getlist(name) if isinstance(value, str) and value.strip()]


def as_body(values: dict[str, object], model: type[M]) -> M:
    """The body a page's fields make; raises ValidationError as the API's parsing would."""
    return model.model_validate(values)


def problems(error: Exception) -> Problems:
    """Messages by field ("body" for the whole form) for a refusal the form can show."""
    found: list[FieldProblem]
    if isinstance(error, ValidationError):
        found = _listed(from_validation_error(error, where=WHOLE))
    elif isinstance(error, InvalidInput):
        found = [input_problem(error)]
    elif isinstance(error, ApiError):
        found = _listed(error) or [FieldProblem(field=WHOLE, message=error.message)]
    else:
        raise TypeError(f"no form problems in {type(error).__name__}")
    by_field: Problems = {}
    for problem in found:
        by_field.setdefault(problem.field.split(".")[0] or WHOLE, []).append(problem.message)
    return by_field


def _listed(error: ApiError) -> list[FieldProblem]:
    return list(error.details) if isinstance(error.details, list) else []
