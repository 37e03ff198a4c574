"""User: normalised email, required name, opaque ids, and the events that record changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from domain.errors import InvalidInput
from domain.events import UserCreated, UserDeleted, UserUpdated
from domain.user import User

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TEAM_ID = "team-1"


def make_user(*, name: str = "Ann Lee", email: str = "ann@example.com") -> User:
    user = User.create(team_id=TEAM_ID, name=name, email=email, active=True, now=NOW)
    user.pull_events()
    return user


def test_create_trims_and_lower_cases_the_email() -> None:
    user = User.create(team_id=TEAM_ID, name="Ann Lee", email="  Ann.Lee@Example.COM ", active=True, now=NOW)
    assert user.email == "ann.lee@example.com"


def test_create_trims_the_name() -> None:
    assert make_user(name="  Ann Lee ").name == "Ann Lee"


def test_create_records_user_created() -> None:
    user = User.create(team_id=TEAM_ID, name="Ann", email="ann@example.com", active=True, now=NOW)
    assert user.pull_events() == [UserCreated(user_id=user.id)]
    assert (user.created_at, user.updated_at) == (NOW, NOW)


@pytest.mark.parametrize("email", ["", "   ", "ann", "ann@", "@example.com", "ann@@example.com", "a n@x.com"])
def test_create_rejects_an_invalid_email(email: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        User.create(team_id=TEAM_ID, name="Ann", email=email, active=True, now=NOW)
    assert caught.value.field == "email"


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_create_rejects_a_blank_name(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        User.create(team_id=TEAM_ID, name=name, email="ann@example.com", active=True, now=NOW)
    assert caught.value.field == "name"


def test_ids_are_random_and_opaque() -> None:
    first = make_user(email="ann@example.com")
    second = make_user(email="bob@example.com")
    assert first.id != second.id
    assert not first.id.isdigit()
    assert not second.id.isdigit()


def test_update_records_only_the_changed_fields_and_bumps_updated_at() -> None:
    user = make_user()
    user.update(now=LATER, name="Ann Lee", email="ann.lee@example.com", active=False)
    assert user.pull_events() == [UserUpdated(user_id=user.id, changed=("email", "active"))]
    assert (user.email, user.active, user.updated_at) == ("ann.lee@example.com", False, LATER)


def test_update_normalises_a_new_email() -> None:
    user = make_user()
    user.update(now=LATER, email=" NEW@Example.com ")
    assert user.email == "new@example.com"


def test_update_without_a_real_change_records_nothing() -> None:
    user = make_user()
    # The same email in another case and the same name with spaces are no change.
    user.update(now=LATER, name=" Ann Lee ", email="ANN@example.com", active=True)
    user.update(now=LATER)
    assert user.pull_events() == []
    assert user.updated_at == NOW


@pytest.mark.parametrize(
    ("field", "edit"),
    [
        ("name", lambda user: user.update(now=LATER, name="  ")),
        ("email", lambda user: user.update(now=LATER, email="not-an-email")),
    ],
)
def test_update_rejects_invalid_values(field: str, edit: Callable[[User], None]) -> None:
    user = make_user()
    with pytest.raises(InvalidInput) as caught:
        edit(user)
    assert caught.value.field == field
    assert (user.name, user.email) == ("Ann Lee", "ann@example.com")
    assert user.pull_events() == []


def test_delete_records_user_deleted() -> None:
    user = make_user()
    user.delete()
    assert user.pull_events() == [UserDeleted(user_id=user.id)]


def test_pull_events_hands_events_over_once() -> None:
    user = User.create(team_id=TEAM_ID, name="Ann", email="ann@example.com", active=True, now=NOW)
    user.update(now=LATER, name="Annie")
    assert [type(event) for event in user.pull_events()] == [UserCreated, UserUpdated]
    assert user.pull_events() == []
