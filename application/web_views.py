"""Read models of the web app's pages that the JSON API has no view for; each asks the policy first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from application import policy, views
from application.repositories import HourlyCount, Page, QueueStats
from application.unit_of_work import UnitOfWorkFactory
from domain.actor import Actor
from domain.audit import AuditEntry
from domain.user import User

CHART_HOURS: Final = 24


def delivery_chart(uow_factory: UnitOfWorkFactory, actor: Actor, *, now: datetime) -> list[HourlyCount]:
    """The team's deliveries per hour they were due and by status, over the last CHART_HOURS hours:
    the current hour and the 23 before it. Admins only, like the rest of the status page. Hours
    with no delivery are absent; deliveries due later than the current hour are left out."""
    policy.require_admin(actor, "see the service's status")
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    since = current - timedelta(hours=CHART_HOURS - 1)
    with uow_factory() as uow:
        counts = uow.deliveries.hourly_counts(team_id=actor.team_id or "", since=since)
    return [count for count in counts if count.hour <= current]


def team_members(uow_factory: UnitOfWorkFactory, actor: Actor, *, limit: int, offset: int) -> Page[User]:
    """The team's users, for the page that manages them: admins only (a member may list the team
    through the API, but this page is for changing it)."""
    policy.require_admin(actor, "manage the team's members")
    return views.list_users(uow_factory, actor, limit=limit, offset=offset)


@dataclass(frozen=True, slots=True)
class AuditTrail:
    page: Page[AuditEntry]
    # Who acted, by user id, for those of the page's actors still in the team.
    names: dict[str, str]


def audit_trail(
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
) -> AuditTrail:
    """A page of the audit trail (admins only, as the API's) and the names of who acted, read in
    one query rather than one per entry."""
    page = views.list_audit(
        uow_factory,
        actor,
        limit=limit,
        offset=offset,
        actor_id=actor_id,
        target_id=target_id,
        action=action,
        since=since,
        until=until,
    )
    ids = {entry.actor_user_id for entry in page.items if entry.actor_user_id is not None}
    if not ids:
        return AuditTrail(page, {})
    with uow_factory() as uow:
        found = uow.users.get_many(ids)
    names = {user_id: user.name for user_id, user in found.items() if policy.in_team(actor, user.team_id)}
    return AuditTrail(page, names)


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    queue: QueueStats
    reminders_due: int  # active reminders whose next slot has come and not been fired yet


def service_figures(uow_factory: UnitOfWorkFactory, actor: Actor, *, now: datetime) -> ServiceFigures:
    """The queue's and the scheduler's figures, as /health and the metrics read them: admins only,
    like the rest of the status page."""
    policy.require_admin(actor, "see the service's status")
    with uow_factory() as uow:
        return ServiceFigures(
            queue=uow.deliveries.queue_stats(now), reminders_due=uow.reminders.count_due(now)
        )
