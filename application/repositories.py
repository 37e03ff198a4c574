"""Repository ports: how handlers reach stored aggregates.

Why in-memory first: the roadmap keeps Phases 1 and 2 on an in-process store, which needs no
infrastructure and keeps the test suite fast. Reminders then live as long as the process.

The migration path: these ports speak only in queries a SQL store answers with one indexed
statement each (get by primary key, a page by owner with filters and a total, the earliest due
rows with a limit), never in dict-isms such as "give me the whole table". A SQLite or PostgreSQL
adapter implements the same three ports plus a unit of work over one transaction, and
`entrypoints.bootstrap` picks it; no handler changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from domain.delivery import Delivery, DeliveryStatus
from domain.reminder import Reminder
from domain.schedule import Frequency
from domain.user import User

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class UserRepository(Protocol):
    def add(self, user: User) -> None: ...

    def get(self, user_id: str) -> User | None: ...

    def remove(self, user: User) -> None: ...

    def list(self, *, limit: int, offset: int, active: bool | None = None) -> Page[User]:
        """Users in creation order."""
        ...


class ReminderRepository(Protocol):
    def add(self, reminder: Reminder) -> None: ...

    def get(self, reminder_id: str) -> Reminder | None: ...

    def remove(self, reminder: Reminder) -> None: ...

    def list_by_owner(
        self,
        owner_id: str,
        *,
        limit: int,
        offset: int,
        channel: str | None = None,
        frequency: Frequency | None = None,
        active: bool | None = None,
    ) -> Page[Reminder]:
        """An owner's reminders in creation order."""
        ...

    def due(self, now: datetime, *, limit: int) -> list[Reminder]:
        """Active reminders whose next_run_at is at or before `now`, earliest first."""
        ...

    def count_due(self, now: datetime) -> int: ...


class DeliveryRepository(Protocol):
    def add(self, delivery: Delivery) -> None:
        """Record a delivery; the store refuses a second one for the same reminder and slot."""
        ...

    def get(self, delivery_id: str) -> Delivery | None: ...

    def list(
        self,
        *,
        limit: int,
        offset: int,
        reminder_id: str | None = None,
        status: DeliveryStatus | None = None,
        channel: str | None = None,
    ) -> Page[Delivery]:
        """Deliveries newest first."""
        ...

    def count(self, *, status: DeliveryStatus | None = None) -> int: ...
