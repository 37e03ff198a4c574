"""Recording API keys' uses after the requests that made them: a request never waits for the write.

A key's last use is written at most once a minute (domain/api_key.py), and on SQLite that write may
wait seconds for another writer's lock. A request only notes, once it has been answered, that its
key's use is due. One daemon thread writes the uses, one pending write per key at a time, as
bookkeeping that never makes a change to the key fail (ApiKeyRepository.note_use). A write that
fails is made on a later use, and so are those still queued at shutdown, which are dropped.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from datetime import datetime

from application.authentication import record_use
from application.unit_of_work import UnitOfWorkFactory

log = logging.getLogger("reminders.http.key_uses")

_Use = tuple[str, datetime, contextvars.Context]


class KeyUses:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory
        self._queue: queue.SimpleQueue[_Use | None] = queue.SimpleQueue()
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def note(self, key_id: str, now: datetime) -> None:
        """Have the use of `key_id` at `now` recorded soon, unless a write for it is already pending."""
        with self._lock:
            if self._closed or key_id in self._pending:
                return
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="key-uses", daemon=True)
                thread.start()  # a thread cannot start only as the interpreter exits
                self._thread = thread
            self._pending.add(key_id)
        # The request's context (its id) goes along, for the log line of a failed write.
        self._queue.put((key_id, now, contextvars.copy_context()))

    def close(self) -> None:
        """Stops taking uses and drops those queued; the thread ends after the write under way."""
        with self._lock:
            self._closed = True
        self._queue.put(None)

    def _run(self) -> None:
        while (use := self._queue.get()) is not None:
            key_id, now, context = use
            if self._closed:  # the store is closing: the next start's uses record this one
                self._done(key_id)
                continue
            context.run(self._record, key_id, now)

    def _record(self, key_id: str, now: datetime) -> None:
        try:
            record_use(self._uow_factory, key_id, now=now)
        except Exception:
            self._done(key_id)
            log.exception("recording an API key's use failed", extra={"key_id": key_id})
        else:
            self._done(key_id)

    def _done(self, key_id: str) -> None:
        with self._lock:
            self._pending.discard(key_id)
