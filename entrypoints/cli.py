"""The `reminders` command: `reminders serve` runs the service; `reminders tick` runs the scheduler alone."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import uvicorn

from entrypoints import settings as config
from entrypoints.logging_setup import configure_logging
from entrypoints.server import build_app

TICK_NEEDS_SHARED_STORE = (
    "reminders tick: the in-memory store lives inside one process, so a separate tick process "
    "would see none of its reminders. With the in-memory store the scheduler runs inside "
    "`reminders serve` (on by default). `reminders tick` is for stores that several processes share."
)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="reminders", description="Team Reminder Service")
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="Run the HTTP API with the scheduler inside it.")
    config.add_flags(serve, config.ServeSettings)
    serve.add_argument(
        "--no-scheduler",
        dest="scheduler_enabled",
        action="store_false",
        help="Same as --no-scheduler-enabled.",
    )
    tick = commands.add_parser("tick", help="Run only the scheduler, against a shared store.")
    config.add_flags(tick, config.ServeSettings)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = config.load(config.ServeSettings, args, os.environ)
    except config.SettingsError as error:
        print(f"reminders {args.command}: {error}", file=sys.stderr)
        return 2
    if args.command == "tick":
        print(TICK_NEEDS_SHARED_STORE, file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    try:
        app = build_app(settings)
    except ValueError as error:
        print(f"reminders {args.command}: {error}", file=sys.stderr)
        return 2
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
