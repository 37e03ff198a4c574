"""What the crash scripts share on their command line: runs per store, which stores, the seed of the
kill moments, and the PostgreSQL server to create databases on."""

from __future__ import annotations

import argparse
import os
import random

from tests.databases import POSTGRES_ENV


def crash_parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=(doc or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per store")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seed", type=int, default=None, help="for the kill moments; random by default")
    parser.add_argument(
        "--postgres-url", default=os.environ.get(POSTGRES_ENV), help=f"default: ${POSTGRES_ENV}"
    )
    return parser


def parse_crash_options(
    parser: argparse.ArgumentParser, argv: list[str] | None, *positive: str
) -> argparse.Namespace:
    """The options, checked: --runs and each of `positive` at least 1, and a PostgreSQL URL when needed."""
    args = parser.parse_args(argv)
    names = ["runs", *positive]
    if any(getattr(args, name) < 1 for name in names):
        parser.error(" and ".join("--" + name.replace("_", "-") for name in names) + " must be positive")
    if args.database != "sqlite" and not args.postgres_url:
        parser.error(f"PostgreSQL runs need --postgres-url or {POSTGRES_ENV}")
    return args


def seeded(args: argparse.Namespace) -> tuple[int, random.Random]:
    seed: int = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    return seed, random.Random(seed)


def store_kinds(args: argparse.Namespace) -> list[str]:
    return ["sqlite", "postgresql"] if args.database == "both" else [args.database]
