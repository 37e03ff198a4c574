"""Reading the profiles `python -m bench.delivery --profile DIR` records (py-spy's raw collapsed stacks).

    python -m bench.delivery_profile DIR/lag-sqlite-serve-serve.txt [--deliveries 2000] [--top 25]

Prints where the samples went by step of a delivery (the first rule a stack matches wins, in the
order below), then the functions with the most samples, inclusive and on their own. With
`--deliveries`, a step's share is also given as microseconds per delivery: samples / rate / N. A
profile recorded in `cpu` mode holds only samples of threads holding the GIL, so those figures are
the process's Python CPU time; in `wall` mode they include waiting threads.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

# (step, markers): a stack belongs to the first step one of whose markers it contains.
STEPS: list[tuple[str, tuple[str, ...]]] = [
    ("scheduler tick (fire due reminders)", ("check_due_reminders",)),
    ("scheduler tick (the rest)", ("Ticker.tick", "Ticker._prune")),
    (
        "log lines (formatting, filters, write)",
        ("logging/__init__.py", "pythonjsonlogger", "logging_setup.py"),
    ),
    ("claim (ClaimDeliveries)", ("claim_deliveries",)),
    ("send (channel)", ("NotificationSender.attempt",)),
    ("record (RecordOutcomes)", ("record_outcomes",)),
    ("event handlers (metrics, waiters)", ("MessageBus._drain",)),
    ("lease expiry", ("expire_leases",)),
    ("release claims", ("release_claims",)),
    ("HTTP server, event loop", ("uvicorn", "starlette", "asyncio", "anyio")),
    ("worker threads' own work", ("delivery_worker.py", "peer_limiter.py")),
]
_LINE = re.compile(r":\d+\)")


def read(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            frames = [_LINE.sub(")", frame) for frame in stack.split(";")]
            if frames and frames[0].startswith("thread ("):
                frames = frames[1:]
            stacks.append((frames, int(count)))
    return stacks


def step_of(frames: list[str]) -> str:
    joined = ";".join(frames)
    for step, markers in STEPS:
        if any(marker in joined for marker in markers):
            return step
    return "other"


def summarise(path: Path, *, rate: float, deliveries: int | None, top: int) -> list[str]:
    stacks = read(path)
    total = sum(count for _, count in stacks)
    if not total:
        return [f"{path}: no samples"]
    steps: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, count in stacks:
        steps[step_of(frames)] += count
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            own[frames[-1]] += count
    lines = [f"{path}: {total} samples = {total / rate:.2f} s at {rate:g} Hz"]
    for step, count in steps.most_common():
        per = f"  {count / rate / deliveries * 1e6:7.0f} µs per delivery" if deliveries else ""
        lines.append(f"  {100 * count / total:5.1f}%  {step}{per}")
    lines.append("  inclusive:")
    lines += [f"    {100 * count / total:5.1f}%  {frame}" for frame, count in inclusive.most_common(top)]
    lines.append("  own:")
    lines += [f"    {100 * count / total:5.1f}%  {frame}" for frame, count in own.most_common(top)]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.delivery_profile", description=__doc__.split("\n")[0]
    )
    parser.add_argument("profiles", type=Path, nargs="+")
    parser.add_argument("--rate", type=float, default=200, help="the sampling rate it was recorded at")
    parser.add_argument("--deliveries", type=int, help="deliveries in the profiled window")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    for path in args.profiles:
        print("\n".join(summarise(path, rate=args.rate, deliveries=args.deliveries, top=args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
