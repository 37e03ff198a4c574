"""Who a reminder reaches, and in whose local time.

`recipients` is "owner" (the default: the reminder's owner alone), "team" (every active user of the
team when each slot comes), or a list of user ids of the team. `local_time` is "reminder" (every
recipient's slot is the reminder's own, in its time zone) or "recipient" (each recipient's slot is
`time_of_day` in their own time zone, a ledger entry of its own).

Channels that reach a person (email, log) give every recipient their own delivery; a channel with
a target of its own (a webhook, Slack) gets one delivery per slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from domain.errors import InvalidInput

# The channels that address a person (the recipient's email, the log); every other channel has a
# target of its own, which the whole audience shares.
PERSONAL_CHANNELS: Final = frozenset({"email", "log"})
MAX_RECIPIENTS: Final = 500


class LocalTime(StrEnum):
    REMINDER = "reminder"
    RECIPIENT = "recipient"


@dataclass(frozen=True, slots=True)
class Recipients:
    """ "owner", "team", or the listed users (`user_ids`, in the order given, without repeats)."""

    kind: str  # "owner" | "team" | "users"
    user_ids: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str | list[str] | tuple[str, ...]) -> Recipients:
        if value == "owner":
            return OWNER
        if value == "team":
            return TEAM
        if isinstance(value, str):
            raise InvalidInput("recipients", 'recipients must be "owner", "team" or a list of user ids')
        ids = tuple(dict.fromkeys(value))
        if not ids:
            raise InvalidInput("recipients", "recipients needs at least one user id")
        if len(ids) > MAX_RECIPIENTS:
            raise InvalidInput("recipients", f"recipients lists at most {MAX_RECIPIENTS} users")
        return cls("users", ids)

    @property
    def is_owner(self) -> bool:
        return self.kind == "owner"

    def stored(self) -> str | list[str]:
        """The JSON form the API shows and the store keeps."""
        return list(self.user_ids) if self.kind == "users" else self.kind


OWNER: Final = Recipients("owner")
TEAM: Final = Recipients("team")


@dataclass(frozen=True, slots=True)
class RepeatUntilAck:
    """Deliver again `every_minutes` after each send, up to `max_times` more times, until acknowledged."""

    every_minutes: int
    max_times: int

    def __post_init__(self) -> None:
        if not 1 <= self.every_minutes <= 1440:
            raise InvalidInput("repeat_until_ack.every_minutes", "every_minutes must be 1 to 1440")
        if not 1 <= self.max_times <= 10:
            raise InvalidInput("repeat_until_ack.max_times", "max_times must be 1 to 10")

    def as_dict(self) -> dict[str, int]:
        return {"every_minutes": self.every_minutes, "max_times": self.max_times}
