"""What each client subcommand asks the service, and what it prints: a table or a `name: value`
block by default, the service's JSON with `--json`, and the service's own message on an error."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from entrypoints.client import render
from entrypoints.client.transport import (
    KEY_VARIABLE,
    ClientError,
    Reply,
    ServiceClient,
    ServiceError,
    segment,
)

Action = Callable[[ServiceClient, argparse.Namespace], int]


def run(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    """Run the parsed client subcommand against the service named by the environment."""
    name = f"reminders {args.command} {args.action}"
    try:
        client = ServiceClient.from_environment(os.environ if environ is None else environ)
        action: Action = args.client_action
        return action(client, args)
    except ServiceError as error:
        print(f"{name}: {_problem(error)}", file=sys.stderr)
        return 1
    except ClientError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 1


def list_users(client: ServiceClient, args: argparse.Namespace) -> int:
    reply = client.get("/users/", _page(args) | {"active": args.active})
    return _show_page(reply, args, render.users, "users")


def create_user(client: ServiceClient, args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"name": args.name, "email": args.email}
    if args.role is not None:
        body["role"] = args.role
    if args.timezone is not None:
        body["timezone"] = args.timezone
    if args.inactive:
        body["active"] = False
    return _show(client.post("/users/", body), args, render.user)


def create_reminder(client: ServiceClient, args: argparse.Namespace) -> int:
    body: dict[str, Any] = {
        "owner_id": args.owner,
        "title": args.title,
        "message": args.message,
        "frequency": args.frequency,
    }
    # Options left out are left out of the body too, so the service's defaults apply (and the
    # service, not the client, says what a frequency needs: a cron schedule takes no time).
    optional = {
        "time_of_day": args.time,
        "rrule": args.rrule,
        "cron": args.cron,
        "channel": args.channel,
        "target": args.target,
        "weekdays": args.weekdays,
        "date": args.date,
        "timezone": args.timezone,
    }
    body |= {name: value for name, value in optional.items() if value is not None}
    if args.inactive:
        body["active"] = False
    return _show(client.post("/notifications/", body), args, render.reminder)


def list_reminders(client: ServiceClient, args: argparse.Namespace) -> int:
    query = _page(args) | {"channel": args.channel, "frequency": args.frequency, "active": args.active}
    reply = client.get(f"/notifications/user/{segment(args.owner)}/", query)
    return _show_page(reply, args, render.reminders, "reminders")


def show_reminder(client: ServiceClient, args: argparse.Namespace) -> int:
    return _show(client.get(f"/notifications/{segment(args.id)}"), args, render.reminder)


def delete_reminder(client: ServiceClient, args: argparse.Namespace) -> int:
    reply = client.delete(f"/notifications/{segment(args.id)}")
    if args.json:
        _print_json(reply)
    else:
        print(f"deleted reminder {args.id}")
    return 0


def send_reminder(client: ServiceClient, args: argparse.Namespace) -> int:
    """200: sent. 202: queued or retrying, which is not an error: the delivery goes on by itself."""
    reply = client.post(f"/notifications/send/{segment(args.id)}")
    _show(reply, args, render.delivery)
    if reply.status == 202 and not args.json:
        print(
            f"not sent yet ({reply.body['status']}): the service goes on trying; "
            f"follow it with `reminders deliveries list --reminder {args.id}`",
            file=sys.stderr,
        )
    return 0


def list_deliveries(client: ServiceClient, args: argparse.Namespace) -> int:
    query = _page(args) | {"status": args.status}
    if args.reminder is None:
        reply = client.get("/deliveries/", query | {"channel": args.channel})
    else:
        reply = client.get(f"/notifications/{segment(args.reminder)}/deliveries", query)
    return _show_page(reply, args, render.deliveries, "deliveries")


def _page(args: argparse.Namespace) -> dict[str, str | int | bool | None]:
    return {"limit": args.limit, "offset": args.offset}


def _show(reply: Reply, args: argparse.Namespace, item: Callable[[dict[str, Any]], str]) -> int:
    if args.json:
        _print_json(reply)
    else:
        print(item(reply.body))
    return 0


def _show_page(
    reply: Reply, args: argparse.Namespace, items: Callable[[list[dict[str, Any]]], str], noun: str
) -> int:
    if args.json:
        _print_json(reply)
        return 0
    page = reply.body
    if page["items"]:
        print(items(page["items"]))
    note = render.page_note(page, noun)
    if note is not None:
        print(note)
    return 0


def _print_json(reply: Reply) -> None:
    if reply.text:
        print(reply.text)


def _problem(error: ServiceError) -> str:
    """The service's message, what it said about each field, its status, code and request id."""
    lines = [error.message]
    if error.code:
        where = f"{error.status} {error.code}"
        if error.request_id:
            where += f", request {error.request_id}"
        lines[0] += f" ({where})"
    if error.status == 401:
        lines.append(f"  the client sends ${KEY_VARIABLE} as the key: set it to a valid API key")
    if isinstance(error.details, list):
        lines += [
            f"  {problem.get('field', '?')}: {problem.get('message', '')}"
            for problem in error.details
            if isinstance(problem, dict)
        ]
    return "\n".join(lines)
