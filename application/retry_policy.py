"""The retry policy: how many attempts a round of sending gets, and when the next one is due.

Waits grow exponentially with full jitter (tenacity's `wait_random_exponential`), so a crowd of
failures spreads out; a peer's Retry-After is honoured within the cap. Nothing sleeps: the wait
becomes the delivery's next attempt time in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tenacity import RetryCallState
from tenacity.wait import wait_random_exponential


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_seconds: float = 1.0
    max_seconds: float = 30.0
    _jitter: wait_random_exponential = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least one attempt")
        jitter = wait_random_exponential(multiplier=self.base_seconds, max=self.max_seconds)
        object.__setattr__(self, "_jitter", jitter)

    def allows_another(self, attempts_made: int) -> bool:
        """Whether a round that has made `attempts_made` attempts may make one more."""
        return attempts_made < self.attempts

    def wait_seconds(self, attempts_made: int, *, retry_after: float | None = None) -> float:
        """The wait after the `attempts_made`-th failed attempt of a round."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_seconds)
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = attempts_made
        return float(self._jitter(state))

    def next_attempt_at(
        self, now: datetime, attempts_made: int, *, retry_after: float | None = None
    ) -> datetime:
        return now + timedelta(seconds=self.wait_seconds(attempts_made, retry_after=retry_after))
