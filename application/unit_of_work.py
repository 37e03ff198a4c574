"""The unit-of-work port: one atomic change to the store, and the events it releases.

Handlers get a fresh unit of work per message. Changes become visible only on `commit()`,
which is all-or-nothing and checks every changed aggregate's version. Events raised by the
aggregates a unit of work touched are released only after a successful commit; `rollback()`
(also what leaving the `with` block does) discards both changes and events.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self

from application import context
from application.audit import Change, audit_entries
from application.repositories import (
    ApiKeyRepository,
    AuditRepository,
    DeliveryRepository,
    LinkUseRepository,
    ReminderRepository,
    SignInLinkRepository,
    TeamRepository,
    UserRepository,
    WebSessionRepository,
)
from domain.aggregate import Aggregate
from domain.events import Event


class StoreUnavailable(Exception):
    """The store cannot be reached just now (down, or locked for too long); nothing was changed."""


class UnitOfWork(abc.ABC):
    teams: TeamRepository
    users: UserRepository
    keys: ApiKeyRepository
    reminders: ReminderRepository
    deliveries: DeliveryRepository
    audit: AuditRepository
    link_uses: LinkUseRepository
    web_sessions: WebSessionRepository
    sign_in_links: SignInLinkRepository

    def __init__(self) -> None:
        self._released: list[Event] = []

    def __enter__(self) -> Self:
        self._begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        """Write every change at once; a change made on someone's behalf (a command carrying an
        actor) writes its audit entries in the same commit."""
        acting = context.acting.get()
        if acting is not None:
            for entry in audit_entries(self._changes(), acting):
                self.audit.add(entry)
        touched = list(self._touched())
        self._commit()
        for aggregate in touched:
            self._released.extend(aggregate.pull_events())

    def rollback(self) -> None:
        for aggregate in self._touched():
            aggregate.pull_events()
        self._rollback()

    def collect_new_events(self) -> list[Event]:
        """Events of committed changes, each handed over once."""
        released, self._released = self._released, []
        return released

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise if the store does not answer; cheap enough for every health check."""

    @abc.abstractmethod
    def _begin(self) -> None: ...

    @abc.abstractmethod
    def _touched(self) -> Iterable[Aggregate]:
        """Every aggregate read or added since the last commit or rollback."""

    @abc.abstractmethod
    def _changes(self) -> Iterable[Change]:
        """What a commit now would write, aggregate by aggregate."""

    @abc.abstractmethod
    def _commit(self) -> None: ...

    @abc.abstractmethod
    def _rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
