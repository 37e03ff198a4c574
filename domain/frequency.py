"""How often a schedule fires: its kind of rule."""

from __future__ import annotations

from enum import StrEnum


class Frequency(StrEnum):
    ONCE = "once"
    DAILY = "daily"
    WEEKLY = "weekly"
    RRULE = "rrule"  # an RFC 5545 rule choosing days (domain.recurrence)
    CRON = "cron"  # a five-field cron expression choosing days and times (domain.cron_rule)
