"""Who is acting: a user through one of their API keys, or the system itself (the CLI, start-up)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from domain.roles import Role


class Actor(BaseModel):
    """Carried by every command a person can give; the policy decides what it may do."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: str | None = None
    team_id: str | None = None
    role: Role | None = None
    key_id: str | None = None

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @property
    def is_admin(self) -> bool:
        return self.is_system or self.role is Role.ADMIN


SYSTEM = Actor()
