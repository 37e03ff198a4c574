"""A refused template says what is wrong in words a reminder's author can act on."""

from __future__ import annotations

import pytest

from domain.errors import InvalidTemplate
from domain.template import validate_template


def refusal(template: str) -> str:
    with pytest.raises(InvalidTemplate) as caught:
        validate_template("message", template)
    assert caught.value.field == "message"
    return caught.value.message


def test_an_unknown_placeholder_is_named_with_the_allowed_ones_in_documented_order() -> None:
    assert refusal("Hi {name}") == (
        "message uses unknown placeholder {name}; use one of "
        "{owner_name}, {title}, {scheduled_for_local}, {timezone}, {date}"
    )


@pytest.mark.parametrize("template", ["{title!r}", "{title:>20}"])
def test_a_known_placeholder_with_a_conversion_or_format_is_shown_how_to_write_it(template: str) -> None:
    message = refusal(template)

    assert message.startswith(f"message uses {template};")
    assert message.endswith("write {title}")


@pytest.mark.parametrize("template", ["Hi {", "Hi }", "{title"])
def test_an_unmatched_brace_says_how_to_write_a_literal_one(template: str) -> None:
    assert refusal(template).startswith("message has an unmatched { or }; write {{ or }} for a literal brace")


def test_a_long_unknown_placeholder_is_shortened_in_the_message() -> None:
    message = refusal("{" + "x" * 500 + "}")

    assert "x" * 38 not in message
    assert "…}" in message
