"""The people of the access tests, each with the actor their own API key stands for: users of the
test team (tests.fakes.team_of), whom its admin adds, and the admin of a second team."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from application import views
from application.authentication import authenticate
from application.commands import CreateApiKey, CreateReminder, CreateUser
from application.handlers.keys import IssuedKey
from domain.actor import Actor
from domain.audit import AuditEntry
from domain.reminder import Reminder
from domain.roles import Role
from domain.schedule import Frequency
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import actor_of, admin, new_team


@dataclass(frozen=True)
class Person:
    user: User
    actor: Actor
    # The API key itself, as its owner would present it.
    key: str


def signed_in(service: Service, plain: str) -> Actor:
    """The actor a request presenting `plain` acts as."""
    return authenticate(service.uow_factory, plain, now=service.clock.now())


def issue_key(service: Service, user: User, *, by: Actor | None = None) -> IssuedKey:
    issued: IssuedKey = service.bus.handle(
        CreateApiKey(actor=by or admin(service), user_id=user.id, name="laptop")
    )
    return issued


def join(service: Service, email: str, *, role: Role = Role.MEMBER, name: str = "Member") -> Person:
    """A new active user of the test team, added by its admin, with a key of their own."""
    user: User = service.bus.handle(CreateUser(actor=admin(service), name=name, email=email, role=role))
    issued = issue_key(service, user)
    return Person(user, signed_in(service, issued.plain), issued.plain)


def outsider(service: Service) -> Person:
    """The admin of a second team: sees nothing of the test team."""
    created = new_team(service, name="Other team", admin_email="boss@other.example")
    return Person(created.admin, actor_of(created), created.issued.plain)


def reminder_of(service: Service, person: Person, **fields: Any) -> Reminder:
    """A daily 09:00 reminder on the log channel that `person` creates for themselves."""
    values: dict[str, Any] = {
        "title": "Standup",
        "message": "Join the call",
        "time_of_day": "09:00",
        "frequency": Frequency.DAILY,
        **fields,
    }
    reminder: Reminder = service.bus.handle(CreateReminder(actor=person.actor, **values))
    return reminder


def trail(service: Service, actor: Actor | None = None) -> list[AuditEntry]:
    """The team's audit trail, oldest first."""
    page = views.list_audit(service.uow_factory, actor or admin(service), limit=1000, offset=0)
    return list(reversed(page.items))
