"""Calendar rules, recipients, quiet hours, follow-ups and single-use action links.

Reminders gain the rule-based schedule's fields (`rrule`, `cron`, `starts_on`, `ends_on`,
`skip_dates`; `time_of_day` is empty for a cron schedule), who they reach (`recipients`, every
existing one its owner) and in whose time (`local_time`, every existing one the reminder's own),
`repeat_until_ack` and `fired_through`. Users gain quiet hours and `active_since` (for existing
users, when they were created). Each team gets its own secret for signing action links.

Deliveries gain their `kind` (an existing one is `manual` when it had no slot, else `scheduled`),
the follow-up fields and the quiet-hours deferral. The ledger's rule becomes one scheduled delivery
per reminder, recipient and slot: a partial unique index on an expression, which both engines
enforce; follow-ups carry their due time in `scheduled_for` and are not in it. Used action links
are recorded in `action_link_uses`, whose unique id (the link's nonce) makes a link work once.

SQLite cannot reflect an expression index, so its batch mode (which copies a table to alter it)
would lose one: the ledger's index is created after the last copy of `deliveries`, and dropped
before the first on the way down.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_LEDGER_WHERE = "kind = 'scheduled'"


def _seq() -> sa.Column[int]:
    return sa.Column(
        "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


def _moment(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


@contextmanager
def _expression_index_not_reflected() -> Iterator[None]:
    """SQLite's batch mode copies a table by reflecting it and the tables it refers to; SQLAlchemy
    cannot reflect the users' lower(email) index and says so. The users table is copied only
    while that index is dropped, so nothing of it is lost: the warning is noise."""
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
    bind = op.get_bind()
    _teams_get_link_secrets(bind)

    # Adding a nullable column alters the table in place on SQLite too: users are not copied.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("quiet_hours", sa.JSON()))
        batch.add_column(_moment("active_since"))
    op.execute("UPDATE users SET active_since = created_at")

    with op.batch_alter_table("reminders") as batch:
        batch.add_column(sa.Column("rrule", sa.Text()))
        batch.add_column(sa.Column("cron", sa.String(200)))
        batch.add_column(sa.Column("starts_on", sa.Date()))
        batch.add_column(sa.Column("ends_on", sa.Date()))
        batch.add_column(sa.Column("skip_dates", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("recipients", sa.JSON(), nullable=False, server_default='"owner"'))
        batch.add_column(sa.Column("local_time", sa.String(16), nullable=False, server_default="reminder"))
        batch.add_column(sa.Column("repeat_until_ack", sa.JSON()))
        batch.add_column(_moment("fired_through"))
        batch.add_column(_moment("last_alert_at"))
        batch.add_column(sa.Column("sent_on", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("reminders") as batch:
        batch.alter_column("time_of_day", existing_type=sa.String(8), nullable=True)
        batch.alter_column("skip_dates", existing_type=sa.JSON(), server_default=None)
        batch.alter_column("recipients", existing_type=sa.JSON(), server_default=None)
        batch.alter_column("local_time", existing_type=sa.String(16), server_default=None)
    op.create_index("ix_reminders_team_id_local_time", "reminders", ["team_id", "local_time"])

    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("kind", sa.String(16)))
        batch.add_column(sa.Column("parent_delivery_id", sa.String(32)))
        batch.add_column(sa.Column("recipient_id", sa.String(32)))
        batch.add_column(_moment("acknowledged_at"))
        batch.add_column(sa.Column("acknowledged_by", sa.String(32)))
        batch.add_column(_moment("deferred_until"))
        batch.add_column(sa.Column("reason", sa.String(32)))
    op.execute(
        "UPDATE deliveries SET kind = CASE WHEN scheduled_for IS NULL THEN 'manual' ELSE 'scheduled' END"
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("kind", existing_type=sa.String(16), nullable=False)
        batch.drop_constraint("uq_deliveries_slot", type_="unique")
    op.create_index("ix_deliveries_parent", "deliveries", ["parent_delivery_id"])
    op.create_index("ix_deliveries_recipient_id_seq", "deliveries", ["recipient_id", "seq"])
    # After the last copy of deliveries (see the module's docstring).
    op.create_index(
        "uq_deliveries_ledger",
        "deliveries",
        [sa.text("reminder_id"), sa.text("COALESCE(recipient_id, '')"), sa.text("scheduled_for")],
        unique=True,
        postgresql_where=sa.text(_LEDGER_WHERE),
        sqlite_where=sa.text(_LEDGER_WHERE),
    )

    op.create_table(
        "action_link_uses",
        _seq(),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        _moment("used_at", nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_action_link_uses"),
        sa.UniqueConstraint("id", name="uq_action_link_uses_id"),
    )


def _teams_get_link_secrets(bind: sa.Connection) -> None:
    """Every team its own secret, made here: one shared default would let one team forge another's links."""
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("link_secret", sa.Text()))
    teams = sa.table("teams", sa.column("id", sa.String(32)), sa.column("link_secret", sa.Text()))
    team_ids = bind.execute(sa.select(teams.c.id)).scalars().all()
    if team_ids:
        bind.execute(
            sa.update(teams)
            .where(teams.c.id == sa.bindparam("team_id"))
            .values(link_secret=sa.bindparam("secret")),
            [{"team_id": team_id, "secret": secrets.token_urlsafe(32)} for team_id in team_ids],
        )
    with op.batch_alter_table("teams") as batch:
        batch.alter_column("link_secret", existing_type=sa.Text(), nullable=False)


