"""The SignInLink aggregate: a one-time link, emailed to a person, that signs them in to the web app.

Like a session's cookie, the link's token is stored only as its SHA-256. A link works once, and
only for a quarter of an hour after it was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.aggregate import Aggregate
from domain.errors import SignInLinkRefused
from domain.ids import new_id

SIGN_IN_LINK_LIFETIME = timedelta(minutes=15)


@dataclass(eq=False, kw_only=True)
class SignInLink(Aggregate):
    id: str
    token_hash: str  # sha256 hex of the link's token
    user_id: str
    team_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    @classmethod
    def issue(cls, *, token_hash: str, user_id: str, team_id: str, now: datetime) -> SignInLink:
        return cls(
            id=new_id(),
            token_hash=token_hash,
            user_id=user_id,
            team_id=team_id,
            created_at=now,
            expires_at=now + SIGN_IN_LINK_LIFETIME,
        )

    def live(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at

    def use(self, now: datetime) -> None:
        """Spend the link; a used or expired one is refused (a used one says so first)."""
        if self.used_at is not None:
            raise SignInLinkRefused(used=True)
        if now >= self.expires_at:
            raise SignInLinkRefused(used=False)
        self.used_at = now
