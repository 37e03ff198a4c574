"""What the tick benchmark's reminders are: the kinds in a population, their shares, and where each
first comes due.

Two mixes. `daily` is the original population: every reminder daily, for its owner, in UTC, all
users in one team. `mixed` holds, in the due tiers and in the rest alike, plain daily and weekly
reminders, RFC 5545 rules (started up to a year before the ticks, so each expansion fast-forwards
over months of the series; one with COUNT), cron expressions, and team reminders: to a list of
members or to the whole team, at the reminder's time or in each recipient's own time, on a channel
that gives every recipient a delivery of their own. Users sit in teams of ten, in seven time zones
(four UTC offsets), some with quiet hours, so some deliveries are deferred.

Every kind is laid out in UTC: `Mix.plan(kind, at)` is the schedule whose first slot after T0 is `at`,
checked with the domain's own expansion, with the number of deliveries that slot opens. A team
reminder in each recipient's own time has a slot per zone; only the recipients whose zone puts
their slot at `at` are reached then, and every other zone's slot must come after the last tick
(or, for the rest, at 12:00 UTC or later), so each tick fires exactly the reminders it should.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.doubles import NOOP, PERSONAL
from domain.audience import LocalTime
from domain.quiet_hours import QuietHours
from domain.schedule import Frequency, Schedule

T0 = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday, the 5th: every rule below fires on it
# Rules start on one of 182 days of the year before T0, two days apart from this Monday on (an even
# number of days before T0, so FREQ=DAILY;INTERVAL=2 fires on T0's day): like reminders created on
# different days, they are distinct rules to the domain's caches of expanded rules (domain.recurrence),
# as most rules of a large store would be.
STARTS_ON = date(2025, 1, 6)
START_DAYS = 182
HOUR = 3600
REST_FROM = timedelta(hours=12)

NIGHT = QuietHours.build(start="22:00", end="07:00")
LUNCH = QuietHours.build(start="12:00", end="13:00", weekdays=(0, 1, 2, 3, 4))


@dataclass(frozen=True, slots=True)
class Seat:
    """One place in every team: its member's time zone and quiet hours."""

    zone: str
    quiet_hours: QuietHours | None = None


