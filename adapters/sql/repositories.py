"""SQL repositories: one indexed statement per question, rows turned into the unit of work's aggregates.

Those of signing in to the web app are in adapters/sql/sign_in_repositories.py.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, TypeVar

from sqlalchemy import (
    ColumnElement,
    Executable,
    Result,
    Select,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from adapters.sql import tables
from adapters.sql.mapping import (
    Prefixed,
    Row,
    api_key_from,
    audit_entry_from,
    delivery_from,
    link_use_from,
    reminder_from,
    team_from,
    user_from,
)
from adapters.tracking import Tracker
from application.repositories import HourlyCount, Page, QueueStats
from domain.aggregate import Aggregate
from domain.api_key import USE_RECORDED_EVERY, ApiKey
from domain.audience import LocalTime
from domain.audit import AuditEntry
from domain.delivery import WAITING, Delivery, DeliveryKind, DeliveryStatus
from domain.link_use import LinkUse
from domain.reminder import Reminder
from domain.roles import Role
from domain.schedule import Frequency
from domain.team import Team
from domain.user import User

A = TypeVar("A", bound=Aggregate)


class Session(Protocol):
    """What a repository needs of its unit of work."""

    tracker: Tracker

    def execute(
        self, statement: Executable, parameters: dict[str, Any] | None = None, *, write: bool = False
    ) -> Result[Any]: ...

    def bookkeep(self, statement: Executable, parameters: dict[str, Any]) -> None:
        """A write outside optimistic concurrency, made now and committed with the unit of work."""
        ...


def unstorable(*values: str | None) -> bool:
    """A NUL character, which no stored text holds (PostgreSQL refuses it): the lookup matches nothing."""
    return any(value is not None and "\x00" in value for value in values)


def _nothing(limit: int, offset: int) -> Page[A]:
    return Page(items=[], total=0, limit=limit, offset=offset)


_FINISHED = [status.value for status in DeliveryStatus if status.finished]
_WAITING = [status.value for status in WAITING]


class SqlRepository:
    """What every SQL repository shares: reads by id through the unit of work's identity map."""

    table: Table
    _by_id_query: ClassVar[Select[Any] | None] = None
    _by_ids_query: ClassVar[Select[Any] | None] = None

    def __init__(self, session: Session) -> None:
        self._session = session

    @classmethod
    def _by_id(cls) -> Select[Any]:
        # One statement object per table, so SQLAlchemy compiles it once, not on every read.
        if cls._by_id_query is None:
            cls._by_id_query = select(cls.table).where(cls.table.c.id == bindparam("id"))
        return cls._by_id_query

    def _get(self, kind: type[A], entity_id: str, build: Callable[[Row], A]) -> A | None:
        tracker = self._session.tracker
        if tracker.is_removed(kind, entity_id) or unstorable(entity_id):
            return None
        known = tracker.entries.get((kind, entity_id))
        if known is not None:
            return known.aggregate  # type: ignore[return-value]
        row = self._session.execute(self._by_id(), {"id": entity_id}).first()
        return None if row is None else self._loaded(row, build)

    def _get_many(self, kind: type[A], ids: Collection[str], build: Callable[[Row], A]) -> dict[str, A]:
        """One statement for every id the unit of work does not hold yet."""
        tracker = self._session.tracker
        found: dict[str, A] = {}
        missing = []
        for entity_id in ids:
            if tracker.is_removed(kind, entity_id) or unstorable(entity_id):
                continue
            known = tracker.entries.get((kind, entity_id))
            if known is not None:
                found[entity_id] = known.aggregate  # type: ignore[assignment]
            else:
                missing.append(entity_id)
        if missing:
            cls = type(self)
            if cls._by_ids_query is None:
                cls._by_ids_query = select(cls.table).where(
                    cls.table.c.id.in_(bindparam("ids", expanding=True))
                )
            for row in self._session.execute(cls._by_ids_query, {"ids": missing}):
                aggregate = self._loaded(row, build)
                found[aggregate.id] = aggregate  # type: ignore[attr-defined]
        return found

    def _loaded(self, row: Any, build: Callable[[Row], A]) -> A:
        """The unit of work's aggregate for a row just read (the one it already tracks, if any)."""
        return self._session.tracker.loaded(build(row._mapping), private=True)

    def _page(
        self,
        conditions: Sequence[ColumnElement[bool]],
        build: Callable[[Row], A],
        *,
        limit: int,
        offset: int,
        newest_first: bool = False,
    ) -> Page[A]:
        where = and_(true(), *conditions)
        total = self._session.execute(select(func.count()).select_from(self.table).where(where)).scalar_one()
        if offset >= total:  # also keeps an offset past any integer the database takes out of SQL
            return Page(items=[], total=total, limit=limit, offset=offset)
        order = self.table.c.seq.desc() if newest_first else self.table.c.seq
        query: Select[Any] = select(self.table).where(where).order_by(order).limit(limit).offset(offset)
        items = [self._loaded(row, build) for row in self._session.execute(query)]
        return Page(items=items, total=total, limit=limit, offset=offset)


