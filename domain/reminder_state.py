"""What a person sees a reminder as: active, paused, or ended.

The aggregate knows only `active`; a series that ran out of slots becomes inactive too, exactly as
one someone paused. The difference matters to a person (resuming an ended series is refused), so it
is read from the schedule: a paused reminder still has a slot to come, an ended one has none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from domain.reminder import Reminder

ReminderState = Literal["active", "paused", "ended"]


def reminder_state(reminder: Reminder, now: datetime) -> ReminderState:
    if reminder.active:
        return "active"
    # Strictly after `now`: a one-off that fired at `now` has ended, not paused on its own slot.
    if reminder.schedule.next_occurrence(now) is None:
        return "ended"
    return "paused"
