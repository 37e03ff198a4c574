"""Committed state of the in-memory store, its indexes, and the one atomic write path.

Every write and every read that walks a table or an index takes the store's lock, so request
threads, the ticker and delivery workers can share it. Reading one aggregate by id takes none: a
stored aggregate is never changed (a write stores a fresh copy) and one dict lookup is atomic.
`apply()` checks every write first (versions, unique emails, owners, the ledger's
one-delivery-per-recipient-and-slot rule, link nonces used once, unique token hashes) and only
then changes anything,
so a commit is all or nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TypeVar

from sortedcontainers import SortedList

from adapters.memory.locking import YieldingLock
from adapters.tracking import Write, detached
from domain.aggregate import Aggregate
from domain.api_key import ApiKey
from domain.audit import AuditEntry
from domain.delivery import WAITING, Delivery, DeliveryKind, DeliveryStatus
from domain.errors import (
    Conflict,
    DuplicateEmail,
    DuplicateOccurrence,
    NotFound,
    StaleVersion,
)
from domain.link_use import LinkUse
from domain.reminder import Reminder
from domain.sign_in_link import SignInLink
from domain.team import Team
from domain.user import User
from domain.web_session import WebSession

A = TypeVar("A", bound=Aggregate)
# What the domain calls each kind of aggregate in errors, as the SQL store does.
_KIND: dict[type[Aggregate], str] = {
    Team: "team",
    User: "user",
    ApiKey: "key",
    AuditEntry: "audit entry",
    Reminder: "reminder",
    Delivery: "delivery",
    LinkUse: "link use",
    WebSession: "web session",
    SignInLink: "sign-in link",
}
# A scheduled delivery's place in the ledger: its reminder, recipient ("" for none) and slot.
LedgerKey = tuple[str, str, datetime]


def ledger_key(delivery: Delivery) -> LedgerKey | None:
    """None for a delivery outside the ledger (a send-now or a follow-up)."""
    if delivery.kind is not DeliveryKind.SCHEDULED or delivery.scheduled_for is None:
        return None
    return (delivery.reminder_id, delivery.recipient_id or "", delivery.scheduled_for)


class StoreUnavailable(RuntimeError):
    pass


class MemoryStore:
    # Every dict here keeps creation order: updates replace values in place, so pages are stable.
    def __init__(self) -> None:
        self.lock = YieldingLock()
        self.teams: dict[str, Team] = {}
        self.users: dict[str, User] = {}
        # Emails are unique within a team: (team id, email) -> user id.
        self.user_by_email: dict[tuple[str, str], str] = {}
        # Each team's users in creation order (a user's team never changes).
        self.users_by_team: dict[str, dict[str, None]] = {}
        # Every team's users by their (lower-cased) email: one person may be in several teams.
        self.users_by_email: dict[str, dict[str, None]] = {}
        self.keys: dict[str, ApiKey] = {}
        self.key_by_prefix: dict[str, str] = {}
        self.keys_by_user: dict[str, dict[str, None]] = {}
        self.audit: dict[str, AuditEntry] = {}
        self.reminders: dict[str, Reminder] = {}
        self.reminders_by_owner: dict[str, dict[str, None]] = {}
        # The reminders in each recipient's own time, by team (active or not).
        self.recipient_time_by_team: dict[str, dict[str, None]] = {}
        # (next_run_at, id) of every active reminder with a next run: the scheduler's index.
        self.due_index: SortedList = SortedList()
        self.deliveries: dict[str, Delivery] = {}
        self.deliveries_by_reminder: dict[str, dict[str, None]] = {}
        self.ledger: dict[LedgerKey, str] = {}
        # The follow-ups of each delivery: id -> the order they were recorded in, across parents.
        self.follow_ups_by_parent: dict[str, dict[str, int]] = {}
        self._follow_ups_recorded = 0
        self.delivery_status: Counter[DeliveryStatus] = Counter()
        self.link_uses: dict[str, LinkUse] = {}
        self.web_sessions: dict[str, WebSession] = {}
        self.session_by_token: dict[str, str] = {}
        self.sessions_by_user: dict[str, dict[str, None]] = {}
        self.sign_in_links: dict[str, SignInLink] = {}
        self.link_by_token: dict[str, str] = {}
        self.links_by_user: dict[str, dict[str, None]] = {}
        # The queue: (next_attempt_at, id) of every waiting (pending or deferred) delivery, in order;
        # and the lease end of every claimed one (few at a time, so a dict scanned when leases are
        # checked, which is far cheaper to keep than a second sorted index on every claim and outcome).
        self.queue_index: SortedList = SortedList()
        self.leases: dict[str, datetime] = {}

    def ping(self, timeout: float = 1.0) -> None:
        if not self.lock.acquire(timeout=timeout):
            raise StoreUnavailable("the in-memory store is locked")
        self.lock.release()

    def apply(self, writes: Iterable[Write]) -> None:
        writes = list(writes)
        with self.lock:
            deleted = {w.aggregate.id for w in writes if w.delete}  # type: ignore[attr-defined]
            for write in writes:
                self._check(write, writes, deleted)
            self._check_ledger_within(writes)
            for write in writes:
                self._apply(write)

    def due(self, now: datetime, limit: int) -> Iterator[str]:
        stop = self.due_index.bisect_right((now, "\uffff"))
        for _, reminder_id in self.due_index.islice(0, min(stop, limit)):
            yield reminder_id

    def count_due(self, now: datetime) -> int:
        return int(self.due_index.bisect_right((now, "\uffff")))

    def claimable(self, now: datetime, limit: int) -> Iterator[str]:
        stop = self.queue_index.bisect_right((now, "\uffff"))
        for _, delivery_id in self.queue_index.islice(0, min(stop, limit)):
            yield delivery_id

    def count_claimable(self, now: datetime) -> int:
        return int(self.queue_index.bisect_right((now, "\uffff")))

    def expired_claims(self, now: datetime, limit: int) -> list[str]:
        expired = sorted((ends, delivery_id) for delivery_id, ends in self.leases.items() if ends <= now)
        return [delivery_id for _, delivery_id in expired[:limit]]

    # -- checks: nothing changes until every write has passed -----------------------------------

    def _table(self, aggregate: Aggregate) -> dict[str, Aggregate]:
        if isinstance(aggregate, Team):
            return self.teams  # type: ignore[return-value]
        if isinstance(aggregate, ApiKey):
            return self.keys  # type: ignore[return-value]
        if isinstance(aggregate, AuditEntry):
            return self.audit  # type: ignore[return-value]
        if isinstance(aggregate, User):
            return self.users  # type: ignore[return-value]
        if isinstance(aggregate, Reminder):
            return self.reminders  # type: ignore[return-value]
        if isinstance(aggregate, Delivery):
            return self.deliveries  # type: ignore[return-value]
        if isinstance(aggregate, LinkUse):
            return self.link_uses  # type: ignore[return-value]
        if isinstance(aggregate, WebSession):
            return self.web_sessions  # type: ignore[return-value]
        if isinstance(aggregate, SignInLink):
            return self.sign_in_links  # type: ignore[return-value]
        raise TypeError(f"not stored here: {type(aggregate).__name__}")

    def _check(self, write: Write, batch: list[Write], deleted: set[str]) -> None:
        aggregate = write.aggregate
        entity_id: str = aggregate.id  # type: ignore[attr-defined]
        current = self._table(aggregate).get(entity_id)
        kind = _KIND[type(aggregate)]
        if write.expected_version is None:
            if current is not None:
                raise Conflict(f"{kind} {entity_id!r} already exists")
        elif current is None:
            raise NotFound(kind, entity_id)
        elif current.version != write.expected_version:
            raise StaleVersion(kind, entity_id)
        if write.delete:
            return
        if isinstance(aggregate, User):
            self._check_parent(self.teams, Team, aggregate.team_id, batch, deleted, "team")
            holder = self.user_by_email.get((aggregate.team_id, aggregate.email))
            twins = [
                w.aggregate
                for w in batch
                if isinstance(w.aggregate, User) and w is not write and not w.delete
            ]
            taken = holder not in (None, aggregate.id) and holder not in deleted
            if taken or any(
                (twin.team_id, twin.email) == (aggregate.team_id, aggregate.email) for twin in twins
            ):
                raise DuplicateEmail()
        elif isinstance(aggregate, ApiKey):
            self._check_parent(self.users, User, aggregate.user_id, batch, deleted, "user")
            prefix_holder = self.key_by_prefix.get(aggregate.prefix)
            other_keys = [
                w.aggregate
                for w in batch
                if isinstance(w.aggregate, ApiKey) and w is not write and not w.delete
            ]
            if prefix_holder not in (None, aggregate.id) or any(
                other.prefix == aggregate.prefix for other in other_keys
            ):
                raise Conflict(f"a key with prefix {aggregate.prefix!r} already exists")
        elif isinstance(aggregate, Reminder):
            owner = aggregate.owner_id
            added_with_it = owner not in self.users and any(
                isinstance(w.aggregate, User) and w.aggregate.id == owner and not w.delete for w in batch
            )
            if (owner not in self.users and not added_with_it) or owner in deleted:
                raise NotFound("user", owner)
        elif isinstance(aggregate, WebSession | SignInLink):
            self._check_parent(self.users, User, aggregate.user_id, batch, deleted, "user")
            by_token = self.session_by_token if isinstance(aggregate, WebSession) else self.link_by_token
            holder = by_token.get(aggregate.token_hash)
            same_kind = [
                w.aggregate
                for w in batch
                if type(w.aggregate) is type(aggregate) and w is not write and not w.delete
            ]
            if (holder not in (None, aggregate.id) and holder not in deleted) or any(
                other.token_hash == aggregate.token_hash for other in same_kind
            ):
                raise Conflict(f"a {kind} with this token already exists")
        elif isinstance(aggregate, Delivery) and write.expected_version is None:
            key = ledger_key(aggregate)
            if key is not None and key in self.ledger:
                raise DuplicateOccurrence(aggregate.reminder_id)

    @staticmethod
    def _check_ledger_within(batch: list[Write]) -> None:
        """Two new deliveries of one commit for the same reminder, recipient and slot (the SQL store's
        unique index refuses the second)."""
        seen: set[LedgerKey] = set()
        for write in batch:
            aggregate = write.aggregate
            if isinstance(aggregate, Delivery) and write.expected_version is None:
                key = ledger_key(aggregate)
                if key is not None:
                    if key in seen:
                        raise DuplicateOccurrence(aggregate.reminder_id)
                    seen.add(key)

    def _check_parent(
        self,
        table: dict[str, A],
        kind: type[A],
        parent_id: str,
        batch: list[Write],
        deleted: set[str],
        name: str,
    ) -> None:
        """A row's parent exists, or is added in the same commit (the SQL store's foreign key)."""
        added_with_it = parent_id not in table and any(
            isinstance(w.aggregate, kind) and w.aggregate.id == parent_id and not w.delete  # type: ignore[attr-defined]
            for w in batch
        )
        if (parent_id not in table and not added_with_it) or parent_id in deleted:
            raise NotFound(name, parent_id)

    # -- applying ---------------------------------------------------------------------------------

    def _apply(self, write: Write) -> None:
        aggregate = write.aggregate
        table = self._table(aggregate)
        entity_id: str = aggregate.id  # type: ignore[attr-defined]
        old = table.get(entity_id)
        if old is not None:
            self._unindex(old, deleting=write.delete)
        if write.delete:
            del table[entity_id]
            return
        aggregate.version = (write.expected_version or 0) + 1
        stored = detached(aggregate)
        table[entity_id] = stored
        self._index(stored, new=old is None)

    def _index(self, aggregate: Aggregate, *, new: bool) -> None:
        if isinstance(aggregate, User):
            self.user_by_email[(aggregate.team_id, aggregate.email)] = aggregate.id
            self.users_by_email.setdefault(aggregate.email, {})[aggregate.id] = None
            self.users_by_team.setdefault(aggregate.team_id, {})[aggregate.id] = None
        elif isinstance(aggregate, WebSession):
            self.session_by_token[aggregate.token_hash] = aggregate.id
            self.sessions_by_user.setdefault(aggregate.user_id, {})[aggregate.id] = None
        elif isinstance(aggregate, SignInLink):
            self.link_by_token[aggregate.token_hash] = aggregate.id
            self.links_by_user.setdefault(aggregate.user_id, {})[aggregate.id] = None
        elif isinstance(aggregate, ApiKey):
            self.key_by_prefix[aggregate.prefix] = aggregate.id
            self.keys_by_user.setdefault(aggregate.user_id, {})[aggregate.id] = None
        elif isinstance(aggregate, Reminder):
            self.reminders_by_owner.setdefault(aggregate.owner_id, {})[aggregate.id] = None
            if aggregate.per_recipient:
                self.recipient_time_by_team.setdefault(aggregate.team_id, {})[aggregate.id] = None
            else:
                self.recipient_time_by_team.get(aggregate.team_id, {}).pop(aggregate.id, None)
            if aggregate.active and aggregate.next_run_at is not None:
                self.due_index.add((aggregate.next_run_at, aggregate.id))
        elif isinstance(aggregate, Delivery):
            self.delivery_status[aggregate.status] += 1
            if aggregate.status in WAITING and aggregate.next_attempt_at is not None:
                self.queue_index.add((aggregate.next_attempt_at, aggregate.id))
            elif aggregate.status is DeliveryStatus.SENDING and aggregate.lease_expires_at is not None:
                self.leases[aggregate.id] = aggregate.lease_expires_at
            if new:
                self.deliveries_by_reminder.setdefault(aggregate.reminder_id, {})[aggregate.id] = None
                slot_key = ledger_key(aggregate)
                if slot_key is not None:
                    self.ledger[slot_key] = aggregate.id
                if aggregate.parent_delivery_id is not None:
                    self._follow_ups_recorded += 1
                    children = self.follow_ups_by_parent.setdefault(aggregate.parent_delivery_id, {})
                    children[aggregate.id] = self._follow_ups_recorded

    def _unindex(self, aggregate: Aggregate, *, deleting: bool) -> None:
        if isinstance(aggregate, User):
            self.user_by_email.pop((aggregate.team_id, aggregate.email), None)
            self.users_by_email.get(aggregate.email, {}).pop(aggregate.id, None)
            if deleting:  # the SQL store's ON DELETE CASCADE
                self.users_by_team.get(aggregate.team_id, {}).pop(aggregate.id, None)
                for key_id in self.keys_by_user.pop(aggregate.id, {}):
                    key = self.keys.pop(key_id)
                    self.key_by_prefix.pop(key.prefix, None)
                for session_id in self.sessions_by_user.pop(aggregate.id, {}):
                    session = self.web_sessions.pop(session_id)
                    self.session_by_token.pop(session.token_hash, None)
                for link_id in self.links_by_user.pop(aggregate.id, {}):
                    link = self.sign_in_links.pop(link_id)
                    self.link_by_token.pop(link.token_hash, None)
        elif isinstance(aggregate, WebSession):
            if deleting:
                self.session_by_token.pop(aggregate.token_hash, None)
                self.sessions_by_user.get(aggregate.user_id, {}).pop(aggregate.id, None)
        elif isinstance(aggregate, SignInLink):
            if deleting:
                self.link_by_token.pop(aggregate.token_hash, None)
                self.links_by_user.get(aggregate.user_id, {}).pop(aggregate.id, None)
        elif isinstance(aggregate, Reminder):
            if deleting:
                self.reminders_by_owner.get(aggregate.owner_id, {}).pop(aggregate.id, None)
                self.recipient_time_by_team.get(aggregate.team_id, {}).pop(aggregate.id, None)
            if aggregate.active and aggregate.next_run_at is not None:
                self.due_index.discard((aggregate.next_run_at, aggregate.id))
        elif isinstance(aggregate, Delivery):
            self.delivery_status[aggregate.status] -= 1
            if aggregate.status in WAITING and aggregate.next_attempt_at is not None:
                self.queue_index.discard((aggregate.next_attempt_at, aggregate.id))
            self.leases.pop(aggregate.id, None)
            if deleting:
                self.deliveries_by_reminder.get(aggregate.reminder_id, {}).pop(aggregate.id, None)
                slot_key = ledger_key(aggregate)
                if slot_key is not None:
                    self.ledger.pop(slot_key, None)
                if aggregate.parent_delivery_id is not None:
                    self.follow_ups_by_parent.get(aggregate.parent_delivery_id, {}).pop(aggregate.id, None)
