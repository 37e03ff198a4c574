"""The identity map of one unit of work: what it read, added and removed, and the writes that follow.

Shared by every store: a unit of work commits exactly the aggregates that changed, each with the
version it was read at, so a store can check optimistic concurrency however it keeps its data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from domain.aggregate import Aggregate

A = TypeVar("A", bound=Aggregate)


def detached(aggregate: A) -> A:
    """A copy the caller may change freely. Every field of an aggregate is immutable but the event list."""
    # What copy.copy does for a plain instance, minus its protocol lookups (5x faster): every read
    # and every write copies at least one aggregate.
    kind = type(aggregate)
    clone = kind.__new__(kind)
    clone.__dict__.update(aggregate.__dict__)
    clone._events = []
    return clone


@dataclass(frozen=True, slots=True)
class Write:
    aggregate: Aggregate
    # The version read before the change; None for an aggregate new to the store.
    expected_version: int | None
    delete: bool = False


def _state(aggregate: Aggregate) -> dict[str, Any]:
    # A copied dict minus two keys: a third of the cost of filtering in a comprehension, on every read.
    state = dict(vars(aggregate))
    state.pop("_events", None)
    state.pop("version", None)
    return state


@dataclass
class _Entry:
    aggregate: Aggregate
    snapshot: dict[str, Any] | None  # None: added in this unit of work
    version: int | None
    removed: bool = False


@dataclass
class Tracker:
    entries: dict[tuple[type, str], _Entry] = field(default_factory=dict)

    def clear(self) -> None:
        """Forget everything: the start of a new transaction."""
        self.entries = {}

    def loaded(self, stored: A, *, private: bool = False) -> A:
        """The unit of work's own copy of a stored aggregate; the same object on every read.

        `private` says `stored` was built for this unit of work alone (a row a SQL store just
        read), so it is kept as it is rather than copied.
        """
        key = (type(stored), stored.id)  # type: ignore[attr-defined]
        entry = self.entries.get(key)
        if entry is None:
            copy = stored if private else detached(stored)
            entry = self.entries[key] = _Entry(copy, _state(copy), copy.version)
        return entry.aggregate  # type: ignore[return-value]

    def is_removed(self, kind: type, entity_id: str) -> bool:
        entry = self.entries.get((kind, entity_id))
        return entry is not None and entry.removed

    def added(self, aggregate: Aggregate) -> None:
        self.entries[(type(aggregate), aggregate.id)] = _Entry(aggregate, None, None)  # type: ignore[attr-defined]

    def removed(self, aggregate: Aggregate) -> None:
        key = (type(aggregate), aggregate.id)  # type: ignore[attr-defined]
        if key not in self.entries:
            raise ValueError("remove only what this unit of work read")
        self.entries[key].removed = True

    def aggregates(self) -> list[Aggregate]:
        return [entry.aggregate for entry in self.entries.values()]

    def writes(self) -> list[Write]:
        writes = []
        for entry in self.entries.values():
            if entry.removed:
                if entry.version is not None:
                    writes.append(Write(entry.aggregate, entry.version, delete=True))
            elif entry.snapshot is None:
                writes.append(Write(entry.aggregate, None))
            elif _state(entry.aggregate) != entry.snapshot:
                writes.append(Write(entry.aggregate, entry.version))
        return writes
