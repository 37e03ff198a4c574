"""When a delivery's first attempt began, and how a sent delivery left (`via`).

Lateness is measured from the first attempt's start, not from when the outcome was recorded, so a
receiver slow to answer no longer makes a delivery look late. Deliveries already attempted get both
from their attempt log: the start of the first attempt and, for a sent one, the `via` of its last
attempt (null in logs written before this revision, which did not tell a logged email apart).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("first_attempt_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("via", sa.String(50)))
    _from_the_attempt_log(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("via")
        batch.drop_column("first_attempt_at")


def _from_the_attempt_log(bind: sa.Connection) -> None:
    """Fill both columns from each delivery's attempt log, a batch at a time.

    Done in Python rather than SQL because the log is JSON, read differently by each engine.
    """
    deliveries = sa.table(
        "deliveries",
        sa.column("seq", sa.BigInteger()),
        sa.column("status", sa.String(16)),
        sa.column("attempts", sa.JSON()),
        sa.column("first_attempt_at", sa.DateTime(timezone=True)),
        sa.column("via", sa.String(50)),
    )
    read = (
        sa.select(deliveries.c.seq, deliveries.c.status, deliveries.c.attempts)
        .where(deliveries.c.seq > sa.bindparam("after"))
        .order_by(deliveries.c.seq)
        .limit(_BATCH)
    )
    write = (
        sa.update(deliveries)
        .where(deliveries.c.seq == sa.bindparam("row_seq"))
        .values(first_attempt_at=sa.bindparam("started_at"), via=sa.bindparam("went_via"))
    )
    naive = bind.dialect.name == "sqlite"  # stored as naive UTC there, as the tables' UtcDateTime does
    after = 0
    while rows := bind.execute(read, {"after": after}).all():
        after = rows[-1].seq
        found = [
            {
                "row_seq": row.seq,
                "started_at": _utc(row.attempts[0]["started_at"], naive=naive),
                "went_via": row.attempts[-1].get("via") if row.status == "sent" else None,
            }
            for row in rows
            if row.attempts
        ]
        if found:
            bind.execute(write, found)


def _utc(text: Any, *, naive: bool) -> datetime:
    moment = datetime.fromisoformat(str(text)).astimezone(UTC)
    return moment.replace(tzinfo=None) if naive else moment
