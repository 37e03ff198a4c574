"""Aggregates for store tests, and saving them in one commit."""

from __future__ import annotations

from datetime import UTC, datetime, time

from domain.api_key import ApiKey
from domain.audit import AuditEntry
from domain.delivery import Delivery
from domain.reminder import Reminder
from domain.schedule import Frequency, Schedule
from domain.team import Team
from domain.user import User
from tests.stores import StoreUnderTest

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
# The team builders put users in unless told otherwise; `save` stores it when it is missing.
TEAM_ID = "team-1"

Stored = Team | User | ApiKey | Reminder | Delivery | AuditEntry


def make_team(name: str = "Team One", *, team_id: str | None = None) -> Team:
    return Team.create(name=name, now=NOW, team_id=team_id)


def make_user(email: str = "ann@example.com", *, team_id: str = TEAM_ID) -> User:
    return User.create(team_id=team_id, name="Ann Example", email=email, active=True, now=NOW)


def make_reminder(owner: User, *, schedule: Schedule | None = None, channel: str = "log") -> Reminder:
    return Reminder.create(
        team_id=owner.team_id,
        owner_id=owner.id,
        title="Standup {date}",
        message="Join, {owner_name} — ünïcödé and {{braces}}",
        channel=channel,
        target="https://example.com/hook?x=1" if channel == "webhook" else None,
        schedule=schedule or Schedule(time(9, 0), Frequency.DAILY),
        active=True,
        now=NOW,
    )


def save(store: StoreUnderTest, *aggregates: Stored) -> None:
    """Store the aggregates in one commit, and first the team of any user whose team is missing."""
    with store.uow_factory() as uow:
        teams = {a.team_id for a in aggregates if isinstance(a, User)} - {
            a.id for a in aggregates if isinstance(a, Team)
        }
        for team_id in teams:
            if uow.teams.get(team_id) is None:
                uow.teams.add(make_team(team_id=team_id))
        for aggregate in aggregates:
            if isinstance(aggregate, Team):
                uow.teams.add(aggregate)
            elif isinstance(aggregate, User):
                uow.users.add(aggregate)
            elif isinstance(aggregate, ApiKey):
                uow.keys.add(aggregate)
            elif isinstance(aggregate, Reminder):
                uow.reminders.add(aggregate)
            elif isinstance(aggregate, AuditEntry):
                uow.audit.add(aggregate)
            else:
                uow.deliveries.add(aggregate)
        uow.commit()
