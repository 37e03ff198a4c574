"""The User aggregate: a member of one team, who owns reminders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.aggregate import Aggregate
from domain.errors import InvalidInput
from domain.events import UserCreated, UserDeleted, UserUpdated
from domain.ids import new_id
from domain.quiet_hours import QuietHours
from domain.roles import Role
from domain.schedule import check_timezone
from domain.text import clean_name

# The HTML standard's definition of a valid email address: strict enough to catch typos, and the
# same pattern the API documents, so clients and the service agree on every address.
EMAIL_PATTERN = (
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)
_EMAIL = re.compile(EMAIL_PATTERN)
EDITABLE = ("name", "email", "role", "timezone", "active", "quiet_hours")
# Changes after which the user receives reminders in their own time from their next slot only.
_RESETTING = frozenset({"active", "timezone"})


class _Unset:
    """Marks quiet_hours as not given (None is a value there: "no quiet hours")."""


UNSET = _Unset()


def normalise_email(raw: str) -> str:
    """Syntax-checked, trimmed and lower-cased: the form in which emails are stored and compared."""
    email = raw.strip()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidInput("email", "email is not a valid address")
    return email.lower()


@dataclass(eq=False, kw_only=True)
class User(Aggregate):
    id: str
    team_id: str
    name: str
    email: str
    role: Role
    # New reminders of this user default to this IANA zone.
    timezone: str
    active: bool
    created_at: datetime
    updated_at: datetime
    quiet_hours: QuietHours | None = None
    # Since when the user has been active in their current time zone: a reminder in each
    # recipient's own time reaches them from their first slot after it, never with older ones.
    active_since: datetime | None = None

    @classmethod
    def create(
        cls,
        *,
        team_id: str,
        name: str,
        email: str,
        active: bool,
        now: datetime,
        role: Role = Role.MEMBER,
        timezone: str = "UTC",
        quiet_hours: QuietHours | None = None,
    ) -> User:
        user = cls(
            id=new_id(),
            team_id=team_id,
            name=clean_name("name", name),
            email=normalise_email(email),
            role=role,
            timezone=check_timezone(timezone),
            active=active,
            created_at=now,
            updated_at=now,
            quiet_hours=quiet_hours,
            active_since=now,
        )
        user._record(UserCreated(user_id=user.id))
        return user

    @property
    def is_active_admin(self) -> bool:
        return self.active and self.role is Role.ADMIN

    def quiet_until(self, moment: datetime) -> datetime | None:
        """When the user's quiet hours holding `moment` end; None when `moment` is not in them."""
        if self.quiet_hours is None:
            return None
        return self.quiet_hours.ends_after(moment, ZoneInfo(self.timezone))

    def update(
        self,
        *,
        now: datetime,
        name: str | None = None,
        email: str | None = None,
        role: Role | None = None,
        timezone: str | None = None,
        active: bool | None = None,
        quiet_hours: QuietHours | _Unset | None = UNSET,
    ) -> tuple[str, ...]:
        """Apply the fields given; returns the names of those that changed."""
        wanted: dict[str, object] = {
            "name": None if name is None else clean_name("name", name),
            "email": None if email is None else normalise_email(email),
            "role": role,
            "timezone": None if timezone is None else check_timezone(timezone),
            "active": active,
        }
        changed = tuple(
            field
            for field in EDITABLE
            if field != "quiet_hours" and wanted[field] is not None and wanted[field] != getattr(self, field)
        )
        if not isinstance(quiet_hours, _Unset) and quiet_hours != self.quiet_hours:
            changed = (*changed, "quiet_hours")
            wanted["quiet_hours"] = quiet_hours
        for field in changed:
            setattr(self, field, wanted[field])
        if changed:
            if _RESETTING.intersection(changed) and self.active:
                self.active_since = now
            self.updated_at = now
            self._record(UserUpdated(user_id=self.id, changed=changed))
        return changed

    def delete(self) -> None:
        self._record(UserDeleted(user_id=self.id))
