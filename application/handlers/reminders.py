"""Handlers for reminders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from application.channels import Channels
from application.clock import Clock
from application.commands import CreateReminder, DeleteReminder, ReminderPatch, UpdateReminder
from application.handlers.users import load_user
from application.unit_of_work import UnitOfWork
from domain.errors import InactiveOwner, NotFound, UnknownChannel
from domain.reminder import Reminder
from domain.schedule import Frequency, Schedule

_SCHEDULE_FIELDS = ("time_of_day", "frequency", "weekdays", "date", "timezone")


def load_reminder(uow: UnitOfWork, reminder_id: str) -> Reminder:
    reminder = uow.reminders.get(reminder_id)
    if reminder is None:
        raise NotFound("reminder", reminder_id)
    return reminder


def check_channel(channels: Channels, name: str, target: str | None) -> None:
    channel = channels.get(name)
    if channel is None:
        known = ", ".join(sorted(channels))
        raise UnknownChannel("channel", f"unknown channel {name!r}; configured: {known}")
    channel.validate_target(target)


def create_reminder(
    command: CreateReminder, uow: UnitOfWork, *, clock: Clock, channels: Channels
) -> Reminder:
    """A reminder belongs to an existing, active user and goes out through a configured channel."""
    now = clock.now()
    with uow:
        owner = load_user(uow, command.owner_id)
        if not owner.active:
            raise InactiveOwner(owner.id)
        check_channel(channels, command.channel, command.target)
        schedule = Schedule.build(
            time_of_day=command.time_of_day,
            frequency=command.frequency,
            timezone=command.timezone,
            weekdays=command.weekdays,
            on_date=command.date,
            now=now,
        )
        reminder = Reminder.create(
            owner_id=owner.id,
            title=command.title,
            message=command.message,
            channel=command.channel,
            target=command.target,
            schedule=schedule,
            active=command.active,
            now=now,
        )
        uow.reminders.add(reminder)
        uow.commit()
    return reminder


def update_reminder(
    command: UpdateReminder, uow: UnitOfWork, *, clock: Clock, channels: Channels
) -> Reminder:
    """Any field can change; a schedule change recomputes the next run."""
    now = clock.now()
    with uow:
        reminder = load_reminder(uow, command.reminder_id)
        changes = _reminder_changes(reminder, command.changes, now)
        if "channel" in changes or "target" in changes:
            check_channel(
                channels,
                changes.get("channel", reminder.channel),
                changes.get("target", reminder.target),
            )
        reminder.update(changes, now=now)
        uow.commit()
    return reminder


def delete_reminder(command: DeleteReminder, uow: UnitOfWork) -> None:
    """A deleted reminder never fires again; its delivery record stays."""
    with uow:
        reminder = load_reminder(uow, command.reminder_id)
        reminder.delete()
        uow.reminders.remove(reminder)
        uow.commit()


def _reminder_changes(reminder: Reminder, patch: ReminderPatch, now: datetime) -> dict[str, Any]:
    sent = patch.changes()
    changes = {name: sent.pop(name) for name in list(sent) if name not in _SCHEDULE_FIELDS}
    if sent:
        current = reminder.schedule
        frequency = sent.get("frequency", current.frequency)
        # A new frequency drops what only the old one used, unless the caller sent it again.
        weekdays = current.weekdays if frequency is Frequency.WEEKLY else ()
        on_date = current.date if frequency is Frequency.ONCE and "time_of_day" not in sent else None
        changes["schedule"] = Schedule.build(
            time_of_day=sent.get("time_of_day", current.time_of_day.isoformat()),
            frequency=frequency,
            timezone=sent.get("timezone", current.timezone),
            weekdays=sent.get("weekdays", weekdays),
            on_date=sent.get("date", on_date),
            now=now,
        )
    return changes
