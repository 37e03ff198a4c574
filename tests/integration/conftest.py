from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.slack_channel import SlackChannel
from adapters.smtp_channel import SmtpChannel, SmtpConfig
from adapters.webhook_channel import WebhookChannel
from application.channels import Notification, NotificationChannel
from application.retry_policy import RetryPolicy
from application.sender import NotificationSender
from domain.delivery import Attempt
from tests.fakes import FixedClock
from tests.integration.peers import HOST, HttpReceiver, SmtpServer

SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TIMEOUT = 0.3  # seconds; the stalling peers wait longer than this


def make_notification(channel: str, target: str | None = None, **fields: Any) -> Notification:
    values: dict[str, Any] = {
        "delivery_id": "d-0001",
        "reminder_id": "r-0001",
        "channel": channel,
        "title": "Standup for Ann",
        "message": "Join the call <now> & say hi",
        "scheduled_for": SLOT,
        "owner_id": "u-0001",
        "owner_name": "Ann",
        "owner_email": "ann@example.com",
        "target": target,
        "idempotency_key": f"r-0001:{SLOT.isoformat()}",
        **fields,
    }
    return Notification(**values)


@dataclass
class Round:
    """The attempts of one round of sending, and how it ended (None: sent)."""

    attempts: list[Attempt] = field(default_factory=list)
    error: str | None = None


class Sending:
    """One round of sending through one channel as the delivery queue makes it: one attempt at a
    time through the real NotificationSender; a transient failure is tried again while the retry
    policy (4 attempts, no base backoff) allows, a permanent one ends the round. Nothing sleeps:
    `waits` records each wait the queue would schedule before the next attempt."""

    def __init__(self, name: str, channel: NotificationChannel, *, max_seconds: float = 0) -> None:
        self.waits: list[float] = []
        self.policy = RetryPolicy(attempts=4, base_seconds=0, max_seconds=max_seconds)
        self.sender = NotificationSender(channels={name: channel}, clock=FixedClock())

    def send(self, notification: Notification) -> Round:
        outcome = Round()
        while True:
            result = self.sender.attempt(notification, number=len(outcome.attempts) + 1)
            outcome.attempts.append(result.attempt)
            outcome.error = result.attempt.error
            made = len(outcome.attempts)
            if result.succeeded or not result.transient or not self.policy.allows_another(made):
                return outcome
            self.waits.append(self.policy.wait_seconds(made, retry_after=result.retry_after))


def errors(outcome: Round) -> list[str | None]:
    return [attempt.error for attempt in outcome.attempts]


def assert_no_secret(
    secrets: Iterable[str], records: Iterable[Any], texts: Iterable[str | None] = ()
) -> None:
    """No secret appears in any log record (message, arguments or extra fields) nor in any text."""
    secrets = [secret for secret in secrets if secret]
    seen: list[str] = [text for text in texts if text]
    for record in records:
        seen.append(record.getMessage())
        seen.extend(str(value) for value in record.__dict__.values())
    assert seen, "nothing was captured, so the check would prove nothing"
    for secret in secrets:
        leaks = [text for text in seen if secret in text]
        assert not leaks, f"a secret leaked into: {leaks[:3]}"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@contextmanager
def local_channels(smtp_server: SmtpServer, *, secret: str) -> Iterator[dict[str, NotificationChannel]]:
    """The real email, webhook and Slack channels, pointed at the local peers and closed afterwards.
    The peers listen on 127.0.0.1, a private address: allowed here as in local development."""
    webhook = WebhookChannel(secret=secret, timeout=TIMEOUT, allow_private_targets=True)
    slack = SlackChannel(
        timeout=TIMEOUT,
        allowed_hosts=frozenset({HOST}),
        allow_insecure_local=True,
        allow_private_targets=True,
    )
    email = SmtpChannel(
        SmtpConfig.parse(f"smtp://{HOST}:{smtp_server.port}"), sender="reminders@example.org", timeout=TIMEOUT
    )
    try:
        yield {"email": email, "webhook": webhook, "slack": slack}
    finally:
        webhook.close()
        slack.close()
