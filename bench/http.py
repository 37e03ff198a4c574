"""HTTP speed (`make bench-http`): requests per second of `reminders serve` against a bare Starlette app
answering the same bytes, endpoint by endpoint, measured in one run.

    python -m bench.http [--rounds 3] [--seconds 10] [--connections 16] [--threads 2]
                         [--quiet-wait 10] [--logs DIR] [--check] [--floor]

The service runs with its defaults (SQLite in a temporary directory, JSON logs at INFO, written to a
file) on a free port; a user and 50 reminders are created through the API, and every request
carries the API key of the admin the service created on its first start. The bare app
(bench/http_bare.py) runs on the same uvicorn settings and answers each benchmarked path with the
bytes the service answered. Each endpoint is loaded with wrk (bench/http_load.py) for `--seconds`,
first briefly to warm both apps, then `--rounds` times alternating the two apps (which goes first
alternates too); a round's ratio is the service's requests/s over the bare app's. The machine is
shared: before each timed run the benchmark waits (up to `--quiet-wait` s) for a nearly idle second,
and reports the cores everything else used meanwhile. With `--check`, exits 1 when the median ratio
of an endpoint misses its target. With `--floor`, `GET /users/{id}` is also measured against
bench/http_floor.py, the least any implementation could spend on it with the same log line, key
check and read. See docs/benchmarks.md, "HTTP speed (issue 12)".
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench import machine
from bench.delivery_processes import (
    CpuMeter,
    Process,
    Profiler,
    python_module,
    reminders,
    stopping,
    wait_for_quiet,
)
from bench.http_load import Load, Request, generate, wrk_available
from tests.process.processes import ADMIN_KEY_LINE, free_port

READY_SECONDS = 30.0
WARM_SECONDS = 2.0
REMINDERS = 50


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    method: str
    path: str  # "{user}" is the seeded user's id
    target: float  # the service's share of the bare app's requests/s


ENDPOINTS = (
    Endpoint("GET /users/{id}", "GET", "/users/{user}", 0.5),
    Endpoint("GET /notifications/user/{id}/?limit=50", "GET", "/notifications/user/{user}/?limit=50", 0.5),
    Endpoint("POST /notifications/", "POST", "/notifications/", 0.4),
)


# The same request, answered by bench/http_floor.py: only the log line, the key check and the read.
FLOOR = Endpoint("floor: GET /users/{id}", "GET", "/users/{user}", 0.5)


@dataclass(frozen=True, slots=True)
class Round:
    ours: Load
    bare: Load
    others: float  # cores the rest of the machine used during the service's run
    service_cores: float

    @property
    def ratio(self) -> float:
        return self.ours.per_second / self.bare.per_second if self.bare.per_second else 0.0


def reminder_body(owner_id: str, n: int) -> bytes:
    """A once-only reminder a year ahead: the scheduler never fires it during the run."""
    date = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
    return json.dumps(
        {
            "owner_id": owner_id,
            "title": f"Stand-up {n}",
            "message": "Hi {owner_name}, stand-up at {scheduled_for_local}",
            "channel": "log",
            "time_of_day": "09:30",
            "frequency": "once",
            "date": date,
            "timezone": "Europe/Berlin",
        },
        separators=(",", ":"),
    ).encode()


def wait_until_answers(process: Process, url: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while True:
        process.check_alive()
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} never answered: {process.describe()}")
        time.sleep(0.05)


def printed_key(process: Process) -> str:
    """The admin API key `reminders serve` printed on creating the first team of its new store."""
    for line in process.log_path.read_text(errors="replace").splitlines():
        if line.startswith(ADMIN_KEY_LINE):
            return line.removeprefix(ADMIN_KEY_LINE).strip()
    raise RuntimeError(f"the service printed no admin API key: {process.describe()}")


def authorization(key: str) -> tuple[tuple[str, str], ...]:
    return (("Authorization", f"Bearer {key}"),)


def seed(base: str, key: str) -> tuple[str, list[dict[str, object]]]:
    """The user's id, and what the service answered on each benchmarked path (for the bare app)."""
    with httpx.Client(base_url=base, headers=dict(authorization(key)), timeout=30) as client:
        user = client.post("/users/", json={"name": "Bench User", "email": "bench@example.com"})
        user.raise_for_status()
        user_id = str(user.json()["id"])
        created = None
        for n in range(REMINDERS):
            body = reminder_body(user_id, n)
            created = client.post(
                "/notifications/", content=body, headers={"content-type": "application/json"}
            )
            created.raise_for_status()
        assert created is not None
        responses: list[dict[str, object]] = [
            {"method": "POST", "path": "/notifications/", "status": 201, "body": created.text}
        ]
        for endpoint in ENDPOINTS:
            if endpoint.method == "GET":
                answer = client.get(endpoint.path.format(user=user_id))
                answer.raise_for_status()
                path = endpoint.path.format(user=user_id).split("?")[0]
                responses.append({"method": "GET", "path": path, "status": 200, "body": answer.text})
    return user_id, responses


