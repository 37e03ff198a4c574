"""The in-memory store (`memory://`), for tests and throwaway demos: it keeps nothing past the process."""

from adapters.memory.store import MemoryStore
from adapters.memory.unit_of_work import MemoryUnitOfWork

__all__ = ["MemoryStore", "MemoryUnitOfWork"]
