"""Handlers for users."""

from __future__ import annotations

from application.clock import Clock
from application.commands import CreateUser, DeleteUser, UpdateUser
from application.unit_of_work import UnitOfWork
from domain.errors import NotFound
from domain.events import UserDeleted
from domain.reminder import Reminder
from domain.user import User

_PAGE = 500


def load_user(uow: UnitOfWork, user_id: str) -> User:
    user = uow.users.get(user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def create_user(command: CreateUser, uow: UnitOfWork, *, clock: Clock) -> User:
    """A user's email is unique, compared case-insensitively."""
    with uow:
        user = User.create(name=command.name, email=command.email, active=command.active, now=clock.now())
        uow.users.add(user)
        uow.commit()
    return user


def update_user(command: UpdateUser, uow: UnitOfWork, *, clock: Clock) -> User:
    """Name, email and active flag can change; the email stays unique."""
    with uow:
        user = load_user(uow, command.user_id)
        user.update(now=clock.now(), **command.changes.changes())
        uow.commit()
    return user


def delete_user(command: DeleteUser, uow: UnitOfWork) -> None:
    """Deleting a user deletes their reminders too (see delete_reminders_of_deleted_user)."""
    with uow:
        user = load_user(uow, command.user_id)
        user.delete()
        uow.users.remove(user)
        uow.commit()


def delete_reminders_of_deleted_user(event: UserDeleted, uow: UnitOfWork) -> None:
    """A deleted user's reminders go with them, all at once."""
    with uow:
        owned: list[Reminder] = []
        while page := uow.reminders.list_by_owner(event.user_id, limit=_PAGE, offset=len(owned)).items:
            owned.extend(page)
        for reminder in owned:
            reminder.delete()
            uow.reminders.remove(reminder)
        uow.commit()
