"""Previews of a schedule's next slots: of a saved reminder, or of a schedule not saved yet, so a
client can show "next: Tue 9 Dec 09:00" before saving.

Every slot is listed, in time order: skipped ones too, flagged with why (`skip_date`, a holiday;
`quiet_hours`, the recipient's, when it will wait until they end; `paused`, the reminder is not
active). A reminder in each recipient's own time lists each recipient's slots, naming them.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from application import policy
from application.audience import Audiences, check_recipients
from application.commands import NewSchedule
from application.handlers.reminders import build_schedule, load_reminder
from application.handlers.users import load_user
from application.unit_of_work import UnitOfWorkFactory
from domain.actor import Actor
from domain.audience import LocalTime, Recipients
from domain.errors import InvalidInput
from domain.schedule import Schedule, Slot
from domain.user import User

MAX_COUNT = 100


@dataclass(frozen=True, slots=True)
class Occurrence:
    scheduled_for: datetime
    local: datetime
    recipient_id: str | None
    skipped: bool
    reason: str | None


def reminder_occurrences(
    uow_factory: UnitOfWorkFactory, actor: Actor, reminder_id: str, *, after: datetime, count: int
) -> list[Occurrence]:
    with uow_factory() as uow:
        reminder = load_reminder(uow, reminder_id, actor)
        audiences = Audiences(uow)
        people = _people(
            audiences, reminder.recipients, reminder.local_time, reminder.owner_id, reminder.team_id
        )
        return _occurrences(
            reminder.schedule,
            reminder.local_time,
            people,
            after=after,
            count=count,
            paused=not reminder.active,
        )


def schedule_preview(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    body: NewSchedule,
    *,
    after: datetime,
    count: int,
    now: datetime,
) -> list[Occurrence]:
    """The slots a reminder with these schedule fields would have; nothing is saved. A schedule
    with no occurrence to come is refused, as creating it would be."""
    with uow_factory() as uow:
        owner = load_user(uow, body.owner_id or actor.user_id or "", actor)
        policy.act_for(actor, owner.id, "reminders")
        schedule = build_schedule(body, timezone=body.timezone or owner.timezone, now=now)
        schedule.require_future(now)
        recipients = Recipients.parse(body.recipients)
        check_recipients(uow, recipients, owner.team_id)
        people = _people(Audiences(uow), recipients, body.local_time, owner.id, owner.team_id)
        return _occurrences(schedule, body.local_time, people, after=after, count=count, paused=False)


def check_count(count: int) -> int:
    if not 1 <= count <= MAX_COUNT:
        raise InvalidInput("count", f"count must be 1 to {MAX_COUNT}")
    return count


def _people(
    audiences: Audiences, recipients: Recipients, local_time: LocalTime, owner_id: str, team_id: str
) -> list[User]:
    """Whose slots and quiet hours the preview shows: each recipient, in their own time; the owner,
    for a reminder of its owner alone; nobody's for a team's shared slots."""
    if local_time is LocalTime.RECIPIENT:
        return audiences.reached(recipients, team_id=team_id, owner_id=owner_id)
    if recipients.is_owner:
        owner = audiences.user(owner_id)
        return [owner] if owner is not None else []
    return []


def _occurrences(
    schedule: Schedule,
    local_time: LocalTime,
    people: list[User],
    *,
    after: datetime,
    count: int,
    paused: bool,
) -> list[Occurrence]:
    if local_time is LocalTime.RECIPIENT:
        streams = [
            _stream(schedule.in_zone(person.timezone), person, after, count, paused, named=True)
            for person in people
        ]
        merged = heapq.merge(*streams, key=lambda item: (item.scheduled_for, item.recipient_id or ""))
        return list(islice(merged, count))
    owner = people[0] if people else None
    return list(_stream(schedule, owner, after, count, paused, named=False))


def _stream(
    schedule: Schedule, person: User | None, after: datetime, count: int, paused: bool, *, named: bool
) -> Iterator[Occurrence]:
    for slot in schedule.slots(after, count=count):
        yield _occurrence(slot, person, paused, named=named)


def _occurrence(slot: Slot, person: User | None, paused: bool, *, named: bool) -> Occurrence:
    reason = None
    if paused:
        reason = "paused"
    elif slot.skipped:
        reason = "skip_date"
    elif person is not None and person.quiet_until(slot.at) is not None:
        reason = "quiet_hours"
    return Occurrence(
        scheduled_for=slot.at,
        local=slot.local,
        recipient_id=person.id if named and person is not None else None,
        skipped=reason is not None,
        reason=reason,
    )
