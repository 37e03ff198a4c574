"""Signed action links: acknowledge or snooze a delivery from a message, without an API key.

A link's token is signed with its team's link secret (itsdangerous, timestamped) and names the
delivery, the action and a random nonce. It expires after seven days and works once: its use is
recorded under the nonce in the same commit as the action.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.exc import BadPayload

from domain.team import Team

LINK_LIFETIME: Final = timedelta(days=7)
Action = Literal["ack", "snooze"]
ACTIONS: Final[tuple[Action, ...]] = ("ack", "snooze")
_SALT: Final = "reminders.action-link"


class LinkRefused(Exception):
    """The link cannot be used: `expired` (410) or tampered with (403)."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("the link has expired" if expired else "the link is not valid")
        self.expired = expired


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """What a token says, before its signature is checked."""

    delivery_id: str
    action: Action
    nonce: str


def _serializer(team: Team, now: datetime | None = None) -> URLSafeTimedSerializer:
    if now is None:
        return URLSafeTimedSerializer(team.link_secret, salt=_SALT)
    signed_at = int(now.timestamp())

    class _SignedNow(TimestampSigner):
        # The service's clock, not the machine's: links made under a test clock expire by it.
        def get_timestamp(self) -> int:
            return signed_at

    return URLSafeTimedSerializer(team.link_secret, salt=_SALT, signer=_SignedNow)


def make_token(team: Team, delivery_id: str, action: Action, now: datetime) -> str:
    payload = {"d": delivery_id, "a": action, "n": secrets.token_urlsafe(16)}
    return str(_serializer(team, now).dumps(payload))


def peek(token: str) -> LinkClaim:
    """The token's claim, unverified (to find the team whose secret verifies it); LinkRefused when
    it does not even read as one."""
    try:
        _, payload = URLSafeTimedSerializer("", salt=_SALT).loads_unsafe(token)
    except Exception:
        raise LinkRefused(expired=False) from None
    return _claim(payload)


def verify(team: Team, token: str, now: datetime) -> LinkClaim:
    """The token's claim once its signature holds and it is at most LINK_LIFETIME old."""
    serializer = _serializer(team)
    try:
        payload, signed_at = serializer.loads(token, return_timestamp=True)
    except SignatureExpired:
        raise LinkRefused(expired=True) from None
    except (BadSignature, BadPayload):
        raise LinkRefused(expired=False) from None
    # Checked against the service's clock rather than the library's, so tests can move time.
    if now - signed_at > LINK_LIFETIME:
        raise LinkRefused(expired=True)
    return _claim(payload)


def _claim(payload: object) -> LinkClaim:
    if not isinstance(payload, dict):
        raise LinkRefused(expired=False)
    delivery_id, action, nonce = payload.get("d"), payload.get("a"), payload.get("n")
    if not isinstance(delivery_id, str) or action not in ACTIONS or not isinstance(nonce, str):
        raise LinkRefused(expired=False)
    return LinkClaim(delivery_id, action, nonce)


class ActionLinks:
    """Builds the links a message carries, from the service's public address."""

    def __init__(self, public_url: str) -> None:
        self._base = public_url.rstrip("/")

    def urls(self, team: Team, delivery_id: str, now: datetime) -> dict[str, str]:
        return {
            f"{action}_url": f"{self._base}/links/{make_token(team, delivery_id, action, now)}"
            for action in ACTIONS
        }
