"""The NotificationSender: one delivery through its channel, with retries and a record of each attempt.

Retries live here, at the edge: transient channel errors are retried with exponential backoff
and full jitter (or the peer's Retry-After, within the cap); permanent errors are not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from application.channels import (
    ChannelError,
    Channels,
    Notification,
    PermanentChannelError,
    TransientChannelError,
)
from application.clock import Clock
from domain.delivery import Attempt

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_seconds: float = 1.0
    max_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class SendOutcome:
    attempts: list[Attempt] = field(default_factory=list)
    error: str | None = None


class NotificationSender:
    def __init__(
        self,
        *,
        channels: Channels,
        clock: Clock,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._channels = channels
        self._clock = clock
        self._policy = policy
        self._sleep = sleep
        self._jitter = wait_random_exponential(multiplier=policy.base_seconds, max=policy.max_seconds)

    def send(self, notification: Notification, *, first_number: int = 1) -> SendOutcome:
        """Try until sent, a permanent error, or the attempts run out; never raises for a failed send."""
        attempts: list[Attempt] = []
        # The first attempt runs before tenacity is set up, which costs more than a quick channel
        # does; a transient failure is replayed to tenacity as its first attempt, so the waits,
        # the stop and the numbering are exactly the policy's.
        try:
            self._attempt(notification, first_number, attempts)
            return SendOutcome(attempts, None)
        except TransientChannelError as error:
            first_failure = [error]
        except ChannelError as error:
            return SendOutcome(attempts, error.message)

        def attempt() -> None:
            if first_failure:
                raise first_failure.pop()
            self._attempt(notification, first_number + len(attempts), attempts)

        retrying = Retrying(
            stop=stop_after_attempt(self._policy.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(TransientChannelError),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            retrying(attempt)
        except ChannelError as error:
            return SendOutcome(attempts, error.message)
        return SendOutcome(attempts, None)

    def _attempt(self, notification: Notification, number: int, attempts: list[Attempt]) -> None:
        started_at, began = self._clock.now(), self._clock.monotonic()

        def record(error: str | None) -> None:
            duration_ms = round((self._clock.monotonic() - began) * 1000, 3)
            attempts.append(Attempt(number, started_at, duration_ms, error))

        channel = self._channels.get(notification.channel)
        try:
            if channel is None:
                raise PermanentChannelError(f"channel {notification.channel!r} is not configured")
            channel.send(notification)
        except ChannelError as error:
            record(error.message)
            raise
        except Exception as error:
            # A bug in a channel must not leak its text (it may hold secrets); the log keeps the trace.
            log.exception("channel raised an unexpected error", extra={"channel": notification.channel})
            record(f"unexpected {type(error).__name__} in channel {notification.channel!r}")
            raise PermanentChannelError(attempts[-1].error or "") from error
        record(None)

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, TransientChannelError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self._policy.max_seconds)
        return float(self._jitter(state))
