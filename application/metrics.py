"""The metrics port: counters, histograms and gauges about deliveries, the queue and the scheduler."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from application.repositories import QueueStats


class Metrics(Protocol):
    def delivery_finished(
        self, *, channel: str, outcome: str, attempts: int, lateness_seconds: float | None
    ) -> None:
        """A delivery ended (sent, failed or cancelled); `attempts`: those its last step made."""
        ...

    def retry_scheduled(self, *, channel: str) -> None:
        """An attempt failed and the delivery is due again later."""
        ...

    def slot_missed(self, *, channel: str) -> None: ...

    def tick_finished(self, *, duration_seconds: float, backlog: int) -> None: ...

    def deliveries_claimed(self, waits: Sequence[float]) -> None:
        """Claim latency: for each delivery claimed, seconds from when it was due to its claim."""
        ...

    def lease_expired(self, *, channel: str) -> None: ...

    def claims_released(self, count: int, *, reason: str) -> None: ...

    def queue_observed(self, stats: QueueStats, *, oldest_due_age: float) -> None: ...


class NoMetrics:
    """For tools and tests that do not look at metrics."""

    def delivery_finished(
        self, *, channel: str, outcome: str, attempts: int, lateness_seconds: float | None
    ) -> None:
        pass

    def retry_scheduled(self, *, channel: str) -> None:
        pass

    def slot_missed(self, *, channel: str) -> None:
        pass

    def tick_finished(self, *, duration_seconds: float, backlog: int) -> None:
        pass

    def deliveries_claimed(self, waits: Sequence[float]) -> None:
        pass

    def lease_expired(self, *, channel: str) -> None:
        pass

    def claims_released(self, count: int, *, reason: str) -> None:
        pass

    def queue_observed(self, stats: QueueStats, *, oldest_due_age: float) -> None:
        pass
