"""Teams, API keys and the audit trail.

Every user now belongs to a team and has a role and a time zone; emails are unique within a team.
A database that already holds users gets one team, `default`, holding all of them as members; on
its next start the service adds an admin to it and prints that admin's key once. Reminders and
deliveries carry their team (and deliveries their owner) so every list is scoped by one index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

DEFAULT_TEAM_ID = "default"


def _seq() -> sa.Column[int]:
    return sa.Column(
        "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


def _moment(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


@contextmanager
def _expression_index_not_reflected() -> Iterator[None]:
    """SQLite's batch mode copies a table by reflecting it, and the tables it refers to; SQLAlchemy
    cannot reflect the users' lower(email) index and says so. Only the reminders table is copied
    while that index exists, so nothing of it is lost: the warning is noise."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="Skipped unsupported reflection of expression-based index uq_users_team_id_email_lower",
        )
        yield


def upgrade() -> None:
    with _expression_index_not_reflected():
        _upgrade()


def downgrade() -> None:
    with _expression_index_not_reflected():
        _downgrade()


def _upgrade() -> None:
    op.create_table(
        "teams",
        _seq(),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        _moment("created_at", nullable=False),
        _moment("updated_at", nullable=False),
        sa.Column("webhook_secret", sa.Text(), nullable=False),
        sa.Column("previous_webhook_secret", sa.Text()),
        _moment("previous_secret_expires_at"),
        sa.Column("roster", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_teams"),
        sa.UniqueConstraint("id", name="uq_teams_id"),
    )
    bind = op.get_bind()
    has_users = bind.execute(sa.text("SELECT 1 FROM users LIMIT 1")).first() is not None
    if has_users:
        _default_team(bind)

    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_index("ix_users_active_seq", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("team_id", sa.String(32)))
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="member"))
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"))
    op.execute(f"UPDATE users SET team_id = '{DEFAULT_TEAM_ID}'")  # noqa: S608 - a constant
    with op.batch_alter_table("users") as batch:
        batch.alter_column("team_id", existing_type=sa.String(32), nullable=False)
        batch.alter_column("role", existing_type=sa.String(16), server_default=None)
        batch.alter_column("timezone", existing_type=sa.String(64), server_default=None)
        batch.create_foreign_key("fk_users_team_id_teams", "teams", ["team_id"], ["id"])
    op.create_index(
        "uq_users_team_id_email_lower", "users", [sa.text("team_id"), sa.text("lower(email)")], unique=True
    )
    op.create_index("ix_users_team_id_seq", "users", ["team_id", "seq"])

    with op.batch_alter_table("reminders") as batch:
        batch.add_column(sa.Column("team_id", sa.String(32), nullable=False, server_default=DEFAULT_TEAM_ID))
    with op.batch_alter_table("reminders") as batch:
        batch.alter_column("team_id", existing_type=sa.String(32), server_default=None)

    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("team_id", sa.String(32), nullable=False, server_default=DEFAULT_TEAM_ID))
        batch.add_column(sa.Column("owner_id", sa.String(32)))
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("team_id", existing_type=sa.String(32), server_default=None)
    op.execute(
        "UPDATE deliveries SET owner_id = "
        "(SELECT reminders.owner_id FROM reminders WHERE reminders.id = deliveries.reminder_id)"
    )
    op.create_index("ix_deliveries_team_id_seq", "deliveries", ["team_id", "seq"])
    op.create_index("ix_deliveries_owner_id_seq", "deliveries", ["owner_id", "seq"])

    op.create_table(
        "api_keys",
        _seq(),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        _moment("created_at", nullable=False),
        _moment("last_used_at"),
        _moment("revoked_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_api_keys"),
        sa.UniqueConstraint("id", name="uq_api_keys_id"),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_keys_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_api_keys_user_id_seq", "api_keys", ["user_id", "seq"])

    op.create_table(
        "audit_entries",
        _seq(),
        sa.Column("id", sa.String(32), nullable=False),
        _moment("at", nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("actor_user_id", sa.String(32)),
        sa.Column("actor_key_id", sa.String(32)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(128)),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entries"),
        sa.UniqueConstraint("id", name="uq_audit_entries_id"),
    )
    op.create_index("ix_audit_entries_team_id_seq", "audit_entries", ["team_id", "seq"])


def _default_team(bind: sa.Connection) -> None:
    now = datetime.now(UTC)
    naive = bind.dialect.name == "sqlite"  # stored as naive UTC there, as the tables' UtcDateTime does
    moment = now.replace(tzinfo=None) if naive else now
    bind.execute(
        sa.text(
            "INSERT INTO teams (id, name, created_at, updated_at, webhook_secret, roster, version) "
            "VALUES (:id, 'default', :now, :now, :secret, 0, 1)"
        ),
        {"id": DEFAULT_TEAM_ID, "now": moment, "secret": secrets.token_urlsafe(32)},
    )


def _downgrade() -> None:
    op.drop_index("ix_audit_entries_team_id_seq", table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_index("ix_api_keys_user_id_seq", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_index("ix_deliveries_owner_id_seq", table_name="deliveries")
    op.drop_index("ix_deliveries_team_id_seq", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("owner_id")
        batch.drop_column("team_id")
    with op.batch_alter_table("reminders") as batch:
        batch.drop_column("team_id")
    op.drop_index("ix_users_team_id_seq", table_name="users")
    op.drop_index("uq_users_team_id_email_lower", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("fk_users_team_id_teams", type_="foreignkey")
        batch.drop_column("timezone")
        batch.drop_column("role")
        batch.drop_column("team_id")
    # Emails were unique across the whole store before teams; a downgrade with the same address in
    # two teams fails here, rather than lose one of them.
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.create_index("ix_users_active_seq", "users", ["active", "seq"])
    op.drop_table("teams")
