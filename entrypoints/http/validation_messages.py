"""Validation errors in words: what is wrong with a field and, where it helps, an example.

The request schemas keep their JSON Schema patterns (clients validate against them), but a person
reading a 400 is told what the pattern means, never shown the pattern itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic_core import ErrorDetails

from domain.errors import InvalidTemplate, shortened
from domain.template import PLACEHOLDERS, validate_template
from domain.text import text_problem

# An example for the fields whose form is easier shown than described.
EXAMPLES = {
    "time_of_day": "for example 09:00 or 17:45:30",
    "date": "for example 2030-01-31",
    "timezone": "use an IANA time zone name, for example Europe/Berlin",
    "email": "for example ada@example.com",
    "weekdays": "0 is Monday and 6 is Sunday, for example [0, 2, 4]",
    "starts_on": "for example 2030-01-31",
    "ends_on": "for example 2030-12-31",
    "skip_dates": 'for example ["2030-12-25", "2030-12-26"]',
    "rrule": "for example FREQ=MONTHLY;BYDAY=2TU (the second Tuesday of each month)",
    "cron": "five fields: minute hour day-of-month month day-of-week, for example 0 9 * * 1-5",
    "until": "for example 2030-01-31T09:00:00+01:00",
}
# Fields whose value may take one of several forms, and those forms in words.
_ALTERNATIVES = {"recipients": '"owner", "team" or a list of user ids of the team'}
# What pydantic reports when a value is not of a form at all (rather than a form with a bad part).
_MISMATCHES = frozenset({"literal_error", "enum", "model_type", "dict_type"})
_TEMPLATE_FIELDS = frozenset({"title", "message"})
# The text fields whose characters domain/text.py restricts, and whether each may span lines.
_TEXT_FIELDS = {"name": False, "title": False, "message": True}
_TIME_OF_DAY = "must be HH:MM or HH:MM:SS, for example 09:00 (24-hour clock, 00:00 to 23:59:59)"
# Times of day: a schedule's, and the start and end of quiet hours.
_TIMES = frozenset({"time_of_day", "start", "end"})


def subject(loc: tuple[int | str, ...], where: str) -> str:
    """The field as a person writes it: `weekdays[0]`, `changes.title`, or the body as a whole.

    A name the caller made up (an unknown field) is cut short: no message echoes much of the input.
    """
    if not loc:
        return "the body" if where == "body" else f"the {where}"
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return shortened(text)


def with_example(field: str, message: str) -> str:
    """The message, followed by the field's example unless it already gives one."""
    example = EXAMPLES.get(field)
    if example is None or "for example" in message:
        return message
    return f"{message}; {example}"


def describe(error: ErrorDetails, *, where: str) -> str:
    """One pydantic error as a sentence that names the field."""
    loc = error["loc"]
    name = subject(loc, where)
    kind = error["type"]
    ctx: dict[str, Any] = error.get("ctx", {})
    if kind == "extra_forbidden":
        return (
            f"{name} is not a known query parameter" if where == "query" else f"{name} is not a known field"
        )
    if kind == "string_pattern_mismatch":
        return _pattern_mismatch(name, _field(loc), error.get("input"))
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{name} must be a JSON object"
    if kind in ("json_invalid", "json_type"):
        return f"{name} is not valid JSON ({ctx.get('error', 'it cannot be parsed')})"
    if kind == "union_mismatch":
        field = _field(loc)
        if error.get("input", ...) is None:
            return f"{name} must not be null"
        return f"{name} must be {_ALTERNATIVES.get(field, 'in one of the accepted forms')}"
    if kind == "missing":
        message = f"{name} is required"
    elif error.get("input", ...) is None and (kind.endswith("_type") or kind in ("enum", "literal_error")):
        message = f"{name} must not be null"
    elif kind == "string_too_short":
        least = ctx.get("min_length", 1)
        message = (
            f"{name} must not be empty" if least == 1 else f"{name} must be at least {least} characters long"
        )
    elif kind in ("too_short", "too_long"):
        bound = ctx.get("min_length" if kind == "too_short" else "max_length", 0)
        items = "item" if bound == 1 else "items"
        message = f"{name} must have {'at least' if kind == 'too_short' else 'at most'} {bound} {items}"
    elif kind in _SENTENCES:
        message = _SENTENCES[kind].format_map({**ctx, "name": name})
    elif kind.startswith("datetime") or kind == "timezone_aware":
        message = f"{name} must be a date and time with a UTC offset, for example 2030-01-31T09:00:00+00:00"
    elif kind.startswith("date"):
        reason = f" ({ctx['error']})" if "error" in ctx else ""
        message = f"{name} must be a date as YYYY-MM-DD{reason}"
    elif kind in ("value_error", "assertion_error"):
        message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    else:
        message = _reworded(name, error["msg"])
    return with_example(_field(loc), message)


