"""The ApiKey aggregate: a bearer key that acts as its user. Only its prefix and a hash are kept.

A key reads `rk_<prefix>_<secret>`: the prefix finds the stored key, the SHA-256 of the whole key
is compared in constant time, and the secret (256 random bits) is shown once, when it is issued.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.aggregate import Aggregate
from domain.events import ApiKeyCreated, ApiKeyRevoked
from domain.ids import new_id
from domain.text import clean_name

SCHEME = "rk"
_PREFIX_BYTES = 6
_SECRET_BYTES = 32
# last_used_at is written at most this often per key, so using a key is not a write per request.
USE_RECORDED_EVERY = timedelta(minutes=1)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def split_key(presented: str) -> tuple[str, str] | None:
    """(prefix, the whole key) for something shaped like a key; None for anything else."""
    scheme, _, rest = presented.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != SCHEME or len(prefix) != 2 * _PREFIX_BYTES or not secret or len(presented) > 200:
        return None
    if not all(c in "0123456789abcdef" for c in prefix):
        return None
    return prefix, presented


@dataclass(eq=False, kw_only=True)
class ApiKey(Aggregate):
    id: str
    team_id: str
    user_id: str
    name: str
    prefix: str
    secret_hash: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def issue(cls, *, team_id: str, user_id: str, name: str, now: datetime) -> tuple[ApiKey, str]:
        """The new key and its plain text, which is never stored and never shown again."""
        prefix = secrets.token_hex(_PREFIX_BYTES)
        plain = f"{SCHEME}_{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
        key = cls(
            id=new_id(),
            team_id=team_id,
            user_id=user_id,
            name=clean_name("name", name, max_length=100),
            prefix=prefix,
            secret_hash=key_hash(plain),
            created_at=now,
        )
        key._record(ApiKeyCreated(key_id=key.id, user_id=user_id))
        return key, plain

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def matches(self, presented: str) -> bool:
        return hmac.compare_digest(self.secret_hash, key_hash(presented))

    def use_due(self, now: datetime) -> bool:
        """Whether a use at `now` is to be recorded: the last one recorded is a minute old or more.
        Recorded as bookkeeping by the stores (ApiKeyRepository.note_use), not as a change."""
        return self.last_used_at is None or now - self.last_used_at >= USE_RECORDED_EVERY

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = now
            self._record(ApiKeyRevoked(key_id=self.id, user_id=self.user_id))
