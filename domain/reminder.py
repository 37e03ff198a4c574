"""The Reminder aggregate: what to say, through which channel, on which schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.aggregate import Aggregate
from domain.delivery import Delivery
from domain.errors import InvalidInput, InvalidSchedule
from domain.events import (
    OccurrenceMissed,
    ReminderCreated,
    ReminderDeleted,
    ReminderDue,
    ReminderUpdated,
)
from domain.ids import new_id
from domain.schedule import Frequency, Schedule
from domain.template import validate_template
from domain.text import check_text

EDITABLE = ("title", "message", "channel", "target", "schedule", "active")


def _check_text(field: str, value: str) -> str:
    check_text(field, value, multiline=field == "message")  # a title is one line
    if not value.strip():
        raise InvalidInput(field, f"{field} must not be blank")
    validate_template(field, value)
    return value


def _check_target(target: str | None) -> str | None:
    if target is not None and "\x00" in target:
        raise InvalidInput("target", "target must not contain NUL characters")
    return target


def _next_run(
    schedule: Schedule, *, active: bool, now: datetime, last_slot: datetime | None
) -> datetime | None:
    if not active:
        return None
    upcoming = schedule.next_unsent_occurrence(now, last_slot=last_slot)
    if upcoming is None:
        message = "a once reminder must be scheduled in the future; send a date and time_of_day still to come"
        raise InvalidSchedule("date", message)
    return upcoming


@dataclass(eq=False, kw_only=True)
class Reminder(Aggregate):
    id: str
    # The owner's team: fixed for a reminder's life, kept here so no query needs the owner to scope it.
    team_id: str
    owner_id: str
    title: str
    message: str
    channel: str
    target: str | None
    schedule: Schedule
    active: bool
    next_run_at: datetime | None
    last_run_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def create(
        cls,
        *,
        team_id: str,
        owner_id: str,
        title: str,
        message: str,
        channel: str,
        target: str | None,
        schedule: Schedule,
        active: bool,
        now: datetime,
    ) -> Reminder:
        reminder = cls(
            id=new_id(),
            team_id=team_id,
            owner_id=owner_id,
            title=_check_text("title", title),
            message=_check_text("message", message),
            channel=channel,
            target=_check_target(target),
            schedule=schedule,
            active=active,
            next_run_at=None,
            last_run_at=None,
            created_at=now,
            updated_at=now,
        )
        reminder.next_run_at = _next_run(schedule, active=active, now=now, last_slot=None)
        reminder._record(
            ReminderCreated(reminder_id=reminder.id, owner_id=owner_id, next_run_at=reminder.next_run_at)
        )
        return reminder

    def update(self, changes: dict[str, Any], *, now: datetime, last_slot: datetime | None = None) -> None:
        """Apply the given fields; a schedule change or reactivation recomputes next_run_at.

        `last_slot` is the newest slot already sent for this reminder, if any: however its schedule
        moves, a daily or weekly reminder is not sent a second time on that slot's local date.
        Nothing changes when an edit is refused.
        """
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        for field in ("title", "message"):
            if field in changes:
                _check_text(field, changes[field])
        if "target" in changes:
            _check_target(changes["target"])
        changed = tuple(name for name in EDITABLE if name in changes and changes[name] != getattr(self, name))
        if not changed:
            return
        next_run_at = self.next_run_at
        if "schedule" in changed or "active" in changed:
            next_run_at = _next_run(
                changes.get("schedule", self.schedule),
                active=changes.get("active", self.active),
                now=now,
                last_slot=last_slot,
            )
        for name in changed:
            setattr(self, name, changes[name])
        self.next_run_at = next_run_at
        self.updated_at = now
        self._record(ReminderUpdated(reminder_id=self.id, changed=changed, next_run_at=self.next_run_at))

    def delete(self) -> None:
        self._record(ReminderDeleted(reminder_id=self.id, owner_id=self.owner_id))

    def fire(self, now: datetime, *, grace: timedelta) -> list[Delivery]:
        """Record every slot that has come due in the ledger and move to the next one.

        Only the newest past slot may be sent, and only within the grace period; every older
        slot is recorded as missed, so a restart after downtime never fires a storm and nothing
        is dropped silently.
        """
        if not self.active or self.next_run_at is None or self.next_run_at > now:
            return []
        slots: list[datetime] = []
        upcoming: datetime | None = self.next_run_at
        while upcoming is not None and upcoming <= now:
            slots.append(upcoming)
            upcoming = self.schedule.next_occurrence(upcoming)
        *older, newest = slots
        deliveries = [self._open(slot, now, missed=True) for slot in older]
        deliveries.append(self._open(newest, now, missed=now - newest > grace))
        self.last_run_at = now
        self.next_run_at = upcoming
        if self.schedule.frequency is Frequency.ONCE:
            self.active = False
        self.updated_at = now
        return deliveries

    def skip(self, now: datetime) -> None:
        """Pass over every slot due by `now` without recording any (the owner is deactivated), so
        a reactivated owner's reminder resumes from its next slot, never with the ones it missed."""
        if not self.active or self.next_run_at is None or self.next_run_at > now:
            return
        upcoming: datetime | None = self.next_run_at
        while upcoming is not None and upcoming <= now:
            upcoming = self.schedule.next_occurrence(upcoming)
        self.next_run_at = upcoming
        if upcoming is None:
            self.active = False
        self.updated_at = now

    def open_delivery(self, now: datetime) -> Delivery:
        """A delivery of this reminder on demand: for no slot, due at once; the schedule stays."""
        return Delivery.open(
            reminder_id=self.id,
            team_id=self.team_id,
            owner_id=self.owner_id,
            channel=self.channel,
            scheduled_for=None,
            now=now,
        )

    def _open(self, slot: datetime, now: datetime, *, missed: bool) -> Delivery:
        delivery = Delivery.open(
            reminder_id=self.id,
            team_id=self.team_id,
            owner_id=self.owner_id,
            channel=self.channel,
            scheduled_for=slot,
            now=now,
            missed=missed,
        )
        if missed:
            self._record(
                OccurrenceMissed(
                    reminder_id=self.id,
                    delivery_id=delivery.id,
                    scheduled_for=slot,
                    channel=self.channel,
                )
            )
        else:
            self._record(ReminderDue(reminder_id=self.id, delivery_id=delivery.id, scheduled_for=slot))
        return delivery
