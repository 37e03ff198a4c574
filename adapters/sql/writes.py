"""A unit of work's commit as SQL: one statement per changed aggregate, each checked, in one transaction.

Deletes go first (so a given-up email or slot is free for the rest of the batch), then updates and
inserts, users before reminders. Every update and delete names the version it read; no row
matched means someone else changed or deleted it. A unique or foreign-key violation is translated
by the table it happened on into the same domain error the in-memory store raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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
from adapters.sql.mapping import table_of, to_row
from adapters.tracking import Write
from domain.errors import Conflict, DuplicateEmail, DuplicateOccurrence, NotFound, StaleVersion

_ORDER = {tables.users.name: 0, tables.reminders.name: 1, tables.deliveries.name: 2}
# What the domain calls a row of each table, in errors.
_KIND = {tables.users.name: "user", tables.reminders.name: "reminder", tables.deliveries.name: "delivery"}


def apply_writes(connection: Connection, writes: Iterable[Write]) -> None:
    ordered = sorted(writes, key=_position)
    for write in ordered:
        _apply(connection, write)


def _position(write: Write) -> tuple[bool, int]:
    rank = _ORDER[table_of(write.aggregate).name]
    return (not write.delete, -rank if write.delete else rank)


def bump_versions(writes: Iterable[Write]) -> None:
    """After the commit: each written aggregate now has the version the database holds."""
    for write in writes:
        if not write.delete:
            write.aggregate.version = (write.expected_version or 0) + 1


@dataclass(frozen=True, slots=True)
class _Statements:
    """Built once per table and reused, so SQLAlchemy compiles each statement once, not per write."""

    insert: Insert
    update: Update
    delete: Delete

    @classmethod
    def of(cls, table: Table) -> _Statements:
        matching = and_(table.c.id == bindparam("match_id"), table.c.version == bindparam("match_version"))
        values: dict[str, Any] = {
            column.name: bindparam(f"v_{column.name}") for column in table.c if column.name != "seq"
        }
        return cls(insert(table), update(table).where(matching).values(values), delete(table).where(matching))


_STATEMENTS = {table.name: _Statements.of(table) for table in tables.metadata.sorted_tables}


def _apply(connection: Connection, write: Write) -> None:
    aggregate = write.aggregate
    table = table_of(aggregate)
    statements = _STATEMENTS[table.name]
    entity_id: str = aggregate.id  # type: ignore[attr-defined]
    matching = {"match_id": entity_id, "match_version": write.expected_version}
    if write.delete:
        if connection.execute(statements.delete, matching).rowcount != 1:
            _explain_missing_row(connection, table, entity_id)
        return
    row = to_row(aggregate)
    row["version"] = (write.expected_version or 0) + 1
    try:
        if write.expected_version is None:
            connection.execute(statements.insert, row)
            return
        values = {f"v_{name}": value for name, value in row.items()}
        result = connection.execute(statements.update, {**values, **matching})
    except IntegrityError as error:
        raise _translate(table, aggregate, error) from None
    if result.rowcount != 1:
        _explain_missing_row(connection, table, entity_id)


def _explain_missing_row(connection: Connection, table: Table, entity_id: str) -> None:
    kind = _KIND[table.name]
    exists = connection.execute(select(table.c.version).where(table.c.id == entity_id)).first()
    if exists is None:
        raise NotFound(kind, entity_id)
    raise StaleVersion(kind, entity_id)


def _translate(table: Table, aggregate: object, error: IntegrityError) -> Exception:
    text = str(error.orig)
    # SQLite names an expression index; PostgreSQL names every constraint.
    if table is tables.users and "uq_users_email_lower" in text:
        return DuplicateEmail()
    if table is tables.reminders and "foreign" in text.lower():
        return NotFound("user", aggregate.owner_id)  # type: ignore[attr-defined]
    if table is tables.deliveries and ("uq_deliveries_slot" in text or "deliveries.scheduled_for" in text):
        return DuplicateOccurrence(aggregate.reminder_id)  # type: ignore[attr-defined]
    kind = _KIND[table.name]
    return Conflict(f"{kind} {aggregate.id!r} already exists")  # type: ignore[attr-defined]
