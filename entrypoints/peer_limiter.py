"""Per-host fairness for the delivery worker: at most `per_target` sends in flight to one host, and
a waiting line per host no longer than the host can work through while the claims are still good.

How long a line may be depends on how fast the host answers: a receiver answering in 3 ms can
take a thousand claims in turn, one answering in 3 s only a few dozen before their leases run
low. Each host's send time is followed as a moving average; a line longer than the host can clear
within `patience` seconds is cut, and what is cut goes back to the queue for a little later, free
for other workers (and this one) to take once the host has room.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

# The send time assumed for a host not heard from yet, and how fast the average follows new sends.
_FIRST_GUESS_SECONDS = 0.25
_SMOOTHING = 0.3


@dataclass(slots=True)
class PeerLimiter(Generic[T]):
    per_target: int
    # How long a claim may wait in a host's line: what is left of its lease after the longest send.
    patience: float
    in_flight: Counter[str] = field(default_factory=Counter)
    waiting: dict[str, deque[T]] = field(default_factory=dict)
    send_seconds: dict[str, float] = field(default_factory=dict)

    def admit(self, item: T, peer: str | None) -> str:
        """ "run" (it holds a slot of its host now), "wait" (in its host's line) or "defer" (the
        line is as long as the host can work through)."""
        if peer is None:
            return "run"
        if self.in_flight[peer] < self.per_target:
            self.in_flight[peer] += 1
            return "run"
        line = self.waiting.setdefault(peer, deque())
        if len(line) < self._line_length(peer):
            line.append(item)
            return "wait"
        return "defer"

    def done(self, peer: str | None, seconds: float | None) -> tuple[T | None, list[T]]:
        """A slot of `peer` is free again after a send that took `seconds` (None: nothing was sent):
        the next item of its line, which takes the slot over, and the items cut from the end of
        the line now that the host is known to be slower."""
        if peer is None:
            return None, []
        if seconds is not None:
            previous = self.send_seconds.get(peer, _FIRST_GUESS_SECONDS)
            self.send_seconds[peer] = previous + _SMOOTHING * (seconds - previous)
        line = self.waiting.get(peer)
        cut: list[T] = []
        if line:
            while len(line) > self._line_length(peer):
                cut.append(line.pop())
            return line.popleft(), cut
        self.in_flight[peer] -= 1
        if self.in_flight[peer] <= 0:
            del self.in_flight[peer]
            self.waiting.pop(peer, None)
        return None, cut

    def drain(self) -> list[T]:
        """Empty every line (at shutdown)."""
        waiting = [item for line in self.waiting.values() for item in line]
        self.waiting.clear()
        return waiting

    def _line_length(self, peer: str) -> int:
        seconds = max(self.send_seconds.get(peer, _FIRST_GUESS_SECONDS), 0.001)
        return max(self.per_target, int(self.per_target * self.patience / seconds))
