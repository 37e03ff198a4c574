"""The in-memory unit of work: an identity map, committed atomically through MemoryStore.apply."""

from __future__ import annotations

from collections.abc import Iterable

from adapters.memory.repositories import (
    MemoryApiKeyRepository,
    MemoryAuditRepository,
    MemoryDeliveryRepository,
    MemoryLinkUseRepository,
    MemoryReminderRepository,
    MemorySignInLinkRepository,
    MemoryTeamRepository,
    MemoryUserRepository,
    MemoryWebSessionRepository,
)
from adapters.memory.store import MemoryStore
from adapters.tracking import Tracker
from application.audit import Change
from application.unit_of_work import UnitOfWork
from domain.aggregate import Aggregate


class MemoryUnitOfWork(UnitOfWork):
    def __init__(self, store: MemoryStore) -> None:
        super().__init__()
        self._store = store
        self._tracker = Tracker()
        self.teams = MemoryTeamRepository(store, self._tracker)
        self.users = MemoryUserRepository(store, self._tracker)
        self.keys = self._keys = MemoryApiKeyRepository(store, self._tracker)
        self.audit = MemoryAuditRepository(store, self._tracker)
        self.reminders = MemoryReminderRepository(store, self._tracker)
        self.deliveries = MemoryDeliveryRepository(store, self._tracker)
        self.link_uses = MemoryLinkUseRepository(store, self._tracker)
        self.web_sessions = MemoryWebSessionRepository(store, self._tracker)
        self.sign_in_links = MemorySignInLinkRepository(store, self._tracker)

    def ping(self) -> None:
        self._store.ping()

    def _begin(self) -> None:
        # The repositories share the tracker, so a fresh identity map is one emptied tracker; a
        # delivery begins ten transactions, and rebuilding four objects each time showed up.
        self._tracker.clear()
        self._keys.uses.clear()

    def _touched(self) -> Iterable[Aggregate]:
        return self._tracker.aggregates()

    def _changes(self) -> Iterable[Change]:
        return self._tracker.changes()

    def _commit(self) -> None:
        self._store.apply(self._tracker.writes(fields=False))
        if self._keys.uses:
            self._keys.write_uses()  # bookkeeping, after the checked writes: nothing to refuse
        self._begin()

    def _rollback(self) -> None:
        self._begin()
