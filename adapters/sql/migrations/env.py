"""Alembic's environment: migrations run on the connection `adapters.sql.schema` hands over, inside
its transaction (and, on PostgreSQL, under its advisory lock)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from adapters.sql.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("migrations run through `reminders migrate`, which provides the connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters a table by copying it; batch mode writes that for us
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
