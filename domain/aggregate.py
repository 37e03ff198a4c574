"""What every aggregate shares: a version for optimistic concurrency and a private list of new events."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.events import Event


@dataclass(eq=False, kw_only=True)
class Aggregate:
    # The version the store held when this copy was read; the store bumps it on commit.
    version: int = 0
    _events: list[Event] = field(default_factory=list, repr=False)

    def _record(self, event: Event) -> None:
        self._events.append(event)

    def pull_events(self) -> list[Event]:
        """Hand over the events raised since the last call, and forget them."""
        events, self._events = self._events, []
        return events