def _downgrade() -> None:
    """The release before this one knows neither deferred deliveries nor follow-ups, and held one
    delivery per reminder and slot: a deferred delivery is pending again (due when it was to be
    sent), and a follow-up keeps its due time as its next attempt but no slot. A store that holds
    a cron reminder (which has no time of day) or several recipients' deliveries for one slot cannot
    go back: the downgrade fails there and changes nothing, rather than lose them."""
    bind = op.get_bind()
    rule_based = bind.execute(sa.text("SELECT count(*) FROM reminders WHERE frequency IN ('rrule', 'cron')"))
    if count := rule_based.scalar_one():
        raise RuntimeError(
            f"{count} reminders have an rrule or cron schedule, which the previous release cannot read: "
            "delete them (or change their schedule) before going back"
        )
    op.drop_table("action_link_uses")

    op.drop_index("uq_deliveries_ledger", table_name="deliveries")
    op.drop_index("ix_deliveries_recipient_id_seq", table_name="deliveries")
    op.drop_index("ix_deliveries_parent", table_name="deliveries")
    op.execute("UPDATE deliveries SET status = 'pending' WHERE status = 'deferred'")
    op.execute("UPDATE deliveries SET scheduled_for = NULL WHERE kind NOT IN ('scheduled', 'manual')")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("reason")
        batch.drop_column("deferred_until")
        batch.drop_column("acknowledged_by")
        batch.drop_column("acknowledged_at")
        batch.drop_column("recipient_id")
        batch.drop_column("parent_delivery_id")
        batch.drop_column("kind")
        batch.create_unique_constraint("uq_deliveries_slot", ["reminder_id", "scheduled_for"])

    op.drop_index("ix_reminders_team_id_local_time", table_name="reminders")
    with op.batch_alter_table("reminders") as batch:
        batch.drop_column("sent_on")
        batch.drop_column("last_alert_at")
        batch.drop_column("fired_through")
        batch.drop_column("repeat_until_ack")
        batch.drop_column("local_time")
        batch.drop_column("recipients")
        batch.drop_column("skip_dates")
        batch.drop_column("ends_on")
        batch.drop_column("starts_on")
        batch.drop_column("cron")
        batch.drop_column("rrule")
        batch.alter_column("time_of_day", existing_type=sa.String(8), nullable=False)

    # Dropping a column copies the table on SQLite, which would lose the expression index.
    op.drop_index("uq_users_team_id_email_lower", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("active_since")
        batch.drop_column("quiet_hours")
    op.create_index(
        "uq_users_team_id_email_lower", "users", [sa.text("team_id"), sa.text("lower(email)")], unique=True
    )

    with op.batch_alter_table("teams") as batch:
        batch.drop_column("link_secret")
