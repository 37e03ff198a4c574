"""Tick cost and delivery throughput over the in-memory store at several sizes.

    python -m bench.run [--sizes 10000 100000 1000000] [--due 1000] [--repeat 7] [--mix mixed] [--check]

For each size: fill a fresh store with the reminders of `--mix` (bench.mix: `mixed`, the default,
holds rules, cron and team reminders; `daily` is the original all-daily population), time `--repeat`
ticks (after one warm-up tick) that each fire exactly `--due` reminders (a team reminder opens a
delivery per recipient it reaches, so a tick opens more deliveries than that), then time
`--deliveries` deliveries inline and as many again on a pool of `--workers` threads. Ratios compare
sizes within this one run, since the machine is shared. With `--check`, exits 1 when a target is
missed. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
from dataclasses import dataclass

from bench import machine
from bench.measure import TickTime, deliveries_per_second, time_ticks
from bench.mix import MIXES
from bench.population import populate
from entrypoints.gc_tuning import tune_garbage_collector

TICK_RATIO_TARGET = 2.0
DELIVERIES_PER_SECOND_TARGET = 10_000


@dataclass(frozen=True, slots=True)
class SizeResult:
    reminders: int
    users: int
    teams: int
    deliveries_per_tick: int  # opened by each timed tick (the same for each)
    load_seconds: float
    peak_rss_mib: int
    ticks: list[TickTime]  # warm-up excluded
    inline_per_second: float
    pool_per_second: float

    @property
    def tick_median(self) -> float:
        return statistics.median(tick.wall for tick in self.ticks)

    @property
    def tick_min(self) -> float:
        return min(tick.wall for tick in self.ticks)

    @property
    def cpu_median(self) -> float:
        return statistics.median(tick.cpu for tick in self.ticks)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--due", type=int, default=1000, help="reminders each tick fires")
    parser.add_argument("--repeat", type=int, default=7, help="timed ticks per size, after one warm-up")
    parser.add_argument("--deliveries", type=int, default=20_000, help="deliveries timed per mode")
    parser.add_argument("--workers", type=int, default=16, help="threads of the delivery pool")
    parser.add_argument(
        "--mix", choices=sorted(MIXES), default="mixed", help="the kinds of reminder stored (bench.mix)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if min(args.sizes) < 1 or args.due < 1 or args.repeat < 1 or args.deliveries < 1 or args.workers < 2:
        parser.error("sizes, --due, --repeat and --deliveries must be positive; --workers at least 2")
    return args


def measure(reminders: int, args: argparse.Namespace) -> SizeResult:
    population = populate(
        reminders=reminders,
        due=args.due,
        ticks=args.repeat + 1,
        pending=2 * args.deliveries,
        mix=MIXES[args.mix],
    )
    # Start from the steady state of a running service, not mid-way through loading, with the
    # collector tuned as `reminders serve` tunes it.
    tune_garbage_collector()
    ticks = time_ticks(population, due=args.due)[1:]
    inline_rate = deliveries_per_second(population, args.deliveries, workers=1)
    pool_rate = deliveries_per_second(population, args.deliveries, workers=args.workers)
    return SizeResult(
        reminders=reminders,
        users=population.users,
        teams=population.teams,
        deliveries_per_tick=max(population.deliveries_per_tick[1:]),
        load_seconds=population.seconds,
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        ticks=ticks,
        inline_per_second=inline_rate,
        pool_per_second=pool_rate,
    )


def table(results: list[SizeResult], args: argparse.Namespace) -> list[str]:
    base = results[0]
    lines = [
        f"| reminders | load s | peak RSS MiB | deliveries per tick | tick median ms | tick min ms "
        f"| median ratio | min ratio | tick CPU median ms | CPU ratio "
        f"| deliveries/s inline | deliveries/s {args.workers} threads |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.reminders:,} | {r.load_seconds:.1f} | {r.peak_rss_mib:,} | {r.deliveries_per_tick:,} "
            f"| {r.tick_median * 1000:.1f} | {r.tick_min * 1000:.1f} "
            f"| {r.tick_median / base.tick_median:.2f} | {r.tick_min / base.tick_min:.2f} "
            f"| {r.cpu_median * 1000:.1f} "
            f"| {r.cpu_median / base.cpu_median:.2f} "
            f"| {r.inline_per_second:,.0f} | {r.pool_per_second:,.0f} |"
        )
    return lines


def verdicts(results: list[SizeResult], args: argparse.Namespace) -> list[tuple[str, bool]]:
    small, large = results[0], results[-1]
    ratio = large.tick_median / small.tick_median
    slowest = min(min(r.inline_per_second, r.pool_per_second) for r in results)
    return [
        (
            f"tick({large.reminders:,}) / tick({small.reminders:,}) = {ratio:.2f} (medians), "
            f"target <= {TICK_RATIO_TARGET:g}",
            ratio <= TICK_RATIO_TARGET,
        ),
        (
            f"slowest deliveries/s (inline or {args.workers} threads, any size) = {slowest:,.0f}, "
            f"target >= {DELIVERIES_PER_SECOND_TARGET:,}",
            slowest >= DELIVERIES_PER_SECOND_TARGET,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sizes = sorted(set(args.sizes))
    for name, value in machine.describe().items():
        print(f"{name}: {value}")
    print(
        f"due per tick: {args.due}; timed ticks per size: {args.repeat} (+1 warm-up); "
        f"deliveries per mode: {args.deliveries:,}",
    )
    print(
        f"mix {args.mix}: " + ", ".join(f"{kind.name} {kind.share}%" for kind in MIXES[args.mix].kinds) + "\n"
    )
    results = []
    for reminders in sizes:
        result = measure(reminders, args)
        ticks_ms = ", ".join(f"{tick.wall * 1000:.1f}" for tick in result.ticks)
        cpu_ms = ", ".join(f"{tick.cpu * 1000:.1f}" for tick in result.ticks)
        print(
            f"{reminders:,} reminders ({result.users:,} users, {result.teams:,} teams): "
            f"ticks ms [{ticks_ms}], CPU ms [{cpu_ms}]; "
            f"per tick {args.due:,} due, {result.deliveries_per_tick:,} deliveries "
            f"({max(tick.deferred for tick in result.ticks):,} of them deferred)",
            flush=True,
        )
        results.append(result)
        gc.collect()
    print()
    print("\n".join(table(results, args)))
    print()
    missed = False
    for text, held in verdicts(results, args):
        print(f"{'PASS' if held else 'MISS'}  {text}")
        missed = missed or not held
    small, large = results[0], results[-1]
    # Not a verdict (the target is wall-clock time), but what to read when neighbours made it noisy.
    print(f"info  tick CPU ratio, medians: {large.cpu_median / small.cpu_median:.2f}")
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
