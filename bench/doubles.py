"""The stand-ins the benchmark wires into the real service: a channel that sends nothing, and queue
signals that count what a tick hands to the delivery queue."""

from __future__ import annotations

from adapters.local_signals import LocalSignals
from application.channels import Notification
from domain.errors import InvalidTarget

NOOP = "noop"
# A no-op channel under the name of one that reaches a person: each recipient of a team reminder on it
# gets a delivery of their own (domain.audience.PERSONAL_CHANNELS).
PERSONAL = "email"


class NoopChannel:
    """Accepts every notification and sends nothing, so only the service's own work is timed."""

    def validate_target(self, target: str | None) -> None:
        if target is not None:
            raise InvalidTarget("target", "the noop channel takes no target")

    def peer(self, target: str | None) -> str | None:
        return None

    def send(self, notification: Notification) -> None:
        pass


class CountingSignals(LocalSignals):
    """Queue signals that count the deliveries handed to the queue (each due slot wakes the workers)."""

    def __init__(self) -> None:
        super().__init__()
        self.submitted = 0

    def work_queued(self) -> None:
        self.submitted += 1
        super().work_queued()
