"""The queue-signals port: in-process nudges that let waiting parties react at once instead of polling.

They are hints, never the truth: a worker in another process misses them and still finds the work
in the queue, and a waiter still reads the delivery from the store.
"""

from __future__ import annotations

from typing import Protocol


class QueueSignals(Protocol):
    def work_queued(self) -> None:
        """A delivery became due now: a local worker may claim it without waiting for its next poll."""
        ...

    def outcome_recorded(self, delivery_id: str) -> None:
        """An attempt of this delivery was recorded (sent, failed, cancelled or retrying)."""
        ...
