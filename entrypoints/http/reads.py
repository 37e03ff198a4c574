"""Where the HTTP side runs a read of the store: inline on the event loop when the store is SQLite
and the read is one thing by its id (the API key's check, a user, a reminder, a delivery), else on a
worker thread.

Such a read costs about a tenth of a millisecond on SQLite and, in WAL mode, never waits for a
writer; nor for a connection, since reads on the loop's thread have a pool of their own
(adapters/sql/engine.py). Handing it to a thread and back, with up to 16 such threads taking the
GIL from each other and from the loop, cost about three times the read itself (docs/benchmarks.md,
"HTTP speed"). Everything else runs on threads: writes (on SQLite they may wait for the write
lock), pages (a large offset or a filter without an index makes SQLite walk many rows, and on a
thread other requests go on meanwhile), previews (they compute), and every read on PostgreSQL (a
network round trip away) or the memory store (whose scans take its lock).
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
    """`view(*args, **kwargs)`, which reads one thing by its id, where this app's store runs it best."""
    if state.get(INLINE, False):
        return view(*args, **kwargs)
    return await run_in_threadpool(view, *args, **kwargs)
