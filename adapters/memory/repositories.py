"""In-memory repositories: reads copy committed state into the unit of work's identity map."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from datetime import UTC, datetime
from typing import TypeVar

from adapters.memory.store import MemoryStore
from adapters.tracking import Tracker, detached
from application.repositories import HourlyCount, Page, QueueStats
from domain.aggregate import Aggregate
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

A = TypeVar("A", bound=Aggregate)


class _Repository:
    def __init__(self, store: MemoryStore, tracker: Tracker) -> None:
        self._store = store
        self._tracker = tracker

    def _get(self, table: dict[str, A], kind: type[A], entity_id: str) -> A | None:
        if self._tracker.is_removed(kind, entity_id):
            return None
        # No lock: one dict lookup is atomic and a stored aggregate is never changed (a write stores
        # a fresh copy), so this reads one whole version. A lock on every read let delivery workers
        # convoy on it and halved their throughput (docs/benchmarks.md).
        stored = table.get(entity_id)
        return None if stored is None else self._tracker.loaded(stored)

    def _get_many(self, table: dict[str, A], kind: type[A], ids: Collection[str]) -> dict[str, A]:
        found = {}
        for entity_id in ids:
            aggregate = self._get(table, kind, entity_id)
            if aggregate is not None:
                found[entity_id] = aggregate
        return found

    def _page(self, rows: Iterable[A], *, limit: int, offset: int) -> Page[A]:
        """Must be called holding the store's lock."""
        selected = list(rows)
        items = [self._tracker.loaded(row) for row in selected[offset : offset + limit]]
        return Page(items=items, total=len(selected), limit=limit, offset=offset)


class MemoryTeamRepository(_Repository):
    def add(self, team: Team) -> None:
        self._tracker.added(team)

    def get(self, team_id: str) -> Team | None:
        return self._get(self._store.teams, Team, team_id)

    def get_many(self, team_ids: Collection[str]) -> dict[str, Team]:
        return self._get_many(self._store.teams, Team, team_ids)

    def list(self, *, limit: int, offset: int) -> Page[Team]:
        with self._store.lock:
            return self._page(self._store.teams.values(), limit=limit, offset=offset)


class MemoryApiKeyRepository(_Repository):
    def __init__(self, store: MemoryStore, tracker: Tracker) -> None:
        super().__init__(store, tracker)
        self.uses: dict[str, datetime] = {}  # noted, for the unit of work's commit to write

    def add(self, key: ApiKey) -> None:
        self._tracker.added(key)

    def get(self, key_id: str) -> ApiKey | None:
        return self._get(self._store.keys, ApiKey, key_id)

    def get_by_prefix(self, prefix: str) -> ApiKey | None:
        key_id = self._store.key_by_prefix.get(prefix)
        return None if key_id is None else self.get(key_id)

    def holder(self, prefix: str) -> tuple[ApiKey, User] | None:
        key = self.get_by_prefix(prefix)
        user = None if key is None else self._get(self._store.users, User, key.user_id)
        return None if key is None or user is None else (key, user)

    def note_use(self, key_id: str, at: datetime) -> None:
        self.uses[key_id] = at

    def write_uses(self) -> None:
        """The noted uses, written as the stored keys' fresh copies with their versions unchanged."""
        with self._store.lock:
            for key_id, at in self.uses.items():
                stored = self._store.keys.get(key_id)
                if stored is not None and stored.use_due(at):
                    used = detached(stored)
                    used.last_used_at = at
                    self._store.keys[key_id] = used
        self.uses.clear()

    def list_by_user(self, user_id: str, *, limit: int, offset: int) -> Page[ApiKey]:
        with self._store.lock:
            keys = self._store.keys
            rows = (keys[i] for i in self._store.keys_by_user.get(user_id, {}))
            return self._page(rows, limit=limit, offset=offset)


class MemoryAuditRepository(_Repository):
    def add(self, entry: AuditEntry) -> None:
        self._tracker.added(entry)

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
        with self._store.lock:
            rows = (
                e
                for e in reversed(self._store.audit.values())
                if e.team_id == team_id
                and (actor_id is None or e.actor_user_id == actor_id)
                and (target_id is None or e.target_id == target_id)
                and (action is None or e.action == action)
                and (since is None or e.at >= since)
                and (until is None or e.at < until)
            )
            return self._page(rows, limit=limit, offset=offset)


