"""Who may issue, list and revoke API keys: the key's user or an admin of their team; another team
finds neither the user nor the key."""

from __future__ import annotations

import pytest

from application import views
from application.commands import RevokeApiKey
from domain.actor import Actor
from domain.errors import Forbidden, NotFound, Unauthorized
from domain.roles import Role
from entrypoints.bootstrap import Service
from tests.fakes import admin
from tests.unit.people import Person, issue_key, outsider, signed_in


def key_names(service: Service, person: Person, *, seen_by: Actor | None = None) -> list[str]:
    page = views.list_keys_of(
        service.uow_factory, seen_by or admin(service), person.user.id, limit=10, offset=0
    )
    return [key.name for key in page.items]


def test_a_member_issues_a_key_for_themselves_that_acts_as_them(service: Service, ann: Person) -> None:
    issued = issue_key(service, ann.user, by=ann.actor)

    assert signed_in(service, issued.plain) == Actor(
        user_id=ann.user.id, team_id=ann.user.team_id, role=Role.MEMBER, key_id=issued.key.id
    )
    assert key_names(service, ann, seen_by=ann.actor) == ["laptop", "laptop"]
    # Only a hash is kept: the key itself is shown once, when it is issued.
    stored = views.list_keys_of(service.uow_factory, ann.actor, ann.user.id, limit=10, offset=0).items
    assert all(issued.plain not in vars(key).values() for key in stored)


def test_a_member_may_not_issue_list_or_revoke_another_members_keys(
    service: Service, ann: Person, bob: Person
) -> None:
    bobs_key = bob.actor.key_id or ""

    with pytest.raises(Forbidden):
        issue_key(service, bob.user, by=ann.actor)
    with pytest.raises(Forbidden):
        key_names(service, bob, seen_by=ann.actor)
    with pytest.raises(Forbidden):
        service.bus.handle(RevokeApiKey(actor=ann.actor, key_id=bobs_key))

    assert key_names(service, bob) == ["laptop"]
    assert signed_in(service, bob.key).user_id == bob.user.id


def test_a_user_revokes_their_own_key_and_an_admin_anyones(
    service: Service, ann: Person, bob: Person
) -> None:
    service.bus.handle(RevokeApiKey(actor=ann.actor, key_id=ann.actor.key_id or ""))
    service.bus.handle(RevokeApiKey(actor=admin(service), key_id=bob.actor.key_id or ""))

    for person in (ann, bob):
        with pytest.raises(Unauthorized):
            signed_in(service, person.key)


def test_another_team_finds_neither_the_user_nor_the_key(service: Service, ann: Person) -> None:
    stranger = outsider(service)
    key_id = ann.actor.key_id or ""

    with pytest.raises(NotFound) as issuing:
        issue_key(service, ann.user, by=stranger.actor)
    with pytest.raises(NotFound) as listing:
        key_names(service, ann, seen_by=stranger.actor)
    with pytest.raises(NotFound) as revoking:
        service.bus.handle(RevokeApiKey(actor=stranger.actor, key_id=key_id))

    for raised in (issuing, listing):
        assert raised.value.message == f"user {ann.user.id!r} was not found"
    assert revoking.value.message == f"key {key_id!r} was not found"
    assert signed_in(service, ann.key).user_id == ann.user.id
