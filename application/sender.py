"""One attempt of one delivery through its channel, timed and recorded; never raises for a failed send.

Whether and when to try again is the queue's business (application.handlers.queue with the
RetryPolicy): an attempt only says what happened and whether the failure may pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.channels import ChannelError, Channels, Notification, TransientChannelError
from application.clock import Clock
from domain.delivery import Attempt

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AttemptResult:
    attempt: Attempt
    # True for a failure worth retrying (timeout, connection error, overloaded peer).
    transient: bool = False
    # The peer's Retry-After, in seconds, when it sent one.
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.attempt.error is None


class NotificationSender:
    def __init__(self, *, channels: Channels, clock: Clock) -> None:
        self._channels = channels
        self._clock = clock

    def attempt(self, notification: Notification, *, number: int) -> AttemptResult:
        started_at, began = self._clock.now(), self._clock.monotonic()

        def result(
            error: str | None,
            *,
            transient: bool = False,
            retry_after: float | None = None,
            via: str | None = None,
        ) -> AttemptResult:
            duration_ms = round((self._clock.monotonic() - began) * 1000, 3)
            return AttemptResult(Attempt(number, started_at, duration_ms, error, via), transient, retry_after)

        channel = self._channels.get(notification.channel)
        if channel is None:
            return result(f"channel {notification.channel!r} is not configured")
        try:
            via = channel.send(notification)
        except TransientChannelError as error:
            return result(error.message, transient=True, retry_after=error.retry_after)
        except ChannelError as error:
            return result(error.message)
        except Exception as error:
            # A bug in a channel must not leak its text (it may hold secrets); the log keeps the trace.
            log.exception("channel raised an unexpected error", extra={"channel": notification.channel})
            return result(f"unexpected {type(error).__name__} in channel {notification.channel!r}")
        return result(None, via=via)
