"""Recording API keys' uses after the requests that made them: a request never waits for the write.

A key's last use is written at most once a minute (domain/api_key.py), and on SQLite that write may
wait seconds for another writer's lock. Requests only note that a use is due; one thread of its own
writes it, one pending write per key at a time, and a write that fails is simply made next time.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from application.authentication import record_use
from application.unit_of_work import UnitOfWorkFactory

log = logging.getLogger("reminders.http.key_uses")


class KeyUses:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="key-uses")
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def note(self, key_id: str, now: datetime) -> None:
        """Have the use of `key_id` at `now` recorded soon, unless a write for it is already pending."""
        with self._lock:
            if key_id in self._pending:
                return
            self._pending.add(key_id)
        try:
            self._executor.submit(self._record, key_id, now)
        except RuntimeError:  # shutting down: the use is recorded on the next start's next request
            self._done(key_id)

    def close(self) -> None:
        """Drops the writes not yet begun; one under way finishes on its own."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _record(self, key_id: str, now: datetime) -> None:
        try:
            record_use(self._uow_factory, key_id, now=now)
        except Exception:
            log.exception("recording an API key's use failed", extra={"key_id": key_id})
        finally:
            self._done(key_id)

    def _done(self, key_id: str) -> None:
        with self._lock:
            self._pending.discard(key_id)
