"""Who a reminder's slots reach now: its active recipients, read once per unit of work.

A reminder for its owner reaches the owner; a team reminder every active user of the team at the
moment its slot fires (so people who joined receive it from their next slot, and people who left
do not); a list, the listed users who are still active members of the team.
"""

from __future__ import annotations

from collections.abc import Iterable

from application.unit_of_work import UnitOfWork
from domain.audience import Recipients
from domain.errors import InvalidInput
from domain.reminder import Reminder
from domain.user import User

_PAGE = 500


class Audiences:
    """Resolves the audiences of many reminders in one unit of work, reading each team once."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._users: dict[str, User] = {}
        self._teams: dict[str, list[User]] = {}

    def read(self, reminders: Iterable[Reminder]) -> None:
        """Read the owners and listed recipients of `reminders` at once."""
        wanted: list[str] = []
        for reminder in reminders:
            wanted.append(reminder.owner_id)
            wanted.extend(reminder.recipients.user_ids)
        self.read_users(wanted)

    def user(self, user_id: str) -> User | None:
        if user_id not in self._users:
            self.read_users([user_id])
        return self._users.get(user_id)

    def read_users(self, user_ids: Iterable[str]) -> None:
        # Membership tests, not a set difference: that would copy every user read so far each call.
        missing = {user_id for user_id in user_ids if user_id not in self._users}
        if missing:
            self._users.update(self._uow.users.get_many(missing))

    def of(self, reminder: Reminder) -> list[User]:
        """The reminder's active recipients now."""
        return self.reached(reminder.recipients, team_id=reminder.team_id, owner_id=reminder.owner_id)

    def reached(self, recipients: Recipients, *, team_id: str, owner_id: str) -> list[User]:
        """The active users `recipients` stand for, in a team, for a reminder of `owner_id`'s (a
        reminder's, or one being created, edited or previewed)."""
        if recipients.kind == "team":
            return self.team(team_id)
        ids = (owner_id,) if recipients.is_owner else recipients.user_ids
        self.read_users(ids)
        people = (self._users.get(user_id) for user_id in ids)
        return [p for p in people if p is not None and p.active and p.team_id == team_id]

    def team(self, team_id: str) -> list[User]:
        """Every active user of the team."""
        if team_id not in self._teams:
            members: list[User] = []
            while True:
                page = self._uow.users.list(team_id=team_id, limit=_PAGE, offset=len(members), active=True)
                members.extend(page.items)
                if len(page.items) < _PAGE:
                    break
            self._teams[team_id] = members
            self._users.update({member.id: member for member in members})
        return self._teams[team_id]


def zones_of(people: Iterable[User]) -> list[str]:
    return sorted({person.timezone for person in people})


def check_recipients(uow: UnitOfWork, recipients: Recipients, team_id: str) -> None:
    """Every listed recipient is a user of the team (an unknown id and another team's read alike)."""
    if not recipients.user_ids:
        return
    found = uow.users.get_many(set(recipients.user_ids))
    unknown = [
        user_id
        for user_id in recipients.user_ids
        if user_id not in found or found[user_id].team_id != team_id
    ]
    if unknown:
        shown = ", ".join(user_id[:64] for user_id in unknown[:5])
        raise InvalidInput("recipients", f"recipients names users who are not in the team: {shown}")
