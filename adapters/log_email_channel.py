"""The `email` channel when no SMTP server is configured: each email becomes one structured log line,
and the delivery records that it went to the log (`via` "log"), not to the person's mailbox.

The line leaves out the email's acknowledge and snooze links: they are secrets of the person they
act for, and a log is read by others.
"""

from __future__ import annotations

import logging

from adapters.email_message import subject, validate_no_target
from application.channels import VIA_LOG, Notification

log = logging.getLogger("reminders.channel.email")


class LogEmailChannel:
    def validate_target(self, target: str | None) -> None:
        validate_no_target(target)

    def peer(self, target: str | None) -> str | None:
        return None

    def send(self, notification: Notification) -> str:
        log.info(
            "email logged, not sent: no SMTP server is configured",
            extra={
                "channel": notification.channel,
                "delivery_id": notification.delivery_id,
                "reminder_id": notification.reminder_id,
                "kind": notification.kind,
                "recipient_id": notification.recipient_id,
                "to": notification.to_email,
                "subject": subject(notification),
                "body": notification.message,
            },
        )
        return VIA_LOG
