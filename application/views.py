"""Read-side queries for the entrypoints: no commands, no events, just answers, each for an actor
and only what the policy lets them see."""

from __future__ import annotations

from datetime import datetime

from application import policy
from application.handlers.deliveries import load_delivery
from application.handlers.reminders import load_reminder
from application.handlers.users import load_user
from application.repositories import Page, QueueStats
from application.unit_of_work import UnitOfWorkFactory
from domain.actor import Actor
from domain.api_key import ApiKey
from domain.audit import AuditEntry
from domain.delivery import Delivery, DeliveryStatus
from domain.reminder import Reminder
from domain.roles import Role
from domain.schedule import Frequency
from domain.team import Team
from domain.user import User


def get_user(uow_factory: UnitOfWorkFactory, actor: Actor, user_id: str) -> User:
    with uow_factory() as uow:
        return load_user(uow, user_id, actor)


def list_users(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    limit: int,
    offset: int,
    active: bool | None = None,
    role: Role | None = None,
) -> Page[User]:
    with uow_factory() as uow:
        return uow.users.list(
            team_id=actor.team_id or "", limit=limit, offset=offset, active=active, role=role
        )


def get_reminder(uow_factory: UnitOfWorkFactory, actor: Actor, reminder_id: str) -> Reminder:
    with uow_factory() as uow:
        return load_reminder(uow, reminder_id, actor)


def list_reminders_of(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    owner_id: str,
    *,
    limit: int,
    offset: int,
    channel: str | None = None,
    frequency: Frequency | None = None,
    active: bool | None = None,
) -> Page[Reminder]:
    with uow_factory() as uow:
        owner = load_user(uow, owner_id, actor)
        policy.act_for(actor, owner.id, "reminders")
        return uow.reminders.list_by_owner(
            owner_id,
            limit=limit,
            offset=offset,
            channel=channel,
            frequency=frequency,
            active=active,
        )


def get_delivery(uow_factory: UnitOfWorkFactory, actor: Actor, delivery_id: str) -> Delivery:
    with uow_factory() as uow:
        return load_delivery(uow, delivery_id, actor)


def list_deliveries(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    limit: int,
    offset: int,
    reminder_id: str | None = None,
    status: DeliveryStatus | None = None,
    channel: str | None = None,
) -> Page[Delivery]:
    """A reminder's deliveries, or the team's (an admin), or a member's: those of their own
    reminders and those addressed to them (as a recipient of someone else's team reminder)."""
    with uow_factory() as uow:
        if reminder_id is not None:
            load_reminder(uow, reminder_id, actor)
        return uow.deliveries.list(
            limit=limit,
            offset=offset,
            team_id=actor.team_id or "",
            person_id=None if reminder_id is not None else policy.deliveries_owner_filter(actor),
            reminder_id=reminder_id,
            status=status,
            channel=channel,
        )


def list_keys_of(
    uow_factory: UnitOfWorkFactory, actor: Actor, user_id: str, *, limit: int, offset: int
) -> Page[ApiKey]:
    with uow_factory() as uow:
        user = load_user(uow, user_id, actor)
        policy.act_for(actor, user.id, "API keys")
        return uow.keys.list_by_user(user.id, limit=limit, offset=offset)


def list_audit(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    limit: int,
    offset: int,
    actor_id: str | None = None,
    target_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[AuditEntry]:
    policy.require_admin(actor, "read the audit trail")
    with uow_factory() as uow:
        return uow.audit.list(
            team_id=actor.team_id or "",
            limit=limit,
            offset=offset,
            actor_id=actor_id,
            target_id=target_id,
            action=action,
            since=since,
            until=until,
        )


def list_teams(uow_factory: UnitOfWorkFactory, *, limit: int, offset: int) -> Page[Team]:
    """Every team: for the operator's command line only."""
    with uow_factory() as uow:
        return uow.teams.list(limit=limit, offset=offset)


def get_team(uow_factory: UnitOfWorkFactory, actor: Actor) -> Team | None:
    with uow_factory() as uow:
        return uow.teams.get(actor.team_id or "")


def count_pending_deliveries(uow_factory: UnitOfWorkFactory) -> int:
    with uow_factory() as uow:
        return uow.deliveries.count(status=DeliveryStatus.PENDING)


def ping_store(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.ping()


def count_due(uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    with uow_factory() as uow:
        return uow.reminders.count_due(now)


def queue_stats(uow_factory: UnitOfWorkFactory, now: datetime) -> QueueStats:
    with uow_factory() as uow:
        return uow.deliveries.queue_stats(now)
