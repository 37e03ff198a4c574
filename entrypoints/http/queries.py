"""Query strings of the list endpoints. Unknown or repeated parameters are refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.delivery import DeliveryStatus
from domain.schedule import Frequency


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(default=50, ge=1, le=100, description="Items per page, 1 to 100.")
    offset: int = Field(default=0, ge=0, description="Items to skip.")


class UserQuery(PageQuery):
    active: bool | None = Field(default=None, description="Only active (true) or inactive (false) users.")


class ReminderQuery(PageQuery):
    channel: str | None = Field(default=None, max_length=50)
    frequency: Frequency | None = None
    active: bool | None = None


class ReminderDeliveryQuery(PageQuery):
    status: DeliveryStatus | None = None


class DeliveryQuery(PageQuery):
    status: DeliveryStatus | None = None
    channel: str | None = Field(default=None, max_length=50)
