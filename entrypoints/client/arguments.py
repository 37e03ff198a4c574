"""The client's subcommands on the `reminders` parser: `users`, `remind` and `deliveries`, each with
its actions, options and `--json`."""

from __future__ import annotations

import argparse

from domain.delivery import DeliveryStatus
from domain.schedule import Frequency
from entrypoints.client import commands
from entrypoints.client.render import WEEKDAYS
from entrypoints.client.transport import DEFAULT_URL, KEY_VARIABLE, URL_VARIABLE

COMMANDS = frozenset({"users", "remind", "deliveries"})

_CONNECTION = (
    f"Talks to a running service at ${URL_VARIABLE} (default {DEFAULT_URL}), "
    f"sending ${KEY_VARIABLE} as a bearer token when it is set."
)
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def register(commands_: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `users`, `remind` and `deliveries` to the subcommands of `reminders`."""
    _users(commands_)
    _remind(commands_)
    _deliveries(commands_)


def _users(parent: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = parent.add_parser(
        "users", help="List and create users on a running service.", description=_CONNECTION
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="{list,create}")
    listing = _action(actions, "list", "List users in creation order.", commands.list_users)
    _active_filter(listing, "users")
    _page(listing)
    create = _action(actions, "create", "Create a user.", commands.create_user)
    create.add_argument("--name", required=True)
    create.add_argument("--email", required=True)
    create.add_argument("--role", choices=("admin", "member"), help="The user's role (default: member).")
    create.add_argument("--timezone", help="IANA time zone their new reminders default to (default: UTC).")
    create.add_argument("--inactive", action="store_true", help="Create the user inactive.")


def _remind(parent: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = parent.add_parser(
        "remind",
        help="Create, list, show, delete and send reminders on a running service.",
        description=_CONNECTION,
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="{create,list,show,delete,send}")
    create = _action(actions, "create", "Create a reminder.", commands.create_reminder)
    create.add_argument("--owner", required=True, metavar="USER_ID", help="The user it belongs to.")
    create.add_argument("--title", required=True)
    create.add_argument("--message", required=True, help="May use {owner_name}, {scheduled_for_local}, ….")
    create.add_argument("--channel", help="log (the service's default), email, webhook, slack or apprise.")
    create.add_argument("--target", metavar="URL", help="Where webhook, slack and apprise deliver.")
    create.add_argument(
        "--time", metavar="HH:MM", help="Time of day, HH:MM or HH:MM:SS (every frequency but cron)."
    )
    create.add_argument("--frequency", required=True, choices=[item.value for item in Frequency])
    create.add_argument(
        "--rrule", metavar="RULE", help="For rrule: an RFC 5545 rule picking days (FREQ=MONTHLY;BYDAY=2TU)."
    )
    create.add_argument(
        "--cron", metavar="FIELDS", help="For cron: five fields setting days and time ('0 9 * * 1-5')."
    )
    create.add_argument(
        "--weekdays", type=weekdays, metavar="DAYS", help="For weekly: mon,thu (or 0,3; 0 is Monday)."
    )
    create.add_argument("--date", metavar="YYYY-MM-DD", help="For once: the day (default: the next one).")
    create.add_argument(
        "--timezone", metavar="ZONE", help="An IANA name such as Europe/Paris (default: the owner's)."
    )
    create.add_argument("--inactive", action="store_true", help="Create the reminder switched off.")
    listing = _action(actions, "list", "List a user's reminders in creation order.", commands.list_reminders)
    listing.add_argument("--owner", required=True, metavar="USER_ID")
    listing.add_argument("--channel")
    listing.add_argument("--frequency", choices=[item.value for item in Frequency])
    _active_filter(listing, "reminders")
    _page(listing)
    for name, text, run in (
        ("show", "Show one reminder.", commands.show_reminder),
        ("delete", "Delete a reminder.", commands.delete_reminder),
        (
            "send",
            "Send a reminder now, without moving its schedule, and show the delivery.",
            commands.send_reminder,
        ),
    ):
        _action(actions, name, text, run).add_argument("id", metavar="REMINDER_ID")


def _deliveries(parent: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = parent.add_parser(
        "deliveries", help="List deliveries on a running service, newest first.", description=_CONNECTION
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="{list}")
    listing = _action(actions, "list", "List deliveries, newest first.", commands.list_deliveries)
    scope = listing.add_mutually_exclusive_group()
    scope.add_argument("--reminder", metavar="REMINDER_ID", help="Only this reminder's deliveries.")
    scope.add_argument("--channel", help="Only deliveries through this channel (across reminders).")
    listing.add_argument("--status", choices=[item.value for item in DeliveryStatus])
    _page(listing)


def _action(
    actions: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    text: str,
    run: commands.Action,
) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, help=text, description=f"{text} {_CONNECTION}")
    parser.add_argument("--json", action="store_true", help="Print the JSON the service returned.")
    parser.set_defaults(client_action=run)
    return parser


def _active_filter(parser: argparse.ArgumentParser, noun: str) -> None:
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument(
        "--active", dest="active", action="store_const", const=True, help=f"Only active {noun}."
    )
    choice.add_argument(
        "--inactive", dest="active", action="store_const", const=False, help=f"Only inactive {noun}."
    )


def _page(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, help="Items per page, 1 to 100 (the service's default: 50).")
    parser.add_argument("--offset", type=int, help="Items to skip.")


def weekdays(text: str) -> list[int]:
    """ "mon,thu", "monday,thursday" or "0,3" as the API's weekday numbers (0 is Monday)."""
    days = []
    for part in text.split(","):
        name = part.strip().lower()
        if name.isdigit() and int(name) < len(WEEKDAYS):
            days.append(int(name))
        elif name in WEEKDAYS:
            days.append(WEEKDAYS.index(name))
        elif name in _FULL_NAMES:
            days.append(_FULL_NAMES.index(name))
        else:
            raise argparse.ArgumentTypeError(f"{part.strip()!r} is not a weekday (mon … sun, or 0 … 6)")
    return days
