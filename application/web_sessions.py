"""Who a web app cookie signs in: the session its token names, while it is live and its user active.

The cookie's token is the only way to a session, and only its SHA-256 is stored. A session stands
for its user, not for the key it began with: it acts with the user's role as it is now, and its
actor carries no key, so the audit trail tells a web app action from an API request. Yet it lasts
no longer than that key: revoking a leaked key (or deleting it) ends every session begun with it,
as do signing out and deactivating the user. A session begun with an emailed link has no key.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import datetime

from application.unit_of_work import StoreUnavailable, UnitOfWorkFactory
from domain.actor import Actor
from domain.errors import Conflict, NotFound
from domain.team import Team
from domain.user import User


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The person a request of the web app comes from, and the actor its commands carry."""

    actor: Actor
    user: User
    team: Team
    session_id: str


def token_hash(token: str) -> str:
    """What is stored of a session's or a sign-in link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def resolve_session(uow_factory: UnitOfWorkFactory, token: str, *, now: datetime) -> SignedIn | None:
    """The signed-in person, or None for a token of no live session, of a session whose key is
    revoked or gone, or of a deactivated user."""
    with uow_factory() as uow:
        session = uow.web_sessions.get_by_token_hash(token_hash(token))
        if session is None or not session.live(now):
            return None
        if session.key_id is not None:
            key = uow.keys.get(session.key_id)
            if key is None or key.revoked or key.user_id != session.user_id:
                return None
        user = uow.users.get(session.user_id)
        if user is None or not user.active or user.team_id != session.team_id:
            return None
        team = uow.teams.get(user.team_id)
        if team is None:
            return None
        signed_in = SignedIn(
            actor=Actor(user_id=user.id, team_id=user.team_id, role=user.role),
            user=user,
            team=team,
            session_id=session.id,
        )
        if session.seen(now):
            # As with a key's last use: a concurrent request may record it too, the session may just
            # have ended, or the store be busy; none of that refuses this request.
            with contextlib.suppress(Conflict, NotFound, StoreUnavailable):
                uow.commit()
    return signed_in
