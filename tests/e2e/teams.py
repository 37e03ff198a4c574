"""People of two teams for the access tests: who calls, with which key, and the state they may change.

Set-up goes through the bus as each team's admin (it is quick and not what these tests are about);
what is under test goes through HTTP with `call`, which sends exactly the key it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2
from starlette.testclient import TestClient

from application import views
from application.commands import CreateApiKey, CreateReminder, CreateUser, RevokeApiKey, UpdateUser, UserPatch
from application.handlers.keys import IssuedKey
from application.handlers.teams import NewTeam
from domain.actor import Actor
from domain.reminder import Reminder
from domain.roles import Role
from entrypoints.bootstrap import Service
from tests.fakes import actor_of

# An Authorization header that is no bearer key at all.
MALFORMED = "Basic YWRhOmxvdmVsYWNl"


@dataclass(frozen=True, slots=True)
class Person:
    """A user and one working key of theirs."""

    id: str
    team_id: str
    role: Role
    key: str
    key_id: str

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.id, team_id=self.team_id, role=self.role, key_id=self.key_id)


def admin_of(created: NewTeam) -> Person:
    actor = actor_of(created)
    return Person(
        created.admin.id, created.team.id, created.admin.role, created.issued.plain, actor.key_id or ""
    )


def add_person(service: Service, by: Person, name: str, email: str, *, role: Role = Role.MEMBER) -> Person:
    user = service.bus.handle(CreateUser(actor=by.actor, name=name, email=email, role=role))
    issued = issue_key(service, by, user.id)
    return Person(user.id, user.team_id, role, issued.plain, issued.key.id)


def issue_key(service: Service, by: Person, user_id: str, name: str = "laptop") -> IssuedKey:
    issued: IssuedKey = service.bus.handle(CreateApiKey(actor=by.actor, user_id=user_id, name=name))
    return issued


def revoke_key(service: Service, by: Person, key_id: str) -> None:
    service.bus.handle(RevokeApiKey(actor=by.actor, key_id=key_id))


def deactivate(service: Service, by: Person, user_id: str) -> None:
    service.bus.handle(UpdateUser(actor=by.actor, user_id=user_id, changes=UserPatch(active=False)))


def add_reminder(
    service: Service, by: Person, owner_id: str, title: str = "Stand-up", *, target: str | None = None
) -> Reminder:
    reminder: Reminder = service.bus.handle(
        CreateReminder(
            actor=by.actor,
            owner_id=owner_id,
            title=title,
            message="Join the call",
            channel="recording",
            target=target,
            time_of_day="09:00",
            frequency="daily",
        )
    )
    return reminder


def call(
    client: TestClient,
    method: str,
    path: str,
    *,
    key: str | None,
    json: Any = None,
    authorization: str | None = None,
    params: dict[str, str] | None = None,
) -> httpx2.Response:
    """A request with the Bearer `key` (or the raw `authorization` header), or with no credentials
    at all when both are None: the client's default key is never sent."""
    request = client.build_request(method, path, json=json, params=params)
    request.headers.pop("authorization", None)
    if key is not None:
        request.headers["authorization"] = f"Bearer {key}"
    elif authorization is not None:
        request.headers["authorization"] = authorization
    return client.send(request)


def team_state(service: Service, admin: Person) -> dict[str, Any]:
    """Everything of a team an admin can read, as plain values: users, their reminders and keys, the
    team's deliveries, how long its audit trail is and its webhook secret. When a key was last used
    is left out: presenting a key records it, refused or not."""
    factory, actor = service.uow_factory, admin.actor
    users = views.list_users(factory, actor, limit=100, offset=0).items
    return {
        "users": [fields(user) for user in users],
        "reminders": {
            user.id: [
                fields(reminder)
                for reminder in views.list_reminders_of(factory, actor, user.id, limit=100, offset=0).items
            ]
            for user in users
        },
        "keys": {
            user.id: [
                fields(key, leave_out={"last_used_at", "version"})
                for key in views.list_keys_of(factory, actor, user.id, limit=100, offset=0).items
            ]
            for user in users
        },
        "deliveries": [
            fields(delivery) for delivery in views.list_deliveries(factory, actor, limit=100, offset=0).items
        ],
        "audit_entries": views.list_audit(factory, actor, limit=1, offset=0).total,
        "webhook_secret": getattr(views.get_team(factory, actor), "webhook_secret", None),
    }


def fields(aggregate: object, *, leave_out: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    return {
        name: value
        for name, value in vars(aggregate).items()
        if not name.startswith("_") and name not in leave_out
    }
