"""The processes the delivery benchmarks run: `reminders worker|serve|tick` and the webhook receiver, each
with its output in a file of its own; and how much CPU each group of processes used.

`reminders worker` at --log-level WARNING writes nothing once started, so it counts as ready when
its CPU use has settled to idle polling: start-up (imports, opening the store) is over.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.process.processes import EXECUTABLE, clean_environment

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
READY_SECONDS = 30.0
# Idle polling (a claim every 0.25 s) costs a few ms a second; start-up costs far more.
IDLE_CPU_SECONDS = 0.03
IDLE_WINDOW_SECONDS = 0.5


class ProcessFailed(RuntimeError):
    """A benchmark process did not start, or stopped by itself."""


class Process:
    def __init__(
        self, argv: Sequence[str], *, name: str, directory: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = directory / f"{name}.log"
        self.started_at = time.monotonic()
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, env=clean_environment(env), cwd=directory
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def describe(self, tail: int = 20) -> str:
        code = self.process.poll()
        state = "running" if code is None else f"exited with {code}"
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        last = "\n".join(text.splitlines()[-tail:])
        return f"{self.name} (pid {self.pid}, {state}): {' '.join(self.argv)}\n--- output ---\n{last}"

    def check_alive(self) -> None:
        if not self.alive():
            raise ProcessFailed(f"it exited: {self.describe()}")

    def wait_idle(self, timeout: float = READY_SECONDS) -> float:
        """Until its CPU use over the last half second is that of an idle process; seconds since start."""
        deadline = time.monotonic() + timeout
        time.sleep(1.0)
        before = cpu_seconds([self.pid])
        while True:
            time.sleep(IDLE_WINDOW_SECONDS)
            self.check_alive()
            now = cpu_seconds([self.pid])
            if now - before <= IDLE_CPU_SECONDS:
                return time.monotonic() - self.started_at
            before = now
            if time.monotonic() > deadline:
                raise ProcessFailed(f"still busy {timeout:.0f} s after starting: {self.describe()}")

    def stop(self, timeout: float = 20.0, *, signalled: bool = False) -> int | None:
        """SIGTERM (unless already `signalled`: a second one makes `reminders` exit at once), then
        SIGKILL when it has not stopped within `timeout`; never raises."""
        if not signalled and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


def reminders(command: str, flags: Sequence[str], *, name: str, directory: Path) -> Process:
    # The benchmark's receivers listen on 127.0.0.1, which the service refuses unless told otherwise.
    local = {"REMINDERS_ALLOW_PRIVATE_TARGETS": "true"}
    return Process([str(EXECUTABLE), command, *flags], name=name, directory=directory, env=local)


def python_module(module: str, args: Sequence[str], *, name: str, directory: Path) -> Process:
    """`python -m module args` from this checkout, whatever the working directory."""
    root = str(Path(__file__).resolve().parent.parent)
    return Process(
        [sys.executable, "-m", module, *args], name=name, directory=directory, env={"PYTHONPATH": root}
    )


@contextlib.contextmanager
def stopping(processes: list[Process]) -> Iterator[list[Process]]:
    """The list is filled by the block; every process in it is stopped on the way out."""
    try:
        yield processes
    finally:
        for process in processes:
            if process.alive():
                process.process.send_signal(signal.SIGTERM)
        for process in processes:
            process.stop(signalled=True)


# -- CPU accounting ---------------------------------------------------------------------------------


def cpu_seconds(pids: Iterable[int]) -> float:
    """User plus system CPU of the processes (all their threads), in seconds; a gone process counts 0."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICKS_PER_SECOND


def postgres_pids() -> list[int]:
    """Every PostgreSQL server process on this machine (the server and one per connection)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


def machine_busy_seconds() -> tuple[float, float]:
    """CPU seconds spent busy and in total, over all cores, since boot (from /proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - idle) / TICKS_PER_SECOND, total / TICKS_PER_SECOND


@dataclass(frozen=True, slots=True)
class CpuUse:
    """Cores used on average over a timed window, by group."""

    seconds: float
    groups: dict[str, float]  # name -> cores
    machine: float  # cores busy on the whole machine

    @property
    def others(self) -> float:
        """Cores used by everything else on the machine (it is shared) during the window."""
        return max(0.0, self.machine - sum(self.groups.values()))

    def describe(self) -> str:
        parts = [f"{name} {cores:.2f}" for name, cores in self.groups.items()]
        return (
            f"cores used: {', '.join(parts)}; everything else {self.others:.2f}; machine {self.machine:.2f}"
        )


def machine_busy(window: float = 1.0) -> float:
    """Cores busy on the whole machine over the next `window` seconds."""
    before = machine_busy_seconds()[0]
    time.sleep(window)
    return (machine_busy_seconds()[0] - before) / window


def speed_probe() -> float:
    """Milliseconds a fixed piece of pure-Python work takes on one core now (the best of five).

    The machine's speed itself varies from run to run (it shares its host): the same code has
    measured 100 and 160 µs of CPU per delivery an hour apart. Printed beside each run, the probe
    tells a slower machine from slower code.
    """
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        total = 0
        for n in range(500_000):
            total += n * n % 7
        best = min(best, time.perf_counter() - began)
    return best * 1000


def wait_for_quiet(*, longest: float, threshold: float = 0.3) -> float:
    """Wait (up to `longest` seconds) for a second in which the shared machine is nearly idle; returns
    the cores busy in the last second measured."""
    deadline = time.monotonic() + longest
    while True:
        busy = machine_busy()
        if busy <= threshold or time.monotonic() >= deadline:
            return busy


class CpuMeter:
    """Started before a timed window and read after it: the cores each group of processes used."""

    def __init__(self, groups: dict[str, list[int]], *, postgres: bool) -> None:
        self._groups = dict(groups)
        if postgres:
            self._groups["postgres"] = postgres_pids()
        self._began = time.monotonic()
        self._start = {name: cpu_seconds(pids) for name, pids in self._groups.items()}
        self._machine = machine_busy_seconds()

    def read(self) -> CpuUse:
        elapsed = max(time.monotonic() - self._began, 1e-9)
        groups = self._groups
        if "postgres" in groups:  # backends for connections opened during the window
            groups = {**groups, "postgres": sorted(set(groups["postgres"]) | set(postgres_pids()))}
        used = {
            name: (cpu_seconds(pids) - self._start.get(name, 0.0)) / elapsed for name, pids in groups.items()
        }
        busy, _ = machine_busy_seconds()
        return CpuUse(elapsed, used, (busy - self._machine[0]) / elapsed)


# -- profiling --------------------------------------------------------------------------------------


class Profiler:
    """`py-spy record` attached to a running process, every thread, idle ones included, in py-spy's
    raw (collapsed stack) format; stopped with SIGINT, which makes py-spy write what it sampled."""

    def __init__(self, pid: int, output: Path, *, rate: int = 200, gil_only: bool = False) -> None:
        spy = Path(sys.executable).parent / "py-spy"
        if not spy.exists():
            raise ProcessFailed(
                f"profiling needs py-spy: {Path(sys.executable).parent / 'pip'} install py-spy"
            )
        argv = [
            str(spy),
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--threads",
            "--output",
            str(output),
        ]
        argv.append("--gil" if gil_only else "--idle")
        self.output = output
        self._log = output.with_suffix(".py-spy.log").open("wb")
        self._process = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT)

    def stop(self) -> Path:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()
        return self.output
