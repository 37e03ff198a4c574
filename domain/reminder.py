"""The Reminder aggregate: what to say, through which channel, on which schedule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.aggregate import Aggregate
from domain.audience import OWNER, PERSONAL_CHANNELS, LocalTime, Recipients, RepeatUntilAck
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
from domain.user import User

EDITABLE = (
    "title",
    "message",
    "channel",
    "target",
    "schedule",
    "active",
    "recipients",
    "local_time",
    "repeat_until_ack",
)
# The field a refusal of a schedule with no slot to come names, by frequency.
_FIELD_OF = {
    Frequency.ONCE: "date",
    Frequency.DAILY: "time_of_day",
    Frequency.WEEKLY: "weekdays",
    Frequency.RRULE: "rrule",
    Frequency.CRON: "cron",
}
# Changes that move the reminder's slots.
_REPLANNING = frozenset({"schedule", "active", "recipients", "local_time"})


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


def _earliest(moments: Sequence[datetime | None]) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return min(known) if known else None


def _next_in_zones(
    schedule: Schedule, zones: Sequence[str], after: datetime, *, own: datetime | None = None
) -> datetime | None:
    """The earliest slot after `after` in any of `zones` (the recipients' own time): the moment the
    scheduler next has something to do for the reminder. With no recipient, the schedule's own
    zone (`own`, when known) keeps it waking, so a recipient who joins later is found."""
    if zones:
        return _earliest([schedule.in_zone(zone).next_occurrence(after) for zone in set(zones)])
    return own or schedule.next_occurrence(after)


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
    recipients: Recipients = OWNER
    local_time: LocalTime = LocalTime.REMINDER
    repeat_until_ack: RepeatUntilAck | None = None
    # Each recipient's own time: every slot up to this instant has been fired, in every zone.
    fired_through: datetime | None = None
    # When the owner was last told that a delivery of this reminder failed.
    last_alert_at: datetime | None = None
    # Each recipient's own time: the local date each recipient was last sent a slot on, kept by an
    # edit of a daily or weekly reminder, so a moved schedule never sends it twice on one date.
    sent_on: dict[str, dt.date] = field(default_factory=dict)

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
        recipients: Recipients = OWNER,
        local_time: LocalTime = LocalTime.REMINDER,
        repeat_until_ack: RepeatUntilAck | None = None,
        zones: Sequence[str] = (),
    ) -> Reminder:
        """`zones` are the recipients' time zones, for a reminder in each recipient's own time."""
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
            recipients=recipients,
            local_time=local_time,
            repeat_until_ack=repeat_until_ack,
        )
        reminder.next_run_at = reminder._plan(
            schedule, active=active, local_time=local_time, now=now, last_slot=None, zones=zones
        )
        reminder._record(
            ReminderCreated(reminder_id=reminder.id, owner_id=owner_id, next_run_at=reminder.next_run_at)
        )
        return reminder

    @property
    def per_recipient(self) -> bool:
        """Whether each recipient's slots are in their own time zone."""
        return self.local_time is LocalTime.RECIPIENT

    @property
    def _once_a_day(self) -> bool:
        """Daily and weekly schedules fire at most once per local date, however they are edited."""
        return self.schedule.frequency in (Frequency.DAILY, Frequency.WEEKLY)

    @property
    def personal(self) -> bool:
        """Whether each recipient gets a delivery of their own (through email or the log)."""
        return self.channel in PERSONAL_CHANNELS

    def update(
        self,
        changes: dict[str, Any],
        *,
        now: datetime,
        last_slot: datetime | None = None,
        zones: Sequence[str] = (),
        sent_on: Mapping[str, dt.date] | None = None,
    ) -> None:
        """Apply the given fields; a schedule change or reactivation recomputes next_run_at.

        `last_slot` is the newest slot already sent for this reminder, if any: however its schedule
        moves, a daily or weekly reminder is not sent a second time on that slot's local date.
        `zones` are the recipients' time zones, for a reminder in each recipient's own time, and
        `sent_on` the local date each recipient was last sent a slot on (the same rule, per person).
        Nothing changes when an edit is refused.
        """
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        for text in ("title", "message"):
            if text in changes:
                _check_text(text, changes[text])
        if "target" in changes:
            _check_target(changes["target"])
        changed = tuple(name for name in EDITABLE if name in changes and changes[name] != getattr(self, name))
        if not changed:
            return
        next_run_at = self.next_run_at
        replanned = _REPLANNING.intersection(changed)
        if replanned:
            next_run_at = self._plan(
                changes.get("schedule", self.schedule),
                active=changes.get("active", self.active),
                local_time=changes.get("local_time", self.local_time),
                now=now,
                last_slot=last_slot,
                zones=zones,
            )
        for name in changed:
            setattr(self, name, changes[name])
        if replanned:
            self.sent_on = dict(sent_on or {}) if self.per_recipient and self._once_a_day else {}
        self.next_run_at = next_run_at
        self.updated_at = now
        self._record(ReminderUpdated(reminder_id=self.id, changed=changed, next_run_at=self.next_run_at))

    def _plan(
        self,
        schedule: Schedule,
        *,
        active: bool,
        local_time: LocalTime,
        now: datetime,
        last_slot: datetime | None,
        zones: Sequence[str],
    ) -> datetime | None:
        """The next slot from `now` (the reminder's first, or after an edit); a reminder that is to
        be active must have one. Slots in each recipient's own time restart from `now`."""
        if not active:
            return None
        if local_time is LocalTime.RECIPIENT:
            # The recipients' zones decide, not the reminder's own (it only labels the reminder).
            upcoming = _next_in_zones(schedule, zones, now)
            if upcoming is None:
                schedule.require_future(now)  # names what ended the series, when it has
                raise InvalidSchedule(
                    _FIELD_OF[schedule.frequency],
                    "the schedule has no occurrence to come in any recipient's time zone",
                )
            self.fired_through = now
            return upcoming
        upcoming = schedule.require_future(now)
        self.fired_through = None
        if last_slot is None:
            return upcoming
        return schedule.next_unsent_occurrence(now, last_slot=last_slot)

    def include_zone(self, zone: str, now: datetime) -> None:
        """A recipient in `zone` joined: their next slot must not wait for the others'."""
        if not self.active or not self.per_recipient:
            return
        theirs = self.schedule.in_zone(zone).next_occurrence(now)
        earliest = _earliest([self.next_run_at, theirs])
        if earliest != self.next_run_at:
            self.next_run_at = earliest
            self.updated_at = now

    def take_alert(self, now: datetime, *, every: timedelta) -> bool:
        """Whether a failure may be alerted now (at most once per `every`); if so it is taken, and
        the commit that records it changes this reminder: two at once cannot both take it."""
        if self.last_alert_at is not None and now - self.last_alert_at < every:
            return False
        self.last_alert_at = now
        return True

    def delete(self) -> None:
        self._record(ReminderDeleted(reminder_id=self.id, owner_id=self.owner_id))

    def fire(self, now: datetime, *, grace: timedelta, audience: Sequence[User] = ()) -> list[Delivery]:
        """Record every slot that has come due in the ledger and move to the next one.

        Only the newest past slot may be sent, and only within the grace period; every older
        slot is recorded as missed, so a restart after downtime never fires a storm and nothing
        is dropped silently. `audience` is who the slots reach now: the active recipients (the
        owner alone for a reminder of its owner). A slot inside a person's quiet hours waits.
        A series that has no slot left ends: the reminder becomes inactive.
        """
        if not self.active or self.next_run_at is None or self.next_run_at > now:
            return []
        if self.per_recipient:
            deliveries = self._fire_per_recipient(now, grace, audience)
        else:
            slots, upcoming = self._slots_until(self.schedule, self.next_run_at, now)
            deliveries = []
            for slot in slots:
                missed = slot != slots[-1] or now - slot > grace
                deliveries.extend(self._open_slot(slot, now, missed=missed, audience=audience))
            self.next_run_at = upcoming
        self.last_run_at = now
        # A one-off in each recipient's own time fires once per zone: it ends when every zone has.
        once = self.schedule.frequency is Frequency.ONCE and not self.per_recipient
        if self.next_run_at is None or once:
            self.active, self.next_run_at = False, None
        self.updated_at = now
        return deliveries

    def skip(self, now: datetime, *, zones: Sequence[str] = ()) -> None:
        """Pass over every slot due by `now` without recording any (the owner is deactivated), so
        a reactivated owner's reminder resumes from its next slot, never with the ones it missed."""
        if not self.active or self.next_run_at is None or self.next_run_at > now:
            return
        if self.per_recipient:
            self.fired_through = now
            upcoming = _next_in_zones(self.schedule, zones, now)
        else:
            _, upcoming = self._slots_until(self.schedule, self.next_run_at, now)
        self.next_run_at = upcoming
        if upcoming is None:
            self.active = False
        self.updated_at = now

    @staticmethod
    def _slots_until(
        schedule: Schedule, first: datetime, now: datetime
    ) -> tuple[list[datetime], datetime | None]:
        """`first` and every later slot up to `now`; and the slot after them."""
        slots = [first]
        upcoming = schedule.next_occurrence(first)
        while upcoming is not None and upcoming <= now:
            slots.append(upcoming)
            upcoming = schedule.next_occurrence(upcoming)
        return slots, upcoming

    def _fire_per_recipient(
        self, now: datetime, grace: timedelta, audience: Sequence[User]
    ) -> list[Delivery]:
        """Each recipient's slots in their own zone since the last firing (or since they joined).
        The slots are expanded once per zone, however many recipients share it."""
        since = self.fired_through or self.created_at
        by_zone: dict[str, tuple[list[datetime], datetime | None]] = {}
        for zone in {person.timezone for person in audience}:
            schedule = self.schedule.in_zone(zone)
            first = schedule.next_occurrence(since)
            by_zone[zone] = (
                ([], first) if first is None or first > now else self._slots_until(schedule, first, now)
            )
        deliveries: list[Delivery] = []
        for person in audience:
            joined = person.active_since or person.created_at
            slots = [slot for slot in by_zone[person.timezone][0] if slot > joined]
            sent_on = self.sent_on.get(person.id)
            if sent_on is not None:
                theirs = ZoneInfo(person.timezone)
                slots = [slot for slot in slots if slot.astimezone(theirs).date() != sent_on]
                if now.astimezone(theirs).date() > sent_on:
                    self.sent_on = {key: day for key, day in self.sent_on.items() if key != person.id}
            for slot in slots:
                missed = slot != slots[-1] or now - slot > grace
                deliveries.append(self._open(slot, now, missed=missed, person=person))
        self.fired_through = now
        if by_zone:
            self.next_run_at = _earliest([after for _, after in by_zone.values()])
        else:
            self.next_run_at = self.schedule.next_occurrence(now)
        return deliveries

    def _open_slot(
        self, slot: datetime, now: datetime, *, missed: bool, audience: Sequence[User]
    ) -> list[Delivery]:
        """One slot's deliveries: one per recipient through a channel that reaches a person, else one."""
        if self.recipients.is_owner:
            owner = next((person for person in audience if person.id == self.owner_id), None)
            return [self._open(slot, now, missed=missed, person=owner, named=False)]
        if self.personal:
            return [self._open(slot, now, missed=missed, person=person) for person in audience]
        return [self._open(slot, now, missed=missed)]

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

    def _open(
        self, slot: datetime, now: datetime, *, missed: bool, person: User | None = None, named: bool = True
    ) -> Delivery:
        """A slot's delivery, for `person` when it reaches one (named as its recipient unless it is
        the owner's own reminder), deferred to the end of their quiet hours when the slot is in them."""
        delivery = Delivery.open(
            reminder_id=self.id,
            team_id=self.team_id,
            owner_id=self.owner_id,
            channel=self.channel,
            scheduled_for=slot,
            now=now,
            missed=missed,
            recipient_id=person.id if person is not None and named else None,
            quiet_until=person.quiet_until(slot) if person is not None else None,
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