class SqlUserRepository(SqlRepository):
    table = tables.users

    def add(self, user: User) -> None:
        self._session.tracker.added(user)

    def get(self, user_id: str) -> User | None:
        return self._get(User, user_id, user_from)

    def get_many(self, user_ids: Collection[str]) -> dict[str, User]:
        return self._get_many(User, user_ids, user_from)

    def remove(self, user: User) -> None:
        self._session.tracker.removed(user)

    def find_by_email(self, email: str) -> list[User]:
        # Emails are stored lower-cased (domain.user.normalise_email), so the plain index serves.
        if unstorable(email):
            return []
        c = self.table.c
        query = select(self.table).where(c.email == email.lower()).order_by(c.seq)
        tracker = self._session.tracker
        return [
            self._loaded(row, user_from)
            for row in self._session.execute(query)
            if not tracker.is_removed(User, row.id)
        ]

    def list(
        self,
        *,
        team_id: str,
        limit: int,
        offset: int,
        active: bool | None = None,
        role: Role | None = None,
    ) -> Page[User]:
        if unstorable(team_id):
            return _nothing(limit, offset)
        c = self.table.c
        conditions = [c.team_id == team_id]
        if active is not None:
            conditions.append(c.active == active)
        if role is not None:
            conditions.append(c.role == role.value)
        return self._page(conditions, user_from, limit=limit, offset=offset)


class SqlTeamRepository(SqlRepository):
    table = tables.teams

    def add(self, team: Team) -> None:
        self._session.tracker.added(team)

    def get(self, team_id: str) -> Team | None:
        return self._get(Team, team_id, team_from)

    def get_many(self, team_ids: Collection[str]) -> dict[str, Team]:
        return self._get_many(Team, team_ids, team_from)

    def list(self, *, limit: int, offset: int) -> Page[Team]:
        return self._page([], team_from, limit=limit, offset=offset)


