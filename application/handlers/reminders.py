"""Handlers for reminders."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from application import policy
from application.audience import Audiences, check_recipients, zones_of
from application.channels import Channels
from application.clock import Clock
from application.commands import (
    CreateReminder,
    DeleteReminder,
    NewSchedule,
    ReminderPatch,
    RepeatIn,
    UpdateReminder,
)
from application.handlers.users import load_user
from application.unit_of_work import UnitOfWork
from domain.actor import Actor
from domain.audience import LocalTime, Recipients, RepeatUntilAck
from domain.delivery import DeliveryKind, DeliveryStatus
from domain.errors import InactiveOwner, InvalidInput, UnknownChannel, quoted
from domain.reminder import Reminder
from domain.schedule import Schedule

# A patch's schedule fields, by the name Schedule.revise gives them.
_SCHEDULE_FIELDS = {
    "time_of_day": "time_of_day",
    "frequency": "frequency",
    "weekdays": "weekdays",
    "date": "on_date",
    "timezone": "timezone",
    "rrule": "rrule",
    "cron": "cron",
    "starts_on": "starts_on",
    "ends_on": "ends_on",
    "skip_dates": "skip_dates",
}
_LEDGER_PAGE = 20
# Every zone's "today" began less than this long ago.
_ONE_LOCAL_DAY = timedelta(hours=27)


def load_reminder(uow: UnitOfWork, reminder_id: str, actor: Actor) -> Reminder:
    return policy.see_reminder(actor, uow.reminders.get(reminder_id), reminder_id)


def check_channel(channels: Channels, name: str, target: str | None) -> None:
    channel = channels.get(name)
    if channel is None:
        known = ", ".join(sorted(channels))
        raise UnknownChannel("channel", f"unknown channel {quoted(name)}; configured: {known}")
    channel.validate_target(target)


def create_reminder(
    command: CreateReminder, uow: UnitOfWork, *, clock: Clock, channels: Channels
) -> Reminder:
    """A reminder belongs to an active user of the actor's team (the actor, unless an admin says
    otherwise), goes out through a configured channel, and keeps its owner's time zone unless told."""
    now = clock.now()
    actor = command.actor
    owner_id = command.owner_id or actor.user_id
    if owner_id is None:
        raise InvalidInput("owner_id", "owner_id is required")
    with uow:
        owner = load_user(uow, owner_id, actor)
        policy.act_for(actor, owner.id, "reminders")
        if not owner.active:
            raise InactiveOwner(owner.id)
        check_channel(channels, command.channel, command.target)
        schedule = build_schedule(command, timezone=command.timezone or owner.timezone, now=now)
        recipients = Recipients.parse(command.recipients)
        check_recipients(uow, recipients, owner.team_id)
        zones = _zones(uow, recipients, command.local_time, owner.team_id, owner.id)
        reminder = Reminder.create(
            team_id=owner.team_id,
            owner_id=owner.id,
            title=command.title,
            message=command.message,
            channel=command.channel,
            target=command.target,
            schedule=schedule,
            active=command.active,
            now=now,
            recipients=recipients,
            local_time=command.local_time,
            repeat_until_ack=_repeat(command.repeat_until_ack),
            zones=zones,
        )
        uow.reminders.add(reminder)
        uow.commit()
    return reminder


def update_reminder(
    command: UpdateReminder, uow: UnitOfWork, *, clock: Clock, channels: Channels
) -> Reminder:
    """Only the fields sent change; a schedule edit never sends a reminder twice on one local date."""
    now = clock.now()
    with uow:
        reminder = load_reminder(uow, command.reminder_id, command.actor)
        changes = _reminder_changes(reminder, command.changes, now)
        if "channel" in changes or "target" in changes:
            check_channel(
                channels,
                changes.get("channel", reminder.channel),
                changes.get("target", reminder.target),
            )
        if "recipients" in changes:
            check_recipients(uow, changes["recipients"], reminder.team_id)
        rescheduling = bool({"schedule", "active", "recipients", "local_time"}.intersection(changes))
        last_slot = last_sent_slot(uow, reminder) if rescheduling else None
        zones = (
            _zones(
                uow,
                changes.get("recipients", reminder.recipients),
                changes.get("local_time", reminder.local_time),
                reminder.team_id,
                reminder.owner_id,
            )
            if rescheduling
            else []
        )
        per_recipient = changes.get("local_time", reminder.local_time) is LocalTime.RECIPIENT
        sent_on = _sent_today(uow, reminder, now) if rescheduling and per_recipient else {}
        reminder.update(changes, now=now, last_slot=last_slot, zones=zones, sent_on=sent_on)
        uow.commit()
    return reminder


