"""Schema migrations on real SQLite files and PostgreSQL databases: empty to head, down and up again,
the migrated schema equal to the tables the code uses, each revision's data carried over, and
databases this code must refuse."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, insert, inspect, text

from adapters.sql import SqlStore, SqlUnitOfWork, connect, tables
from adapters.sql import schema as sql_schema
from adapters.sql.mapping import table_of, to_row
from adapters.sql.tables import metadata
from application import views
from application.commands import StartFirstTeam
from application.handlers.teams import FIRST_ADMIN_EMAIL, NewTeam
from application.repositories import HourlyCount
from domain.audience import OWNER, LocalTime
from domain.delivery import Attempt, Delivery, DeliveryKind, DeliveryStatus
from domain.errors import Conflict, DuplicateEmail, DuplicateOccurrence, NotFound
from domain.link_use import LinkUse
from domain.reminder import Reminder
from domain.roles import Role
from domain.schedule import Frequency, Schedule
from domain.sign_in_link import SignInLink
from domain.team import DEFAULT_TEAM_ID, Team
from domain.user import User
from domain.web_session import WebSession
from tests.builders import NOW, make_reminder, make_team, make_user
from tests.databases import postgres_admin_url, postgres_database
from tests.fakes import FixedClock, actor_of, make_service, run_queue

TABLES = {
    *("teams", "users", "api_keys", "reminders", "deliveries", "audit_entries", "action_link_uses"),
    *("web_sessions", "sign_in_links"),
}
# Columns 0005 added: rows as the releases before it wrote them hold none of them.
FROM_0005 = {
    tables.teams.name: {"link_secret"},
    tables.users.name: {"quiet_hours", "active_since"},
    tables.reminders.name: {
        "rrule",
        "cron",
        "starts_on",
        "ends_on",
        "skip_dates",
        "recipients",
        "local_time",
        "repeat_until_ack",
        "fired_through",
        "last_alert_at",
        "sent_on",
    },
    tables.deliveries.name: {
        "kind",
        "parent_delivery_id",
        "recipient_id",
        "acknowledged_at",
        "acknowledged_by",
        "deferred_until",
        "reason",
    },
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with postgres_database(postgres_admin_url()) as url:
            yield url


@pytest.fixture
def store(empty_url: str) -> Iterator[SqlStore]:
    sql = connect(empty_url, pool_size=2)
    yield sql
    sql.dispose()


def table_names(store: SqlStore) -> set[str]:
    with store.engine.connect() as connection:
        return set(inspect(connection).get_table_names()) - {"alembic_version"}


def schema_differences(store: SqlStore) -> list[object]:
    with store.engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect the lower(email) index, so it is not compared there; the contract
        # suite proves emails are unique case-insensitively on every store.
        warnings.filterwarnings("ignore", message=".*expression-based index")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_an_empty_database_is_upgraded_to_the_head_with_the_schema_the_code_uses(store: SqlStore) -> None:
    assert sql_schema.current(store) is None

    assert sql_schema.upgrade(store) == (None, sql_schema.head())

    assert sql_schema.current(store) == sql_schema.head()
    assert table_names(store) == TABLES
    assert schema_differences(store) == []
    # Upgrading again is a no-op.
    assert sql_schema.upgrade(store) == (sql_schema.head(), sql_schema.head())


def test_a_downgrade_and_upgrade_round_trip_restores_the_same_schema(store: SqlStore) -> None:
    sql_schema.upgrade(store)

    sql_schema.downgrade(store, "base")
    assert sql_schema.current(store) is None
    assert table_names(store) == set()

    sql_schema.upgrade(store)
    assert table_names(store) == TABLES
    assert schema_differences(store) == []


def test_references_are_enforced_on_the_stores_connections_right_after_migrating(store: SqlStore) -> None:
    """SQLite migrates with foreign keys off; the connection it used goes back to the pool with them on."""
    sql_schema.upgrade(store)
    orphan = make_reminder(make_user())  # its owner is never stored

    with SqlUnitOfWork(store) as uow:
        uow.reminders.add(orphan)
        with pytest.raises(NotFound) as raised:
            uow.commit()

    assert (raised.value.entity, raised.value.entity_id) == ("user", orphan.owner_id)


def test_a_schema_newer_than_the_code_is_refused_and_left_alone(store: SqlStore) -> None:
    sql_schema.upgrade(store)
    with store.writing() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))

    with pytest.raises(sql_schema.SchemaError, match="newer than this version"):
        sql_schema.upgrade(store)
    with pytest.raises(sql_schema.SchemaError, match="newer than this version"):
        sql_schema.require_current(store)
    assert sql_schema.current(store) == "9999_from_the_future"


def test_without_migrating_an_empty_or_old_schema_is_refused_with_the_way_out(store: SqlStore) -> None:
    with pytest.raises(sql_schema.SchemaError, match="reminders migrate"):
        sql_schema.require_current(store)
    sql_schema.upgrade(store)
    sql_schema.require_current(store)  # at the head: accepted


def test_instances_migrating_one_postgresql_database_at_once_do_not_race() -> None:
    """Four processes upgrade the same empty database at the same moment; the advisory lock lets
    one of them do it and the others find the work done."""
    with postgres_database(postgres_admin_url()) as url:
        script = (
            "import sys; from adapters.sql import connect; from adapters.sql import schema; "
            "s = connect(sys.argv[1], pool_size=1); print(schema.upgrade(s)); s.dispose()"
        )
        root = Path(__file__).resolve().parents[2]
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", script, url],
                cwd=root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        results = [process.communicate(timeout=60) for process in processes]

        assert [process.returncode for process in processes] == [0] * 4, [err for _, err in results]
        outputs = sorted(out.strip() for out, _ in results)
        head = sql_schema.head()
        assert outputs == sorted([f"(None, '{head}')"] + [f"('{head}', '{head}')"] * 3)
        store = connect(url, pool_size=1)
        try:
            assert table_names(store) == TABLES
        finally:
            store.dispose()


# -- the delivery queue (0002) -----------------------------------------------------------------------------

T0 = NOW + timedelta(minutes=1)


def deliveries_at_0001(store: SqlStore, *rows: dict[str, Any]) -> None:
    """Rows as the release before the queue wrote them: no claim token, no retry round."""
    with store.writing() as connection:
        for row in rows:
            values = {
                "channel": "log",
                "status": "pending",
                "scheduled_for": None,
                "created_at": T0,
                "sent_at": None,
                "attempts": [],
                "error": None,
                "claimed_at": None,
                "claimed_by": None,
                "lease_expires_at": None,
                "next_attempt_at": None,
                "version": 1,
                **row,
            }
            connection.execute(insert(tables.deliveries).values(**values))


def owner_and_reminder(store: SqlStore) -> Reminder:
    owner = make_user()
    reminder = make_reminder(owner)
    with SqlUnitOfWork(store) as uow:
        uow.teams.add(make_team(team_id=owner.team_id))
        uow.users.add(owner)
        uow.reminders.add(reminder)
        uow.commit()
    return reminder


# Columns the releases before teams (0001 to 0003) did not have.
BEFORE_TEAMS = {tables.users.name: {"team_id", "role", "timezone"}, tables.reminders.name: {"team_id"}}


def rows_before_teams(store: SqlStore, *aggregates: User | Reminder) -> None:
    """Users and reminders as the releases before teams wrote them: no team, role or time zone."""
    with store.writing() as connection:
        for aggregate in aggregates:
            table = tables.users if isinstance(aggregate, User) else tables.reminders
            left_out = BEFORE_TEAMS[table.name] | FROM_0005[table.name]
            row = {k: v for k, v in to_row(aggregate).items() if k not in left_out}
            connection.execute(insert(table).values({**row, "version": 1}))


def owner_and_reminder_before_teams(store: SqlStore) -> Reminder:
    owner = make_user()
    reminder = make_reminder(owner)
    rows_before_teams(store, owner, reminder)
    return reminder


def open_delivery(reminder: Reminder, scheduled_for: datetime | None, *, channel: str = "log") -> Delivery:
    return Delivery.open(
        reminder_id=reminder.id,
        team_id=reminder.team_id,
        owner_id=reminder.owner_id,
        channel=channel,
        scheduled_for=scheduled_for,
        now=T0,
    )


def load(store: SqlStore, *ids: str) -> list[Delivery]:
    with SqlUnitOfWork(store) as uow:
        found = uow.deliveries.get_many(ids)
    return [found[delivery_id] for delivery_id in ids]


def test_pending_deliveries_of_0001_claimed_or_not_are_due_at_once_and_unclaimed_after_upgrading(
    store: SqlStore,
) -> None:
    sql_schema.upgrade(store)
    sql_schema.downgrade(store, "0001")
    assert sql_schema.current(store) == "0001"
    reminder = owner_and_reminder_before_teams(store)
    sent_at = T0 + timedelta(seconds=1)
    deliveries_at_0001(
        store,
        {"id": "unclaimed", "reminder_id": reminder.id},
        {
            "id": "claimed",
            "reminder_id": reminder.id,
            "scheduled_for": NOW,
            "claimed_by": "old-release-worker",
            "claimed_at": T0,
            "lease_expires_at": T0 + timedelta(days=1),  # a lease no worker of the new release can hold
        },
        {"id": "sent", "reminder_id": reminder.id, "status": "sent", "sent_at": sent_at},
    )

    assert sql_schema.upgrade(store) == ("0001", sql_schema.head())

    unclaimed, claimed, sent = load(store, "unclaimed", "claimed", "sent")
    for delivery in (unclaimed, claimed):
        assert delivery.status is DeliveryStatus.PENDING
        assert delivery.next_attempt_at == T0
        assert (delivery.claimed_by, delivery.claimed_at, delivery.lease_expires_at) == (None, None, None)
        assert (delivery.claim_token, delivery.round_start) == (None, 0)
    assert (sent.status, sent.sent_at, sent.next_attempt_at) == (DeliveryStatus.SENT, sent_at, None)
    with SqlUnitOfWork(store) as uow:
        stats = uow.deliveries.queue_stats(T0)
    assert (stats.pending, stats.due, stats.in_flight, stats.oldest_due_at) == (2, 2, 0, T0)

    service = make_service(clock=FixedClock(T0), uow_factory=lambda: SqlUnitOfWork(store))
    assert sorted(d.id for d in run_queue(service)) == ["claimed", "unclaimed"]
    assert [d.status for d in load(store, "unclaimed", "claimed")] == [DeliveryStatus.SENT] * 2


def test_a_queue_full_of_work_survives_a_downgrade_to_0001_and_an_upgrade_back(store: SqlStore) -> None:
    sql_schema.upgrade(store)
    reminder = owner_and_reminder(store)
    later = T0 + timedelta(minutes=5)
    with SqlUnitOfWork(store) as uow:
        claimed = open_delivery(reminder, NOW)
        claimed.claim("worker", T0, lease=timedelta(seconds=60))
        retrying = open_delivery(reminder, T0)
        token = retrying.claim("worker", T0, lease=timedelta(seconds=60))
        retrying.retry_later(token, Attempt(1, T0, 5.0, "timeout"), now=T0, at=later)
        cancelled = open_delivery(reminder, later)
        token = cancelled.claim("worker", T0, lease=timedelta(seconds=60))
        cancelled.cancel("the reminder was deleted", token=token, now=T0)
        for delivery in (claimed, retrying, cancelled):
            uow.deliveries.add(delivery)
        uow.commit()

    sql_schema.downgrade(store, "0001")
    sql_schema.upgrade(store)

    assert sql_schema.current(store) == sql_schema.head()
    assert schema_differences(store) == []
    was_claimed, was_retrying, was_cancelled = load(store, claimed.id, retrying.id, cancelled.id)
    assert (was_claimed.status, was_claimed.next_attempt_at, was_claimed.claimed_by) == (
        DeliveryStatus.PENDING,
        T0,
        None,
    )
    assert (was_retrying.status, was_retrying.next_attempt_at) == (DeliveryStatus.PENDING, later)
    assert [a.error for a in was_retrying.attempts] == ["timeout"]
    # The release before the queue had no "cancelled": such a delivery is a failed one, with its reason.
    assert (was_cancelled.status, was_cancelled.error) == (DeliveryStatus.FAILED, "the reminder was deleted")
    with SqlUnitOfWork(store) as uow:
        assert [d.id for d in uow.deliveries.claimable(T0, limit=10)] == [claimed.id]


# -- when the first attempt began, and how it went (0003) ----------------------------------------------


def test_deliveries_attempted_before_0003_get_their_first_attempt_start_from_the_attempt_log(
    store: SqlStore,
) -> None:
    sql_schema.upgrade(store)
    sql_schema.downgrade(store, "0002")
    reminder = owner_and_reminder_before_teams(store)
    first_try = T0 + timedelta(seconds=2, microseconds=500)
    log = [
        # Written in another offset: the same instant in UTC comes back.
        {
            "number": 1,
            "started_at": "2026-01-05T09:01:02.000500+01:00",
            "duration_ms": 9.0,
            "error": "timeout",
        },
        {
            "number": 2,
            "started_at": (first_try + timedelta(minutes=1)).isoformat(),
            "duration_ms": 3.0,
            "error": None,
        },
    ]
    assert datetime.fromisoformat(str(log[0]["started_at"])) == first_try
    deliveries_at_0001(
        store,
        {"id": "waiting", "reminder_id": reminder.id},
        {
            "id": "sent",
            "reminder_id": reminder.id,
            "status": "sent",
            "scheduled_for": T0,
            "sent_at": first_try + timedelta(minutes=1, seconds=3),
            "attempts": log,
        },
    )

    assert sql_schema.upgrade(store) == ("0002", sql_schema.head())

    waiting, sent = load(store, "waiting", "sent")
    assert (waiting.first_attempt_at, waiting.via) == (None, None)
    assert (sent.first_attempt_at, sent.via) == (first_try, None)
    assert sent.first_attempt_at == sent.attempts[0].started_at
    assert sent.lateness_seconds == (first_try - T0).total_seconds()
    assert [attempt.via for attempt in sent.attempts] == [None, None]


def test_first_attempt_and_via_come_back_from_the_attempt_log_after_a_downgrade_to_0002(
    store: SqlStore,
) -> None:
    sql_schema.upgrade(store)
    reminder = owner_and_reminder(store)
    with SqlUnitOfWork(store) as uow:
        logged = open_delivery(reminder, T0, channel="email")
        token = logged.claim("worker", T0, lease=timedelta(seconds=60))
        logged.succeed(
            token, Attempt(1, T0 + timedelta(seconds=1), 2.0, via="log"), now=T0 + timedelta(seconds=4)
        )
        uow.deliveries.add(logged)
        uow.commit()

    sql_schema.downgrade(store, "0002")
    with store.engine.connect() as connection:
        columns = {column["name"] for column in inspect(connection).get_columns("deliveries")}
    assert not {"first_attempt_at", "via"} & columns
    sql_schema.upgrade(store)

    assert schema_differences(store) == []
    [back] = load(store, logged.id)
    assert (back.first_attempt_at, back.lateness_seconds, back.via) == (T0 + timedelta(seconds=1), 1.0, "log")
    assert [attempt.via for attempt in back.attempts] == ["log"]


# -- teams, API keys and the audit trail (0004) ------------------------------------------------------


def test_a_store_from_before_teams_becomes_the_default_team_whose_first_start_adds_an_admin(
    store: SqlStore,
) -> None:
    sql_schema.upgrade(store)
    sql_schema.downgrade(store, "0003")
    ann, bob = make_user("ann@example.com"), make_user("Bob@Example.com")
    ann.update(timezone="Europe/Berlin", now=NOW)  # a column 0003 had not: it comes back as UTC
    anns, bobs, deleted = make_reminder(ann), make_reminder(bob), make_reminder(bob)
    rows_before_teams(store, ann, bob, anns, bobs, deleted)
    deliveries_at_0001(
        store,
        {"id": "of-ann", "reminder_id": anns.id, "status": "sent", "sent_at": T0},
        {"id": "of-bob", "reminder_id": bobs.id, "scheduled_for": NOW},
        {"id": "of-deleted", "reminder_id": deleted.id, "status": "failed", "error": "refused"},
    )
    with store.writing() as connection:
        connection.execute(delete(tables.reminders).where(tables.reminders.c.id == deleted.id))

    assert sql_schema.upgrade(store) == ("0003", sql_schema.head())

    with SqlUnitOfWork(store) as uow:
        teams = uow.teams.list(limit=10, offset=0)
        users = uow.users.list(team_id=DEFAULT_TEAM_ID, limit=10, offset=0)
        reminders = uow.reminders.get_many([anns.id, bobs.id])
        deliveries = uow.deliveries.get_many(["of-ann", "of-bob", "of-deleted"])
        of_bob = uow.deliveries.list(limit=10, offset=0, team_id=DEFAULT_TEAM_ID, owner_id=bob.id)
    assert [(team.id, team.name) for team in teams.items] == [(DEFAULT_TEAM_ID, "default")]
    [team] = teams.items
    assert team.webhook_secret
    assert (team.previous_webhook_secret, team.previous_secret_expires_at) == (None, None)
    assert [(u.id, u.team_id, u.email, u.role, u.timezone, u.active) for u in users.items] == [
        (ann.id, DEFAULT_TEAM_ID, "ann@example.com", Role.MEMBER, "UTC", True),
        (bob.id, DEFAULT_TEAM_ID, "bob@example.com", Role.MEMBER, "UTC", True),
    ]
    assert users.total == 2
    # Altering the users table must not cascade to their reminders.
    assert {r.id: (r.team_id, r.owner_id) for r in reminders.values()} == {
        anns.id: (DEFAULT_TEAM_ID, ann.id),
        bobs.id: (DEFAULT_TEAM_ID, bob.id),
    }
    assert {d.id: (d.team_id, d.owner_id, d.status) for d in deliveries.values()} == {
        "of-ann": (DEFAULT_TEAM_ID, ann.id, DeliveryStatus.SENT),
        "of-bob": (DEFAULT_TEAM_ID, bob.id, DeliveryStatus.PENDING),
        "of-deleted": (DEFAULT_TEAM_ID, None, DeliveryStatus.FAILED),
    }
    assert ([d.id for d in of_bob.items], of_bob.total) == (["of-bob"], 1)

    service = make_service(clock=FixedClock(T0), uow_factory=lambda: SqlUnitOfWork(store))
    created: NewTeam | None = service.bus.handle(StartFirstTeam())

    assert created is not None
    assert (created.team.id, created.admin.team_id) == (DEFAULT_TEAM_ID, DEFAULT_TEAM_ID)
    assert (created.admin.email, created.admin.role, created.admin.active) == (
        FIRST_ADMIN_EMAIL,
        Role.ADMIN,
        True,
    )
    actor = actor_of(created)
    everyone = views.list_users(service.uow_factory, actor, limit=10, offset=0)
    assert [user.id for user in everyone.items] == [ann.id, bob.id, created.admin.id]
    admins = views.list_users(service.uow_factory, actor, limit=10, offset=0, role=Role.ADMIN)
    assert ([user.id for user in admins.items], admins.total) == ([created.admin.id], 1)
    # The new admin sees the team's deliveries, the one whose reminder is gone too.
    assert views.list_deliveries(service.uow_factory, actor, limit=10, offset=0).total == 3
    with SqlUnitOfWork(store) as uow:
        assert uow.keys.get_by_prefix(created.issued.key.prefix) is not None
    # The key is given once: a second start adds no other admin.
    assert service.bus.handle(StartFirstTeam()) is None
    assert views.list_users(service.uow_factory, actor, limit=10, offset=0).total == 3


def test_users_and_their_reminders_survive_a_downgrade_to_0003_and_come_back_in_the_default_team(
    store: SqlStore,
) -> None:
    sql_schema.upgrade(store)
    reminder = owner_and_reminder(store)

    sql_schema.downgrade(store, "0003")
    with store.engine.connect() as connection:
        counts = [
            connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in ("users", "reminders")
        ]
    assert counts == [1, 1]
    sql_schema.upgrade(store)

    assert schema_differences(store) == []
    with SqlUnitOfWork(store) as uow:
        back = uow.reminders.get(reminder.id)
        owner = uow.users.get(reminder.owner_id)
    assert back is not None
    assert owner is not None
    assert (back.team_id, owner.team_id, back.title) == (DEFAULT_TEAM_ID, DEFAULT_TEAM_ID, reminder.title)


# -- calendar rules, recipients, follow-ups and action links (0005) ----------------------------------


def rows_at_0004(store: SqlStore, *aggregates: Team | User | Reminder | Delivery) -> None:
    """Aggregates as the release before 0005 wrote them: none of its columns."""
    with store.writing() as connection:
        for aggregate in aggregates:
            table = table_of(aggregate)
            row = {k: v for k, v in to_row(aggregate).items() if k not in FROM_0005[table.name]}
            connection.execute(insert(table).values({**row, "version": 1}))


def test_a_store_at_0004_keeps_its_data_and_every_row_gets_the_new_fields_it_had_implicitly(
    store: SqlStore,
) -> None:
    sql_schema.upgrade(store)
    sql_schema.downgrade(store, "0004")
    ours, theirs = make_team("Ours", team_id="team-1"), make_team("Theirs", team_id="team-2")
    ann, bob = make_user("ann@example.com"), make_user("bob@example.com", team_id=theirs.id)
    anns = make_reminder(ann)
    scheduled, sent_now = open_delivery(anns, NOW), open_delivery(anns, None)
    rows_at_0004(store, ours, theirs, ann, bob, anns, scheduled, sent_now)

    assert sql_schema.upgrade(store) == ("0004", sql_schema.head())

    assert schema_differences(store) == []
    with SqlUnitOfWork(store) as uow:
        teams = uow.teams.get_many([ours.id, theirs.id])
        users = uow.users.get_many([ann.id, bob.id])
        reminder = uow.reminders.get(anns.id)
        deliveries = uow.deliveries.get_many([scheduled.id, sent_now.id])
        claimable = uow.deliveries.claimable(T0, limit=10)
    # Each team its own secret for its links.
    secrets = {team.link_secret for team in teams.values()}
    assert len(secrets) == 2
    assert all(len(secret) >= 40 for secret in secrets)
    assert {user.id: (user.active_since, user.quiet_hours) for user in users.values()} == {
        ann.id: (ann.created_at, None),
        bob.id: (bob.created_at, None),
    }
    assert reminder is not None
    assert (reminder.schedule, reminder.title, reminder.next_run_at) == (
        anns.schedule,
        anns.title,
        anns.next_run_at,
    )
    assert (reminder.recipients, reminder.local_time, reminder.repeat_until_ack, reminder.fired_through) == (
        OWNER,
        LocalTime.REMINDER,
        None,
        None,
    )
    assert (reminder.schedule.rrule, reminder.schedule.cron, reminder.schedule.skip_dates) == (None, None, ())
    assert {d.id: (d.kind, d.recipient_id, d.parent_delivery_id) for d in deliveries.values()} == {
        scheduled.id: (DeliveryKind.SCHEDULED, None, None),
        sent_now.id: (DeliveryKind.MANUAL, None, None),
    }
    assert sorted(d.id for d in claimable) == sorted([scheduled.id, sent_now.id])

    # The ledger's new rule holds on the migrated rows: the slot is taken for no one in particular,
    # free for each recipient.
    with SqlUnitOfWork(store) as uow:
        uow.deliveries.add(open_delivery(anns, NOW))
        with pytest.raises(DuplicateOccurrence):
            uow.commit()
    with SqlUnitOfWork(store) as uow:
        for_ann = Delivery.open(
            reminder_id=anns.id,
            team_id=anns.team_id,
            owner_id=ann.id,
            channel="log",
            scheduled_for=NOW,
            now=T0,
            recipient_id=ann.id,
        )
        uow.deliveries.add(for_ann)
        uow.deliveries.add(scheduled.follow_up(DeliveryKind.SNOOZE, due_at=NOW, now=T0))
        uow.link_uses.add(
            LinkUse(id="nonce", team_id=ours.id, delivery_id=scheduled.id, action="ack", used_at=T0)
        )
        uow.commit()
    with SqlUnitOfWork(store) as uow:
        uow.link_uses.add(
            LinkUse(id="nonce", team_id=ours.id, delivery_id=scheduled.id, action="ack", used_at=T0)
        )
        with pytest.raises(Conflict):
            uow.commit()
    # Emails are still unique within a team after the tables were altered.
    with SqlUnitOfWork(store) as uow:
        uow.users.add(make_user("ANN@example.com"))
        with pytest.raises(DuplicateEmail):
            uow.commit()


def test_a_downgrade_to_0004_sends_deferred_and_follow_up_deliveries_as_the_older_release_can(
    store: SqlStore,
) -> None:
    sql_schema.upgrade(store)
    reminder = owner_and_reminder(store)
    quiet_until = T0 + timedelta(hours=1)
    deferred = Delivery.open(
        reminder_id=reminder.id,
        team_id=reminder.team_id,
        owner_id=reminder.owner_id,
        channel="log",
        scheduled_for=NOW,
        now=T0,
        quiet_until=quiet_until,
    )
    # Due at the very instant of the slot: the older release's ledger would take it for the slot's.
    snooze = deferred.follow_up(DeliveryKind.SNOOZE, due_at=NOW, now=T0)
    with SqlUnitOfWork(store) as uow:
        uow.deliveries.add(deferred)
        uow.deliveries.add(snooze)
        uow.commit()

    sql_schema.downgrade(store, "0004")
    sql_schema.upgrade(store)

    assert schema_differences(store) == []
    was_deferred, was_snooze = load(store, deferred.id, snooze.id)
    assert (was_deferred.status, was_deferred.scheduled_for, was_deferred.next_attempt_at) == (
        DeliveryStatus.PENDING,
        NOW,
        quiet_until,
    )
    assert was_deferred.kind is DeliveryKind.SCHEDULED
    assert (was_snooze.status, was_snooze.scheduled_for, was_snooze.next_attempt_at, was_snooze.kind) == (
        DeliveryStatus.PENDING,
        None,
        NOW,
        DeliveryKind.MANUAL,
    )


def test_a_store_holding_a_rule_based_reminder_refuses_to_go_back_to_0004_and_is_left_alone(
    store: SqlStore,
) -> None:
    sql_schema.upgrade(store)
    owner = make_user()
    rule = Schedule(
        time_of_day=time(9, 0),
        frequency=Frequency.RRULE,
        rrule="FREQ=DAILY;INTERVAL=3",
        starts_on=NOW.date(),
    )
    with SqlUnitOfWork(store) as uow:
        uow.teams.add(make_team(team_id=owner.team_id))
        uow.users.add(owner)
        uow.reminders.add(make_reminder(owner, schedule=rule))
        uow.commit()

    with pytest.raises(RuntimeError, match="rrule or cron schedule"):
        sql_schema.downgrade(store, "0004")

    assert sql_schema.current(store) == sql_schema.head()
    assert schema_differences(store) == []


# -- web sessions and sign-in links (0006) -------------------------------------------------------------


def indexes_of(store: SqlStore, table: str) -> set[str]:
    with store.engine.connect() as connection, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index")
        return {index["name"] for index in inspect(connection).get_indexes(table) if index["name"]}


def test_a_store_at_0005_keeps_its_data_and_gains_sessions_and_sign_in_links(store: SqlStore) -> None:
    sql_schema.upgrade(store)
    sql_schema.downgrade(store, "0005")
    assert not {"web_sessions", "sign_in_links"} & table_names(store)
    reminder = owner_and_reminder(store)  # the tables of users, reminders and deliveries are 0005's
    with SqlUnitOfWork(store) as uow:
        theirs = make_user("ANN@example.com", team_id="team-2")
        uow.teams.add(make_team(team_id=theirs.team_id))
        uow.users.add(theirs)
        # Due at 06:00, and (sent now) at 08:01.
        scheduled, sent_now = open_delivery(reminder, NOW - timedelta(hours=2)), open_delivery(reminder, None)
        uow.deliveries.add(scheduled)
        uow.deliveries.add(sent_now)
        uow.commit()

    assert sql_schema.upgrade(store) == ("0005", sql_schema.head())

    assert schema_differences(store) == []
    assert "ix_users_email" in indexes_of(store, "users")
    with SqlUnitOfWork(store) as uow:
        ann = uow.users.get(reminder.owner_id)
        assert ann is not None
        assert [user.id for user in uow.users.find_by_email("Ann@Example.com")] == [ann.id, theirs.id]
        assert uow.reminders.get(reminder.id) is not None
        assert uow.deliveries.hourly_counts(team_id=reminder.team_id, since=NOW - timedelta(hours=3)) == [
            HourlyCount(hour=NOW - timedelta(hours=2), status=DeliveryStatus.PENDING, count=1),
            HourlyCount(hour=NOW, status=DeliveryStatus.PENDING, count=1),
        ]
        session = WebSession.start(
            token_hash="a" * 64, user_id=ann.id, team_id=ann.team_id, now=T0, key_id="k" * 32
        )
        by_link = WebSession.start(token_hash="c" * 64, user_id=ann.id, team_id=ann.team_id, now=T0)
        link = SignInLink.issue(token_hash="b" * 64, user_id=ann.id, team_id=ann.team_id, now=T0)
        uow.web_sessions.add(session)
        uow.web_sessions.add(by_link)
        uow.sign_in_links.add(link)
        uow.commit()
    with SqlUnitOfWork(store) as uow:
        keyed, linked = uow.web_sessions.get(session.id), uow.web_sessions.get(by_link.id)
        assert keyed is not None
        assert linked is not None
        assert (keyed.key_id, linked.key_id) == ("k" * 32, None)  # the key it began with, or none
        uow.web_sessions.add(
            WebSession.start(token_hash="a" * 64, user_id=ann.id, team_id=ann.team_id, now=T0)
        )
        with pytest.raises(Conflict):
            uow.commit()
    # Sessions and links go with their user.
    with SqlUnitOfWork(store) as uow:
        owner = uow.users.get(ann.id)
        assert owner is not None
        uow.users.remove(owner)
        uow.commit()
    with SqlUnitOfWork(store) as uow:
        assert uow.web_sessions.get(session.id) is None
        assert uow.sign_in_links.get_by_token_hash(link.token_hash) is None


def test_a_downgrade_to_0005_drops_sessions_and_sign_in_links_and_keeps_everything_else(
    store: SqlStore,
) -> None:
    sql_schema.upgrade(store)
    reminder = owner_and_reminder(store)
    delivery = open_delivery(reminder, NOW)
    with SqlUnitOfWork(store) as uow:
        uow.deliveries.add(delivery)
        uow.web_sessions.add(
            WebSession.start(token_hash="a" * 64, user_id=reminder.owner_id, team_id=reminder.team_id, now=T0)
        )
        uow.sign_in_links.add(
            SignInLink.issue(token_hash="b" * 64, user_id=reminder.owner_id, team_id=reminder.team_id, now=T0)
        )
        uow.commit()

    sql_schema.downgrade(store, "0005")

    assert sql_schema.current(store) == "0005"
    assert not {"web_sessions", "sign_in_links"} & table_names(store)
    assert "ix_users_email" not in indexes_of(store, "users")
    assert "ix_deliveries_team_id_due" not in indexes_of(store, "deliveries")
    with store.engine.connect() as connection:
        counts = [
            connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in ("users", "reminders", "deliveries")
        ]
    assert counts == [1, 1, 1]

    sql_schema.upgrade(store)
    assert schema_differences(store) == []
    with SqlUnitOfWork(store) as uow:
        assert uow.web_sessions.get_by_token_hash("a" * 64) is None
        assert [d.id for d in uow.deliveries.claimable(T0, limit=10)] == [delivery.id]
