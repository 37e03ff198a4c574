"""The garbage collector's settings for a long-running service process.

Every delivery makes a few dozen short-lived objects (aggregates, copies, events), and with the
default thresholds the collector ran a full collection every few thousand deliveries, each walking
every object the process holds: a third of the in-memory store's delivery time went there
(docs/benchmarks.md). What start-up built is frozen out of the collector's sight, and the young
generation is collected less often; reference counting still frees almost everything at once.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