def measure(
    endpoint: Endpoint,
    user_id: str,
    key: str,
    apps: dict[str, tuple[str, Process]],
    args: argparse.Namespace,
    work: Path,
) -> list[Round]:
    # The bare app is sent the same bytes, key included, and ignores it.
    request = Request(
        endpoint.method,
        endpoint.path.format(user=user_id),
        reminder_body(user_id, 0) if endpoint.method == "POST" else b"",
        authorization(key),
    )

    profiled: list[Path] = []

    def run(app: str, seconds: float) -> tuple[Load, float, float]:
        url, process = apps[app]
        meter = CpuMeter({app: [process.pid], "load": []}, postgres=False)
        profiler = None
        if args.profile is not None and app == "ours" and seconds == args.seconds and not profiled:
            args.profile.mkdir(parents=True, exist_ok=True)
            name = endpoint.name.split("?")[0].replace("/", "_").replace(" ", "").strip("_")
            output = args.profile / f"{name}-{args.profile_mode}.txt"
            profiler = Profiler(process.pid, output, gil_only=args.profile_mode == "gil")
            profiled.append(output)
        load = generate(
            url, request, seconds=seconds, connections=args.connections, threads=args.threads, directory=work
        )
        use = meter.read()
        if profiler is not None:
            profiler.stop()
        if load.failed:
            raise RuntimeError(
                f"{app}: {load.failed} failed requests on {endpoint.name}: {process.describe()}"
            )
        return load, use.others, use.groups[app]

    for app in apps:
        run(app, WARM_SECONDS)
    rounds = []
    for n in range(args.rounds):
        order = ("bare", "ours") if n % 2 == 0 else ("ours", "bare")
        results = {}
        for app in order:
            wait_for_quiet(longest=args.quiet_wait)
            results[app] = run(app, args.seconds)
        ours, others, cores = results["ours"]
        rounds.append(Round(ours=ours, bare=results["bare"][0], others=others, service_cores=cores))
        bare_load, _, bare_cores = results["bare"]
        print(
            f"  round {n + 1}: ours {ours.per_second:7,.0f}/s ({cores / ours.per_second * 1e6:4.0f} µs CPU)"
            f"  bare {bare_load.per_second:7,.0f}/s ({bare_cores / bare_load.per_second * 1e6:4.0f} µs)"
            f"  ratio {rounds[-1].ratio:5.1%}  (everything else, wrk included: {others:.2f} cores)",
            flush=True,
        )
    return rounds


