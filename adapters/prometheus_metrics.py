"""Metrics in the Prometheus text format, on a registry of their own (no global state between tests)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENESS_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)
_TICK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


class PrometheusMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._deliveries = Counter(
            "reminders_deliveries",
            "Finished deliveries by channel and outcome (sent or failed).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self._attempts = Counter(
            "reminders_delivery_attempts",
            "Delivery attempts by channel, retries included.",
            ["channel"],
            registry=self.registry,
        )
        self._missed = Counter(
            "reminders_missed_slots",
            "Slots recorded as missed because they were older than the grace period.",
            ["channel"],
            registry=self.registry,
        )
        self._tick = Histogram(
            "reminders_tick_duration_seconds",
            "Time one scheduler tick took.",
            buckets=_TICK_BUCKETS,
            registry=self.registry,
        )
        self._lateness = Histogram(
            "reminders_delivery_lateness_seconds",
            "sent_at minus scheduled_for of scheduled deliveries.",
            ["channel"],
            buckets=_LATENESS_BUCKETS,
            registry=self.registry,
        )
        self._backlog = Gauge(
            "reminders_due_backlog",
            "Reminders due but not yet fired, after the last tick.",
            registry=self.registry,
        )

    def delivery_finished(
        self, *, channel: str, outcome: str, attempts: int, lateness_seconds: float | None
    ) -> None:
        self._deliveries.labels(channel=channel, outcome=outcome).inc()
        self._attempts.labels(channel=channel).inc(attempts)
        if lateness_seconds is not None:
            self._lateness.labels(channel=channel).observe(max(lateness_seconds, 0.0))

    def slot_missed(self, *, channel: str) -> None:
        self._missed.labels(channel=channel).inc()

    def tick_finished(self, *, duration_seconds: float, backlog: int) -> None:
        self._tick.observe(duration_seconds)
        self._backlog.set(backlog)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
