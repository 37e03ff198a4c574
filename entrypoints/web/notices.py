"""The one-line messages a page shows after an action, by key: a redirect names the key, never text,
so nothing a visitor puts in a link is ever shown as a message of ours."""

from __future__ import annotations

from typing import Final

NOTICES: Final = {
    "signed-in": "You are signed in.",
    "signed-out": "You are signed out.",
    "session-ended": "Your session has ended: it was signed out, unused for a day, a week old, or its key "
    "or account was turned off. Sign in again.",
    "link-sent": "If that address belongs to an account, a sign-in link is on its way. It works once, "
    "within 15 minutes.",
    "created": "Reminder created.",
    "saved": "Changes saved.",
    "deleted": "Reminder deleted.",
    "paused": "Reminder paused.",
    "resumed": "Reminder resumed.",
    "sent": "Queued to send now.",
    "retried": "Queued to retry.",
    "snoozed": "Snoozed.",
    "acknowledged": "Acknowledged.",
    "member-added": "Member added.",
    "member-saved": "Member changed.",
    "key-revoked": "Key revoked.",
}
