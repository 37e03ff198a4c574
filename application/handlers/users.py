"""Handlers for users: created, changed and deleted within the actor's team."""

from __future__ import annotations

from datetime import datetime

from application import policy
from application.clock import Clock
from application.commands import CreateUser, DeleteUser, QuietHoursIn, UpdateUser
from application.unit_of_work import UnitOfWork
from domain.actor import Actor
from domain.delivery import DeliveryStatus
from domain.errors import LastAdmin, NotFound
from domain.events import UserCreated, UserUpdated
from domain.quiet_hours import QuietHours
from domain.reminder import Reminder
from domain.roles import Role
from domain.team import Team
from domain.user import User

_PAGE = 500


def load_user(uow: UnitOfWork, user_id: str, actor: Actor) -> User:
    return policy.see_user(actor, uow.users.get(user_id), user_id)


def load_team(uow: UnitOfWork, team_id: str) -> Team:
    team = uow.teams.get(team_id)
    if team is None:
        raise NotFound("team", team_id)
    return team


def create_user(command: CreateUser, uow: UnitOfWork, *, clock: Clock) -> User:
    """Only an admin adds users; an email is unique within the team, compared case-insensitively."""
    actor = command.actor
    policy.require_admin(actor, "create users")
    with uow:
        team = load_team(uow, actor.team_id or "")
        user = User.create(
            team_id=team.id,
            name=command.name,
            email=command.email,
            role=command.role,
            timezone=command.timezone,
            active=command.active,
            now=clock.now(),
            quiet_hours=_quiet_hours(command.quiet_hours),
        )
        if user.is_active_admin:
            team.admins_changing()
        uow.users.add(user)
        uow.commit()
    return user


def update_user(command: UpdateUser, uow: UnitOfWork, *, clock: Clock) -> User:
    """A member changes their own name, email and time zone; an admin anything of anyone in the
    team, except leaving it without an active admin. A deactivated user is signed out of the web app."""
    changes = command.changes.changes()
    if "quiet_hours" in changes:
        changes["quiet_hours"] = _quiet_hours(changes["quiet_hours"])
    with uow:
        user = load_user(uow, command.user_id, command.actor)
        policy.change_user(command.actor, user, changes)
        was_admin = user.is_active_admin
        now = clock.now()
        changed = user.update(now=now, **changes)
        if "quiet_hours" in changed:
            _requiet(uow, user, now)
        if "active" in changed:
            # On reactivation too: a sign-in that raced the deactivation (it read the user as active
            # just before) may have left a session the deactivation did not see.
            _sign_out(uow, user.id, now)
        if was_admin and not user.is_active_admin:
            _keep_an_admin(uow, user)
        elif user.is_active_admin and not was_admin:
            load_team(uow, user.team_id).admins_changing()
        uow.commit()
    return user


def delete_user(command: DeleteUser, uow: UnitOfWork) -> None:
    """Only an admin deletes users; their reminders and keys go with them; a team's last active
    admin stays."""
    policy.require_admin(command.actor, "delete users")
    with uow:
        user = load_user(uow, command.user_id, command.actor)
        if user.is_active_admin:
            _keep_an_admin(uow, user)
        user.delete()
        uow.users.remove(user)
        # In the same commit, not only in the UserDeleted handler: a SQL store's cascade would
        # delete them first, and the audit trail would not record them.
        _delete_reminders_of(uow, user.id)
        uow.commit()


def _quiet_hours(given: QuietHoursIn | None) -> QuietHours | None:
    if given is None:
        return None
    return QuietHours.build(start=given.start, end=given.end, weekdays=tuple(given.weekdays))


def include_in_team_reminders(event: UserCreated | UserUpdated, uow: UnitOfWork, *, clock: Clock) -> None:
    """A user who joins (created, reactivated) or moves to another time zone receives the team's
    reminders in each recipient's own time from their next slot there: each such reminder wakes
    for it, rather than waiting for the other recipients' next slot."""
    if isinstance(event, UserUpdated) and not {"active", "timezone"}.intersection(event.changed):
        return
    with uow:
        user = uow.users.get(event.user_id)
        if user is None or not user.active:
            return
        now = clock.now()
        for reminder in uow.reminders.in_recipient_time(user.team_id):
            reminder.include_zone(user.timezone, now)
        uow.commit()


def _requiet(uow: UnitOfWork, user: User, now: datetime) -> None:
    """The user's deliveries waiting out their quiet hours wait for the new ones instead: due at once
    when now is outside them (quiet hours cleared or moved), else when the new window ends."""
    page = uow.deliveries.list(
        limit=_PAGE, offset=0, team_id=user.team_id, person_id=user.id, status=DeliveryStatus.DEFERRED
    )
    for delivery in page.items:
        if delivery.recipient == user.id:
            delivery.defer_again(user.quiet_until(now), now=now)


def _sign_out(uow: UnitOfWork, user_id: str, now: datetime) -> None:
    """End the user's web app sessions and delete their waiting sign-in links, so that reactivating
    them brings back neither (a stolen cookie, a link in an old mailbox). In the deactivation's own
    commit, not in a UserUpdated handler: a follow-up that failed after it would leave them waiting."""
    for session in uow.web_sessions.live_for(user_id, now):
        session.end(now)  # audited as session.end, by whoever deactivated the user
    for link in uow.sign_in_links.live_for(user_id, now):
        # Gone rather than marked used: the link then reads as not valid, not as one used before.
        uow.sign_in_links.remove(link)


def _keep_an_admin(uow: UnitOfWork, leaving: User) -> None:
    """Refuse when `leaving` is the team's last active admin. The team's roster moves in the same
    commit, so two admins demoting each other at once cannot both succeed."""
    # The team is read first: a change to its admins committed after this read makes this commit
    # stale, and one committed before it is seen by the count below (on every isolation level).
    team = load_team(uow, leaving.team_id)
    admins = uow.users.list(team_id=leaving.team_id, limit=2, offset=0, active=True, role=Role.ADMIN)
    if not any(admin.id != leaving.id for admin in admins.items):
        raise LastAdmin()
    team.admins_changing()


def _delete_reminders_of(uow: UnitOfWork, owner_id: str) -> None:
    owned: list[Reminder] = []
    while page := uow.reminders.list_by_owner(owner_id, limit=_PAGE, offset=len(owned)).items:
        owned.extend(page)
    for reminder in owned:
        reminder.delete()
        uow.reminders.remove(reminder)