@dataclass(frozen=True)
class Kind:
    """One kind of reminder of a mix, and its share of every 100 reminders (due tiers and rest alike)."""

    name: str
    share: int
    zone: str  # the reminder's own zone
    frequency: Frequency
    rrule: str | None = None
    cron_days: str | None = None  # the last three cron fields; minute and hour come from the slot
    weekdays: tuple[int, ...] = ()
    starts_on: date | None = None
    recipients: str | tuple[int, ...] = "owner"  # "owner", "team", or seats of the owner's team
    local_time: LocalTime = LocalTime.REMINDER
    # Where the rest of this kind first comes due, in seconds after T0: every zone's slot must be
    # at 12:00 UTC or later, which for a reminder in its recipients' own times narrows the window.
    rest: tuple[int, int] = (12 * HOUR, 24 * HOUR)

    @property
    def channel(self) -> str:
        return NOOP if self.recipients == "owner" else PERSONAL

    def seats(self, team_size: int) -> tuple[int, ...]:
        """The seats of the owner's team this kind reaches (the owner's own seat: empty)."""
        if isinstance(self.recipients, tuple):
            return self.recipients
        return tuple(range(team_size)) if self.recipients == "team" else ()

    def schedule(self, at: datetime) -> Schedule:
        """The schedule whose wall-clock time, in this kind's zone, is the one of `at`."""
        local = at.astimezone(ZoneInfo(self.zone))
        if self.frequency is Frequency.CRON:
            cron = f"{local.minute} {local.hour} {self.cron_days}"
            return Schedule.build(
                time_of_day=None, frequency=Frequency.CRON, timezone=self.zone, cron=cron, now=T0
            )
        return Schedule.build(
            time_of_day=local.strftime("%H:%M:%S"),
            frequency=self.frequency,
            timezone=self.zone,
            weekdays=self.weekdays,
            rrule=self.rrule,
            starts_on=self.starts_on,
            now=T0,
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """A kind's schedule for one slot, and the deliveries that slot opens (per reminder)."""

    schedule: Schedule
    deliveries: int


class LayoutError(ValueError):
    """A kind does not come due where the layout needs it: the ticks would not fire what they count."""


@dataclass(frozen=True)
class Mix:
    name: str
    kinds: tuple[Kind, ...]
    seats: tuple[Seat, ...]  # every team's members, by seat; a team holds len(seats) users
    one_team: bool  # every user in one team (the original layout)
    rest_step: int  # seconds between the rest's times of day

    def __post_init__(self) -> None:
        if sum(kind.share for kind in self.kinds) != 100:
            raise ValueError(f"the shares of mix {self.name!r} must add up to 100")

    def plan(self, kind: Kind, at: datetime, *, last_tick: datetime | None) -> Plan:
        """`kind`'s schedule at the wall-clock time of `at`, checked: a tier's (`last_tick` given)
        first fires at `at`, reaching the recipients counted, and nothing else until after
        `last_tick`; the rest's fires nothing before 12:00 UTC (a rule's first day may be later)."""
        schedule = kind.schedule(at)
        seats = kind.seats(len(self.seats))
        if kind.local_time is LocalTime.RECIPIENT:
            zones = {kind.zone} | {self.seats[seat].zone for seat in seats}
        else:
            zones = {kind.zone}
        first = {zone: schedule.in_zone(zone).next_occurrence(T0) for zone in zones}
        if last_tick is None:  # the rest: a rule may first fire on a later day, never before 12:00
            if any(moment is None or moment < T0 + REST_FROM for moment in first.values()):
                raise LayoutError(f"{kind.name} at {at:%H:%M:%S} fires before 12:00 UTC: {first}")
            return Plan(schedule, 0)
        earliest = min(moment for moment in first.values() if moment is not None)
        if earliest != at:
            raise LayoutError(f"{kind.name} at {at:%H:%M:%S} first comes due at {earliest}")
        for zone, moment in first.items():
            after = moment if moment != at else schedule.in_zone(zone).next_occurrence(at)
            if after is None or after <= last_tick:
                raise LayoutError(f"{kind.name} at {at:%H:%M:%S} also fires at {after} in {zone}")
        if kind.local_time is LocalTime.RECIPIENT:
            deliveries = sum(first[self.seats[seat].zone] == at for seat in seats)
        else:
            deliveries = len(seats) or 1
        return Plan(schedule, deliveries)


WORKDAYS = (0, 1, 2, 3, 4)
WORKDAYS_RULE = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
BERLIN, NEW_YORK, KOLKATA = "Europe/Berlin", "America/New_York", "Asia/Kolkata"

MIXED = Mix(
    name="mixed",
    seats=(
        Seat(BERLIN),
        Seat("Europe/Paris", LUNCH),
        Seat("Europe/Madrid"),
        Seat(BERLIN, NIGHT),
        Seat("Europe/London", LUNCH),
        Seat(NEW_YORK, NIGHT),  # 03:00 there is 08:00 UTC: deferred to 07:00
        Seat(NEW_YORK),
        Seat("America/Toronto", NIGHT),
        Seat(KOLKATA, NIGHT),
        Seat(KOLKATA),
    ),
    one_team=False,
    rest_step=60,
    kinds=(
        Kind("daily", 25, "UTC", Frequency.DAILY),
        Kind("weekly Mon-Fri", 5, BERLIN, Frequency.WEEKLY, weekdays=WORKDAYS),
        Kind(
            "rrule workdays",
            10,
            NEW_YORK,
            Frequency.RRULE,
            rrule=WORKDAYS_RULE,
            starts_on=STARTS_ON,
        ),
        Kind(
            "rrule monthly 5th",
            5,
            BERLIN,
            Frequency.RRULE,
            rrule="FREQ=MONTHLY;BYMONTHDAY=5",
            starts_on=STARTS_ON,
        ),
        Kind(
            "rrule every 2 days",
            5,
            "UTC",
            Frequency.RRULE,
            rrule="FREQ=DAILY;INTERVAL=2",
            starts_on=STARTS_ON,
        ),
        Kind(
            "rrule Mondays, COUNT",
            5,
            KOLKATA,
            Frequency.RRULE,
            rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=100",
            starts_on=STARTS_ON,
        ),
        Kind(
            "rrule 1st Monday",
            5,
            "Europe/London",
            Frequency.RRULE,
            rrule="FREQ=MONTHLY;BYDAY=1MO",
            starts_on=STARTS_ON,
        ),
        Kind("cron daily", 10, BERLIN, Frequency.CRON, cron_days="* * *"),
        Kind("cron Mon-Fri", 5, NEW_YORK, Frequency.CRON, cron_days="* * 1-5"),
        Kind("team list", 5, "UTC", Frequency.DAILY, recipients=(0, 1, 2, 5, 6, 7)),
        Kind("whole team", 5, "UTC", Frequency.RRULE, rrule=WORKDAYS_RULE, recipients="team"),
        Kind(
            "list, own time (Europe)",
            5,
            BERLIN,
            Frequency.DAILY,
            recipients=(0, 1, 2, 3),
            local_time=LocalTime.RECIPIENT,
        ),
        Kind(
            "list, own time (Americas)",
            5,
            NEW_YORK,
            Frequency.DAILY,
            recipients=(5, 6, 7),
            local_time=LocalTime.RECIPIENT,
        ),
        # Kolkata is the team's easternmost zone, so its members come first; New York's 07:00-19:00
        # (12:00-24:00 UTC) and Kolkata's 17:30 onwards leave 12:00-13:30 UTC for the rest.
        Kind(
            "whole team, own time",
            5,
            KOLKATA,
            Frequency.DAILY,
            recipients="team",
            local_time=LocalTime.RECIPIENT,
            rest=(12 * HOUR, 13 * HOUR + 1800),
        ),
    ),
)

DAILY = Mix(
    name="daily",
    seats=(Seat("UTC"),),
    one_team=True,
    rest_step=1,
    kinds=(Kind("daily", 100, "UTC", Frequency.DAILY),),
)

MIXES = {mix.name: mix for mix in (MIXED, DAILY)}


def started(schedule: Schedule, number: int) -> Schedule:
    """A rule's schedule starting on the `number`th of the START_DAYS days (any other as it is)."""
    if schedule.frequency is not Frequency.RRULE:
        return schedule
    return replace(schedule, starts_on=STARTS_ON + timedelta(days=2 * (number % START_DAYS)))


def shares(kinds: tuple[Kind, ...], total: int) -> list[int]:
    """`total` split by the kinds' shares, to whole reminders (largest remainders first)."""
    exact = [kind.share * total / 100 for kind in kinds]
    counts = [int(value) for value in exact]
    by_remainder = sorted(range(len(kinds)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts
