"""SQL repositories of signing in to the web app: sessions and sign-in links, each found by the
SHA-256 of its token (unique) and by its user (indexed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select

from adapters.sql import tables
from adapters.sql.mapping import Row, sign_in_link_from, web_session_from
from adapters.sql.repositories import SqlRepository, unstorable
from domain.aggregate import Aggregate
from domain.sign_in_link import SignInLink
from domain.web_session import SESSION_IDLE, WebSession

A = TypeVar("A", bound=Aggregate)


class _TokenRepository(SqlRepository):
    _by_token_query: ClassVar[Select[Any] | None] = None

    def _by_token_hash(self, kind: type[A], token_hash: str, build: Callable[[Row], A]) -> A | None:
        if unstorable(token_hash):
            return None
        cls = type(self)
        if cls._by_token_query is None:  # one statement per table, compiled once
            cls._by_token_query = select(cls.table).where(cls.table.c.token_hash == bindparam("token_hash"))
        row = self._session.execute(cls._by_token_query, {"token_hash": token_hash}).first()
        if row is None or self._session.tracker.is_removed(kind, row.id):
            return None
        return self._loaded(row, build)

    def _of_user(self, user_id: str, live: ColumnElement[bool], build: Callable[[Row], A]) -> list[A]:
        if unstorable(user_id):
            return []
        c = self.table.c
        query = select(self.table).where(c.user_id == user_id, live).order_by(c.seq)
        return [self._loaded(row, build) for row in self._session.execute(query)]


class SqlWebSessionRepository(_TokenRepository):
    table = tables.web_sessions

    def add(self, session: WebSession) -> None:
        self._session.tracker.added(session)

    def get(self, session_id: str) -> WebSession | None:
        return self._get(WebSession, session_id, web_session_from)

    def get_by_token_hash(self, token_hash: str) -> WebSession | None:
        return self._by_token_hash(WebSession, token_hash, web_session_from)

    def live_for(self, user_id: str, now: datetime) -> list[WebSession]:
        c = self.table.c
        # WebSession.live, as a condition: not ended, not expired, used within SESSION_IDLE.
        live = and_(c.ended_at.is_(None), c.expires_at > now, c.last_seen_at > now - SESSION_IDLE)
        return self._of_user(user_id, live, web_session_from)

    def finished_before(self, moment: datetime, *, limit: int) -> list[WebSession]:
        c = self.table.c
        query = (
            select(self.table)
            .where(or_(c.expires_at < moment, c.ended_at < moment))
            .order_by(c.seq)
            .limit(limit)
        )
        return [self._loaded(row, web_session_from) for row in self._session.execute(query)]

    def remove(self, session: WebSession) -> None:
        self._session.tracker.removed(session)


class SqlSignInLinkRepository(_TokenRepository):
    table = tables.sign_in_links

    def add(self, link: SignInLink) -> None:
        self._session.tracker.added(link)

    def get_by_token_hash(self, token_hash: str) -> SignInLink | None:
        return self._by_token_hash(SignInLink, token_hash, sign_in_link_from)

    def count_live_for(self, user_id: str, now: datetime) -> int:
        if unstorable(user_id):
            return 0
        query = (
            select(func.count())
            .select_from(self.table)
            .where(self.table.c.user_id == user_id, self._live(now))
        )
        return int(self._session.execute(query).scalar_one())

    def live_for(self, user_id: str, now: datetime) -> list[SignInLink]:
        return self._of_user(user_id, self._live(now), sign_in_link_from)

    def expired_before(self, moment: datetime, *, limit: int) -> list[SignInLink]:
        c = self.table.c
        query = select(self.table).where(c.expires_at < moment).order_by(c.expires_at, c.seq).limit(limit)
        return [self._loaded(row, sign_in_link_from) for row in self._session.execute(query)]

    def remove(self, link: SignInLink) -> None:
        self._session.tracker.removed(link)

    def _live(self, now: datetime) -> ColumnElement[bool]:
        # SignInLink.live, as a condition: unused and unexpired.
        c = self.table.c
        return and_(c.used_at.is_(None), c.expires_at > now)
