"""Handlers for API keys: issued to a user (by themselves or an admin), and revoked at once."""

from __future__ import annotations

from dataclasses import dataclass

from application import policy
from application.clock import Clock
from application.commands import CreateApiKey, RevokeApiKey
from application.handlers.users import load_user
from application.unit_of_work import UnitOfWork
from domain.api_key import ApiKey


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    # The key itself: shown this once, never stored.
    plain: str


def create_api_key(command: CreateApiKey, uow: UnitOfWork, *, clock: Clock) -> IssuedKey:
    """A key acts as its user; a member issues keys for themselves, an admin for anyone in the team."""
    with uow:
        user = load_user(uow, command.user_id, command.actor)
        policy.act_for(command.actor, user.id, "API keys")
        key, plain = ApiKey.issue(team_id=user.team_id, user_id=user.id, name=command.name, now=clock.now())
        uow.keys.add(key)
        uow.commit()
    return IssuedKey(key, plain)


def revoke_api_key(command: RevokeApiKey, uow: UnitOfWork, *, clock: Clock) -> None:
    """A revoked key stops working with the next request; revoking it again changes nothing."""
    with uow:
        key = policy.see_key(command.actor, uow.keys.get(command.key_id), command.key_id)
        key.revoke(clock.now())
        uow.commit()
