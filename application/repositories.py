"""Repository ports: how handlers reach stored aggregates.

Every question is one a SQL store answers with one indexed statement (get by primary key, a page
by owner with filters and an exact total, the earliest due rows with a limit), never a dict-ism
such as "give me the whole table". Three stores implement them, behind the same unit of work:
the SQL stores (SQLite, PostgreSQL) in `adapters.sql` and the in-memory store in
`adapters.memory`; `tests/contract/` holds all three to the same behaviour, and
`entrypoints.bootstrap` picks one from the settings. No handler can tell which it runs on.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from domain.api_key import ApiKey
from domain.audit import AuditEntry
from domain.delivery import Delivery, DeliveryKind, DeliveryStatus
from domain.link_use import LinkUse
from domain.reminder import Reminder
from domain.roles import Role
from domain.schedule import Frequency
from domain.sign_in_link import SignInLink
from domain.team import Team
from domain.user import User
from domain.web_session import WebSession

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class QueueStats:
    pending: int  # waiting, due now or later
    due: int  # waiting and due now
    in_flight: int  # claimed by a worker
    oldest_due_at: datetime | None


@dataclass(frozen=True, slots=True)
class HourlyCount:
    hour: datetime  # UTC, the top of the hour
    status: DeliveryStatus
    count: int


class TeamRepository(Protocol):
    def add(self, team: Team) -> None: ...

    def get(self, team_id: str) -> Team | None: ...

    def get_many(self, team_ids: Collection[str]) -> dict[str, Team]:
        """The teams of those ids that exist, by id."""
        ...

    def list(self, *, limit: int, offset: int) -> Page[Team]:
        """Teams in creation order."""
        ...


class UserRepository(Protocol):
    def add(self, user: User) -> None: ...

    def get(self, user_id: str) -> User | None: ...

    def get_many(self, user_ids: Collection[str]) -> dict[str, User]:
        """The users of those ids that exist, by id."""
        ...

    def remove(self, user: User) -> None: ...

    def find_by_email(self, email: str) -> list[User]:
        """Every team's user with that address, compared case-insensitively, in creation order."""
        ...

    def list(
        self,
        *,
        team_id: str,
        limit: int,
        offset: int,
        active: bool | None = None,
        role: Role | None = None,
    ) -> Page[User]:
        """A team's users in creation order."""
        ...


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey) -> None: ...

    def get(self, key_id: str) -> ApiKey | None: ...

    def get_by_prefix(self, prefix: str) -> ApiKey | None: ...

    def holder(self, prefix: str) -> tuple[ApiKey, User] | None:
        """The key with this prefix and its user, read together (every API request asks)."""
        ...

    def note_use(self, key_id: str, at: datetime) -> None:
        """Records with the commit that the key was used at `at`, unless a use less than
        USE_RECORDED_EVERY before it is recorded already. Bookkeeping outside optimistic
        concurrency: the key's version does not change, so a change to the key made meanwhile
        (revoking it, say) is never refused for it, and may overwrite it (the next use writes it
        again). A key that does not exist is no error."""
        ...

    def list_by_user(self, user_id: str, *, limit: int, offset: int) -> Page[ApiKey]:
        """A user's keys in creation order, revoked ones included."""
        ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...

    def list(
        self,
        *,
        team_id: str,
        limit: int,
        offset: int,
        actor_id: str | None = None,
        target_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditEntry]:
        """A team's entries newest first; `since` inclusive, `until` exclusive."""
        ...


class ReminderRepository(Protocol):
    def add(self, reminder: Reminder) -> None: ...

    def get(self, reminder_id: str) -> Reminder | None: ...

    def get_many(self, reminder_ids: Collection[str]) -> dict[str, Reminder]:
        """The reminders of those ids that exist, by id."""
        ...

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

    def in_recipient_time(self, team_id: str) -> list[Reminder]:
        """The team's active reminders whose slots are in each recipient's own time (`local_time`
        "recipient"), in no particular order: the ones a member who joins or moves is planned into."""
        ...