def one_per_union(errors: Iterable[ErrorDetails]) -> list[ErrorDetails]:
    """The errors of a field that takes one of several forms ("owner", "team" or a list of ids), as a
    person would want them: pydantic reports the value against every form, each under the form's
    name (`recipients.literal['owner','team']`); a person wants the field's name, and only the
    problems of the form they meant (a list's bad item), or one sentence listing the forms."""
    kept: list[ErrorDetails] = []
    unions: dict[tuple[int | str, ...], list[ErrorDetails]] = {}
    for error in errors:
        loc = error["loc"]
        tag = next((index for index, part in enumerate(loc) if _is_form(part)), None)
        if tag is None:
            kept.append(error)
            continue
        field = loc[:tag]
        if field not in unions:
            unions[field] = []
            kept.append(_moved(error, field, kind="union_mismatch"))  # holds the field's place
        unions[field].append(_moved(error, field + tuple(p for p in loc[tag:] if not _is_form(p))))
    resolved: list[ErrorDetails] = []
    for error in kept:
        if error["type"] != "union_mismatch" or error["loc"] not in unions:
            resolved.append(error)
            continue
        fitting = [item for item in unions[error["loc"]] if not _mismatch(item, error["loc"])]
        resolved.extend(fitting or [error])
    return resolved


def _moved(error: ErrorDetails, loc: tuple[int | str, ...], *, kind: str | None = None) -> ErrorDetails:
    moved = error.copy()
    moved["loc"] = loc
    if kind is not None:
        moved["type"] = kind
    return moved


def _is_form(part: int | str) -> bool:
    """A union member's name in an error's location (`list[constrained-str]`), never a field's."""
    return isinstance(part, str) and "[" in part


def _mismatch(error: ErrorDetails, field: tuple[int | str, ...]) -> bool:
    """The value is not of this form at all: not what the person meant."""
    kind = error["type"]
    return error["loc"] == field and (kind in _MISMATCHES or kind.endswith("_type"))


def _field(loc: tuple[int | str, ...]) -> str:
    """The innermost named field: `weekdays` for `weekdays[0]`."""
    names = [part for part in loc if isinstance(part, str)]
    return names[-1] if names else ""


def _pattern_mismatch(name: str, field: str, value: Any) -> str:
    text = value if isinstance(value, str) else ""
    problem = text_problem(text, multiline=_TEXT_FIELDS[field]) if field in _TEXT_FIELDS else None
    if problem is not None:
        return f"{name} {problem}"
    if "\x00" in text:
        return f"{name} must not contain NUL characters"
    if field in _TIMES:
        return f"{name} {_TIME_OF_DAY}"
    if field == "email":
        return f"{name} must be an email address, {EXAMPLES['email']}"
    if field in ("actor_id", "target_id"):
        return f"{name} must be an id, such as one from a user's or a reminder's \"id\""
    if field == "action":
        return f"{name} must be the name of an audit action, for example reminder.updated or user.created"
    if not text.strip():
        return f"{name} must not be blank"
    if field in _TEMPLATE_FIELDS:
        try:
            validate_template(field, text)
        except InvalidTemplate as error:
            return error.message
        allowed = ", ".join("{" + known + "}" for known in PLACEHOLDERS)
        return (
            f"{name} is not a valid template: write text with the placeholders {allowed}, "
            "and {{ or }} for a literal brace"
        )
    return f"{name} is not in the accepted form; the API documentation at /docs describes it"


# Pydantic's error types, in words; the {names} are the error's context, plus the field's `name`.
_SENTENCES = {
    "string_type": "{name} must be a string",
    "string_too_long": "{name} must be at most {max_length} characters long",
    "bool_type": "{name} must be true or false",
    "bool_parsing": "{name} must be true or false",
    "int_type": "{name} must be a whole number",
    "int_parsing": "{name} must be a whole number",
    "int_from_float": "{name} must be a whole number",
    "int_parsing_size": "{name} must be a whole number",
    "float_type": "{name} must be a number",
    "float_parsing": "{name} must be a number",
    "list_type": "{name} must be a list",
    "enum": "{name} must be one of {expected}",
    "literal_error": "{name} must be one of {expected}",
    "greater_than_equal": "{name} must be at least {ge}",
    "greater_than": "{name} must be greater than {gt}",
    "less_than_equal": "{name} must be at most {le}",
    "less_than": "{name} must be less than {lt}",
}


def _reworded(name: str, msg: str) -> str:
    """Any other error: pydantic's own words ("Input should be …"), about the field by name."""
    for opening in ("Input should", "String should", "List should", "Value should"):
        if msg.startswith(opening):
            return f"{name} should{msg.removeprefix(opening)}"
    return f"{name}: {msg[:1].lower()}{msg[1:]}"
