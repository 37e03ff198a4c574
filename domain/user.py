"""The User aggregate: someone who owns reminders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from domain.aggregate import Aggregate
from domain.errors import InvalidInput
from domain.events import UserCreated, UserDeleted, UserUpdated
from domain.ids import new_id
from domain.text import check_text

# The HTML standard's definition of a valid email address: strict enough to catch typos, and the
# same pattern the API documents, so clients and the service agree on every address.
EMAIL_PATTERN = (
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)
_EMAIL = re.compile(EMAIL_PATTERN)


def normalise_email(raw: str) -> str:
    """Syntax-checked, trimmed and lower-cased: the form in which emails are stored and compared."""
    email = raw.strip()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidInput("email", "email is not a valid address")
    return email.lower()


def _clean_name(raw: str) -> str:
    # Checked before trimming: a name ending in a line break is refused, not quietly cut.
    check_text("name", raw, multiline=False)
    name = raw.strip()
    if not name:
        raise InvalidInput("name", "name must not be blank")
    return name


@dataclass(eq=False, kw_only=True)
class User(Aggregate):
    id: str
    name: str
    email: str
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def create(cls, *, name: str, email: str, active: bool, now: datetime) -> User:
        user = cls(
            id=new_id(),
            name=_clean_name(name),
            email=normalise_email(email),
            active=active,
            created_at=now,
            updated_at=now,
        )
        user._record(UserCreated(user_id=user.id))
        return user

    def update(
        self,
        *,
        now: datetime,
        name: str | None = None,
        email: str | None = None,
        active: bool | None = None,
    ) -> None:
        changed: list[str] = []
        if name is not None and _clean_name(name) != self.name:
            self.name = _clean_name(name)
            changed.append("name")
        if email is not None and normalise_email(email) != self.email:
            self.email = normalise_email(email)
            changed.append("email")
        if active is not None and active != self.active:
            self.active = active
            changed.append("active")
        if changed:
            self.updated_at = now
            self._record(UserUpdated(user_id=self.id, changed=tuple(changed)))

    def delete(self) -> None:
        self._record(UserDeleted(user_id=self.id))