class MemoryUserRepository(_Repository):
    def add(self, user: User) -> None:
        self._tracker.added(user)

    def get(self, user_id: str) -> User | None:
        return self._get(self._store.users, User, user_id)

    def get_many(self, user_ids: Collection[str]) -> dict[str, User]:
        return self._get_many(self._store.users, User, user_ids)

    def remove(self, user: User) -> None:
        self._tracker.removed(user)

    def find_by_email(self, email: str) -> list[User]:
        # Emails are stored lower-cased (domain.user.normalise_email).
        with self._store.lock:
            ids = list(self._store.users_by_email.get(email.lower(), {}))
        found = (self._get(self._store.users, User, user_id) for user_id in ids)
        return [user for user in found if user is not None]

    def list(
        self,
        *,
        team_id: str,
        limit: int,
        offset: int,
        active: bool | None = None,
        role: Role | None = None,
    ) -> Page[User]:
        with self._store.lock:
            users = (self._store.users[i] for i in self._store.users_by_team.get(team_id, {}))
            rows = (
                u
                for u in users
                if (active is None or u.active == active) and (role is None or u.role == role)
            )
            return self._page(rows, limit=limit, offset=offset)


class MemoryReminderRepository(_Repository):
    def add(self, reminder: Reminder) -> None:
        self._tracker.added(reminder)

    def get(self, reminder_id: str) -> Reminder | None:
        return self._get(self._store.reminders, Reminder, reminder_id)

    def get_many(self, reminder_ids: Collection[str]) -> dict[str, Reminder]:
        return self._get_many(self._store.reminders, Reminder, reminder_ids)

    def remove(self, reminder: Reminder) -> None:
        self._tracker.removed(reminder)

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
        with self._store.lock:
            owned = (self._store.reminders[i] for i in self._store.reminders_by_owner.get(owner_id, {}))
            rows = (
                r
                for r in owned
                if (channel is None or r.channel == channel)
                and (frequency is None or r.schedule.frequency == frequency)
                and (active is None or r.active == active)
            )
            return self._page(rows, limit=limit, offset=offset)

    def due(self, now: datetime, *, limit: int) -> list[Reminder]:
        with self._store.lock:
            return [self._tracker.loaded(self._store.reminders[i]) for i in self._store.due(now, limit)]

    def count_due(self, now: datetime) -> int:
        with self._store.lock:
            return self._store.count_due(now)

    def in_recipient_time(self, team_id: str) -> list[Reminder]:
        with self._store.lock:
            reminders = self._store.reminders
            ids = self._store.recipient_time_by_team.get(team_id, {})
            return [
                self._tracker.loaded(reminders[i])
                for i in ids
                if reminders[i].active and not self._tracker.is_removed(Reminder, i)
            ]


class MemoryDeliveryRepository(_Repository):
    def add(self, delivery: Delivery) -> None:
        self._tracker.added(delivery)

    def get(self, delivery_id: str) -> Delivery | None:
        return self._get(self._store.deliveries, Delivery, delivery_id)

    def get_many(self, delivery_ids: Collection[str]) -> dict[str, Delivery]:
        return self._get_many(self._store.deliveries, Delivery, delivery_ids)

    def remove(self, delivery: Delivery) -> None:
        self._tracker.removed(delivery)

    def claimable(self, now: datetime, *, limit: int) -> list[Delivery]:
        with self._store.lock:
            deliveries = self._store.deliveries
            return [self._tracker.loaded(deliveries[i]) for i in self._store.claimable(now, limit)]

    def expired_claims(self, now: datetime, *, limit: int) -> list[Delivery]:
        with self._store.lock:
            deliveries = self._store.deliveries
            return [self._tracker.loaded(deliveries[i]) for i in self._store.expired_claims(now, limit)]

    def finished_before(self, moment: datetime, *, limit: int) -> list[Delivery]:
        """Walks the deliveries in the order they were recorded, which is the order of `created_at`
        (a clock stepped back aside), and stops at the first one recorded at or after `moment`."""
        found: list[Delivery] = []
        with self._store.lock:
            for delivery in self._store.deliveries.values():
                if delivery.created_at >= moment or len(found) == limit:
                    break
                if delivery.status.finished:
                    found.append(self._tracker.loaded(delivery))
        return found

    def queue_stats(self, now: datetime) -> QueueStats:
        with self._store.lock:
            store = self._store
            due = store.count_claimable(now)
            return QueueStats(
                pending=store.delivery_status[DeliveryStatus.PENDING]
                + store.delivery_status[DeliveryStatus.DEFERRED],
                due=due,
                in_flight=store.delivery_status[DeliveryStatus.SENDING],
                oldest_due_at=store.queue_index[0][0] if due else None,
            )

    def follow_ups(self, parent_ids: Collection[str]) -> list[Delivery]:
        with self._store.lock:
            by_parent = self._store.follow_ups_by_parent
            recorded = sorted(
                (order, child_id)
                for parent_id in set(parent_ids)
                for child_id, order in by_parent.get(parent_id, {}).items()
            )
            found = (self._get(self._store.deliveries, Delivery, child_id) for _, child_id in recorded)
            return [delivery for delivery in found if delivery is not None]

    def hourly_counts(self, *, team_id: str, since: datetime) -> list[HourlyCount]:
        counts: Counter[tuple[datetime, DeliveryStatus]] = Counter()
        with self._store.lock:
            for delivery in self._store.deliveries.values():
                due = delivery.scheduled_for or delivery.created_at
                if delivery.team_id == team_id and due >= since:
                    hour = due.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
                    counts[(hour, delivery.status)] += 1
        return [
            HourlyCount(hour=hour, status=status, count=count)
            for (hour, status), count in sorted(
                counts.items(), key=lambda item: (item[0][0], item[0][1].value)
            )
        ]

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
        with self._store.lock:
            rows = (
                d
                for d in self._newest_first(reminder_id)
                if (team_id is None or d.team_id == team_id)
                and (owner_id is None or d.owner_id == owner_id)
                and (status is None or d.status == status)
                and (channel is None or d.channel == channel)
                and (kind is None or d.kind == kind)
                and (recipient_id is None or d.recipient_id == recipient_id)
                and (person_id is None or person_id in (d.owner_id, d.recipient_id))
            )
            return self._page(rows, limit=limit, offset=offset)

    def count(self, *, status: DeliveryStatus | None = None) -> int:
        with self._store.lock:
            if status is None:
                return len(self._store.deliveries)
            return self._store.delivery_status[status]

    def _newest_first(self, reminder_id: str | None) -> Iterator[Delivery]:
        deliveries = self._store.deliveries
        if reminder_id is None:
            return reversed(deliveries.values())
        ids = self._store.deliveries_by_reminder.get(reminder_id, {})
        return (deliveries[i] for i in reversed(ids))


