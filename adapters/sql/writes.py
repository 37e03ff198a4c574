"""A unit of work's commit as SQL: every changed aggregate written and checked, in one transaction.

Deletes go first (so a given-up email or slot is free for the rest of the batch), then updates and
inserts, users before what refers to them. An action link's use is an insert whose unique id (the
link's nonce) refuses a second use as Conflict. Every update and delete names the version it read;
no row matched means someone else changed or deleted it. A unique or foreign-key violation is
translated by the table it happened on into the same domain error the in-memory store raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import (
    Connection,
    Delete,
    Insert,
    Table,
    Update,
    and_,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from adapters.sql import tables
from adapters.sql.mapping import columns_of, table_of, to_row
from adapters.tracking import Write
from domain.errors import Conflict, DuplicateEmail, DuplicateOccurrence, NotFound, StaleVersion

_ORDER = {
    table.name: rank
    for rank, table in enumerate(
        [
            tables.teams,
            tables.users,
            tables.api_keys,
            tables.web_sessions,
            tables.sign_in_links,
            tables.reminders,
            tables.deliveries,
            tables.action_link_uses,
            tables.audit_entries,
        ]
    )
}
# What the domain calls a row of each table, in errors.
_KIND = {
    tables.teams.name: "team",
    tables.users.name: "user",
    tables.api_keys.name: "key",
    tables.reminders.name: "reminder",
    tables.deliveries.name: "delivery",
    tables.action_link_uses.name: "link use",
    tables.web_sessions.name: "web session",
    tables.sign_in_links.name: "sign-in link",
    tables.audit_entries.name: "audit entry",
}


def apply_writes(connection: Connection, writes: Iterable[Write]) -> None:
    """Each run of same-kind writes to one table is one `executemany`: a tick's thousand updates and
    inserts cost a few round trips, not two thousand."""
    ordered = sorted(writes, key=_position)
    for (table_name, action, columns), run in groupby(ordered, key=_run_key):
        _apply_run(connection, tables.metadata.tables[table_name], action, list(run), columns)


def _position(write: Write) -> tuple[bool, int, bool, tuple[str, ...]]:
    rank = _ORDER[table_of(write.aggregate).name]
    # Deletes first, children before parents; then updates before inserts, parents before children;
    # updates of the same columns together.
    return (
        not write.delete,
        -rank if write.delete else rank,
        write.expected_version is None,
        _columns(write),
    )


def _run_key(write: Write) -> tuple[str, str, tuple[str, ...]]:
    action = "delete" if write.delete else "insert" if write.expected_version is None else "update"
    return table_of(write.aggregate).name, action, _columns(write)


def _columns(write: Write) -> tuple[str, ...]:
    """The columns an update writes: those of the fields it changed (a claim or an outcome touches
    a few of a delivery's eighteen, and rewriting its attempts as JSON each time showed up)."""
    return columns_of(write.changed) if write.changed else ()


def bump_versions(writes: Iterable[Write]) -> None:
    """After the commit: each written aggregate now has the version the database holds."""
    for write in writes:
        if not write.delete:
            write.aggregate.version = (write.expected_version or 0) + 1


@dataclass(frozen=True, slots=True)
class _Statements:
    """Built once per table and reused, so SQLAlchemy compiles each statement once, not per write."""

    table: Table
    insert: Insert
    delete: Delete
    updates: dict[tuple[str, ...], Update]

    @classmethod
    def of(cls, table: Table) -> _Statements:
        return cls(table, insert(table), delete(table).where(cls._matching(table)), {})

    @staticmethod
    def _matching(table: Table) -> Any:
        return and_(table.c.id == bindparam("match_id"), table.c.version == bindparam("match_version"))

    def update(self, columns: tuple[str, ...]) -> Update:
        """The update of those columns (every column but `seq` when none are named), built once."""
        statement = self.updates.get(columns)
        if statement is None:
            names = columns or tuple(column.name for column in self.table.c if column.name != "seq")
            values: dict[str, Any] = {name: bindparam(f"v_{name}") for name in names}
            statement = self.updates[columns] = (
                update(self.table).where(self._matching(self.table)).values(values)
            )
        return statement


_STATEMENTS = {table.name: _Statements.of(table) for table in tables.metadata.sorted_tables}


def _apply_run(
    connection: Connection, table: Table, action: str, run: list[Write], columns: tuple[str, ...]
) -> None:
    statements = _STATEMENTS[table.name]
    matching = [{"match_id": _id_of(write), "match_version": write.expected_version} for write in run]
    if action == "delete":
        _expect_every_row(connection, table, run, connection.execute(statements.delete, matching).rowcount)
        return
    rows = []
    for write in run:
        row = to_row(write.aggregate)
        row["version"] = (write.expected_version or 0) + 1
        rows.append(row)
    try:
        if action == "insert":
            connection.execute(statements.insert, rows)
            return
        names = columns or tuple(rows[0])
        values = [
            {f"v_{name}": row[name] for name in names} | match
            for row, match in zip(rows, matching, strict=True)
        ]
        result = connection.execute(statements.update(columns), values)
    except IntegrityError as error:
        raise _translate(table, run, error) from None
    _expect_every_row(connection, table, run, result.rowcount)


def _id_of(write: Write) -> str:
    entity_id: str = write.aggregate.id  # type: ignore[attr-defined]
    return entity_id


def _expect_every_row(connection: Connection, table: Table, run: list[Write], matched: int) -> None:
    """Every update or delete matched its row at the version read; else say which did not and why."""
    if matched == len(run):
        return
    ids = [_id_of(write) for write in run]
    found = dict(connection.execute(select(table.c.id, table.c.version).where(table.c.id.in_(ids))).all())
    kind = _KIND[table.name]
    for write in run:
        now_at = found.get(_id_of(write))
        if write.delete:
            if now_at is not None:
                raise StaleVersion(kind, _id_of(write))
        elif now_at is None:
            raise NotFound(kind, _id_of(write))
        elif now_at != (write.expected_version or 0) + 1:
            raise StaleVersion(kind, _id_of(write))
    if run[0].delete:
        raise NotFound(kind, ids[0])  # one was gone before this delete reached it
    raise StaleVersion(kind, ids[0])  # another writer left the same version behind: still refused


def _translate(table: Table, run: list[Write], error: IntegrityError) -> Exception:
    text = str(error.orig)
    aggregate = _culprit(run, text)
    # SQLite names an expression index; PostgreSQL names every constraint.
    if table is tables.users and "uq_users_team_id_email_lower" in text:
        return DuplicateEmail()
    if table is tables.users and "foreign" in text.lower():
        return NotFound("team", aggregate.team_id)  # type: ignore[attr-defined]
    if table is tables.api_keys and "foreign" in text.lower():
        return NotFound("user", aggregate.user_id)  # type: ignore[attr-defined]
    if table is tables.reminders and "foreign" in text.lower():
        return NotFound("user", aggregate.owner_id)  # type: ignore[attr-defined]
    if table is tables.deliveries and "uq_deliveries_ledger" in text:
        return DuplicateOccurrence(aggregate.reminder_id)  # type: ignore[attr-defined]
    kind = _KIND[table.name]
    if table in (tables.web_sessions, tables.sign_in_links):
        if "foreign" in text.lower():
            return NotFound("user", aggregate.user_id)  # type: ignore[attr-defined]
        if "token_hash" in text:
            return Conflict(f"a {kind} with this token already exists")
    return Conflict(f"{kind} {aggregate.id!r} already exists")  # type: ignore[attr-defined]


_REFERENCES = ("reminder_id", "owner_id", "team_id", "user_id")


def _culprit(run: list[Write], text: str) -> object:
    """The write an integrity error names (PostgreSQL quotes the key); the first when it does not."""
    key = re.search(r"=\((\w+)", text)
    for write in run:
        aggregate = write.aggregate
        named = {getattr(aggregate, name, None) for name in _REFERENCES} | {_id_of(write)}
        if key is not None and key.group(1) in named:
            return aggregate
    return run[0].aggregate
