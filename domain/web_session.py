"""The WebSession aggregate: a person signed in to the web app, behind an opaque cookie.

The cookie holds a random token; only its SHA-256 is stored, so a copy of the database opens no
session. A session ends when its person signs out, a week after it began, or after a day unused;
`last_seen_at` is written at most every few minutes, so browsing is not a write per page. A session
begun with an API key names that key, and ends with it too (the application checks it on each use):
revoking a leaked key also signs out whoever signed in with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.aggregate import Aggregate
from domain.ids import new_id

SESSION_LIFETIME = timedelta(days=7)  # absolute: however busy, a session is started again weekly
SESSION_IDLE = timedelta(hours=24)  # a session unused this long is over
SEEN_EVERY = timedelta(minutes=5)  # last_seen_at is written at most this often


@dataclass(eq=False, kw_only=True)
class WebSession(Aggregate):
    id: str
    token_hash: str  # sha256 hex of the cookie's token; the token itself is never stored
    user_id: str
    team_id: str
    # The API key it was begun with; None for a session begun with an emailed sign-in link.
    key_id: str | None = None
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None

    @classmethod
    def start(
        cls, *, token_hash: str, user_id: str, team_id: str, now: datetime, key_id: str | None = None
    ) -> WebSession:
        return cls(
            id=new_id(),
            token_hash=token_hash,
            user_id=user_id,
            team_id=team_id,
            key_id=key_id,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
            last_seen_at=now,
        )

    def live(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at and now < self.last_seen_at + SESSION_IDLE

    def seen(self, now: datetime) -> bool:
        """Note a use; True when that changed the session (so it is worth a commit)."""
        if now - self.last_seen_at < SEEN_EVERY:
            return False
        self.last_seen_at = now
        return True

    def end(self, now: datetime) -> None:
        if self.ended_at is None:
            self.ended_at = now
