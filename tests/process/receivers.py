"""Webhook receivers for the delivery tests: fast, slow or failing, in this process or in their own.

A receiver answers every POST the same way (after `delay` seconds, with `status`, and with
`Retry-After` when given) and records each one: its Idempotency-Key, the delivery id from the
body, when it arrived, and when (and whether) the answer went out. A receiver binds one loopback
address, and the delivery worker limits sends per host, so receivers meant to be different peers
listen on different addresses (127.0.0.1, 127.0.0.2, ...): Linux answers on all of 127/8.

`ReceiverProcess` runs one as `python -m tests.process.receivers` so that its threads never compete
with the test's own for the GIL. Its records go to a JSON-lines file that the test reads (and that
outlives it); `change()` gives it a new behaviour through a control file it watches. Nothing here
depends on pytest: `bench/` uses the same receivers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class Behaviour:
    delay: float = 0.0  # seconds before answering
    status: int = 200
    retry_after: int | None = None  # seconds, sent with the answer when set


@dataclass(slots=True)
class Arrival:
    """One POST as the receiver saw it. `answered_at`: when the receiver was done with it (None while
    it waits); `answered` is False when the sender was gone by then (it gave up, or died)."""

    number: int
    key: str | None
    delivery_id: str | None
    path: str
    arrived_at: float  # time.time()
    answered_at: float | None = None
    answered: bool = False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connections when hundreds of sends start at once.
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a sender that hung up or died mid-request is what several tests arrange


class Receiver:
    """A threaded HTTP server on `host` answering POSTs with `behaviour`; records every POST in
    `arrivals` and, when `record` is given, as JSON lines there."""

    def __init__(self, host: str = "127.0.0.1", behaviour: Behaviour = Behaviour(), *, port: int = 0) -> None:
        self.host = host
        self.behaviour = behaviour
        self.arrivals: list[Arrival] = []
        self._record: TextIO | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server((host, port), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self, record: Path | None = None) -> Receiver:
        if record is not None:
            self._record = record.open("a", encoding="utf-8")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # answers the requests still waiting at once
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        with self._lock:
            if self._record is not None:
                self._record.close()
                self._record = None

    def _arrived(self, key: str | None, delivery_id: str | None, path: str) -> Arrival:
        with self._lock:
            arrival = Arrival(len(self.arrivals), key, delivery_id, path, time.time())
            self.arrivals.append(arrival)
            self._write({"event": "arrived", **_fields(arrival)})
        return arrival

    def _answered(self, arrival: Arrival, answered: bool) -> None:
        with self._lock:
            arrival.answered_at = time.time()
            arrival.answered = answered
            line = {"event": "answered", "number": arrival.number, "answered": answered}
            self._write(line | {"answered_at": arrival.answered_at})

    def _write(self, line: dict[str, Any]) -> None:
        if self._record is not None:
            self._record.write(json.dumps(line) + "\n")
            self._record.flush()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    delivery_id = json.loads(body).get("delivery_id")
                except (ValueError, AttributeError):
                    delivery_id = None
                arrival = receiver._arrived(self.headers.get("Idempotency-Key"), delivery_id, self.path)
                behaviour = receiver.behaviour
                if behaviour.delay:
                    receiver._stopping.wait(behaviour.delay)
                try:
                    self.send_response(behaviour.status)
                    if behaviour.retry_after is not None:
                        self.send_header("Retry-After", str(behaviour.retry_after))
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                    self.wfile.flush()
                except OSError:
                    receiver._answered(arrival, False)  # the sender gave up, or died
                    return
                receiver._answered(arrival, True)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _fields(arrival: Arrival) -> dict[str, Any]:
    return {
        "number": arrival.number,
        "key": arrival.key,
        "delivery_id": arrival.delivery_id,
        "path": arrival.path,
        "arrived_at": arrival.arrived_at,
    }


def read_arrivals(record: Path) -> list[Arrival]:
    """The POSTs a receiver recorded in `record`, with their answers as far as they are known."""
    arrivals: dict[int, Arrival] = {}
    if not record.exists():
        return []
    for line in record.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line, still being written
        if item["event"] == "arrived":
            arrivals[item["number"]] = Arrival(
                item["number"], item["key"], item["delivery_id"], item["path"], item["arrived_at"]
            )
        elif item["number"] in arrivals:
            arrival = arrivals[item["number"]]
            arrival.answered, arrival.answered_at = item["answered"], item["answered_at"]
    return sorted(arrivals.values(), key=lambda arrival: arrival.number)


class ReceiverProcess:
    """A `Receiver` in a process of its own; `arrivals()` reads what it has recorded so far."""

    def __init__(
        self, directory: Path, name: str, host: str = "127.0.0.1", behaviour: Behaviour = Behaviour()
    ):
        self.name = name
        self.host = host
        self.record = directory / f"{name}.jsonl"
        self._control = directory / f"{name}.control"
        self._changes = 0
        port_file = directory / f"{name}.port"
        argv = [
            sys.executable,
            "-m",
            "tests.process.receivers",
            "--host",
            host,
            "--port-file",
            str(port_file),
            "--control",
            str(self._control),
        ]
        argv += [
            "--record",
            str(self.record),
            "--delay",
            str(behaviour.delay),
            "--status",
            str(behaviour.status),
        ]
        if behaviour.retry_after is not None:
            argv += ["--retry-after", str(behaviour.retry_after)]
        env = os.environ | {"PYTHONPATH": str(ROOT)}
        self.log_path = directory / f"{name}.log"
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        deadline = time.monotonic() + START_SECONDS
        while not port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"receiver {name} did not start: {self.log_path.read_text(errors='replace')}"
                )
            time.sleep(0.02)
        self.port = int(port_file.read_text())

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def arrivals(self) -> list[Arrival]:
        return read_arrivals(self.record)

    def change(self, behaviour: Behaviour) -> None:
        """Answer the POSTs that arrive from now on with `behaviour`; returns once the receiver has it."""
        self._changes += 1
        wanted = {"change": self._changes, **asdict(behaviour)}
        _write_atomically(self._control, json.dumps(wanted))
        acknowledged = self._control.with_suffix(".ack")
        deadline = time.monotonic() + START_SECONDS
        while not (acknowledged.exists() and json.loads(acknowledged.read_text()) == wanted):
            if time.monotonic() > deadline:
                raise RuntimeError(f"receiver {self.name} did not take the change {wanted}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_for_arrivals(receiver: ReceiverProcess, count: int, *, timeout: float) -> list[Arrival]:
    """What the receiver has recorded once it holds `count` POSTs, or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while len(arrivals := receiver.arrivals()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return arrivals


def wait_until_quiet(
    receiver: ReceiverProcess, at_least: int, *, quiet: float, timeout: float
) -> list[Arrival]:
    """What the receiver has recorded once it holds `at_least` POSTs and no more came for `quiet` s."""
    deadline = time.monotonic() + timeout
    arrivals = wait_for_arrivals(receiver, at_least, timeout=timeout)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = receiver.arrivals()
        if len(now) == len(arrivals):
            break
        arrivals = now
    return arrivals


# -- what the records say ---------------------------------------------------------------------------


def keys_by_delivery(arrivals: Iterable[Arrival]) -> dict[str | None, set[str | None]]:
    """Each delivery id, with every Idempotency-Key its POSTs carried."""
    keys: dict[str | None, set[str | None]] = defaultdict(set)
    for arrival in arrivals:
        keys[arrival.delivery_id].add(arrival.key)
    return dict(keys)


def duplicate_posts(arrivals: Iterable[Arrival]) -> int:
    """POSTs beyond the first for each Idempotency-Key."""
    return sum(count - 1 for count in Counter(arrival.key for arrival in arrivals).values())


def most_at_once(arrivals: Iterable[Arrival], *, until: float) -> int:
    """The most POSTs the receiver held at one moment; one still open counts as open until `until`."""
    changes = []
    for arrival in arrivals:
        changes.append((arrival.arrived_at, 1))
        changes.append((arrival.answered_at if arrival.answered_at is not None else until, -1))
    most = current = 0
    for _, change in sorted(changes, key=lambda item: (item[0], item[1])):
        current += change
        most = max(most, current)
    return most


def _write_atomically(path: Path, text: str) -> None:
    written = path.with_name(path.name + ".tmp")
    written.write_text(text)
    written.replace(path)


# -- as a process ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.process.receivers", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path, required=True, help="written once listening")
    parser.add_argument("--control", type=Path, required=True, help="a new behaviour, as JSON, when written")
    parser.add_argument("--record", type=Path, required=True, help="JSON lines, one per POST and answer")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--retry-after", type=int, default=None)
    args = parser.parse_args(argv)
    behaviour = Behaviour(delay=args.delay, status=args.status, retry_after=args.retry_after)
    receiver = Receiver(args.host, behaviour, port=args.port).start(record=args.record)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    _write_atomically(args.port_file, str(receiver.port))
    seen = ""
    while not stop.wait(0.02):
        if args.control.exists() and (wanted := args.control.read_text()) != seen:
            seen = wanted
            change = json.loads(wanted)
            change.pop("change")
            receiver.behaviour = Behaviour(**change)
            _write_atomically(args.control.with_suffix(".ack"), wanted)
    with contextlib.suppress(Exception):
        receiver.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
