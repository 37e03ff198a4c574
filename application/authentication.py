"""Turning a presented API key into the actor it stands for, or refusing it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from application.unit_of_work import StoreUnavailable, UnitOfWork, UnitOfWorkFactory
from domain.actor import Actor
from domain.api_key import ApiKey, split_key
from domain.errors import Unauthorized
from domain.user import User

_REFUSED = "a valid API key is required: send Authorization: Bearer <key>"


@dataclass(frozen=True, slots=True)
class Identified:
    actor: Actor
    # The key's last use is older than a minute: `record_use` should note this one.
    use_due: bool


def authenticate(uow_factory: UnitOfWorkFactory, presented: str, *, now: datetime) -> Actor:
    """The actor of an active user's unrevoked key. Unknown, malformed and revoked keys and keys of
    deactivated users are refused alike, so the answer tells nothing about which it was."""
    identified = identify(uow_factory, presented, now=now)
    if identified.use_due:
        record_use(uow_factory, identified.actor.key_id or "", now=now)
    return identified.actor


def identify(uow_factory: UnitOfWorkFactory, presented: str, *, now: datetime) -> Identified:
    """`authenticate` without its one write: it only reads, so it may run where a write must not
    (on the HTTP event loop, beside a SQLite writer)."""
    with uow_factory() as uow:
        key, user = key_holder(uow, presented)
    actor = Actor(user_id=user.id, team_id=user.team_id, role=user.role, key_id=key.id)
    return Identified(actor, use_due=key.use_due(now))


def record_use(uow_factory: UnitOfWorkFactory, key_id: str, *, now: datetime) -> None:
    """Notes that the key was used at `now`, at most once a minute. Bookkeeping: it never makes a
    change to the key made meanwhile fail (ApiKeyRepository.note_use), and a busy store is no
    reason to refuse a valid key: the use is recorded next time."""
    with contextlib.suppress(StoreUnavailable), uow_factory() as uow:
        uow.keys.note_use(key_id, now)
        uow.commit()


def key_holder(uow: UnitOfWork, presented: str) -> tuple[ApiKey, User]:
    """The key `presented` is and its user, read in `uow`: the one check of a key, for the API and
    for signing in to the web app alike. Refused with the same Unauthorized whatever was wrong."""
    shaped = split_key(presented)
    if shaped is None:
        raise Unauthorized(_REFUSED)
    prefix, whole = shaped
    found = uow.keys.holder(prefix)
    if found is None:
        raise Unauthorized(_REFUSED)
    key, user = found
    if not key.matches(whole) or key.revoked or not user.active:
        raise Unauthorized(_REFUSED)
    return key, user
