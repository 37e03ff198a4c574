"""Web app sessions and emailed sign-in links.

`web_sessions` holds each signed-in browser's session and `sign_in_links` the one-time links sent by
email; both keep only the SHA-256 of their token (unique), refer to their user (deleted with them),
and are indexed for retention by when they expire (and sessions by when they ended). A session
names the API key it began with (`key_id`, NULL for one begun with a link): revoking the key ends it.
Users get an index on their email, which is stored lower-cased: signing in by email looks it up in
every team. Deliveries get an index on their team and the moment they were due, for the status page's chart.

The due index is on an expression, which SQLite cannot reflect: a later revision that copies
`deliveries` in batch mode must drop it first and create it again after (as 0005 does the ledger's).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _seq() -> sa.Column[int]:
    return sa.Column(
        "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


def _moment(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user_id(table: str) -> sa.Column[str]:
    return sa.Column(
        "user_id",
        sa.String(32),
        sa.ForeignKey("users.id", name=f"fk_{table}_user_id_users", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        _seq(),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _user_id("web_sessions"),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=True),
        _moment("created_at", nullable=False),
        _moment("expires_at", nullable=False),
        _moment("last_seen_at", nullable=False),
        _moment("ended_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_web_sessions"),
        sa.UniqueConstraint("id", name="uq_web_sessions_id"),
        sa.UniqueConstraint("token_hash", name="uq_web_sessions_token_hash"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    op.create_index("ix_web_sessions_ended_at", "web_sessions", ["ended_at"])

    op.create_table(
        "sign_in_links",
        _seq(),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _user_id("sign_in_links"),
        sa.Column("team_id", sa.String(32), nullable=False),
        _moment("created_at", nullable=False),
        _moment("expires_at", nullable=False),
        _moment("used_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_sign_in_links"),
        sa.UniqueConstraint("id", name="uq_sign_in_links_id"),
        sa.UniqueConstraint("token_hash", name="uq_sign_in_links_token_hash"),
    )
    op.create_index("ix_sign_in_links_user_id", "sign_in_links", ["user_id"])
    op.create_index("ix_sign_in_links_expires_at", "sign_in_links", ["expires_at"])

    op.create_index("ix_users_email", "users", ["email"])
    op.create_index(
        "ix_deliveries_team_id_due",
        "deliveries",
        [sa.text("team_id"), sa.text("COALESCE(scheduled_for, created_at)")],
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_team_id_due", table_name="deliveries")
    op.drop_index("ix_users_email", table_name="users")
    op.drop_table("sign_in_links")
    op.drop_table("web_sessions")
