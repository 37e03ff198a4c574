"""Templates: named placeholders render; anything that could reach into an object is refused."""

from __future__ import annotations

import pytest

from domain.errors import InvalidTemplate
from domain.template import render, validate_template

VALUES = {
    "owner_name": "Ann",
    "title": "Stand-up",
    "scheduled_for_local": "09:00",
    "timezone": "Europe/Berlin",
    "date": "2026-03-02",
}


def test_every_allowed_placeholder_renders() -> None:
    template = "{owner_name}: {title} at {scheduled_for_local} ({timezone}) on {date}"
    assert render("message", template, VALUES) == "Ann: Stand-up at 09:00 (Europe/Berlin) on 2026-03-02"


def test_text_without_placeholders_renders_as_is() -> None:
    assert render("title", "Water the plants", VALUES) == "Water the plants"


def test_doubled_braces_stand_for_literal_braces() -> None:
    assert render("message", "{{title}} is {title}, {{ and }}", VALUES) == "{title} is Stand-up, { and }"


def test_a_valid_template_passes_validation() -> None:
    validate_template("message", "Hi {owner_name}, {{not a placeholder}}")


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("Hi {unknown}", id="unknown"),
        pytest.param("{owner_name.__class__}", id="attribute"),
        pytest.param("{owner_name.__class__.__mro__}", id="attribute-chain"),
        pytest.param("{title[0]}", id="index"),
        pytest.param("{title!r}", id="conversion"),
        pytest.param("{title:>20}", id="format-spec"),
        pytest.param("{title:{date}}", id="nested-spec"),
        pytest.param("{}", id="positional-auto"),
        pytest.param("{0}", id="positional"),
        pytest.param("Hi {", id="unclosed"),
        pytest.param("Hi }", id="stray-close"),
        pytest.param("{title", id="unterminated"),
    ],
)
@pytest.mark.parametrize("field", ["title", "message"])
def test_unsafe_or_malformed_template_is_refused_naming_the_field(template: str, field: str) -> None:
    with pytest.raises(InvalidTemplate) as validated:
        validate_template(field, template)
    with pytest.raises(InvalidTemplate) as rendered:
        render(field, template, VALUES)
    assert validated.value.field == rendered.value.field == field


def test_refusal_names_the_offending_placeholder_and_the_allowed_ones() -> None:
    with pytest.raises(InvalidTemplate) as caught:
        validate_template("message", "Hi {first_name}")
    assert "{first_name}" in caught.value.message
    assert "{owner_name}" in caught.value.message
