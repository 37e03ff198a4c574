"""The lists of the web app's pages: a person's reminders with the state they see them in,
deliveries with what the viewer may do to each, and the members a reminder's form offers. Each asks
the policy, as the API's views do; a page only shows what it is handed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeVar

from application import policy, views
from application.repositories import Page
from application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.actor import Actor
from domain.delivery import Delivery, DeliveryStatus
from domain.errors import Forbidden, NotFound
from domain.reminder import Reminder
from domain.reminder_state import ReminderState, reminder_state
from domain.user import User

# How many reminders one read takes while a filter the store cannot apply is searched.
_BATCH: Final = 500

# What the policy checks a page's row against.
E = TypeVar("E", Reminder, Delivery)


@dataclass(frozen=True, slots=True)
class ReminderRow:
    reminder: Reminder
    state: ReminderState


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    delivery: Delivery
    # Its reminder's title, and the name of the person it is for, while they exist.
    title: str | None
    recipient_name: str | None
    # Whether the actor may open its reminder (a recipient of a team's reminder may not).
    may_open_reminder: bool
    may_retry: bool
    may_snooze: bool
    may_acknowledge: bool


@dataclass(frozen=True, slots=True)
class Members:
    """The members a form offers, by name: the first `listed` of the team's `total`, and every one
    chosen, wherever they come in the team's order."""

    people: list[User]
    listed: int
    total: int

    @property
    def cut(self) -> bool:
        return self.total > self.listed


def my_reminders(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    now: datetime,
    limit: int,
    offset: int,
    state: ReminderState | None = None,
    channel: str | None = None,
    text: str | None = None,
) -> Page[ReminderRow]:
    """The actor's own reminders in creation order, each with its state at `now`.

    The store filters by channel and by the active flag; whether an inactive reminder is paused or
    ended, and whether its title or message contains `text` (case-insensitive), is read from each
    reminder, so those filters search every reminder of the actor: a page and its total stay exact.
    """
    owner_id = actor.user_id or ""
    policy.act_for(actor, owner_id, "reminders")
    active = None if state is None else state == "active"
    needle = text.casefold() if text else None
    with uow_factory() as uow:
        if state in (None, "active") and needle is None:
            page = uow.reminders.list_by_owner(
                owner_id, limit=limit, offset=offset, channel=channel, active=active
            )
            rows = [ReminderRow(reminder, reminder_state(reminder, now)) for reminder in page.items]
            return Page(rows, page.total, limit, offset)
        matched = [
            row
            for row in _rows_of(uow, owner_id, now, channel=channel, active=active)
            if (state is None or row.state == state) and (needle is None or _contains(row.reminder, needle))
        ]
    return Page(matched[offset : offset + limit], len(matched), limit, offset)


def _rows_of(
    uow: UnitOfWork, owner_id: str, now: datetime, *, channel: str | None, active: bool | None
) -> Iterator[ReminderRow]:
    offset = 0
    while True:
        page = uow.reminders.list_by_owner(
            owner_id, limit=_BATCH, offset=offset, channel=channel, active=active
        )
        for reminder in page.items:
            yield ReminderRow(reminder, reminder_state(reminder, now))
        offset += _BATCH
        if not page.items or offset >= page.total:
            return


def _contains(reminder: Reminder, needle: str) -> bool:
    return needle in reminder.title.casefold() or needle in reminder.message.casefold()


def delivery_rows(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    reminder_id: str,
    limit: int,
    offset: int,
) -> Page[DeliveryRow]:
    """A reminder's deliveries, as `views.list_deliveries` shows them to the actor."""
    page = views.list_deliveries(uow_factory, actor, limit=limit, offset=offset, reminder_id=reminder_id)
    return _rows(uow_factory, actor, page)


def my_deliveries(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    limit: int,
    offset: int,
    status: DeliveryStatus | None = None,
) -> Page[DeliveryRow]:
    """The actor's own deliveries, newest first: those of their reminders and those addressed to
    them. An admin's too: the team's are on each reminder's page, not on a page called theirs."""
    person_id = actor.user_id or ""
    policy.act_for(actor, person_id, "deliveries")
    with uow_factory() as uow:
        page = uow.deliveries.list(
            limit=limit, offset=offset, team_id=actor.team_id or "", person_id=person_id, status=status
        )
    return _rows(uow_factory, actor, page)


def _rows(uow_factory: UnitOfWorkFactory, actor: Actor, page: Page[Delivery]) -> Page[DeliveryRow]:
    """Each delivery with its reminder's title, its recipient's name, and whether the actor may
    retry, snooze or acknowledge it now."""
    with uow_factory() as uow:
        reminders = uow.reminders.get_many({delivery.reminder_id for delivery in page.items})
        people = uow.users.get_many(
            {delivery.recipient for delivery in page.items if delivery.recipient is not None}
        )
    rows = []
    for delivery in page.items:
        reminder = reminders.get(delivery.reminder_id)
        person = people.get(delivery.recipient or "")
        answers = _allowed(policy.answer_delivery, actor, delivery)
        rows.append(
            DeliveryRow(
                delivery=delivery,
                title=reminder.title if reminder is not None else None,
                recipient_name=person.name if person is not None else None,
                may_open_reminder=reminder is not None and _allowed(policy.see_reminder, actor, reminder),
                may_retry=delivery.retryable and _allowed(policy.see_delivery, actor, delivery),
                may_snooze=answers and delivery.snoozable,
                may_acknowledge=answers and delivery.acknowledgeable,
            )
        )
    return Page(rows, page.total, page.limit, page.offset)


def members(uow_factory: UnitOfWorkFactory, actor: Actor, chosen: Collection[str], *, limit: int) -> Members:
    """The team's first `limit` members, and those of `chosen` that are the team's, by name: a
    reminder's recipients are always shown, so a save keeps them however large the team."""
    team_id = actor.team_id or ""
    with uow_factory() as uow:
        page = uow.users.list(team_id=team_id, limit=limit, offset=0)
        listed = {user.id for user in page.items}
        missing = set(chosen) - listed
        found = uow.users.get_many(missing) if missing else {}
    extra = [user for user in found.values() if user.team_id == team_id]
    people = sorted([*page.items, *extra], key=lambda user: (user.name.casefold(), user.id))
    return Members(people, len(page.items), page.total)


def _allowed(check: Callable[[Actor, E, str], E], actor: Actor, thing: E) -> bool:
    """Whether the policy lets the actor past `check` for `thing` (a reminder or a delivery)."""
    try:
        check(actor, thing, thing.id)
    except (Forbidden, NotFound):
        return False
    return True
