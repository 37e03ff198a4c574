"""The `reminders` command: `serve` runs the service, `tick` the scheduler alone, `worker` delivery
alone, `migrate` the schema."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from types import FrameType

import uvicorn

from domain.redaction import redact
from entrypoints import settings as config
from entrypoints.bootstrap import MEMORY_URL, SchemaError, migrate_store
from entrypoints.gc_tuning import tune_garbage_collector
from entrypoints.logging_setup import configure_logging
from entrypoints.server import build_app, build_runtime
from entrypoints.standalone_ticker import run_ticker
from entrypoints.worker_process import run_worker

log = logging.getLogger("reminders.cli")

NEEDS_SHARED_STORE = (
    "reminders {command}: the in-memory store (memory://) lives inside one process, so a separate "
    "{command} process would see none of its {what}. With the in-memory store the {part} runs inside "
    "`reminders serve` (on by default). `reminders {command}` is for stores that several processes share: "
    "set --database-url / REMINDERS_DATABASE_URL to a sqlite:/// file or a postgresql:// database."
)
_PARTS = {"tick": ("reminders", "scheduler"), "worker": ("deliveries", "delivery worker")}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="reminders", description="Team Reminder Service")
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="Run the HTTP API with the scheduler and a delivery worker inside it."
    )
    config.add_flags(serve, config.ServeSettings)
    serve.add_argument(
        "--no-scheduler",
        dest="scheduler_enabled",
        action="store_false",
        help="Same as --no-scheduler-enabled.",
    )
    serve.add_argument(
        "--no-delivery",
        dest="delivery_enabled",
        action="store_false",
        help="Same as --no-delivery-enabled: queue deliveries for `reminders worker` processes to send.",
    )
    tick = commands.add_parser(
        "tick", help="Run only the scheduler against a shared store; workers send what it fires."
    )
    config.add_flags(tick, config.ServeSettings)
    worker = commands.add_parser(
        "worker", help="Run only delivery (claim due deliveries and send them) against a shared store."
    )
    config.add_flags(worker, config.ServeSettings)
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
    if args.command in _PARTS and settings.database_url == MEMORY_URL:
        what, part = _PARTS[args.command]
        print(NEEDS_SHARED_STORE.format(command=args.command, what=what, part=part), file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    try:
        if args.command == "migrate":
            return _migrate(settings)
        if not isinstance(settings, config.ServeSettings):
            raise TypeError("serve, tick and worker take the serve settings")
        if args.command == "tick":
            keep = timedelta(days=settings.keep_deliveries_days)
            runtime = build_runtime(settings)
            tune_garbage_collector()
            run_ticker(runtime, interval=settings.tick_seconds, keep=keep)
            return 0
        if args.command == "worker":
            runtime = build_runtime(settings)
            tune_garbage_collector()
            run_worker(runtime, settings)
            return 0
        stopping = threading.Event()
        app = build_app(settings, stopping=stopping)
        tune_garbage_collector()
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
    server = _Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
        ),
        stopping=stopping,
    )
    server.run()
    return 0


class _Server(uvicorn.Server):
    """uvicorn, telling the app the moment it is asked to stop (requests waiting on a delivery
    answer, the delivery worker starts giving its claims back), and exiting at once on a second
    Ctrl-C or SIGTERM."""

    def __init__(self, config: uvicorn.Config, *, stopping: threading.Event) -> None:
        super().__init__(config)
        self._stopping = stopping

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._stopping.is_set() and self.should_exit:
            log.warning("second signal: exiting now; claims still held go back when their lease ends")
            os._exit(1)
        grace = self.config.timeout_graceful_shutdown or 0
        log.info("stopping: waiting up to %d s for requests and deliveries in flight", grace)
        self._stopping.set()
        super().handle_exit(sig, frame)
        # uvicorn raises the signal again once it has stopped, so the process would end "killed by
        # SIGTERM" (143) after a clean shutdown; it exits 0 instead, as `reminders worker` does.
        self._captured_signals.clear()


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
