"""Turning a presented API key into the actor it stands for, or refusing it."""

from __future__ import annotations

import contextlib
from datetime import datetime

from application.unit_of_work import StoreUnavailable, UnitOfWork, UnitOfWorkFactory
from domain.actor import Actor
from domain.api_key import ApiKey, split_key
from domain.errors import Conflict, NotFound, Unauthorized
from domain.user import User

_REFUSED = "a valid API key is required: send Authorization: Bearer <key>"


def authenticate(uow_factory: UnitOfWorkFactory, presented: str, *, now: datetime) -> Actor:
    """The actor of an active user's unrevoked key. Unknown, malformed and revoked keys and keys of
    deactivated users are refused alike, so the answer tells nothing about which it was."""
    with uow_factory() as uow:
        key, user = key_holder(uow, presented)
        actor = Actor(user_id=user.id, team_id=user.team_id, role=user.role, key_id=key.id)
        last_used = key.last_used_at
        key.used(now)
        if key.last_used_at != last_used:
            # Another request may record the use at the same moment, or the key may just have gone.
            # Nor is a busy store a reason to refuse a valid key: the use is recorded next time.
            with contextlib.suppress(Conflict, NotFound, StoreUnavailable):
                uow.commit()
    return actor


def key_holder(uow: UnitOfWork, presented: str) -> tuple[ApiKey, User]:
    """The key `presented` is and its user, read in `uow`: the one check of a key, for the API and
    for signing in to the web app alike. Refused with the same Unauthorized whatever was wrong."""
    shaped = split_key(presented)
    if shaped is None:
        raise Unauthorized(_REFUSED)
    prefix, whole = shaped
    key = uow.keys.get_by_prefix(prefix)
    if key is None or not key.matches(whole) or key.revoked:
        raise Unauthorized(_REFUSED)
    user = uow.users.get(key.user_id)
    if user is None or not user.active:
        raise Unauthorized(_REFUSED)
    return key, user
