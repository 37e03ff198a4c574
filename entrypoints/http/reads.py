"""Where the HTTP side runs a read of the store: inline on the event loop when the store is a SQLite
file (a read there takes tens of microseconds and, in WAL mode, never waits for a writer), else on
a worker thread (PostgreSQL is a network round trip away; the memory store's scans take its lock).

Handing a read to a thread and back, with up to 16 such threads taking the GIL from each other and
from the loop, cost about three times the read itself (docs/benchmarks.md, "HTTP speed"). Only
short reads come here: an id, a page of one team's users or keys, a page of one owner's reminders.
Writes always run on a thread (on SQLite they may wait for the write lock), and so do reads that
may walk far into a large table (deliveries, the audit trail) or compute at length (previews).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
T = TypeVar("T")

# The key in the app's state that says reads run inline.
INLINE = "inline_reads"
INLINE_STORES = frozenset({"sqlite"})


async def run_read(state: Mapping[str, Any], view: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`view(*args, **kwargs)`, which only reads, where this app's store runs reads best."""
    if state.get(INLINE, False):
        return view(*args, **kwargs)
    return await run_in_threadpool(view, *args, **kwargs)
