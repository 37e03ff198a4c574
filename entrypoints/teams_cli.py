"""`reminders teams create|list|issue-key`: the operator's commands for teams, run against the store.

`create` makes a team, its first admin and an API key for them, and prints the key once: the last
line of its output is the key alone, for scripts. `issue-key` gives an existing user of a team a new
key the same way: the way back in when a team's admin keys are lost.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from application import views
from application.commands import CreateApiKey, CreateTeam
from application.handlers.keys import IssuedKey
from application.handlers.teams import NewTeam
from domain.actor import SYSTEM, Actor
from domain.errors import DomainError
from domain.redaction import redact
from domain.team import DEFAULT_TEAM_ID
from domain.user import User
from entrypoints.http.validation_messages import describe

if TYPE_CHECKING:
    from entrypoints.bootstrap import Service

DATABASE_HELP = (
    "the store to use, as for `reminders serve` (env REMINDERS_DATABASE_URL; default sqlite:///reminders.db)"
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    teams = commands.add_parser(
        "teams",
        help="Create and list teams, and issue keys (operators).",
        description="Teams: create one with its first admin, list them, or issue a user a key.",
    )
    actions = teams.add_subparsers(dest="teams_command", required=True)
    create = actions.add_parser(
        "create",
        help="Create a team with its first admin and print the admin's API key once.",
        description="Create a team with its first admin; the last line printed is the admin's API key.",
    )
    create.add_argument("--name", required=True, help="the team's name")
    create.add_argument("--admin-name", required=True, help="the first admin's name")
    create.add_argument("--admin-email", required=True, help="the first admin's email address")
    create.add_argument("--database-url", help=DATABASE_HELP)
    create.set_defaults(start=_create)
    listing = actions.add_parser("list", help="List every team.", description="List every team.")
    listing.add_argument("--database-url", help=DATABASE_HELP)
    listing.set_defaults(start=_list)
    issue = actions.add_parser(
        "issue-key",
        help="Give a user of a team a new API key and print it once (when a team's keys are lost).",
        description="Give a user of a team a new API key; the last line printed is the key.",
    )
    issue.add_argument("--team", default=DEFAULT_TEAM_ID, help="the team's id (default: %(default)s)")
    issue.add_argument("--email", required=True, help="the user's email address")
    issue.add_argument("--name", default="issued by the operator", help="the key's name")
    issue.add_argument("--database-url", help=DATABASE_HELP)
    issue.set_defaults(start=_issue_key)


def _create(args: argparse.Namespace) -> int:
    try:
        command = CreateTeam(name=args.name, admin_name=args.admin_name, admin_email=args.admin_email)
    except ValidationError as error:
        problems = "; ".join(_problem(item) for item in error.errors(include_url=False))
        raise SystemExit(f"reminders teams create: {problems}") from None
    with _service(args) as service:
        try:
            created: NewTeam = service.bus.handle(command)
        except DomainError as refused:
            raise SystemExit(f"reminders teams create: {refused.message}") from None
    print(f"team {created.team.id} {created.team.name!r} created")
    print(f"admin {created.admin.id} {created.admin.email}")
    print(f"webhook signing secret (shown once): {created.team.webhook_secret}")
    print("the admin's API key follows, shown once; keep it safe:")
    print(created.issued.plain)
    return 0


def _list(args: argparse.Namespace) -> int:
    with _service(args) as service:
        offset = 0
        while page := views.list_teams(service.uow_factory, limit=100, offset=offset).items:
            for team in page:
                print(f"{team.id}\t{team.name}\t{team.created_at.isoformat()}")
            offset += len(page)
    if offset == 0:
        print("no teams yet", file=sys.stderr)
    return 0


def _problem(item: ErrorDetails) -> str:
    """One bad argument in words, named by its flag."""
    flag = "--" + "-".join(str(part) for part in item["loc"]).replace("_", "-")
    if item["type"] == "string_pattern_mismatch" and flag.endswith("email"):
        return f"{flag} is not a valid email address, for example ada@example.com"
    return describe({**item, "loc": (flag,)}, where="arguments")


def _issue_key(args: argparse.Namespace) -> int:
    with _service(args) as service:
        email = args.email.strip().lower()
        # The operator acting within that team only, so the lookup sees that team's users.
        user = next(
            (user for user in _users_of(service, Actor(team_id=args.team)) if user.email == email), None
        )
        if user is None:
            raise SystemExit(f"reminders teams issue-key: team {args.team!r} has no user {email!r}")
        try:
            issued: IssuedKey = service.bus.handle(
                CreateApiKey(actor=SYSTEM, user_id=user.id, name=args.name)
            )
        except (DomainError, ValidationError) as refused:
            raise SystemExit(f"reminders teams issue-key: {refused}") from None
    print(f"key {issued.key.id} {issued.key.name!r} for {user.email} ({user.role.value}) of team {args.team}")
    print("the API key follows, shown once; keep it safe:")
    print(issued.plain)
    return 0


def _users_of(service: Service, actor: Actor) -> Iterator[User]:
    offset = 0
    while page := views.list_users(service.uow_factory, actor, limit=100, offset=offset).items:
        yield from page
        offset += len(page)


@contextmanager
def _service(args: argparse.Namespace) -> Iterator[Service]:
    from entrypoints.bootstrap import StoreConfigError, bootstrap_runtime, close_runtime, open_store
    from entrypoints.settings import ServeSettings, StoreSettings

    url = args.database_url or os.environ.get("REMINDERS_DATABASE_URL") or StoreSettings().database_url
    try:
        settings = ServeSettings(database_url=url)
        store = open_store(settings, migrate=True, pool_size=1)
    except (StoreConfigError, ValueError) as error:
        raise SystemExit(f"reminders teams: {redact(str(error))}") from None
    except Exception as error:
        raise SystemExit(f"reminders teams: cannot open the store ({type(error).__name__})") from None
    runtime = bootstrap_runtime(settings, store)
    try:
        yield runtime.service
    finally:
        close_runtime(runtime)
