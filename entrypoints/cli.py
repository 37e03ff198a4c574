"""The `reminders` command: `serve` runs the service, `tick` the scheduler alone, `worker` delivery
alone, `migrate` the schema; `users`, `remind` and `deliveries` talk to a running service.

`parser()` is the one place subcommands are added. Each of the service's own takes only the
settings that apply to it (entrypoints.settings). The modules that run the service are imported
when one of those commands starts, not with this one: `--help` and the client answer without
loading them, and a Ctrl-C while the service is still starting stops it quietly.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from types import FrameType
from typing import Any, TypeVar, cast

import uvicorn
from pydantic import BaseModel

from domain.redaction import redact
from entrypoints import client, teams_cli
from entrypoints import settings as config
from entrypoints.gc_tuning import tune_garbage_collector
from entrypoints.logging_setup import configure_logging

log = logging.getLogger("reminders.cli")
S = TypeVar("S", bound=BaseModel)

NEEDS_SHARED_STORE = (
    "the in-memory store (memory://) lives inside one process, so a separate "
    "{command} process would see none of its {what}. With the in-memory store the {part} runs inside "
    "`reminders serve` (on by default). `reminders {command}` is for stores that several processes share: "
    "set --database-url / REMINDERS_DATABASE_URL to a sqlite:/// file or a postgresql:// database."
)
_PARTS = {"tick": ("reminders", "scheduler"), "worker": ("deliveries", "delivery worker")}


def parser() -> argparse.ArgumentParser:
    """`reminders` and its subcommands, all added here: the service's own from `_SERVICE_COMMANDS`,
    the client's by `client.register`."""
    root = argparse.ArgumentParser(prog="reminders", description="Team Reminder Service")
    commands = root.add_subparsers(dest="command", required=True, parser_class=_CommandParser)
    for name, command in _SERVICE_COMMANDS.items():
        subparser = commands.add_parser(name, help=command.help, description=command.help)
        command.settings.add_flags(subparser)
        subparser.set_defaults(start=command.start)
    # Its parsers are _CommandParsers too, which take whatever an ArgumentParser takes.
    subcommands = cast("argparse._SubParsersAction[argparse.ArgumentParser]", commands)
    client.register(subcommands)
    teams_cli.register(subcommands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command in client.COMMANDS:
        return client.run(args)
    start: Callable[[argparse.Namespace], int] = args.start
    try:
        return start(args)
    except _Exit as stopped:
        print(f"reminders {args.command}: {stopped}", file=sys.stderr)
        return stopped.code


class _CommandParser(argparse.ArgumentParser):
    """A subcommand's parser, which reports a flag it does not take with its own usage. (argparse
    leaves unknown flags to the top level, whose usage only lists the subcommands.)"""

    def parse_known_args(self, *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
        parsed, extras = super().parse_known_args(*args, **kwargs)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


class _Exit(Exception):
    """The command ends early: the message goes to stderr, and `code` is the exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _settings(command: config.CommandSettings[S], args: argparse.Namespace) -> S:
    try:
        return command.load(args, os.environ)
    except config.SettingsError as error:
        raise _Exit(str(error), 2) from None


@contextmanager
def _starting(*, service: bool = True) -> Iterator[None]:
    """A start-up that fails ends with one line and an exit status: 2 for a setting, a store or a
    schema this code cannot use, 1 for a database out of reach (never showing its password). A
    Ctrl-C stops a service as it would once running (status 0), and interrupts anything else (130)."""
    try:
        yield
    except _Exit:
        raise
    except KeyboardInterrupt:
        if service:
            raise _Exit("interrupted while starting: stopped", 0) from None
        raise _Exit("interrupted", 130) from None
    except Exception as error:
        from entrypoints.bootstrap import SchemaError  # loaded by now: opening the store needs it

        if isinstance(error, ValueError | SchemaError):
            raise _Exit(redact(str(error)), 2) from None
        # The database could not be reached: say which kind of failure, and where, never the password.
        raise _Exit(f"cannot open the store ({type(error).__name__}): {redact(str(error))}", 1) from None


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(config.SERVE, args)
    configure_logging(settings.log_format, settings.log_level)
    stopping = threading.Event()
    with _starting():
        from entrypoints.server import build_app

        app = build_app(settings, stopping=stopping)
        tune_garbage_collector()
    background: list[str] = []
    if settings.delivery_enabled:
        background.append("the delivery worker's sends")
    if settings.scheduler_enabled:
        background.append("any scheduler tick in progress")
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
        grace=settings.shutdown_grace_seconds,
        background=background,
    )
    server.run()
    return 0


def _tick(args: argparse.Namespace) -> int:
    settings = _settings(config.TICK, args)
    configure_logging(settings.log_format, settings.log_level)
    with _starting():
        _require_shared_store("tick", settings.database_url)
        from entrypoints.standalone_ticker import open_runtime, run_ticker

        runtime = open_runtime(settings)
        tune_garbage_collector()
    run_ticker(runtime, interval=settings.tick_seconds, keep=timedelta(days=settings.keep_deliveries_days))
    return 0


def _worker(args: argparse.Namespace) -> int:
    settings = _settings(config.WORKER, args)
    configure_logging(settings.log_format, settings.log_level)
    with _starting():
        _require_shared_store("worker", settings.database_url)
        from entrypoints.server import build_runtime
        from entrypoints.worker_process import run_worker

        runtime = build_runtime(settings)
        tune_garbage_collector()
    run_worker(runtime, settings)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    settings = _settings(config.MIGRATE, args)
    configure_logging(settings.log_format, settings.log_level)
    with _starting(service=False):
        from entrypoints.bootstrap import migrate_store

        revisions = migrate_store(settings)
    if revisions is None:
        print("reminders migrate: memory:// has no schema to migrate; nothing to do")
    elif revisions[0] == revisions[1]:
        print(f"reminders migrate: the schema is already at the newest revision, {revisions[1]}")
    else:
        print(f"reminders migrate: schema upgraded from {revisions[0] or 'empty'} to {revisions[1]}")
    return 0


def _require_shared_store(command: str, database_url: str) -> None:
    from entrypoints.bootstrap import MEMORY_URL

    if database_url == MEMORY_URL:
        what, part = _PARTS[command]
        raise _Exit(NEEDS_SHARED_STORE.format(command=command, what=what, part=part), 2)


@dataclass(frozen=True, slots=True)
class _ServiceCommand:
    help: str
    settings: config.CommandSettings[Any]
    start: Callable[[argparse.Namespace], int]


_SERVICE_COMMANDS = {
    "serve": _ServiceCommand(
        "Run the HTTP API with the scheduler and a delivery worker inside it.", config.SERVE, _serve
    ),
    "tick": _ServiceCommand(
        "Run only the scheduler against a shared store; workers send what it fires.", config.TICK, _tick
    ),
    "worker": _ServiceCommand(
        "Run only delivery (claim due deliveries and send them) against a shared store.",
        config.WORKER,
        _worker,
    ),
    "migrate": _ServiceCommand("Bring the database schema to the newest revision.", config.MIGRATE, _migrate),
}


class _Server(uvicorn.Server):
    """uvicorn, telling the app the moment it is asked to stop (requests waiting on a delivery
    answer, the delivery worker starts giving its claims back), saying what the stop waits for, and
    exiting at once on a second Ctrl-C or SIGTERM."""

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        stopping: threading.Event,
        grace: float,
        background: Sequence[str] = (),
    ) -> None:
        super().__init__(config)
        self._stopping = stopping
        self._grace = grace
        self._background = tuple(background)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        name = signal.Signals(sig).name
        if self._stopping.is_set() and self.should_exit:
            log.warning("second %s: exiting now; claims still held go back when their lease ends", name)
            os._exit(1)
        requests = len(self.server_state.tasks)
        waiting = [f"{requests} request{'' if requests == 1 else 's'} in flight", *self._background]
        log.info(
            "%s received: stopping; waiting up to %g s for %s",
            name,
            self._grace,
            _listing(waiting),
            extra={"requests_in_flight": requests, "grace_seconds": self._grace},
        )
        self._stopping.set()
        super().handle_exit(sig, frame)
        # uvicorn raises the signal again once it has stopped, so the process would end "killed by
        # SIGTERM" (143) after a clean shutdown; it exits 0 instead, as `reminders worker` does.
        self._captured_signals.clear()


def _listing(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return " and ".join(filter(None, (", ".join(items[:-1]), items[-1])))


if __name__ == "__main__":
    sys.exit(main())
