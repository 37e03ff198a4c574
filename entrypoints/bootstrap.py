"""The composition root: the one place that names concrete adapters and wires handlers to the bus.

Nothing here runs at import time; `bootstrap()` builds everything from what it is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Protocol

from adapters.apprise_channel import AppriseChannel, AppriseUnavailable
from adapters.log_channel import LogChannel
from adapters.log_email_channel import LogEmailChannel
from adapters.memory import MemoryStore, MemoryUnitOfWork
from adapters.prometheus_metrics import PrometheusMetrics
from adapters.slack_channel import SlackChannel
from adapters.smtp_channel import SmtpChannel, SmtpConfig
from adapters.system_clock import SystemClock
from adapters.thread_dispatcher import ThreadPoolDispatcher
from adapters.webhook_channel import WebhookChannel
from application import commands
from application.channels import Channels, NotificationChannel
from application.clock import Clock
from application.handlers import deliveries, outcomes, reminders, scheduling, users
from application.messagebus import MessageBus
from application.metrics import Metrics
from application.sender import NotificationSender, RetryPolicy
from application.unit_of_work import UnitOfWorkFactory
from domain import events
from entrypoints.settings import ServeSettings


class BindableDispatcher(Protocol):
    def bind(self, target: Callable[[commands.Command], Any]) -> None: ...

    def submit(self, command: commands.Command) -> None: ...

    def shutdown(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Service:
    bus: MessageBus
    uow_factory: UnitOfWorkFactory
    clock: Clock
    channels: Channels
    dispatcher: BindableDispatcher
    metrics: Metrics


def bootstrap(
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    channels: Channels,
    dispatcher: BindableDispatcher,
    metrics: Metrics,
    retry_policy: RetryPolicy,
    batch_size: int = 500,
    grace: timedelta = timedelta(seconds=300),
    sleep: Callable[[float], None] = time.sleep,
) -> Service:
    sender = NotificationSender(channels=channels, clock=clock, policy=retry_policy, sleep=sleep)
    bus = MessageBus(
        uow_factory=uow_factory,
        command_handlers={
            commands.CreateUser: partial(users.create_user, clock=clock),
            commands.UpdateUser: partial(users.update_user, clock=clock),
            commands.DeleteUser: users.delete_user,
            commands.CreateReminder: partial(reminders.create_reminder, clock=clock, channels=channels),
            commands.UpdateReminder: partial(reminders.update_reminder, clock=clock, channels=channels),
            commands.DeleteReminder: reminders.delete_reminder,
            commands.SendReminderNow: partial(deliveries.send_reminder_now, clock=clock, sender=sender),
            commands.DeliverNotification: partial(
                deliveries.deliver_notification, clock=clock, sender=sender
            ),
            commands.RetryDelivery: partial(deliveries.retry_delivery, clock=clock, sender=sender),
            commands.CheckDueReminders: partial(
                scheduling.check_due_reminders, batch_size=batch_size, grace=grace
            ),
        },
        event_handlers={
            events.UserDeleted: [users.delete_reminders_of_deleted_user],
            events.ReminderDue: [partial(deliveries.enqueue_delivery, dispatcher=dispatcher)],
            events.DeliverySucceeded: [partial(outcomes.record_sent, metrics=metrics)],
            events.DeliveryFailed: [partial(outcomes.record_failed, metrics=metrics)],
            events.OccurrenceMissed: [partial(outcomes.record_missed, metrics=metrics)],
        },
    )
    dispatcher.bind(bus.handle)
    return Service(
        bus=bus,
        uow_factory=uow_factory,
        clock=clock,
        channels=channels,
        dispatcher=dispatcher,
        metrics=metrics,
    )


@dataclass(frozen=True, slots=True)
class ChannelSetup:
    channels: dict[str, NotificationChannel]
    # How each channel is set up, for /health and the start-up log; never a secret.
    report: dict[str, str]


def build_channels(settings: ServeSettings) -> ChannelSetup:
    """Every channel the settings allow. A malformed REMINDERS_SMTP_URL raises ValueError."""
    timeout = settings.channel_timeout_seconds
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
        "webhook": WebhookChannel(secret=settings.webhook_secret, timeout=timeout),
        "slack": SlackChannel(timeout=timeout),
    }
    report |= {"log": "ok", "webhook": "signed" if settings.webhook_secret else "unsigned", "slack": "ok"}
    try:
        channels["apprise"] = AppriseChannel(timeout=timeout)
        report["apprise"] = "ok"
    except AppriseUnavailable:
        report["apprise"] = "not installed"
    return ChannelSetup(channels, report)


@dataclass(frozen=True, slots=True)
class Runtime:
    service: Service
    metrics: PrometheusMetrics
    channel_report: dict[str, str]


def bootstrap_in_memory(settings: ServeSettings) -> Runtime:
    """The service on the embedded default store, as `reminders serve` runs it."""
    store = MemoryStore()
    metrics = PrometheusMetrics()
    setup = build_channels(settings)
    service = bootstrap(
        uow_factory=lambda: MemoryUnitOfWork(store),
        clock=SystemClock(),
        channels=setup.channels,
        dispatcher=ThreadPoolDispatcher(workers=settings.delivery_concurrency),
        metrics=metrics,
        retry_policy=RetryPolicy(
            attempts=4, base_seconds=settings.retry_base_seconds, max_seconds=settings.retry_max_seconds
        ),
        batch_size=settings.batch_size,
        grace=timedelta(seconds=settings.grace_seconds),
    )
    return Runtime(service, metrics, setup.report)
