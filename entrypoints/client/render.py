"""What the API returns, as a person reads it: tables of users, reminders and deliveries, one of
each in detail, and where a page sits in the whole list."""

from __future__ import annotations

from typing import Any

from entrypoints.client.tables import cell, clip, fields, table

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TEXT_WIDTH = 40


def users(items: list[dict[str, Any]]) -> str:
    return table(
        ("ID", "NAME", "EMAIL", "ROLE", "TIMEZONE", "ACTIVE", "CREATED"),
        [
            (
                user["id"],
                clip(user["name"], _TEXT_WIDTH),
                user["email"],
                user["role"],
                user["timezone"],
                user["active"],
                user["created_at"],
            )
            for user in items
        ],
    )


def user(item: dict[str, Any]) -> str:
    rows: list[tuple[str, Any]] = [
        ("id", item["id"]),
        ("name", item["name"]),
        ("email", item["email"]),
        ("role", item["role"]),
        ("timezone", item["timezone"]),
    ]
    quiet = _quiet_hours(item.get("quiet_hours"))
    if quiet is not None:
        rows.append(("quiet", quiet))
    rows += [("active", item["active"]), ("created", item["created_at"]), ("updated", item["updated_at"])]
    return fields(rows)


def _quiet_hours(quiet: Any) -> str | None:
    """ "22:00-07:00 every day" or "22:00-07:00 mon,tue"; None without quiet hours."""
    if not isinstance(quiet, dict):
        return None
    days = quiet.get("weekdays") or []
    on = "every day" if len(days) == len(WEEKDAYS) else ",".join(_weekday(day) for day in days)
    return f"{quiet['start']}-{quiet['end']} {on}"


def _weekday(day: int) -> str:
    return WEEKDAYS[day] if 0 <= day < len(WEEKDAYS) else str(day)


def reminders(items: list[dict[str, Any]]) -> str:
    return table(
        ("ID", "TITLE", "CHANNEL", "SCHEDULE", "NEXT RUN", "ACTIVE"),
        [
            (
                reminder["id"],
                clip(reminder["title"], _TEXT_WIDTH),
                reminder["channel"],
                schedule(reminder),
                reminder["next_run_at"],
                reminder["active"],
            )
            for reminder in items
        ],
    )


def reminder(item: dict[str, Any]) -> str:
    rows: list[tuple[str, Any]] = [
        ("id", item["id"]),
        ("owner", item["owner_id"]),
        ("title", item["title"]),
        ("message", item["message"]),
        ("channel", item["channel"]),
        ("target", item["target"]),
        ("schedule", schedule(item)),
    ]
    # The newer schedule and audience fields, shown only when they say something.
    optional: list[tuple[str, Any]] = [
        ("starts", item.get("starts_on")),
        ("ends", item.get("ends_on")),
        ("skips", ", ".join(item.get("skip_dates") or ())),
        ("reaches", _reaches(item.get("recipients"))),
        ("repeat", _repeat(item.get("repeat_until_ack"))),
    ]
    rows += [(name, value) for name, value in optional if value]
    rows += [
        ("next run", item["next_run_at"]),
        ("last run", item["last_run_at"]),
        ("active", item["active"]),
        ("created", item["created_at"]),
        ("updated", item["updated_at"]),
    ]
    return fields(rows)


def schedule(item: dict[str, Any]) -> str:
    """ "daily 09:00 Europe/Paris", "weekly mon,thu 16:00 UTC", "once 2026-12-24 09:00 UTC",
    "rrule FREQ=MONTHLY;BYDAY=2TU 09:00 Europe/Berlin", "cron 0 9 * * 1-5 Europe/Berlin"; then whom
    it reaches when that is not its owner alone: "daily 09:00 UTC, team, each in own time"."""
    when = [item["frequency"]]
    for rule in ("rrule", "cron"):
        if item.get(rule):
            when.append(item[rule])
    if item.get("weekdays"):
        when.append(",".join(_weekday(day) for day in item["weekdays"]))
    if item.get("date"):
        when.append(item["date"])
    if item.get("time_of_day"):  # null for a cron schedule, whose expression holds the time
        when.append(item["time_of_day"])
    when.append(item["timezone"])
    text = " ".join(when)
    audience = _audience(item.get("recipients"))
    own_time = item.get("local_time") == "recipient"
    if audience is not None:
        text += f", {audience}" + (", each in own time" if own_time else "")
    elif own_time:
        text += ", in the owner's time"
    return text


