"""An error message quotes at most 100 characters of what a caller sent, and never an id longer than
any the service issues."""

from __future__ import annotations

import pytest

from domain.errors import ECHO_LIMIT, NotFound, quoted, shortened
from domain.ids import MAX_ID_LENGTH, new_id


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("abc", "'abc'"),
        ("a" * 98, "'" + "a" * 98 + "'"),
        ("a" * 99, "'" + "a" * 97 + "…'"),
        ("a\x00b", "'a\\x00b'"),
        ("A\u202eB", "'A\\u202eB'"),  # escaped, so it cannot reorder the message around it
        ("é" * 200, "'" + "é" * 97 + "…'"),
    ],
)
def test_a_quoted_value_is_cut_to_the_limit_with_an_ellipsis(value: str, shown: str) -> None:
    assert quoted(value) == shown
    assert len(quoted(value)) <= ECHO_LIMIT


@pytest.mark.parametrize(("text", "shown"), [("a" * 100, "a" * 100), ("a" * 101, "a" * 99 + "…")])
def test_a_shortened_text_is_cut_to_the_limit_with_an_ellipsis(text: str, shown: str) -> None:
    assert shortened(text) == shown


def test_not_found_quotes_an_id_the_service_could_have_issued() -> None:
    issued = new_id()
    longest = "x" * MAX_ID_LENGTH

    assert NotFound("user", issued).message == f"user '{issued}' was not found"
    assert NotFound("user", longest).message == f"user '{longest}' was not found"


@pytest.mark.parametrize("length", [MAX_ID_LENGTH + 1, 10_000])
def test_not_found_does_not_quote_a_longer_id(length: int) -> None:
    assert NotFound("reminder", "x" * length).message == "reminder was not found"
