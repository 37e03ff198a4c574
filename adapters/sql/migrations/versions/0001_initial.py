"""The first schema: users, reminders and deliveries (the ledger and the delivery queue's columns).

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_DUE_WHERE = {
    "postgresql": "active AND next_run_at IS NOT NULL",
    "sqlite": "active = 1 AND next_run_at IS NOT NULL",
}


def _seq() -> sa.Column[int]:
    return sa.Column(
        "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


def _moment(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        _seq(),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _moment("created_at", nullable=False),
        _moment("updated_at", nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_users"),
        sa.UniqueConstraint("id", name="uq_users_id"),
    )
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.create_index("ix_users_active_seq", "users", ["active", "seq"])

    op.create_table(
        "reminders",
        _seq(),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("target", sa.Text()),
        sa.Column("time_of_day", sa.String(8), nullable=False),
        sa.Column("frequency", sa.String(16), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("weekdays", sa.JSON(), nullable=False),
        sa.Column("date", sa.Date()),
        sa.Column("active", sa.Boolean(), nullable=False),
        _moment("next_run_at"),
        _moment("last_run_at"),
        _moment("created_at", nullable=False),
        _moment("updated_at", nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_reminders"),
        sa.UniqueConstraint("id", name="uq_reminders_id"),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_reminders_owner_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_reminders_owner_id_seq", "reminders", ["owner_id", "seq"])
    op.create_index(
        "ix_reminders_due",
        "reminders",
        ["next_run_at", "id"],
        postgresql_where=sa.text(_DUE_WHERE["postgresql"]),
        sqlite_where=sa.text(_DUE_WHERE["sqlite"]),
    )

    op.create_table(
        "deliveries",
        _seq(),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("reminder_id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _moment("scheduled_for"),
        _moment("created_at", nullable=False),
        _moment("sent_at"),
        sa.Column("attempts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text()),
        _moment("claimed_at"),
        sa.Column("claimed_by", sa.String(200)),
        _moment("lease_expires_at"),
        _moment("next_attempt_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_deliveries"),
        sa.UniqueConstraint("id", name="uq_deliveries_id"),
        sa.UniqueConstraint("reminder_id", "scheduled_for", name="uq_deliveries_slot"),
    )
    op.create_index("ix_deliveries_reminder_id_seq", "deliveries", ["reminder_id", "seq"])
    op.create_index("ix_deliveries_status_seq", "deliveries", ["status", "seq"])
    op.create_index("ix_deliveries_channel_seq", "deliveries", ["channel", "seq"])
    op.create_index("ix_deliveries_queue", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_lease", "deliveries", ["status", "lease_expires_at"])


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("reminders")
    op.drop_table("users")
