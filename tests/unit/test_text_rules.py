"""Names, titles and messages: no control characters (a message keeps tabs and newlines), and no
bidirectional overrides in a name or a title. Refused when created and when changed, and a refused
change changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from domain.errors import InvalidInput
from domain.reminder import Reminder
from domain.schedule import Frequency, Schedule
from domain.user import User

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CONTROL = "must not contain control characters"
BIDI = "must not contain bidirectional override characters"
NUL = "must not contain NUL characters"

# (text, the end of the message refusing it as a name or a title)
REFUSED_IN_ONE_LINE = [
    ("Ann\x00", NUL),
    ("Ann\x01", CONTROL),
    ("Ann\tLee", CONTROL),
    ("Ann\nLee", CONTROL),
    ("Ann\r\nBcc: victim@example.com", CONTROL),
    ("Ann\n", CONTROL),  # refused, not trimmed away
    ("Ann\x1b[31m", CONTROL),
    ("Ann\x7f", CONTROL),
    ("Ann\x85", CONTROL),
    ("Ann\x9f", CONTROL),
    ("Ann \u202eeeL", BIDI),
    ("\u202aAnn", BIDI),
    ("\u202bAnn", BIDI),
    ("\u202cAnn", BIDI),
    ("\u202dAnn", BIDI),
    ("\u2066Ann\u2069", BIDI),
    ("\u2067Ann", BIDI),
    ("\u2068Ann", BIDI),
]
# (text, the end of the message refusing it as a message)
REFUSED_IN_A_MESSAGE = [
    ("Hi\x00", NUL),
    ("Hi\r\nthere", "must not contain control characters other than tab and newline"),
    ("Hi\x0b", "must not contain control characters other than tab and newline"),
    ("Hi\x0c", "must not contain control characters other than tab and newline"),
    ("Hi\x1b[2J", "must not contain control characters other than tab and newline"),
    ("Hi\x7f", "must not contain control characters other than tab and newline"),
    ("Hi\x80", "must not contain control characters other than tab and newline"),
]
ACCEPTED_IN_ONE_LINE = ["Zoë Ünal", "O'Brien, Ann (Ops)", "李雷", "مريم", "שרה", "Ann\u200dLee", "🚀 Ann"]
ACCEPTED_IN_A_MESSAGE = ["Line one\nLine two", "Name:\tAnn", "עברית \u202bembedded\u202c text", "\n\nHi"]


def make_user(name: str = "Ann") -> User:
    return User.create(team_id="t-1", name=name, email="ann@example.com", active=True, now=NOW)


def make_reminder(*, title: str = "Stand-up", message: str = "Join the call") -> Reminder:
    return Reminder.create(
        team_id="t-1",
        owner_id="u-1",
        title=title,
        message=message,
        channel="log",
        target=None,
        schedule=Schedule(time(9, 0), Frequency.DAILY),
        active=True,
        now=NOW,
    )


@pytest.mark.parametrize(("name", "problem"), REFUSED_IN_ONE_LINE)
def test_a_name_is_refused_on_create_and_on_change(name: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as created:
        make_user(name)
    user = make_user()
    with pytest.raises(InvalidInput) as changed:
        user.update(now=NOW, name=name)

    for refusal in (created.value, changed.value):
        assert (refusal.field, refusal.message) == ("name", f"name {problem}")
    assert user.name == "Ann"


@pytest.mark.parametrize(("title", "problem"), REFUSED_IN_ONE_LINE)
def test_a_title_is_refused_on_create_and_on_change(title: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as created:
        make_reminder(title=title)
    reminder = make_reminder()
    with pytest.raises(InvalidInput) as changed:
        reminder.update({"title": title}, now=NOW)

    for refusal in (created.value, changed.value):
        assert (refusal.field, refusal.message) == ("title", f"title {problem}")
    assert reminder.title == "Stand-up"


@pytest.mark.parametrize(("message", "problem"), REFUSED_IN_A_MESSAGE)
def test_a_message_is_refused_on_create_and_on_change(message: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as created:
        make_reminder(message=message)
    reminder = make_reminder()
    with pytest.raises(InvalidInput) as changed:
        reminder.update({"message": message}, now=NOW)

    for refusal in (created.value, changed.value):
        assert (refusal.field, refusal.message) == ("message", f"message {problem}")
    assert reminder.message == "Join the call"


@pytest.mark.parametrize("text", ACCEPTED_IN_ONE_LINE)
def test_names_and_titles_in_any_script_are_kept(text: str) -> None:
    assert make_user(text).name == text
    assert make_reminder(title=text).title == text


@pytest.mark.parametrize("message", ACCEPTED_IN_A_MESSAGE)
def test_a_message_keeps_its_tabs_newlines_and_embeddings(message: str) -> None:
    assert make_reminder(message=message).message == message
