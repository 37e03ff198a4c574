"""The two stand-ins the benchmark wires into the real service: a channel and a dispatcher that do nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application.channels import Notification
from application.commands import Command
from domain.errors import InvalidTarget

NOOP = "noop"


class NoopChannel:
    """Accepts every notification and sends nothing, so only the service's own work is timed."""

    def validate_target(self, target: str | None) -> None:
        if target is not None:
            raise InvalidTarget("target", "the noop channel takes no target")

    def peer(self, target: str | None) -> str | None:
        return None

    def send(self, notification: Notification) -> None:
        pass


class CountingDispatcher:
    """Counts the DeliverNotification commands a tick submits and runs none of them.

    The tick is timed up to the hand-over to the dispatcher; what the dispatcher then runs is the
    delivery path, which the benchmark times on its own.
    """

    def __init__(self) -> None:
        self.submitted = 0

    def bind(self, target: Callable[[Command], Any]) -> None:
        pass

    def submit(self, command: Command) -> None:
        self.submitted += 1

    def shutdown(self) -> None:
        pass
