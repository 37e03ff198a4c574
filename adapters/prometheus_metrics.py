"""Metrics in the Prometheus text format, on a registry of their own (no global state between tests)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from application.repositories import QueueStats

_LATENESS_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)
_CLAIM_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)
_TICK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


class PrometheusMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._children: dict[tuple[str, str], tuple[Any, Any, Any]] = {}
        self._deliveries = Counter(
            "reminders_deliveries",
            "Finished deliveries by channel and outcome (sent, failed or cancelled).",
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

        self._retries = Counter(
            "reminders_delivery_retries",
            "Failed attempts whose delivery was scheduled to be tried again.",
            ["channel"],
            registry=self.registry,
        )
        self._claim_latency = Histogram(
            "reminders_delivery_claim_latency_seconds",
            "Time from a delivery being due to a worker claiming it.",
            buckets=_CLAIM_BUCKETS,
            registry=self.registry,
        )
        self._lease_expiries = Counter(
            "reminders_delivery_lease_expiries",
            "Claims that outlived their lease (the worker died or hung) and were queued again.",
            ["channel"],
            registry=self.registry,
        )
        self._released = Counter(
            "reminders_delivery_claims_released",
            "Claims given back to the queue unsent, by reason (shutdown, busy_peer, lease_running_out).",
            ["reason"],
            registry=self.registry,
        )
        self._queue = Gauge(
            "reminders_delivery_queue",
            "Deliveries in the queue by state: pending (waiting), due (waiting and due now), in_flight.",
            ["state"],
            registry=self.registry,
        )
        self._oldest_due = Gauge(
            "reminders_delivery_oldest_due_age_seconds",
            "How long the oldest due delivery has waited to be claimed (0 when none is due).",
            registry=self.registry,
        )

    def delivery_finished(
        self, *, channel: str, outcome: str, attempts: int, lateness_seconds: float | None
    ) -> None:
        deliveries, attempted, lateness = self._per_channel(channel, outcome)
        deliveries.inc()
        attempted.inc(attempts)
        if lateness_seconds is not None:
            lateness.observe(max(lateness_seconds, 0.0))

    def _per_channel(self, channel: str, outcome: str) -> tuple[Any, Any, Any]:
        # labels() looks its child up under a lock with a tuple built each time; every delivery
        # ends here, so the three children are kept per channel and outcome.
        key = (channel, outcome)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self._deliveries.labels(channel=channel, outcome=outcome),
                self._attempts.labels(channel=channel),
                self._lateness.labels(channel=channel),
            )
        return children

    def retry_scheduled(self, *, channel: str) -> None:
        self._retries.labels(channel=channel).inc()
        self._attempts.labels(channel=channel).inc()

    def deliveries_claimed(self, waits: Sequence[float]) -> None:
        for wait in waits:
            self._claim_latency.observe(max(wait, 0.0))

    def lease_expired(self, *, channel: str) -> None:
        self._lease_expiries.labels(channel=channel).inc()

    def claims_released(self, count: int, *, reason: str) -> None:
        if count:
            self._released.labels(reason=reason).inc(count)

    def queue_observed(self, stats: QueueStats, *, oldest_due_age: float) -> None:
        self._queue.labels(state="pending").set(stats.pending)
        self._queue.labels(state="due").set(stats.due)
        self._queue.labels(state="in_flight").set(stats.in_flight)
        self._oldest_due.set(oldest_due_age)

    def slot_missed(self, *, channel: str) -> None:
        self._missed.labels(channel=channel).inc()

    def tick_finished(self, *, duration_seconds: float, backlog: int) -> None:
        self._tick.observe(duration_seconds)
        self._backlog.set(backlog)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
