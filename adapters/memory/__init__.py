"""The in-memory store: the default, embedded store of Phases 1 and 2 (see application.repositories)."""

from adapters.memory.store import MemoryStore
from adapters.memory.unit_of_work import MemoryUnitOfWork

__all__ = ["MemoryStore", "MemoryUnitOfWork"]