class SqlApiKeyRepository(SqlRepository):
    table = tables.api_keys
    _by_prefix_query: ClassVar[Select[Any] | None] = None
    _holder_query: ClassVar[Select[Any] | None] = None
    _use_statement: ClassVar[Executable | None] = None

    def add(self, key: ApiKey) -> None:
        self._session.tracker.added(key)

    def get(self, key_id: str) -> ApiKey | None:
        return self._get(ApiKey, key_id, api_key_from)

    def get_by_prefix(self, prefix: str) -> ApiKey | None:
        if unstorable(prefix):
            return None
        cls = type(self)
        if cls._by_prefix_query is None:
            cls._by_prefix_query = select(self.table).where(self.table.c.prefix == bindparam("prefix"))
        row = self._session.execute(cls._by_prefix_query, {"prefix": prefix}).first()
        return None if row is None else self._loaded(row, api_key_from)

    def holder(self, prefix: str) -> tuple[ApiKey, User] | None:
        if unstorable(prefix):
            return None
        cls = type(self)
        if cls._holder_query is None:
            keys, users = self.table, tables.users
            cls._holder_query = (
                select(
                    *(c.label(f"key_{c.name}") for c in keys.c), *(c.label(f"user_{c.name}") for c in users.c)
                )
                .join_from(keys, users, keys.c.user_id == users.c.id)
                .where(keys.c.prefix == bindparam("prefix"))
            )
        row = self._session.execute(cls._holder_query, {"prefix": prefix}).first()
        if row is None:
            return None
        tracker = self._session.tracker
        key = tracker.loaded(api_key_from(Prefixed(row._mapping, "key_")), private=True)
        user = tracker.loaded(user_from(Prefixed(row._mapping, "user_")), private=True)
        if tracker.is_removed(ApiKey, key.id) or tracker.is_removed(User, user.id):
            return None
        return key, user

    def note_use(self, key_id: str, at: datetime) -> None:
        if unstorable(key_id):
            return
        cls = type(self)
        if cls._use_statement is None:
            used = self.table.c.last_used_at
            cls._use_statement = (
                update(self.table)
                .where(self.table.c.id == bindparam("key_id"))
                .where(or_(used.is_(None), used <= bindparam("due")))
                .values(last_used_at=bindparam("at"))
            )
        self._session.bookkeep(
            cls._use_statement, {"key_id": key_id, "due": at - USE_RECORDED_EVERY, "at": at}
        )

    def list_by_user(self, user_id: str, *, limit: int, offset: int) -> Page[ApiKey]:
        if unstorable(user_id):
            return _nothing(limit, offset)
        return self._page([self.table.c.user_id == user_id], api_key_from, limit=limit, offset=offset)


class SqlAuditRepository(SqlRepository):
    table = tables.audit_entries

    def add(self, entry: AuditEntry) -> None:
        self._session.tracker.added(entry)

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
        if unstorable(team_id, actor_id, target_id, action):
            return _nothing(limit, offset)
        c = self.table.c
        conditions = [c.team_id == team_id]
        if actor_id is not None:
            conditions.append(c.actor_user_id == actor_id)
        if target_id is not None:
            conditions.append(c.target_id == target_id)
        if action is not None:
            conditions.append(c.action == action)
        if since is not None:
            conditions.append(c.at >= since)
        if until is not None:
            conditions.append(c.at < until)
        return self._page(conditions, audit_entry_from, limit=limit, offset=offset, newest_first=True)


