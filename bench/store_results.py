"""What the store benchmarks found, and the tables and verdicts `python -m bench.stores` prints."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.sql_databases import StoreKind

TICK_RATIO_TARGET = 2.0
DUE_INDEX = "ix_reminders_due"


@dataclass(frozen=True, slots=True)
class SizeResult:
    store: StoreKind
    reminders: int
    users: int
    load_seconds: float
    ticks: list[float]  # seconds, warm-up excluded
    plan: list[str]

    @property
    def tick_median(self) -> float:
        return statistics.median(self.ticks)

    @property
    def tick_min(self) -> float:
        return min(self.ticks)


@dataclass(frozen=True, slots=True)
class Creation:
    store: str
    count: int
    batch: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


def tick_table(results: list[SizeResult]) -> list[str]:
    lines = [
        "| store | reminders | load s | tick median ms | tick min ms | median ratio | min ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        base = next(b for b in results if b.store == r.store)
        lines.append(
            f"| {r.store} | {r.reminders:,} | {r.load_seconds:.1f} | {r.tick_median * 1000:.1f} "
            f"| {r.tick_min * 1000:.1f} | {r.tick_median / base.tick_median:.2f} "
            f"| {r.tick_min / base.tick_min:.2f} |"
        )
    return lines


def creation_table(creations: list[Creation]) -> list[str]:
    lines = ["| store | reminders created | per commit | seconds | rows/s |", "|---|---:|---:|---:|---:|"]
    for c in creations:
        lines.append(f"| {c.store} | {c.count:,} | {c.batch} | {c.seconds:.1f} | {c.per_second:,.0f} |")
    return lines


def verdicts(results: list[SizeResult]) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    for kind in dict.fromkeys(r.store for r in results):
        sizes = [r for r in results if r.store == kind]
        small, large = sizes[0], sizes[-1]
        ratio = large.tick_median / small.tick_median
        found.append(
            (
                f"{kind}: tick({large.reminders:,}) / tick({small.reminders:,}) = {ratio:.2f} (medians), "
                f"target <= {TICK_RATIO_TARGET:g}",
                ratio <= TICK_RATIO_TARGET,
            )
        )
        uses = any(DUE_INDEX in line for line in large.plan)
        found.append((f"{kind}: the due query at {large.reminders:,} uses {DUE_INDEX}", uses))
    return found
