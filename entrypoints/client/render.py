"""What the API returns, as a person reads it: tables of users, reminders and deliveries, one of
each in detail, and where a page sits in the whole list."""

from __future__ import annotations

from typing import Any

from entrypoints.client.tables import clip, fields, table

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
    return fields(
        [
            ("id", item["id"]),
            ("name", item["name"]),
            ("email", item["email"]),
            ("role", item["role"]),
            ("timezone", item["timezone"]),
            ("active", item["active"]),
            ("created", item["created_at"]),
            ("updated", item["updated_at"]),
        ]
    )


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
    return fields(
        [
            ("id", item["id"]),
            ("owner", item["owner_id"]),
            ("title", item["title"]),
            ("message", item["message"]),
            ("channel", item["channel"]),
            ("target", item["target"]),
            ("schedule", schedule(item)),
            ("next run", item["next_run_at"]),
            ("last run", item["last_run_at"]),
            ("active", item["active"]),
            ("created", item["created_at"]),
            ("updated", item["updated_at"]),
        ]
    )


def schedule(item: dict[str, Any]) -> str:
    """ "daily 09:00 Europe/Paris", "weekly mon,thu 16:00 UTC", "once 2026-12-24 09:00 UTC"."""
    when = [item["frequency"]]
    if item.get("weekdays"):
        when.append(
            ",".join(WEEKDAYS[day] if 0 <= day < len(WEEKDAYS) else str(day) for day in item["weekdays"])
        )
    if item.get("date"):
        when.append(item["date"])
    return " ".join([*when, item["time_of_day"], item["timezone"]])


def deliveries(items: list[dict[str, Any]]) -> str:
    return table(
        ("ID", "REMINDER", "CHANNEL", "STATUS", "SCHEDULED FOR", "SENT AT", "ATTEMPTS", "ERROR"),
        [
            (
                delivery["delivery_id"],
                delivery["reminder_id"],
                delivery["channel"],
                delivery["status"],
                delivery["scheduled_for"],
                delivery["sent_at"],
                delivery["attempts"],
                clip(delivery["error"], _TEXT_WIDTH),
            )
            for delivery in items
        ],
    )


def delivery(item: dict[str, Any]) -> str:
    summary = fields(
        [
            ("delivery", item["delivery_id"]),
            ("reminder", item["reminder_id"]),
            ("channel", item["channel"]),
            ("status", item["status"]),
            ("scheduled for", item["scheduled_for"]),
            ("sent at", item["sent_at"]),
            ("next attempt", item["next_attempt_at"]),
            ("attempts", item["attempts"]),
            ("error", item["error"]),
        ]
    )
    log = item.get("attempt_log") or []
    if not log:
        return summary
    attempts = table(
        ("ATTEMPT", "STARTED", "DURATION MS", "ERROR"),
        [(entry["number"], entry["started_at"], entry["duration_ms"], entry["error"]) for entry in log],
    )
    return f"{summary}\n\n{attempts}"


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
