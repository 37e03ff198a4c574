"""Response bodies of the access routes: API keys, the team's webhook secret, the audit trail."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from domain.api_key import ApiKey
from domain.audit import AuditEntry
from entrypoints.http.schemas import Out, PageOut, Timestamp


class KeyOut(Out):
    id: str
    user_id: str
    name: str
    prefix: str = Field(description="The part after rk_ that identifies the key; not a secret.")
    created_at: Timestamp
    last_used_at: Timestamp | None = Field(description="Recorded at most once a minute.")
    revoked_at: Timestamp | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        return cls(
            id=key.id,
            user_id=key.user_id,
            name=key.name,
            prefix=key.prefix,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )


class NewKeyOut(KeyOut):
    key: str = Field(description="The key itself, shown this once: store it now.")

    @classmethod
    def issued(cls, key: ApiKey, plain: str) -> NewKeyOut:
        return cls(**KeyOut.of(key).model_dump(), key=plain)


class KeyPage(PageOut[KeyOut]):
    pass


class WebhookSecretOut(Out):
    webhook_secret: str = Field(description="The team's new signing secret, shown this once.")
    previous_secret_valid_until: Timestamp = Field(
        description="Until then every webhook carries both signatures, new first, comma-separated."
    )


class ActorOut(Out):
    user_id: str
    key_id: str | None


class AuditEntryOut(Out):
    id: str
    at: Timestamp
    team_id: str
    actor: ActorOut | str = Field(description='The user and key who acted, or "system".')
    action: str = Field(examples=["reminder.created", "user.deactivated", "key.revoked"])
    target_type: str
    target_id: str
    request_id: str | None
    changes: dict[str, list[Any]] = Field(
        description="Each changed field as [old, new]; targets and secrets read [redacted]."
    )

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        actor: ActorOut | str = (
            "system"
            if entry.actor_user_id is None
            else ActorOut(user_id=entry.actor_user_id, key_id=entry.actor_key_id)
        )
        return cls(
            id=entry.id,
            at=entry.at,
            team_id=entry.team_id,
            actor=actor,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            request_id=entry.request_id,
            changes=entry.changes,
        )


class AuditPage(PageOut[AuditEntryOut]):
    pass