class SqlReminderRepository(SqlRepository):
    table = tables.reminders

    def add(self, reminder: Reminder) -> None:
        self._session.tracker.added(reminder)

    def get(self, reminder_id: str) -> Reminder | None:
        return self._get(Reminder, reminder_id, reminder_from)

    def get_many(self, reminder_ids: Collection[str]) -> dict[str, Reminder]:
        return self._get_many(Reminder, reminder_ids, reminder_from)

    def remove(self, reminder: Reminder) -> None:
        self._session.tracker.removed(reminder)

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
        if unstorable(owner_id, channel):
            return _nothing(limit, offset)
        c = self.table.c
        conditions = [c.owner_id == owner_id]
        if channel is not None:
            conditions.append(c.channel == channel)
        if frequency is not None:
            conditions.append(c.frequency == frequency.value)
        if active is not None:
            conditions.append(c.active == active)
        return self._page(conditions, reminder_from, limit=limit, offset=offset)

    def _due_where(self, now: datetime) -> ColumnElement[bool]:
        # Written as the partial index's predicate, so both engines choose that index.
        c = self.table.c
        return and_(c.active, c.next_run_at.is_not(None), c.next_run_at <= now)

    def due(self, now: datetime, *, limit: int) -> list[Reminder]:
        """Due rows taken for this unit of work: locked on PostgreSQL, skipping rows another
        scheduler holds, so schedulers in several processes share the due work without waiting."""
        c = self.table.c
        query = (
            select(self.table)
            .where(self._due_where(now))
            .order_by(c.next_run_at, c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._loaded(row, reminder_from) for row in self._session.execute(query, write=True)]

    def count_due(self, now: datetime) -> int:
        query = select(func.count()).select_from(self.table).where(self._due_where(now))
        return int(self._session.execute(query).scalar_one())

    def in_recipient_time(self, team_id: str) -> list[Reminder]:
        if unstorable(team_id):
            return []
        c = self.table.c
        query = (
            select(self.table)
            .where(c.team_id == team_id, c.local_time == LocalTime.RECIPIENT.value, c.active)
            .order_by(c.seq)
        )
        tracker = self._session.tracker
        return [
            self._loaded(row, reminder_from)
            for row in self._session.execute(query)
            if not tracker.is_removed(Reminder, row.id)
        ]


class SqlDeliveryRepository(SqlRepository):
    table = tables.deliveries

    def add(self, delivery: Delivery) -> None:
        self._session.tracker.added(delivery)

    def get(self, delivery_id: str) -> Delivery | None:
        return self._get(Delivery, delivery_id, delivery_from)

    def get_many(self, delivery_ids: Collection[str]) -> dict[str, Delivery]:
        return self._get_many(Delivery, delivery_ids, delivery_from)

    def remove(self, delivery: Delivery) -> None:
        self._session.tracker.removed(delivery)

    def _taken(self, query: Select[Any]) -> list[Delivery]:
        # Locked for this unit of work on PostgreSQL, skipping rows another worker holds, so workers
        # in several processes share the queue without waiting on each other; on SQLite the read
        # runs in the write transaction, which is the one writer at a time.
        locked = query.with_for_update(skip_locked=True)
        return [self._loaded(row, delivery_from) for row in self._session.execute(locked, write=True)]

    def claimable(self, now: datetime, *, limit: int) -> list[Delivery]:
        # One ordered range of the queue index per waiting status, merged here: with `status IN`
        # neither engine merges the two ranges in order, and both sorted every due row of a backlog.
        c = self.table.c
        due = [
            delivery
            for status in WAITING
            for delivery in self._taken(
                select(self.table)
                .where(c.status == status.value, c.next_attempt_at <= now)
                .order_by(c.next_attempt_at)
                .limit(limit)
            )
        ]
        return sorted(due, key=lambda delivery: delivery.next_attempt_at or now)[:limit]

    def expired_claims(self, now: datetime, *, limit: int) -> list[Delivery]:
        c = self.table.c
        return self._taken(
            select(self.table)
            .where(c.status == DeliveryStatus.SENDING.value, c.lease_expires_at <= now)
            .order_by(c.lease_expires_at)
            .limit(limit)
        )

    def finished_before(self, moment: datetime, *, limit: int) -> list[Delivery]:
        c = self.table.c
        query = (
            select(self.table)
            .where(c.created_at < moment, c.status.in_(_FINISHED))
            .order_by(c.created_at)
            .limit(limit)
        )
        return [self._loaded(row, delivery_from) for row in self._session.execute(query)]

    def queue_stats(self, now: datetime) -> QueueStats:
        c = self.table.c
        waiting = c.status.in_(_WAITING)
        row = tuple(
            self._session.execute(
                select(func.count(), func.min(c.next_attempt_at)).where(waiting, c.next_attempt_at <= now)
            ).one()
        )
        due, oldest = row[0], row[1]
        pending = self._session.execute(select(func.count()).where(waiting)).scalar_one()
        in_flight = self._session.execute(
            select(func.count()).where(c.status == DeliveryStatus.SENDING.value)
        ).scalar_one()
        return QueueStats(pending=int(pending), due=int(due), in_flight=int(in_flight), oldest_due_at=oldest)

    def follow_ups(self, parent_ids: Collection[str]) -> list[Delivery]:
        wanted = [parent_id for parent_id in set(parent_ids) if not unstorable(parent_id)]
        if not wanted:
            return []
        c = self.table.c
        query = select(self.table).where(c.parent_delivery_id.in_(wanted)).order_by(c.seq)
        tracker = self._session.tracker
        return [
            self._loaded(row, delivery_from)
            for row in self._session.execute(query)
            if not tracker.is_removed(Delivery, row.id)
        ]

    def hourly_counts(self, *, team_id: str, since: datetime) -> list[HourlyCount]:
        if unstorable(team_id):
            return []
        c = self.table.c
        due = tables.DELIVERY_DUE  # as the index reads it, so both engines range-scan that index
        hour = _HourOf(due)
        query = (
            select(hour.label("hour"), c.status, func.count().label("n"))
            .where(c.team_id == team_id, due >= since)
            .group_by(hour, c.status)
            .order_by(hour, c.status)
        )
        return [
            HourlyCount(hour=_utc_hour(row.hour), status=DeliveryStatus(row.status), count=int(row.n))
            for row in self._session.execute(query)
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
        if unstorable(team_id, owner_id, reminder_id, channel, recipient_id, person_id):
            return _nothing(limit, offset)
        c = self.table.c
        conditions = []
        if team_id is not None:
            conditions.append(c.team_id == team_id)
        if owner_id is not None:
            conditions.append(c.owner_id == owner_id)
        if reminder_id is not None:
            conditions.append(c.reminder_id == reminder_id)
        if status is not None:
            conditions.append(c.status == status.value)
        if channel is not None:
            conditions.append(c.channel == channel)
        if kind is not None:
            conditions.append(c.kind == kind.value)
        if recipient_id is not None:
            conditions.append(c.recipient_id == recipient_id)
        if person_id is not None:
            conditions.append(or_(c.owner_id == person_id, c.recipient_id == person_id))
        return self._page(conditions, delivery_from, limit=limit, offset=offset, newest_first=True)

    def count(self, *, status: DeliveryStatus | None = None) -> int:
        query = select(func.count()).select_from(self.table)
        if status is not None:
            query = query.where(self.table.c.status == status.value)
        return int(self._session.execute(query).scalar_one())


class _HourOf(FunctionElement[Any]):
    """The UTC hour that holds a moment column, written in each engine's own words (without bound
    parameters, so the same expression in SELECT and GROUP BY is one to PostgreSQL)."""

    inherit_cache = True


@compiles(_HourOf, "postgresql")
def _hour_on_postgresql(element: _HourOf, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date_trunc('hour', timezone('UTC', {compiler.process(element.clauses, **kw)}))"


@compiles(_HourOf, "sqlite")
def _hour_on_sqlite(element: _HourOf, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps moments as naive UTC text ("2026-01-05 08:59:59.000000"), which strftime reads.
    return f"strftime('%Y-%m-%d %H:00:00', {compiler.process(element.clauses, **kw)})"


def _utc_hour(value: datetime | str) -> datetime:
    """An hour as either engine answers it (naive UTC: a timestamp, or SQLite's text), aware."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class SqlLinkUseRepository(SqlRepository):
    table = tables.action_link_uses

    def add(self, use: LinkUse) -> None:
        self._session.tracker.added(use)

    def get(self, nonce: str) -> LinkUse | None:
        return self._get(LinkUse, nonce, link_use_from)

    def used_before(self, moment: datetime, *, limit: int) -> list[LinkUse]:
        c = self.table.c
        query = select(self.table).where(c.used_at < moment).order_by(c.seq).limit(limit)
        return [self._loaded(row, link_use_from) for row in self._session.execute(query)]

    def remove(self, use: LinkUse) -> None:
        self._session.tracker.removed(use)
