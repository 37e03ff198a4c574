"""The store's lock: waits by yielding the GIL before it blocks, so threads do not convoy.

Blocking on a contended lock parks the thread in the kernel. The holder keeps the GIL, releases
the lock and, a few microseconds later, takes it again for its next commit, long before the parked
thread has woken and won the GIL back; so every worker queues behind every other, and a pool of
delivery threads ran at half the speed of one thread. Yielding the GIL (`time.sleep(0)`) instead
lets the holder finish its short critical section and release. After a bounded number of yields
the waiter blocks as usual, so a long scan holding the lock costs the waiters no CPU.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

_YIELDS = 100


class YieldingLock:
    def __init__(self) -> None:
        self._lock = threading.RLock()

    def acquire(self, timeout: float = -1) -> bool:
        for _ in range(_YIELDS):
            if self._lock.acquire(blocking=False):
                return True
            time.sleep(0)
        return self._lock.acquire(timeout=timeout)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> YieldingLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
