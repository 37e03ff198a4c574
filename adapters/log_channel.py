"""The `log` channel: a delivered reminder becomes one structured log line. Works on a bare machine.

The line leaves out the acknowledge and snooze links (Notification.actions): they are secrets of
the person they act for, and a log is read by others.
"""

from __future__ import annotations

import logging

from application.channels import Notification
from domain.errors import InvalidTarget

log = logging.getLogger("reminders.channel.log")


class LogChannel:
    def validate_target(self, target: str | None) -> None:
        if target is not None:
            raise InvalidTarget("target", "the log channel takes no target")

    def peer(self, target: str | None) -> str | None:
        return None

    def send(self, notification: Notification) -> None:
        log.info(
            "reminder delivered",
            extra={
                "channel": notification.channel,
                "delivery_id": notification.delivery_id,
                "reminder_id": notification.reminder_id,
                "owner_id": notification.owner_id,
                "kind": notification.kind,
                "recipient_id": notification.recipient_id,
                "title": notification.title,
                "body": notification.message,
                "scheduled_for": notification.scheduled_for.isoformat()
                if notification.scheduled_for
                else None,
            },
        )