def _audience(recipients: Any) -> str | None:
    """ "team" or "3 recipients"; None for a reminder of its owner alone."""
    if recipients is None or recipients == "owner":
        return None
    if isinstance(recipients, list):
        return f"{len(recipients)} recipient{'' if len(recipients) == 1 else 's'}"
    return str(recipients)


def _reaches(recipients: Any) -> str | None:
    if isinstance(recipients, list):
        return ", ".join(str(user_id) for user_id in recipients)
    return _audience(recipients)


def _repeat(rule: Any) -> str | None:
    if not isinstance(rule, dict):
        return None
    return f"every {rule['every_minutes']} min until acknowledged, at most {rule['max_times']} times"


def deliveries(items: list[dict[str, Any]]) -> str:
    """A RECIPIENT column only when some delivery on the page is for one person of several."""
    per_person = any(delivery.get("recipient_id") for delivery in items)
    headers = ["ID", "REMINDER", "CHANNEL", "STATUS", "KIND"]
    headers += ["RECIPIENT"] if per_person else []
    headers += ["SCHEDULED FOR", "SENT AT", "ATTEMPTS", "ERROR"]
    rows = []
    for delivery in items:
        row = [
            delivery["delivery_id"],
            delivery["reminder_id"],
            delivery["channel"],
            delivery["status"],
            delivery.get("kind"),
        ]
        row += [delivery.get("recipient_id")] if per_person else []
        row += [
            delivery["scheduled_for"],
            delivery["sent_at"],
            delivery["attempts"],
            clip(delivery["error"], _TEXT_WIDTH),
        ]
        rows.append(row)
    return table(headers, rows)


def delivery(item: dict[str, Any]) -> str:
    rows: list[tuple[str, Any]] = [
        ("delivery", item["delivery_id"]),
        ("reminder", item["reminder_id"]),
        ("channel", item["channel"]),
        ("status", item["status"]),
        ("kind", item.get("kind")),
    ]
    # Who it is for, what it follows, who answered it: only when set.
    optional: list[tuple[str, Any]] = [
        ("recipient", item.get("recipient_id")),
        ("follows", item.get("parent_delivery_id")),
        ("deferred", _deferred(item)),
        ("acked at", item.get("acknowledged_at")),
        ("acked by", item.get("acknowledged_by")),
    ]
    rows += [(name, value) for name, value in optional if value]
    rows += [
        ("scheduled for", item["scheduled_for"]),
        ("sent at", item["sent_at"]),
        ("next attempt", item["next_attempt_at"]),
        ("attempts", item["attempts"]),
        ("error", item["error"]),
    ]
    summary = fields(rows)
    log = item.get("attempt_log") or []
    if not log:
        return summary
    attempts = table(
        ("ATTEMPT", "STARTED", "DURATION MS", "ERROR"),
        [(entry["number"], entry["started_at"], entry["duration_ms"], entry["error"]) for entry in log],
    )
    return f"{summary}\n\n{attempts}"


def _deferred(item: dict[str, Any]) -> str | None:
    """ "until 2026-01-05 07:00:00 UTC (quiet_hours)" for a delivery waiting out quiet hours."""
    until = item.get("deferred_until")
    if not until:
        return None
    reason = item.get("reason")
    return f"until {cell(until)}" + (f" ({reason})" if reason else "")


def page_note(page: dict[str, Any], noun: str) -> str | None:
    """A line under a list when it is not the whole list (or is empty); None when nothing needs saying."""
    count, total, offset = len(page["items"]), page["total"], page["offset"]
    if total == 0:
        return f"no {noun}"
    if count == 0:
        return f"no {noun} at offset {offset} (there are {total})"
    if count == total:
        return None
    shown = f"{offset + 1}-{offset + count}" if count > 1 else f"{offset + 1}"
    note = f"{shown} of {total} {noun}"
    if offset + count < total:
        note += f"; next page: --offset {offset + count}"
    return note
