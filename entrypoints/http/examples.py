"""Whole request bodies the API document shows next to a schema: how calendar rules, recipients,
repeats, quiet hours and snoozes are written together. Each one is accepted as it stands, until
2030 (a snooze's until only within 7 days of the request)."""

from __future__ import annotations

from entrypoints.http.api import BodyExample

SECOND_TUESDAY = BodyExample(
    "rrule",
    "The second Tuesday of each month at 09:00 in Berlin, but not on 10 December 2030",
    {
        "title": "Sprint review",
        "message": "Sprint review at 09:00, {owner_name}",
        "frequency": "rrule",
        "rrule": "FREQ=MONTHLY;BYDAY=2TU",
        "time_of_day": "09:00",
        "timezone": "Europe/Berlin",
        "skip_dates": ["2030-12-10"],
    },
)
LAST_WORKING_DAY = BodyExample(
    "last_working_day",
    "The last working day of each month at 16:00, from January to June 2030",
    {
        "title": "Timesheets",
        "message": "Send in your timesheet",
        "frequency": "rrule",
        "rrule": "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "time_of_day": "16:00",
        "starts_on": "2030-01-01",
        "ends_on": "2030-06-30",
    },
)
WEEKDAYS_CRON = BodyExample(
    "cron",
    "A cron expression in the reminder's zone (it sets the time: no time_of_day)",
    {
        "title": "Stand-up",
        "message": "Stand-up in five minutes",
        "frequency": "cron",
        "cron": "55 8 * * 1-5",
        "timezone": "America/New_York",
    },
)
WHOLE_TEAM = BodyExample(
    "team_in_their_own_time",
    "Every member of the team at 09:00 their own time, again every 15 minutes until acknowledged",
    {
        "title": "Stand-up notes",
        "message": "Write your stand-up notes",
        "channel": "email",
        "frequency": "daily",
        "time_of_day": "09:00",
        "recipients": "team",
        "local_time": "recipient",
        "repeat_until_ack": {"every_minutes": 15, "max_times": 3},
    },
)
NEW_REMINDER = (SECOND_TUESDAY, LAST_WORKING_DAY, WEEKDAYS_CRON, WHOLE_TEAM)

REMINDER_CHANGES = (
    BodyExample(
        "to_rrule",
        "Move to the last working day of each month",
        {"frequency": "rrule", "rrule": "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"},
    ),
    BodyExample(
        "to_the_team",
        "Reach the whole team, each at time_of_day in their own zone",
        {"recipients": "team", "local_time": "recipient"},
    ),
    BodyExample("stop_repeating", "Deliver once, without repeats", {"repeat_until_ack": None}),
)


def _schedule_of(example: BodyExample) -> BodyExample:
    """The schedule fields of a reminder's example: what a preview takes."""
    text = ("title", "message", "channel", "target", "active", "repeat_until_ack")
    schedule = {name: value for name, value in example.value.items() if name not in text}
    return BodyExample(example.name, example.summary, schedule)


SCHEDULE_PREVIEW = tuple(_schedule_of(example) for example in NEW_REMINDER)

QUIET_NIGHTS = {"start": "22:00", "end": "07:00", "weekdays": [0, 1, 2, 3, 4]}
NEW_USER = (
    BodyExample(
        "quiet_hours",
        "A user whose working nights (Monday to Friday, 22:00 to 07:00 in London) are quiet",
        {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "timezone": "Europe/London",
            "quiet_hours": QUIET_NIGHTS,
        },
    ),
)
USER_CHANGES = (
    BodyExample(
        "quiet_hours",
        "Quiet every night from 22:00 to 07:00",
        {"quiet_hours": {"start": "22:00", "end": "07:00"}},
    ),
    BodyExample("no_quiet_hours", "No quiet hours any more", {"quiet_hours": None}),
)

SNOOZE = (
    BodyExample("minutes", "Again in ten minutes", {"minutes": 10}),
    BodyExample("until", "Again at a moment, at most 7 days ahead", {"until": "2030-01-07T09:00:00+01:00"}),
)
