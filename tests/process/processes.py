"""`reminders` as a real subprocess: started on a free port, waited for, stopped by a signal.

Each process writes stdout and stderr to one file of its own, so a failure can show what the
process said. Nothing here depends on pytest: `bench/` drives the same processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"
EXECUTABLE = Path(sys.executable).parent / "reminders"
READY_SECONDS = 30.0
STOP_SECONDS = 20.0
# What `tick` and `worker`, which serve no HTTP, log once they are running.
READY_MESSAGES = {"tick": "scheduler started", "worker": "delivery worker ready"}
# The receivers listen on 127.0.0.1, which the service refuses unless told; and the tests send and
# write with one key far more often than the per-key rate limits let a person.
SERVICE_ENVIRONMENT = {
    "REMINDERS_ALLOW_PRIVATE_TARGETS": "true",
    "REMINDERS_SEND_RATE_LIMIT": "100000/minute",
    "REMINDERS_WRITE_RATE_LIMIT": "100000/minute",
}
# What `serve` prints on stderr when it creates the first team of an empty store.
ADMIN_KEY_LINE = "admin API key (shown once): "


class ProcessError(RuntimeError):
    """A `reminders` process did not start, did not stop, or stopped by itself."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any REMINDERS_ setting, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("REMINDERS_")}
    return env | dict(extra or {})


class RemindersProcess:
    """One `reminders serve`, `tick` or `worker`, its output in `log_path`."""

    def __init__(
        self,
        command: str,
        args: Sequence[str],
        *,
        name: str,
        cwd: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.command = command
        self.name = name
        self.log_path = cwd / f"{name}.log"
        # Only `serve` listens: `tick` and `worker` take no --port.
        self.port = free_port() if command == "serve" else None
        argv = [str(EXECUTABLE), command, *args]
        if self.port is not None:
            argv += ["--port", str(self.port)]
        self.argv = argv
        self.started_at = time.monotonic()
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(  # the child keeps its own copy of the file
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=clean_environment(SERVICE_ENVIRONMENT | dict(env or {})),
                cwd=cwd,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        if self.port is None:
            raise ProcessError(f"{self.name}: `reminders {self.command}` serves no HTTP")
        return f"http://{HOST}:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (anything else the process printed is skipped)."""
        lines = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line still being written
        return lines

    def logged(self, message: str) -> list[dict[str, Any]]:
        """The JSON log lines whose message starts with `message`."""
        return [line for line in self.log_lines() if str(line.get("message", "")).startswith(message)]

    def printed_key(self) -> str | None:
        """The admin API key this `serve` printed on creating the first team, if it did."""
        for line in self.output().splitlines():
            if line.startswith(ADMIN_KEY_LINE):
                return line.removeprefix(ADMIN_KEY_LINE).strip()
        return None

    def describe(self, tail: int = 30) -> str:
        """Who it is, how it ended, and the end of its output: for failure messages."""
        code = self.process.poll()
        state = "running" if code is None else f"exited with {code}"
        last = "\n".join(self.output().splitlines()[-tail:])
        return f"{self.name} (pid {self.pid}, {state}): {' '.join(self.argv[1:])}\n--- output ---\n{last}"

    def wait_ready(self, timeout: float = READY_SECONDS) -> float:
        """Until `serve` answers /health with 200, or `tick` or `worker` logs that it is running.

        Returns the seconds since the process was started.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise ProcessError(f"it exited before it was ready: {self.describe()}")
            if self._ready():
                return time.monotonic() - self.started_at
            if time.monotonic() > deadline:
                raise ProcessError(f"not ready within {timeout:.0f} s: {self.describe()}")
            time.sleep(0.05)

    def _ready(self) -> bool:
        if self.port is None:
            return bool(self.logged(READY_MESSAGES[self.command]))
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self, how: signal.Signals = signal.SIGTERM, timeout: float = STOP_SECONDS) -> int:
        """Send `how` and wait for the process to end; returns its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(how)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise ProcessError(
                f"it did not stop within {timeout:.0f} s of {how.name}: {self.describe()}"
            ) from None

    def ensure_stopped(self) -> None:
        """For clean-up: SIGTERM, and SIGKILL when that is not enough; never raises."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessError):  # stop() has killed it
            self.stop(signal.SIGTERM, timeout=10)


def admin_key(*processes: RemindersProcess) -> str:
    """The admin API key of the store these ready processes share: only the one that created its
    first team printed it."""
    for process in processes:
        if (key := process.printed_key()) is not None:
            return key
    said = "\n".join(process.describe() for process in processes)
    raise ProcessError(f"no process printed the admin API key:\n{said}")


@contextmanager
def running(
    command: str,
    args: Sequence[str],
    *,
    name: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    ready: bool = True,
) -> Iterator[RemindersProcess]:
    """A started (and, unless `ready=False`, ready) process, stopped on the way out if still alive."""
    process = RemindersProcess(command, args, name=name, cwd=cwd, env=env)
    try:
        if ready:
            process.wait_ready()
        yield process
    finally:
        process.ensure_stopped()
