"""Handlers for teams: created by the operator with a first admin, and the default team on first start."""

from __future__ import annotations

from dataclasses import dataclass

from application import policy
from application.clock import Clock
from application.commands import CreateTeam, RotateWebhookSecret, StartFirstTeam
from application.handlers.keys import IssuedKey
from application.handlers.users import load_team
from application.unit_of_work import UnitOfWork
from domain.api_key import ApiKey
from domain.errors import Conflict, DuplicateEmail
from domain.ids import new_id
from domain.roles import Role
from domain.team import DEFAULT_TEAM_ID, DEFAULT_TEAM_NAME, Team
from domain.user import User

FIRST_ADMIN_NAME = "Admin"
FIRST_ADMIN_EMAIL = "admin@localhost"


@dataclass(frozen=True, slots=True)
class NewTeam:
    team: Team
    admin: User
    issued: IssuedKey


def create_team(command: CreateTeam, uow: UnitOfWork, *, clock: Clock) -> NewTeam:
    """A team starts with one admin, who gets an API key."""
    policy.require_admin(command.actor, "create teams")
    with uow:
        team = Team.create(name=command.name, now=clock.now(), webhook_secret=command.webhook_secret)
        uow.teams.add(team)
        created = _with_admin(uow, team, command.admin_name, command.admin_email, clock)
        uow.commit()
    return created


def start_first_team(command: StartFirstTeam, uow: UnitOfWork, *, clock: Clock) -> NewTeam | None:
    """On a store with no team, the `default` team and its admin; on one whose `default` team has
    no admin (users from before teams existed), an admin for it. Otherwise nothing: the key is
    given once. Two processes starting at once: one commit wins, the other finds it done."""
    for email in (FIRST_ADMIN_EMAIL, f"admin-{new_id()[:8]}@localhost"):
        try:
            return _first_admin(command, uow, clock, email)
        except DuplicateEmail:
            continue  # a user from before teams has that address: the admin gets another
    return None


def _first_admin(command: StartFirstTeam, uow: UnitOfWork, clock: Clock, email: str) -> NewTeam | None:
    with uow:
        team = uow.teams.get(DEFAULT_TEAM_ID)
        if team is None:
            if uow.teams.list(limit=1, offset=0).total:
                return None
            team = Team.create(
                name=DEFAULT_TEAM_NAME,
                now=clock.now(),
                webhook_secret=command.webhook_secret,
                team_id=DEFAULT_TEAM_ID,
            )
            uow.teams.add(team)
        elif uow.users.list(team_id=team.id, limit=1, offset=0, role=Role.ADMIN).total:
            return None
        elif command.webhook_secret is not None:
            # Made by the upgrade to teams: receivers still expect the secret set before it.
            team.adopt_webhook_secret(command.webhook_secret, clock.now())
        team.admins_changing()
        created = _with_admin(uow, team, FIRST_ADMIN_NAME, email, clock)
        try:
            uow.commit()
        except DuplicateEmail:
            raise  # the caller tries another address
        except Conflict:
            return None  # another process made the team or its admin first
    return created


def rotate_webhook_secret(command: RotateWebhookSecret, uow: UnitOfWork, *, clock: Clock) -> str:
    """Only an admin rotates the team's signing secret; the old one signs too for a day."""
    policy.require_admin(command.actor, "rotate the webhook secret")
    with uow:
        team = load_team(uow, command.actor.team_id or "")
        secret = team.rotate_webhook_secret(clock.now())
        uow.commit()
    return secret


def _with_admin(uow: UnitOfWork, team: Team, name: str, email: str, clock: Clock) -> NewTeam:
    now = clock.now()
    admin = User.create(team_id=team.id, name=name, email=email, role=Role.ADMIN, active=True, now=now)
    uow.users.add(admin)
    key, plain = ApiKey.issue(team_id=team.id, user_id=admin.id, name="first admin key", now=now)
    uow.keys.add(key)
    return NewTeam(team, admin, IssuedKey(key, plain))
