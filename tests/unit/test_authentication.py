"""application.authentication.authenticate: an active user's unrevoked key stands for that user;
every other key is refused alike; a key's use is recorded at most once a minute."""

from __future__ import annotations

from datetime import datetime

import pytest

from application import views
from application.authentication import identify, record_use
from application.commands import RevokeApiKey, UpdateUser, UserPatch
from domain.errors import Unauthorized
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, admin
from tests.unit.people import Person, signed_in
from tests.unit.world import START

REFUSED = "a valid API key is required: send Authorization: Bearer <key>"


def refused(service: Service, presented: str) -> str:
    with pytest.raises(Unauthorized) as raised:
        signed_in(service, presented)
    return raised.value.message


def last_used(service: Service, person: Person) -> datetime | None:
    [key] = views.list_keys_of(service.uow_factory, admin(service), person.user.id, limit=10, offset=0).items
    return key.last_used_at


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "Bearer rk_0123456789ab_secret",
        "rk_",
        "rk_0123456789ab_",
        "rk_0123456789ab",
        "rk_0123456789AB_secret",
        "rk_01234567_secret",
        "rk_0123456789zz_secret",
        "xx_0123456789ab_secret",
        "rk_0123456789ab_" + "s" * 200,
    ],
)
def test_a_malformed_key_is_refused(service: Service, ann: Person, presented: str) -> None:
    assert refused(service, presented) == REFUSED


def test_an_unknown_key_is_refused(service: Service, ann: Person) -> None:
    assert refused(service, "rk_0123456789ab_" + "x" * 43) == REFUSED


def test_a_known_prefix_with_the_wrong_secret_is_refused(service: Service, ann: Person) -> None:
    prefix = ann.key[: len("rk_0123456789ab")]

    assert refused(service, f"{prefix}_not-the-secret") == REFUSED
    assert signed_in(service, ann.key).user_id == ann.user.id


def test_a_revoked_key_is_refused(service: Service, ann: Person) -> None:
    service.bus.handle(RevokeApiKey(actor=ann.actor, key_id=ann.actor.key_id or ""))

    assert refused(service, ann.key) == REFUSED


def test_a_deactivated_users_key_is_refused_until_they_are_reactivated(service: Service, ann: Person) -> None:
    boss = admin(service)
    service.bus.handle(UpdateUser(actor=boss, user_id=ann.user.id, changes=UserPatch(active=False)))

    assert refused(service, ann.key) == REFUSED

    service.bus.handle(UpdateUser(actor=boss, user_id=ann.user.id, changes=UserPatch(active=True)))
    assert signed_in(service, ann.key) == ann.actor


def test_a_keys_use_is_recorded_at_most_once_a_minute(
    service: Service, clock: FixedClock, ann: Person
) -> None:
    assert last_used(service, ann) == START  # signing in when the key was issued

    seen = []
    for seconds in (30, 29, 1, 59, 1):
        clock.advance(seconds=seconds)
        signed_in(service, ann.key)
        seen.append(last_used(service, ann))

    minute = START.replace(minute=1)
    two = START.replace(minute=2)
    assert seen == [START, START, minute, minute, two]


def test_identifying_a_key_only_reads_and_says_when_its_use_is_due(
    service: Service, clock: FixedClock, ann: Person
) -> None:
    """The HTTP side identifies a key where a write must not run (on SQLite, on the event loop),
    then records the use separately when it is due."""
    clock.advance(seconds=60)

    due = identify(service.uow_factory, ann.key, now=clock.now())
    assert (due.actor, due.use_due) == (ann.actor, True)
    assert last_used(service, ann) == START  # nothing written

    record_use(service.uow_factory, ann.actor.key_id or "", now=clock.now())
    assert last_used(service, ann) == clock.now()
    assert identify(service.uow_factory, ann.key, now=clock.now()).use_due is False

    record_use(service.uow_factory, "no-such-key", now=clock.now())  # a key gone meanwhile: nothing
