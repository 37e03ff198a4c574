"""The metrics port: counters and histograms about deliveries and the scheduler."""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    def delivery_finished(
        self, *, channel: str, outcome: str, attempts: int, lateness_seconds: float | None
    ) -> None:
        """`attempts`: those made by this send, so a retried delivery's earlier ones are not recounted."""
        ...

    def slot_missed(self, *, channel: str) -> None: ...

    def tick_finished(self, *, duration_seconds: float, backlog: int) -> None: ...


class NoMetrics:
    """For tools and tests that do not look at metrics."""

    def delivery_finished(
        self, *, channel: str, outcome: str, attempts: int, lateness_seconds: float | None
    ) -> None:
        pass

    def slot_missed(self, *, channel: str) -> None:
        pass

    def tick_finished(self, *, duration_seconds: float, backlog: int) -> None:
        pass
