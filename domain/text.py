"""What the text people give may hold: names, titles and messages.

No text holds a control character (C0, DEL or C1), except that a message may hold tabs and line
breaks. No name or title holds a bidirectional override, embedding or isolate: those make text
display in another order than it is stored, so a name could pass for another one.
"""

from __future__ import annotations

import re

from domain.errors import InvalidInput

# Character ranges in the syntax that Python and the API's JSON Schema patterns (ECMA-262) share,
# so the request schemas document exactly what the domain refuses.
CONTROLS = r"\x00-\x1f\x7f-\x9f"
CONTROLS_BUT_TAB_AND_NEWLINE = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
BIDI_CONTROLS = r"\u202a-\u202e\u2066-\u2069"
# What a one-line text (a name, a title) and a message must not hold.
NOT_IN_A_LINE = CONTROLS + BIDI_CONTROLS
NOT_IN_A_MESSAGE = CONTROLS_BUT_TAB_AND_NEWLINE

_CONTROL = re.compile(f"[{CONTROLS}]")
_CONTROL_BUT_TAB_AND_NEWLINE = re.compile(f"[{CONTROLS_BUT_TAB_AND_NEWLINE}]")
_BIDI_CONTROL = re.compile(f"[{BIDI_CONTROLS}]")


def text_problem(value: str, *, multiline: bool) -> str | None:
    """What `value` holds that it must not, worded to follow its field's name; None if nothing."""
    if "\x00" in value:
        # Singled out: PostgreSQL cannot store it at all.
        return "must not contain NUL characters"
    if multiline:
        if _CONTROL_BUT_TAB_AND_NEWLINE.search(value):
            return "must not contain control characters other than tab and newline"
        return None
    if _CONTROL.search(value):
        return "must not contain control characters"
    if _BIDI_CONTROL.search(value):
        return "must not contain bidirectional override characters"
    return None


def check_text(field: str, value: str, *, multiline: bool) -> None:
    """Raise InvalidInput naming `field` when `value` holds what text of its kind must not."""
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise InvalidInput(field, f"{field} {problem}")


def clean_name(field: str, raw: str, *, max_length: int = 200) -> str:
    """A name of a user, team or key: checked as typed, then trimmed, not blank, within `max_length`."""
    check_text(field, raw, multiline=False)
    name = raw.strip()
    if not name:
        raise InvalidInput(field, f"{field} must not be blank")
    if len(name) > max_length:
        raise InvalidInput(field, f"{field} must be at most {max_length} characters")
    return name