class MemoryLinkUseRepository(_Repository):
    def add(self, use: LinkUse) -> None:
        self._tracker.added(use)

    def get(self, nonce: str) -> LinkUse | None:
        return self._get(self._store.link_uses, LinkUse, nonce)

    def used_before(self, moment: datetime, *, limit: int) -> list[LinkUse]:
        with self._store.lock:
            old = (use for use in self._store.link_uses.values() if use.used_at < moment)
            return [self._tracker.loaded(use) for use in itertools.islice(old, limit)]

    def remove(self, use: LinkUse) -> None:
        self._tracker.removed(use)


class MemoryWebSessionRepository(_Repository):
    def add(self, session: WebSession) -> None:
        self._tracker.added(session)

    def get(self, session_id: str) -> WebSession | None:
        return self._get(self._store.web_sessions, WebSession, session_id)

    def get_by_token_hash(self, token_hash: str) -> WebSession | None:
        session_id = self._store.session_by_token.get(token_hash)
        return None if session_id is None else self.get(session_id)

    def live_for(self, user_id: str, now: datetime) -> list[WebSession]:
        with self._store.lock:
            sessions = self._store.web_sessions
            owned = (sessions[i] for i in self._store.sessions_by_user.get(user_id, {}))
            return [self._tracker.loaded(session) for session in owned if session.live(now)]

    def finished_before(self, moment: datetime, *, limit: int) -> list[WebSession]:
        with self._store.lock:
            finished = (
                session
                for session in self._store.web_sessions.values()
                if session.expires_at < moment or (session.ended_at is not None and session.ended_at < moment)
            )
            return [self._tracker.loaded(session) for session in itertools.islice(finished, limit)]

    def remove(self, session: WebSession) -> None:
        self._tracker.removed(session)


class MemorySignInLinkRepository(_Repository):
    def add(self, link: SignInLink) -> None:
        self._tracker.added(link)

    def get_by_token_hash(self, token_hash: str) -> SignInLink | None:
        link_id = self._store.link_by_token.get(token_hash)
        return None if link_id is None else self._get(self._store.sign_in_links, SignInLink, link_id)

    def count_live_for(self, user_id: str, now: datetime) -> int:
        with self._store.lock:
            links = self._store.sign_in_links
            return sum(1 for i in self._store.links_by_user.get(user_id, {}) if links[i].live(now))

    def live_for(self, user_id: str, now: datetime) -> list[SignInLink]:
        with self._store.lock:
            links = self._store.sign_in_links
            owned = (links[i] for i in self._store.links_by_user.get(user_id, {}))
            return [self._tracker.loaded(link) for link in owned if link.live(now)]

    def expired_before(self, moment: datetime, *, limit: int) -> list[SignInLink]:
        with self._store.lock:
            expired = [link for link in self._store.sign_in_links.values() if link.expires_at < moment]
            expired.sort(key=lambda link: link.expires_at)  # stable: creation order among equals
            return [self._tracker.loaded(link) for link in expired[:limit]]

    def remove(self, link: SignInLink) -> None:
        self._tracker.removed(link)
