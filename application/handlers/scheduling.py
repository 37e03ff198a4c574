"""The scheduler's handler: fire every reminder that has come due."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

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
        inactive = _inactive_owners(uow, batch)
        fired = skipped = 0
        for reminder in batch:
            if reminder.owner_id in inactive:
                reminder.skip(command.now)
                skipped += 1
                continue
            deliveries = reminder.fire(command.now, grace=grace)
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
            passing = bool(_inactive_owners(uow, [reminder]))
            if passing:
                reminder.skip(command.now)
                deliveries = []
            else:
                deliveries = reminder.fire(command.now, grace=grace)
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


def _inactive_owners(uow: UnitOfWork, reminders: list[Reminder]) -> set[str]:
    """Owners who are deactivated: their reminders pass their slots without sending anything."""
    owners = uow.users.get_many({reminder.owner_id for reminder in reminders})
    return {owner.id for owner in owners.values() if not owner.active}


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
