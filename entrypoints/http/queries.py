"""Query strings of the list endpoints. Unknown or repeated parameters are refused."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from application.previews import MAX_COUNT
from domain.delivery import DeliveryStatus
from domain.roles import Role
from domain.schedule import Frequency

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]")
# The shape of every id this service issues (hex, or a word such as the team "default").
_ID = r"^[A-Za-z0-9_-]+$"


def _written_out(value: Any) -> Any:
    # Pydantic would read "1700000000" or "0.5" as a Unix time; the document promises a date-time.
    if isinstance(value, str) and not _DATE_TIME.match(value):
        raise PydanticCustomError("datetime_parsing", "Input should be a date and time")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_written_out)]


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(default=50, ge=1, le=100, description="Items per page, 1 to 100.")
    offset: int = Field(default=0, ge=0, description="Items to skip.")


class UserQuery(PageQuery):
    active: bool | None = Field(default=None, description="Only active (true) or inactive (false) users.")
    role: Role | None = Field(default=None, description="Only admins or only members.")


class KeyQuery(PageQuery):
    pass


class AuditQuery(PageQuery):
    actor_id: str | None = Field(
        default=None, max_length=64, pattern=_ID, description="Only what this user did."
    )
    target_id: str | None = Field(
        default=None, max_length=64, pattern=_ID, description="Only changes to this object."
    )
    action: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[a-z_]+(?:\.[a-z_]+)+$",
        examples=["reminder.updated"],
        description="Only entries of this action, such as reminder.updated or delivery.acknowledged.",
    )
    since: Moment | None = Field(default=None, description="Entries at or after this moment.")
    until: Moment | None = Field(default=None, description="Entries before this moment.")


class ReminderQuery(PageQuery):
    channel: str | None = Field(default=None, max_length=50)
    frequency: Frequency | None = None
    active: bool | None = None


class ReminderDeliveryQuery(PageQuery):
    status: DeliveryStatus | None = None


class DeliveryQuery(PageQuery):
    status: DeliveryStatus | None = None
    channel: str | None = Field(default=None, max_length=50)


class OccurrenceQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(default=10, ge=1, le=MAX_COUNT, description="How many slots, 1 to 100.")
    after: Moment | None = Field(
        default=None,
        description="List the slots after this moment (exclusive); default now.",
        examples=["2030-12-01T00:00:00+00:00"],
    )