def delete_reminder(command: DeleteReminder, uow: UnitOfWork) -> None:
    """A deleted reminder never fires again; its delivery record stays."""
    with uow:
        reminder = load_reminder(uow, command.reminder_id, command.actor)
        reminder.delete()
        uow.reminders.remove(reminder)
        uow.commit()


def build_schedule(fields: NewSchedule, *, timezone: str, now: datetime) -> Schedule:
    """The schedule the fields describe, parsed and checked (a reminder's, or a preview's)."""
    return Schedule.build(
        time_of_day=fields.time_of_day,
        frequency=fields.frequency,
        timezone=timezone,
        weekdays=fields.weekdays,
        on_date=fields.date,
        rrule=fields.rrule,
        cron=fields.cron,
        starts_on=fields.starts_on,
        ends_on=fields.ends_on,
        skip_dates=fields.skip_dates,
        now=now,
    )


def _zones(
    uow: UnitOfWork, recipients: Recipients, local_time: LocalTime, team_id: str, owner_id: str
) -> list[str]:
    """The recipients' time zones, for a reminder in each recipient's own time; else none needed."""
    if local_time is not LocalTime.RECIPIENT:
        return []
    return zones_of(Audiences(uow).reached(recipients, team_id=team_id, owner_id=owner_id))


def _repeat(given: RepeatIn | None) -> RepeatUntilAck | None:
    return None if given is None else RepeatUntilAck(given.every_minutes, given.max_times)


def last_sent_slot(uow: UnitOfWork, reminder: Reminder) -> datetime | None:
    """The newest slot the scheduler fired for this reminder the last time it ran, from the ledger;
    None if it never fired or that firing only recorded missed slots (nothing was sent)."""
    fired_at = reminder.last_run_at
    if fired_at is None:
        return None
    # The ledger lists a reminder's deliveries newest first; the last firing's were all created at
    # `fired_at`, and only deliveries sent on demand (no slot) can have come after them.
    newest: tuple[datetime, DeliveryStatus] | None = None
    offset = 0
    while True:
        page = uow.deliveries.list(limit=_LEDGER_PAGE, offset=offset, reminder_id=reminder.id)
        for delivery in page.items:
            if delivery.created_at < fired_at:
                return _if_sent(newest)
            slot = delivery.scheduled_for
            if delivery.kind is not DeliveryKind.SCHEDULED:
                continue
            if slot is not None and (newest is None or slot > newest[0]):
                newest = (slot, delivery.status)
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return _if_sent(newest)


def _sent_today(uow: UnitOfWork, reminder: Reminder, now: datetime) -> dict[str, date]:
    """Each recipient's today (in their own zone), for the recipients of this reminder whose slot
    today was already fired: in each recipient's own time, the same-date rule holds per person."""
    if reminder.last_run_at is None:
        return {}
    newest: dict[str, datetime] = {}
    since = now - _ONE_LOCAL_DAY
    offset = 0
    while True:
        page = uow.deliveries.list(limit=_LEDGER_PAGE, offset=offset, reminder_id=reminder.id)
        for delivery in page.items:
            if delivery.created_at < since:
                return _today_of(uow, newest, now)
            slot, person = delivery.scheduled_for, delivery.recipient_id
            fired = delivery.kind is DeliveryKind.SCHEDULED and delivery.status is not DeliveryStatus.MISSED
            if fired and slot is not None and person is not None and person not in newest:
                newest[person] = slot
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return _today_of(uow, newest, now)


def _today_of(uow: UnitOfWork, slots: dict[str, datetime], now: datetime) -> dict[str, date]:
    people = uow.users.get_many(slots.keys())
    today = {}
    for user_id, slot in slots.items():
        person = people.get(user_id)
        zone = ZoneInfo(person.timezone) if person is not None else None
        if zone is not None and slot.astimezone(zone).date() == now.astimezone(zone).date():
            today[user_id] = now.astimezone(zone).date()
    return today


def _if_sent(newest: tuple[datetime, DeliveryStatus] | None) -> datetime | None:
    if newest is None or newest[1] is DeliveryStatus.MISSED:
        return None
    return newest[0]


def _reminder_changes(reminder: Reminder, patch: ReminderPatch, now: datetime) -> dict[str, Any]:
    """The patch as changes to the reminder; its schedule fields revise the current schedule."""
    sent = patch.changes()
    changes = {name: value for name, value in sent.items() if name not in _SCHEDULE_FIELDS}
    if "recipients" in changes:
        changes["recipients"] = Recipients.parse(changes["recipients"])
    if "repeat_until_ack" in changes:
        changes["repeat_until_ack"] = _repeat(changes["repeat_until_ack"])
    revision = {_SCHEDULE_FIELDS[name]: value for name, value in sent.items() if name in _SCHEDULE_FIELDS}
    if revision:
        changes["schedule"] = reminder.schedule.revise(now=now, **revision)
    return changes
