"""The SQL schema, as SQLAlchemy Core tables: the one description the migrations are checked against.

Every table has `seq`, an ever-growing integer, because pages come in creation order and random ids
and equal timestamps cannot give one. The ledger's rule is a unique index (one scheduled delivery per
reminder, recipient and slot); unique emails are a unique index on the lower-cased address; the
scheduler's due query reads a partial index of active reminders by `(next_run_at, id)`. Deliveries
keep no foreign key to reminders: their history outlives a deleted reminder.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    func,
    text,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out: `timestamptz` on PostgreSQL, naive UTC text on SQLite.

    SQLite's text form sorts in time order, so comparisons and indexes work on both engines.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("only timezone-aware datetimes are stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _seq() -> Column[int]:
    # SQLite numbers rows only through an INTEGER PRIMARY KEY, so seq is the key and id a unique column.
    return Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)


teams = Table(
    "teams",
    metadata,
    _seq(),
    Column("id", String(32), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("webhook_secret", Text, nullable=False),
    Column("previous_webhook_secret", Text),
    Column("previous_secret_expires_at", UtcDateTime),
    Column("roster", Integer, nullable=False, server_default="0"),
    # Signs the action links in the team's messages.
    Column("link_secret", Text, nullable=False),
    Column("version", Integer, nullable=False),
)

users = Table(
    "users",
    metadata,
    _seq(),
    Column("id", String(32), nullable=False, unique=True),
    Column("team_id", String(32), ForeignKey("teams.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # {"start": "22:00", "end": "07:00", "weekdays": [0, ...]}; NULL: no quiet hours.
    Column("quiet_hours", JSON(none_as_null=True)),
    Column("active_since", UtcDateTime),
    Column("version", Integer, nullable=False),
)
# Emails are unique within a team: the same person may belong to two teams with one address.
Index("uq_users_team_id_email_lower", users.c.team_id, func.lower(users.c.email), unique=True)
Index("ix_users_team_id_seq", users.c.team_id, users.c.seq)
# Signing in by email finds the address in every team; emails are stored lower-cased.
Index("ix_users_email", users.c.email)

api_keys = Table(
    "api_keys",
    metadata,
    _seq(),
    Column("id", String(32), nullable=False, unique=True),
    Column("team_id", String(32), nullable=False),
    # Deleting a user deletes their keys in the same transaction.
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    Column("version", Integer, nullable=False),
)
Index("ix_api_keys_user_id_seq", api_keys.c.user_id, api_keys.c.seq)

# Only ever inserted: no statement of the service updates or deletes an entry.
audit_entries = Table(
    "audit_entries",
    metadata,
    _seq(),
    Column("id", String(32), nullable=False, unique=True),
    Column("at", UtcDateTime, nullable=False),
    Column("team_id", String(32), nullable=False),
    Column("actor_user_id", String(32)),
    Column("actor_key_id", String(32)),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=False),
    Column("target_id", String(32), nullable=False),
    Column("request_id", String(128)),
    Column("changes", JSON, nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_audit_entries_team_id_seq", audit_entries.c.team_id, audit_entries.c.seq)

reminders = Table(
    "reminders",
    metadata,
    _seq(),
    Column("id", String(32), nullable=False, unique=True),
    Column("team_id", String(32), nullable=False),
    # Deleting a user deletes their reminders in the same transaction.
    Column("owner_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("channel", String(50), nullable=False),
    Column("target", Text),
    # The schedule: NULL time_of_day for a cron schedule, whose expression names the time.
    Column("time_of_day", String(8)),
    Column("frequency", String(16), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("weekdays", JSON, nullable=False),
    Column("date", Date),
    Column("rrule", Text),
    Column("cron", String(200)),
    Column("starts_on", Date),
    Column("ends_on", Date),
    Column("skip_dates", JSON, nullable=False),  # ISO dates
    # Who the reminder reaches: "owner", "team", or a list of user ids.
    Column("recipients", JSON, nullable=False),
    Column("local_time", String(16), nullable=False),
    Column("repeat_until_ack", JSON(none_as_null=True)),
    Column("active", Boolean, nullable=False),
    Column("next_run_at", UtcDateTime),
    Column("last_run_at", UtcDateTime),
    Column("fired_through", UtcDateTime),
    # When the owner was last told a delivery failed: at most once a day.
    Column("last_alert_at", UtcDateTime),
    # Each recipient's own time, after an edit: {user id: local date already sent on}.
    Column("sent_on", JSON, nullable=False, server_default="{}"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_reminders_owner_id_seq", reminders.c.owner_id, reminders.c.seq)
# A member who joins or moves is planned into the team's reminders in each recipient's own time.
Index("ix_reminders_team_id_local_time", reminders.c.team_id, reminders.c.local_time)
# Only rows that can come due: the scheduler's query stays as cheap with a million paused reminders.
# Each engine's predicate is written as that engine renders the due query's, so its planner sees the
# query implies it (SQLite has no booleans: SQLAlchemy writes `active = 1` there).
DUE_INDEX_WHERE = {
    "postgresql": "active AND next_run_at IS NOT NULL",
    "sqlite": "active = 1 AND next_run_at IS NOT NULL",
}
Index(
    "ix_reminders_due",
    reminders.c.next_run_at,
    reminders.c.id,
    postgresql_where=text(DUE_INDEX_WHERE["postgresql"]),
    sqlite_where=text(DUE_INDEX_WHERE["sqlite"]),
)

deliveries = Table(
    "deliveries",
    metadata,
    _seq(),
    Column("id", String(32), nullable=False, unique=True),
    Column("reminder_id", String(32), nullable=False),
    Column("team_id", String(32), nullable=False),
    Column("owner_id", String(32)),
    Column("channel", String(50), nullable=False),
    Column("status", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    # The slot of a scheduled delivery; when a follow-up is due; NULL for a send-now.
    Column("scheduled_for", UtcDateTime),
    Column("parent_delivery_id", String(32)),
    Column("recipient_id", String(32)),
    Column("acknowledged_at", UtcDateTime),
    Column("acknowledged_by", String(32)),
    # Quiet hours: until when a deferred delivery waits, and why.
    Column("deferred_until", UtcDateTime),
    Column("reason", String(32)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("attempts", JSON, nullable=False),
    Column("error", Text),
    # The delivery queue: when a pending delivery is due, and who holds a claim, since and until when.
    Column("claimed_at", UtcDateTime),
    Column("claimed_by", String(200)),
    Column("lease_expires_at", UtcDateTime),
    Column("next_attempt_at", UtcDateTime),
    Column("claim_token", String(32)),
    Column("round_start", Integer, nullable=False, server_default="0"),
    # When the first attempt began (lateness is measured from it), and how a sent delivery left when
    # not through its channel's own service ("log").
    Column("first_attempt_at", UtcDateTime),
    Column("via", String(50)),
    Column("version", Integer, nullable=False),
)
# The ledger: one scheduled delivery per reminder, recipient and slot. A delivery for no recipient in
# particular counts as recipient '' (NULLs would all differ); send-nows and follow-ups are not in it.
LEDGER_WHERE = "kind = 'scheduled'"
Index(
    "uq_deliveries_ledger",
    deliveries.c.reminder_id,
    func.coalesce(deliveries.c.recipient_id, text("''")),
    deliveries.c.scheduled_for,
    unique=True,
    postgresql_where=text(LEDGER_WHERE),
    sqlite_where=text(LEDGER_WHERE),
)
Index("ix_deliveries_reminder_id_seq", deliveries.c.reminder_id, deliveries.c.seq)
Index("ix_deliveries_status_seq", deliveries.c.status, deliveries.c.seq)
Index("ix_deliveries_channel_seq", deliveries.c.channel, deliveries.c.seq)
Index("ix_deliveries_team_id_seq", deliveries.c.team_id, deliveries.c.seq)
Index("ix_deliveries_owner_id_seq", deliveries.c.owner_id, deliveries.c.seq)
# A member's list: their reminders' deliveries and those addressed to them.
Index("ix_deliveries_recipient_id_seq", deliveries.c.recipient_id, deliveries.c.seq)
Index("ix_deliveries_parent", deliveries.c.parent_delivery_id)
# Workers claim by (status, next_attempt_at), one waiting status at a time, so each is an ordered
# range of this index; they recover expired claims by (status, lease_expires_at); retention prunes
# by created_at.
Index("ix_deliveries_queue", deliveries.c.status, deliveries.c.next_attempt_at)
Index("ix_deliveries_lease", deliveries.c.status, deliveries.c.lease_expires_at)
Index("ix_deliveries_created_at", deliveries.c.created_at)
# The status page counts a team's deliveries of the last day by the hour they were due.
DELIVERY_DUE = func.coalesce(deliveries.c.scheduled_for, deliveries.c.created_at)
Index("ix_deliveries_team_id_due", deliveries.c.team_id, DELIVERY_DUE)

# Used action links: a link's nonce is its id, so a second use of one link is refused by the
# unique key. Only ever inserted.
action_link_uses = Table(
    "action_link_uses",
    metadata,
    _seq(),
    Column("id", String(64), nullable=False, unique=True),
    Column("team_id", String(32), nullable=False),
    Column("delivery_id", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("used_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

# Signed-in web app sessions: the cookie's token is stored only as its SHA-256. Retention deletes
# those ended or expired, by `ended_at` and `expires_at`.
web_sessions = Table(
    "web_sessions",
    metadata,
    _seq(),
    Column("id", String(32), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    # Deleting a user ends their sessions in the same transaction.
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("team_id", String(32), nullable=False),
    # The API key the session began with (NULL: an emailed link). No reference: a key goes only with
    # its user, and the sessions with them; a session whose key is missing all the same signs no one in.
    Column("key_id", String(32)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, index=True),
    Column("version", Integer, nullable=False),
)

# One-time sign-in links sent by email, stored as the SHA-256 of their token.
sign_in_links = Table(
    "sign_in_links",
    metadata,
    _seq(),
    Column("id", String(32), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("team_id", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
    Column("used_at", UtcDateTime),
    Column("version", Integer, nullable=False),
)
