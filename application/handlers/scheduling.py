"""The scheduler's handler: fire every reminder that has come due."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from application.audience import Audiences, zones_of
from application.commands import CheckDueReminders
from application.unit_of_work import UnitOfWork
from domain.errors import Conflict, NotFound
from domain.reminder import Reminder

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TickResult:
    due: int
    fired: int
    # True when the batch was full and made progress: more may be due, so the ticker runs again
    # at once. A full batch that fired nothing waits for the next interval instead of spinning.
    more: bool


def check_due_reminders(
    command: CheckDueReminders, uow: UnitOfWork, *, batch_size: int, grace: timedelta
) -> TickResult:
    """Each due slot is recorded in the ledger exactly once, and the reminder moves on, atomically."""
    with uow:
        # The batch is taken for this tick (on PostgreSQL other schedulers skip its rows) and fired
        # in one commit. When that commit is refused, one reminder at a time finds which.
        batch = uow.reminders.due(command.now, limit=batch_size)
        due = [reminder.id for reminder in batch]
        audiences = Audiences(uow)
        audiences.read(batch)
        fired = skipped = 0
        for reminder in batch:
            if not _owner_active(audiences, reminder):
                _skip(reminder, audiences, command)
                skipped += 1
                continue
            deliveries = reminder.fire(command.now, grace=grace, audience=audiences.of(reminder))
            for delivery in deliveries:
                uow.deliveries.add(delivery)
            fired += bool(deliveries)
        try:
            uow.commit()
        except (Conflict, NotFound):
            log.info("a batch of due reminders was refused; firing them one by one", extra={"due": len(due)})
        else:
            # Passing a deactivated owner's slots is progress too: those reminders are no longer due.
            more = len(due) == batch_size and fired + skipped > 0
            return TickResult(due=len(due), fired=fired, more=more)
    return _fire_one_by_one(command, uow, due, grace=grace, batch_size=batch_size)


def _fire_one_by_one(
    command: CheckDueReminders, uow: UnitOfWork, due: list[str], *, grace: timedelta, batch_size: int
) -> TickResult:
    fired = skipped = 0
    for reminder_id in due:
        with uow:
            reminder = uow.reminders.get(reminder_id)
            if reminder is None:
                continue
            audiences = Audiences(uow)
            passing = not _owner_active(audiences, reminder)
            if passing:
                _skip(reminder, audiences, command)
                deliveries = []
            else:
                deliveries = reminder.fire(command.now, grace=grace, audience=audiences.of(reminder))
            for delivery in deliveries:
                uow.deliveries.add(delivery)
            try:
                uow.commit()
            except NotFound as missing:
                if missing.entity == "user":
                    _discard_orphan(uow, reminder_id)
                continue
            except Conflict:
                # Another tick or an edit got there first: the slot is theirs, or still due.
                log.info("reminder changed while firing", extra={"reminder_id": reminder_id})
                continue
            fired += bool(deliveries)
            skipped += passing
    return TickResult(due=len(due), fired=fired, more=len(due) == batch_size and fired + skipped > 0)


def _owner_active(audiences: Audiences, reminder: Reminder) -> bool:
    """A deactivated owner's reminders pass their slots without sending anything. A missing owner
    counts as active here: the commit finds them gone (see _discard_orphan)."""
    owner = audiences.user(reminder.owner_id)
    return owner is None or owner.active


def _skip(reminder: Reminder, audiences: Audiences, command: CheckDueReminders) -> None:
    zones = zones_of(audiences.of(reminder)) if reminder.per_recipient else []
    reminder.skip(command.now, zones=zones)


def _discard_orphan(uow: UnitOfWork, reminder_id: str) -> None:
    """A reminder whose owner is gone (their clean-up failed or is still running) never fires, and
    is deleted so it cannot sit at the head of the due index and hold every later reminder back."""
    log.warning("deleting a reminder whose owner no longer exists", extra={"reminder_id": reminder_id})
    with uow:
        reminder = uow.reminders.get(reminder_id)
        if reminder is not None:
            reminder.delete()
            uow.reminders.remove(reminder)
            try:
                uow.commit()
            except (Conflict, NotFound):
                log.info("orphaned reminder changed while being deleted", extra={"reminder_id": reminder_id})