def selected(only: list[str] | None) -> list[Endpoint]:
    """The endpoints whose name contains one of `only` (all of them without it)."""
    return [e for e in ENDPOINTS if not only or any(part in e.name for part in only)]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each timed load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--quiet-wait", type=float, default=10.0, help="longest wait for an idle second")
    parser.add_argument("--only", nargs="+", help="only the endpoints whose name contains one of these")
    parser.add_argument("--logs", type=Path, help="keep the processes' output in this directory")
    parser.add_argument("--profile", type=Path, help="py-spy the service's first timed run per endpoint")
    parser.add_argument("--profile-mode", choices=["gil", "wall"], default="gil")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure bench/http_floor.py: the least GET /users/{id} can cost with its log line, "
        "key check and read",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    for name, value in machine.describe().items():
        print(f"{name}: {value}")
    tool = "wrk" if wrk_available() else "asyncio client (wrk is not installed)"
    print(f"load: {tool}, {args.connections} connections, {args.threads} threads, ", end="")
    print(f"{args.seconds:.0f} s x {args.rounds} rounds")
    with tempfile.TemporaryDirectory(prefix="bench-http-") as temporary:
        work = Path(temporary)
        database = f"sqlite:///{work / 'bench.db'}"
        with stopping([]) as processes:
            port = free_port()
            service = reminders(
                "serve", ["--database-url", database, "--port", str(port)], name="serve", directory=work
            )
            processes.append(service)
            ours = f"http://127.0.0.1:{port}"
            wait_until_answers(service, f"{ours}/health")
            key = printed_key(service)
            user_id, responses = seed(ours, key)
            (work / "responses.json").write_text(json.dumps(responses))
            bare_port = free_port()
            bare_args = ["--port", str(bare_port), "--responses", str(work / "responses.json")]
            bare = python_module("bench.http_bare", bare_args, name="bare", directory=work)
            processes.append(bare)
            bare_url = f"http://127.0.0.1:{bare_port}"
            wait_until_answers(bare, bare_url)
            apps = {"ours": (ours, service), "bare": (bare_url, bare)}
            results = {}
            for endpoint in selected(args.only):
                print(f"{endpoint.name} (target: {endpoint.target:.0%} of bare Starlette)", flush=True)
                results[endpoint.name] = measure(endpoint, user_id, key, apps, args, work)
            if args.floor:
                floor_port = free_port()
                floor_args = ["--port", str(floor_port), "--database", str(work / "bench.db")]
                floor_args += ["--responses", str(work / "responses.json")]
                floor = python_module("bench.http_floor", floor_args, name="floor", directory=work)
                processes.append(floor)
                floor_url = f"http://127.0.0.1:{floor_port}"
                wait_until_answers(floor, floor_url)
                print(f"{FLOOR.name} (bench/http_floor.py in place of the service)", flush=True)
                floor_apps = {"ours": (floor_url, floor), "bare": (bare_url, bare)}
                results[FLOOR.name] = measure(FLOOR, user_id, key, floor_apps, args, work)
        if args.logs is not None:
            args.logs.mkdir(parents=True, exist_ok=True)
            for log in work.glob("*.log"):
                shutil.copy(log, args.logs / log.name)
    return report(results, args.check)


def report(results: dict[str, list[Round]], check: bool) -> int:
    print("\nendpoint                                  ours/s          bare/s          ratio (median, range)")
    missed = False
    for endpoint in (*ENDPOINTS, FLOOR):
        if endpoint.name not in results:
            continue
        rounds = results[endpoint.name]
        ratios = sorted(r.ratio for r in rounds)
        ours = sorted(r.ours.per_second for r in rounds)
        bare = sorted(r.bare.per_second for r in rounds)
        median = statistics.median(ratios)
        verdict = "PASS" if median >= endpoint.target else "MISS"
        missed |= verdict == "MISS" and endpoint is not FLOOR
        print(
            f"{endpoint.name:40}  {ours[0]:5,.0f}-{ours[-1]:<6,.0f}  {bare[0]:5,.0f}-{bare[-1]:<6,.0f}  "
            f"{median:5.1%} ({ratios[0]:.1%}-{ratios[-1]:.1%})  {verdict} (target {endpoint.target:.0%})"
        )
    return 1 if check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
