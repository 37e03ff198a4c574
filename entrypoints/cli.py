"""The `reminders` command: `serve` runs the service, `tick` the scheduler alone, `migrate` the schema."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

import uvicorn

from domain.redaction import redact
from entrypoints import settings as config
from entrypoints.bootstrap import MEMORY_URL, SchemaError, migrate_store
from entrypoints.logging_setup import configure_logging
from entrypoints.server import build_app, build_runtime
from entrypoints.standalone_ticker import run_ticker

log = logging.getLogger("reminders.cli")

TICK_NEEDS_SHARED_STORE = (
    "reminders tick: the in-memory store (memory://) lives inside one process, so a separate tick "
    "process would see none of its reminders. With the in-memory store the scheduler runs inside "
    "`reminders serve` (on by default). `reminders tick` is for stores that several processes share: "
    "set --database-url / REMINDERS_DATABASE_URL to a sqlite:/// file or a postgresql:// database."
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
    tick = commands.add_parser(
        "tick", help="Run only the scheduler (and the delivery of what it fires), against a shared store."
    )
    config.add_flags(tick, config.ServeSettings)
    migrate = commands.add_parser("migrate", help="Bring the database schema to the newest revision.")
    config.add_flags(migrate, config.StoreSettings)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    model = config.StoreSettings if args.command == "migrate" else config.ServeSettings
    try:
        settings = config.load(model, args, os.environ)
    except config.SettingsError as error:
        print(f"reminders {args.command}: {error}", file=sys.stderr)
        return 2
    if args.command == "tick" and settings.database_url == MEMORY_URL:
        print(TICK_NEEDS_SHARED_STORE, file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    try:
        if args.command == "migrate":
            return _migrate(settings)
        if args.command == "tick":
            assert isinstance(settings, config.ServeSettings)
            runtime = build_runtime(settings)
            run_ticker(runtime, interval=settings.tick_seconds)
            return 0
        assert isinstance(settings, config.ServeSettings)
        app = build_app(settings)
    except (ValueError, SchemaError) as error:
        print(f"reminders {args.command}: {redact(str(error))}", file=sys.stderr)
        return 2
    except Exception as error:
        # The database could not be reached: say which kind of failure, and where, never the password.
        print(
            f"reminders {args.command}: cannot open the store ({type(error).__name__}): {redact(str(error))}",
            file=sys.stderr,
        )
        return 1
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    return 0


def _migrate(settings: config.StoreSettings) -> int:
    revisions = migrate_store(settings)
    if revisions is None:
        print("reminders migrate: memory:// has no schema to migrate; nothing to do")
    elif revisions[0] == revisions[1]:
        print(f"reminders migrate: the schema is already at the newest revision, {revisions[1]}")
    else:
        print(f"reminders migrate: schema upgraded from {revisions[0] or 'empty'} to {revisions[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
