"""The Team aggregate: the tenant. Every user belongs to one team, and sees only that team."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.aggregate import Aggregate
from domain.errors import InvalidInput
from domain.events import TeamCreated, WebhookSecretRotated
from domain.ids import new_id
from domain.text import clean_name

# The team the service creates on first start, so the README's run command gives a usable key.
DEFAULT_TEAM_ID = "default"
DEFAULT_TEAM_NAME = "default"
# After a rotation, receivers get both signatures for this long, so they can switch over.
ROTATION_OVERLAP = timedelta(hours=24)


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(eq=False, kw_only=True)
class Team(Aggregate):
    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    # Signs the team's webhooks; after a rotation the previous one signs too, until it expires.
    webhook_secret: str = field(repr=False)
    previous_webhook_secret: str | None = field(default=None, repr=False)
    previous_secret_expires_at: datetime | None = None
    # Bumped by every change to the team's admins, so two concurrent changes cannot both leave the
    # team without an active admin: the second one's commit finds the team changed.
    roster: int = 0
    # Signs the action links (acknowledge, snooze) in the team's messages; never shown to anyone.
    link_secret: str = field(default_factory=new_webhook_secret, repr=False)

    @classmethod
    def create(
        cls, *, name: str, now: datetime, webhook_secret: str | None = None, team_id: str | None = None
    ) -> Team:
        if webhook_secret is not None and not webhook_secret.strip():
            raise InvalidInput("webhook_secret", "webhook_secret must not be blank")
        team = cls(
            id=team_id or new_id(),
            name=clean_name("name", name),
            created_at=now,
            updated_at=now,
            webhook_secret=webhook_secret or new_webhook_secret(),
        )
        team._record(TeamCreated(team_id=team.id))
        return team

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets a webhook is signed with now: the current one, then the previous one while
        a rotation's overlap lasts."""
        previous = self.previous_webhook_secret
        expires = self.previous_secret_expires_at
        if previous is not None and expires is not None and now < expires:
            return (self.webhook_secret, previous)
        return (self.webhook_secret,)

    def rotate_webhook_secret(self, now: datetime) -> str:
        """A new signing secret, returned once; the old one keeps signing for ROTATION_OVERLAP."""
        self.previous_webhook_secret = self.webhook_secret
        self.previous_secret_expires_at = now + ROTATION_OVERLAP
        self.webhook_secret = new_webhook_secret()
        self.updated_at = now
        self._record(WebhookSecretRotated(team_id=self.id))
        return self.webhook_secret

    def adopt_webhook_secret(self, secret: str, now: datetime) -> None:
        """The operator's secret replaces the generated one (a team made by an upgrade, whose
        receivers know the secret the service used before teams existed)."""
        if not secret.strip():
            raise InvalidInput("webhook_secret", "webhook_secret must not be blank")
        if secret != self.webhook_secret:
            self.webhook_secret = secret
            self.updated_at = now

    def admins_changing(self) -> None:
        """Called by every change that may add or remove an active admin (see `roster`)."""
        self.roster += 1
