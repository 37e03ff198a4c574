"""The composition root: the one place that names concrete adapters and wires handlers to the bus.

Nothing here runs at import time; `bootstrap()` builds everything from what it is given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from adapters.apprise_channel import AppriseChannel, AppriseUnavailable
from adapters.local_signals import LocalSignals
from adapters.log_channel import LogChannel
from adapters.log_email_channel import LogEmailChannel
from adapters.memory import MemoryStore, MemoryUnitOfWork
from adapters.prometheus_metrics import PrometheusMetrics
from adapters.slack_channel import SlackChannel
from adapters.smtp_channel import SmtpChannel, SmtpConfig
from adapters.smtp_sign_in_mailer import SmtpSignInMailer
from adapters.sql import SqlStore, SqlUnitOfWork, UnsupportedDatabaseUrl, connect, redacted
from adapters.sql import schema as sql_schema
from adapters.sql.schema import SchemaError as SchemaError  # raised by open_store and migrate_store
from adapters.system_clock import SystemClock
from adapters.webhook_channel import WebhookChannel
from application import commands
from application.action_links import ActionLinks
from application.channels import Channels, NotificationChannel
from application.clock import Clock
from application.handlers import (
    answers,
    deliveries,
    keys,
    outcomes,
    queue,
    reminders,
    scheduling,
    teams,
    users,
    web_sessions,
)
from application.messagebus import MessageBus
from application.metrics import Metrics
from application.retry_policy import RetryPolicy
from application.sender import NotificationSender
from application.sign_in_mail import SignInMailer
from application.unit_of_work import UnitOfWorkFactory
from domain import events
from entrypoints.settings import ServeSettings, StoreSettings

log = logging.getLogger("reminders.store")

MEMORY_URL = "memory://"
DATABASE_SETTING = "--database-url / REMINDERS_DATABASE_URL"


@dataclass(frozen=True, slots=True)
class Service:
    bus: MessageBus
    uow_factory: UnitOfWorkFactory
    clock: Clock
    channels: Channels
    # One attempt through a channel: what delivery workers run for each claimed delivery.
    sender: NotificationSender
    signals: LocalSignals
    metrics: Metrics
    # Mails the web app's sign-in links; None without an SMTP server (sign-in by API key only).
    sign_in_mailer: SignInMailer | None = None


def bootstrap(
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    channels: Channels,
    signals: LocalSignals,
    metrics: Metrics,
    retry_policy: RetryPolicy,
    batch_size: int = 500,
    grace: timedelta = timedelta(seconds=300),
    links: ActionLinks | None = None,
    sign_in_mailer: SignInMailer | None = None,
) -> Service:
    waking = partial(deliveries.wake_workers, signals=signals)
    joining = partial(users.include_in_team_reminders, clock=clock)
    telling = partial(deliveries.tell_waiters, signals=signals)
    bus = MessageBus(
        uow_factory=uow_factory,
        clock=clock,
        command_handlers={
            commands.CreateTeam: partial(teams.create_team, clock=clock),
            commands.StartFirstTeam: partial(teams.start_first_team, clock=clock),
            commands.RotateWebhookSecret: partial(teams.rotate_webhook_secret, clock=clock),
            commands.CreateApiKey: partial(keys.create_api_key, clock=clock),
            commands.RevokeApiKey: partial(keys.revoke_api_key, clock=clock),
            commands.CreateUser: partial(users.create_user, clock=clock),
            commands.UpdateUser: partial(users.update_user, clock=clock),
            commands.DeleteUser: users.delete_user,
            commands.CreateReminder: partial(reminders.create_reminder, clock=clock, channels=channels),
            commands.UpdateReminder: partial(reminders.update_reminder, clock=clock, channels=channels),
            commands.DeleteReminder: reminders.delete_reminder,
            commands.SendReminderNow: partial(deliveries.send_reminder_now, clock=clock),
            commands.RetryDelivery: partial(deliveries.retry_delivery, clock=clock),
            commands.SnoozeDelivery: partial(answers.snooze_delivery, clock=clock),
            commands.AcknowledgeDelivery: partial(answers.acknowledge_delivery, clock=clock),
            commands.FollowActionLink: partial(answers.follow_action_link, clock=clock),
            commands.StartWebSession: partial(web_sessions.start_web_session, clock=clock),
            commands.SendSignInLinks: partial(
                web_sessions.send_sign_in_links, clock=clock, mailer=sign_in_mailer
            ),
            commands.RedeemSignInLink: partial(web_sessions.redeem_sign_in_link, clock=clock),
            commands.EndWebSession: partial(web_sessions.end_web_session, clock=clock),
            commands.CheckDueReminders: partial(
                scheduling.check_due_reminders, batch_size=batch_size, grace=grace
            ),
            commands.ClaimDeliveries: partial(
                queue.claim_deliveries, clock=clock, metrics=metrics, links=links
            ),
            commands.RecordOutcomes: partial(queue.record_outcomes, clock=clock, policy=retry_policy),
            commands.ReleaseClaims: partial(queue.release_claims, clock=clock, metrics=metrics),
            commands.ExpireLeases: partial(queue.expire_leases, clock=clock),
            commands.PruneDeliveries: queue.prune_deliveries,
        },
        event_handlers={
            events.UserCreated: [joining],
            events.UserUpdated: [joining],
            events.ReminderDue: [waking],
            events.DeliveryQueued: [waking],
            events.DeliverySucceeded: [partial(outcomes.record_sent, metrics=metrics), telling],
            events.DeliveryFailed: [partial(outcomes.record_failed, metrics=metrics), telling],
            events.DeliveryRetryScheduled: [partial(outcomes.record_retry, metrics=metrics), telling],
            events.DeliveryCancelled: [partial(outcomes.record_cancelled, metrics=metrics), telling],
            events.ClaimExpired: [partial(outcomes.record_expired_claim, metrics=metrics)],
            events.OccurrenceMissed: [partial(outcomes.record_missed, metrics=metrics)],
        },
    )
    return Service(
        bus=bus,
        uow_factory=uow_factory,
        clock=clock,
        channels=channels,
        sender=NotificationSender(channels=channels, clock=clock),
        signals=signals,
        metrics=metrics,
        sign_in_mailer=sign_in_mailer,
    )


@dataclass(frozen=True, slots=True)
class ChannelSetup:
    channels: dict[str, NotificationChannel]
    # How each channel is set up, for /health and the start-up log; never a secret.
    report: dict[str, str]


def build_channels(settings: ServeSettings) -> ChannelSetup:
    """Every channel the settings allow. A malformed REMINDERS_SMTP_URL raises ValueError."""
    timeout = settings.channel_timeout_seconds
    private = settings.allow_private_targets
    email: NotificationChannel
    if settings.smtp_url:
        try:
            config = SmtpConfig.parse(settings.smtp_url)
        except ValueError as error:
            raise ValueError(f"invalid --smtp-url / REMINDERS_SMTP_URL: {error}") from None
        email = SmtpChannel(config, sender=settings.email_from, timeout=timeout)
        report = {"email": f"smtp {config.redacted_url}"}
    else:
        email, report = LogEmailChannel(), {"email": "log-only"}
    channels: dict[str, NotificationChannel] = {
        "log": LogChannel(),
        "email": email,
        # Each team signs with its own secret (Notification.signing_secrets); the setting only
        # seeds the secret of the `default` team made on first start.
        "webhook": WebhookChannel(
            secret=None,
            timeout=timeout,
            connections=settings.delivery_concurrency,
            allow_private_targets=private,
        ),
        "slack": SlackChannel(
            timeout=timeout, connections=settings.delivery_concurrency, allow_private_targets=private
        ),
    }
    report |= {"log": "ok", "webhook": "signed per team", "slack": "ok"}
    try:
        channels["apprise"] = AppriseChannel(timeout=timeout, allow_private_targets=private)
        report["apprise"] = "ok"
    except AppriseUnavailable:
        report["apprise"] = "not installed"
    return ChannelSetup(channels, report)


def build_sign_in_mailer(settings: ServeSettings) -> SignInMailer | None:
    """Sign-in links go through the email channel's SMTP server; none without one. Called after
    build_channels, which has already refused a malformed URL."""
    if not settings.smtp_url:
        return None
    config = SmtpConfig.parse(settings.smtp_url)
    return SmtpSignInMailer(config, sender=settings.email_from, timeout=settings.channel_timeout_seconds)


class StoreConfigError(ValueError):
    """The store setting cannot be used; the message names the setting and never holds a password."""


@dataclass(frozen=True, slots=True)
class Store:
    kind: str  # "memory", "sqlite" or "postgresql": what /health and the logs call it
    uow_factory: UnitOfWorkFactory
    # Whether other processes see the same data: `reminders tick` needs one that they do.
    shared: bool
    close: Callable[[], None]


def open_store(settings: StoreSettings, *, migrate: bool, pool_size: int = 8) -> Store:
    """The store the URL names, its schema brought up to date when `migrate`, else checked.

    Raises StoreConfigError for a URL no store understands, sql_schema.SchemaError for a schema
    this code cannot use, and the driver's error when the database cannot be reached.
    """
    url = settings.database_url
    if url == MEMORY_URL:
        memory = MemoryStore()
        log.warning("memory:// keeps nothing: all users, reminders and deliveries are lost when it stops")
        return Store("memory", lambda: MemoryUnitOfWork(memory), shared=False, close=lambda: None)
    sql = _connect(url, pool_size=pool_size)
    try:
        if migrate:
            before, after = sql_schema.upgrade(sql)
            if before != after:
                log.info("database schema upgraded", extra={"from_revision": before, "to_revision": after})
        else:
            sql_schema.require_current(sql)
    except BaseException:
        sql.dispose()
        raise
    log.info("store ready", extra={"store": sql.dialect, "database": redacted(url)})
    return Store(sql.dialect, lambda: SqlUnitOfWork(sql), shared=True, close=sql.dispose)


def migrate_store(settings: StoreSettings) -> tuple[str | None, str] | None:
    """`reminders migrate`: the schema revision before and after; None for a store with no schema."""
    if settings.database_url == MEMORY_URL:
        return None
    sql = _connect(settings.database_url, pool_size=1)
    try:
        return sql_schema.upgrade(sql)
    finally:
        sql.dispose()


def _connect(url: str, *, pool_size: int) -> SqlStore:
    try:
        return connect(url, pool_size=pool_size)
    except UnsupportedDatabaseUrl as error:
        raise StoreConfigError(
            f"invalid {DATABASE_SETTING}={redacted(url)!r}: {error}; "
            "use sqlite:///path/to/file.db, postgresql://user@host:port/db or memory://"
        ) from None


@dataclass(frozen=True, slots=True)
class Runtime:
    service: Service
    metrics: PrometheusMetrics
    channel_report: dict[str, str]
    store: Store


def close_runtime(runtime: Runtime) -> None:
    """Close what the runtime holds open: channels' connections, then the store's."""
    for channel in runtime.service.channels.values():
        close = getattr(channel, "close", None)
        if close is not None:
            close()
    runtime.store.close()


def bootstrap_runtime(settings: ServeSettings, store: Store) -> Runtime:
    """The service as `reminders serve` and `reminders tick` run it, over an opened store."""
    metrics = PrometheusMetrics()
    setup = build_channels(settings)
    service = bootstrap(
        uow_factory=store.uow_factory,
        clock=SystemClock(),
        channels=setup.channels,
        signals=LocalSignals(),
        metrics=metrics,
        retry_policy=RetryPolicy(
            attempts=4, base_seconds=settings.retry_base_seconds, max_seconds=settings.retry_max_seconds
        ),
        batch_size=settings.batch_size,
        grace=timedelta(seconds=settings.grace_seconds),
        links=ActionLinks(settings.link_base_url),
        sign_in_mailer=build_sign_in_mailer(settings),
    )
    return Runtime(service, metrics, setup.report, store)
