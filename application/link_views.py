"""What a signed action link would do, checked as following it checks it, without following it.

Opening a link shows what its button will do; link scanners and mail previews open links too, so
looking changes nothing: no use is recorded, nothing is audited. The checks are those of
handlers.answers.follow_action_link (handlers.answers.check_link), so the page a link opens
refuses exactly what its button would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.action_links import Action
from application.clock import Clock
from application.handlers.answers import LINK_SNOOZE_MINUTES, check_link
from application.notifications import build_notification
from application.unit_of_work import UnitOfWorkFactory
from domain.delivery import Delivery
from domain.errors import DomainError
from domain.reminder import Reminder
from domain.user import User


@dataclass(frozen=True, slots=True)
class LinkView:
    """What the link's page tells the person who opened it."""

    action: Action
    # The reminder's title as its messages showed it; None once the reminder is deleted.
    title: str | None
    recipient_name: str
    # The recipient's IANA zone: a snooze's new time is told in their own wall-clock time.
    timezone: str
    default_snooze_minutes: int = LINK_SNOOZE_MINUTES


def look_at_link(uow_factory: UnitOfWorkFactory, token: str, *, clock: Clock) -> LinkView:
    """The link's action, reminder and recipient, once its signature, age and single use hold."""
    now = clock.now()
    with uow_factory() as uow:
        link = check_link(uow, token, now)
        claim, delivery, person = link.claim, link.delivery, link.person
        reminder = uow.reminders.get(delivery.reminder_id)
        owner = uow.users.get(reminder.owner_id) if reminder is not None else None
        title = None if reminder is None else reminder.title
        if reminder is not None and owner is not None:
            title = _shown_title(delivery, reminder, owner, person if delivery.recipient_id else None, now)
    return LinkView(action=claim.action, title=title, recipient_name=person.name, timezone=person.timezone)


def _shown_title(
    delivery: Delivery, reminder: Reminder, owner: User, recipient: User | None, now: datetime
) -> str:
    """The title rendered as the message rendered it (its placeholders filled), else as written."""
    try:
        return build_notification(delivery, reminder, owner, now=now, recipient=recipient).title
    except DomainError:
        return reminder.title