class DeliveryRepository(Protocol):
    def add(self, delivery: Delivery) -> None:
        """Record a delivery; the store refuses a second scheduled one for the same reminder,
        recipient and slot (DuplicateOccurrence). Follow-ups and send-nows are not in the ledger."""
        ...

    def get(self, delivery_id: str) -> Delivery | None: ...

    def get_many(self, delivery_ids: Collection[str]) -> dict[str, Delivery]:
        """The deliveries of those ids that exist, by id."""
        ...

    def claimable(self, now: datetime, *, limit: int) -> list[Delivery]:
        """Waiting deliveries (pending or deferred) due at `now`, earliest first, taken for this unit
        of work: on PostgreSQL locked, skipping rows another worker holds."""
        ...

    def expired_claims(self, now: datetime, *, limit: int) -> list[Delivery]:
        """Deliveries being sent whose lease ended at or before `now`, taken like `claimable`."""
        ...

    def finished_before(self, moment: datetime, *, limit: int) -> list[Delivery]:
        """Finished deliveries (sent, failed, missed, cancelled) created before `moment`, oldest first."""
        ...

    def remove(self, delivery: Delivery) -> None: ...

    def queue_stats(self, now: datetime) -> QueueStats:
        """The queue's counts; a deferred delivery waits like a pending one."""
        ...

    def follow_ups(self, parent_ids: Collection[str]) -> list[Delivery]:
        """Every delivery that follows one of those (a snooze, repeat or alert naming it as its
        parent), oldest first, read into this unit of work as `get_many` does."""
        ...

    def hourly_counts(self, *, team_id: str, since: datetime) -> list[HourlyCount]:
        """The team's deliveries due at or after `since` (a follow-up or send-now is due when it was
        recorded, unless it names a time), counted by the hour they were due and their status;
        ordered by hour, then status. Only hours with deliveries appear."""
        ...

    def list(
        self,
        *,
        limit: int,
        offset: int,
        team_id: str | None = None,
        owner_id: str | None = None,
        reminder_id: str | None = None,
        status: DeliveryStatus | None = None,
        channel: str | None = None,
        kind: DeliveryKind | None = None,
        recipient_id: str | None = None,
        person_id: str | None = None,
    ) -> Page[Delivery]:
        """Deliveries newest first; `person_id`: those of that user's reminders or addressed to them."""
        ...

    def count(self, *, status: DeliveryStatus | None = None) -> int: ...


class LinkUseRepository(Protocol):
    def add(self, use: LinkUse) -> None:
        """Record a link's use; a commit that records a nonce already used raises Conflict."""
        ...

    def get(self, nonce: str) -> LinkUse | None: ...

    def used_before(self, moment: datetime, *, limit: int) -> list[LinkUse]:
        """Uses recorded before `moment`, oldest first."""
        ...

    def remove(self, use: LinkUse) -> None: ...


class WebSessionRepository(Protocol):
    def add(self, session: WebSession) -> None:
        """A commit that adds a second session with the same token hash raises Conflict."""
        ...

    def get(self, session_id: str) -> WebSession | None: ...

    def get_by_token_hash(self, token_hash: str) -> WebSession | None: ...

    def live_for(self, user_id: str, now: datetime) -> list[WebSession]:
        """The user's sessions live at `now` (WebSession.live), in creation order."""
        ...

    def finished_before(self, moment: datetime, *, limit: int) -> list[WebSession]:
        """Sessions ended, or past their absolute expiry, before `moment`, in creation order."""
        ...

    def remove(self, session: WebSession) -> None: ...


class SignInLinkRepository(Protocol):
    def add(self, link: SignInLink) -> None:
        """A commit that adds a second link with the same token hash raises Conflict."""
        ...

    def get_by_token_hash(self, token_hash: str) -> SignInLink | None: ...

    def count_live_for(self, user_id: str, now: datetime) -> int:
        """The user's links neither used nor expired at `now`."""
        ...

    def live_for(self, user_id: str, now: datetime) -> list[SignInLink]:
        """The links count_live_for counts, in creation order."""
        ...

    def expired_before(self, moment: datetime, *, limit: int) -> list[SignInLink]:
        """Links (used or not) whose expiry is before `moment`, earliest expiry first."""
        ...

    def remove(self, link: SignInLink) -> None: ...
