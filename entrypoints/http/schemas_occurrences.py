"""A schedule's next slots as the API shows them: of a saved reminder, or of a previewed schedule."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, cast

from pydantic import Field, PlainSerializer

from application.previews import Occurrence
from entrypoints.http.schemas import A_USER_ID, Out, Timestamp

# ISO 8601 with the offset of the zone it is local to ("2030-03-31T03:00:00+02:00").
LocalTimestamp = Annotated[
    dt.datetime,
    PlainSerializer(lambda moment: moment.isoformat(), return_type=str),
    Field(json_schema_extra={"format": "date-time"}),
]


SkipReason = Literal["skip_date", "quiet_hours", "paused"]


class OccurrenceOut(Out):
    """One slot of a schedule: listed even when it is skipped, and counted."""

    scheduled_for: Timestamp = Field(description="The slot, in UTC.", examples=["2030-12-10T08:00:00+00:00"])
    local: LocalTimestamp = Field(
        description="The slot in the local time it is in: the reminder's, or the recipient's.",
        examples=["2030-12-10T09:00:00+01:00"],
    )
    recipient_id: str | None = Field(
        description="Whose slot this is, for a reminder in each recipient's own time; null otherwise.",
        examples=[None, A_USER_ID],
    )
    skipped: bool = Field(description="Whether the slot will not be delivered then.")
    reason: SkipReason | None = Field(
        description="Why a slot is skipped: skip_date (one of skip_dates), quiet_hours (the recipient's: "
        "delivered when they end), paused (the reminder is not active); null when it is not.",
        examples=[None, "skip_date"],
    )

    @classmethod
    def of(cls, occurrence: Occurrence) -> OccurrenceOut:
        return cls(
            scheduled_for=occurrence.scheduled_for,
            local=occurrence.local,
            recipient_id=occurrence.recipient_id,
            skipped=occurrence.skipped,
            reason=cast(SkipReason | None, occurrence.reason),
        )


class OccurrencesOut(Out):
    """The next slots, in time order."""

    items: list[OccurrenceOut]

    @classmethod
    def of(cls, occurrences: list[Occurrence]) -> OccurrencesOut:
        return cls(items=[OccurrenceOut.of(occurrence) for occurrence in occurrences])
