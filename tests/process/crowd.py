"""A crowd of concurrent requests from a process of its own, so that the test measuring the service
meanwhile does not share a GIL (or an event loop) with 120 connections.

    python -m tests.process.crowd --url http://127.0.0.1:8000 --out answers.json PATH [PATH ...]

with the API key to send in the environment variable CROWD_API_KEY. POSTs every path at once and
writes, for each, the status (0 when it got no answer), the JSON body, and when it began and ended
(time.time()).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.process.api import bearer
from tests.process.receivers import ROOT

# The key travels in the environment, not on a command line anyone on the machine can read.
KEY_VARIABLE = "CROWD_API_KEY"


async def post_all(url: str, key: str, paths: list[str], timeout: float) -> list[dict[str, Any]]:
    limits = httpx.Limits(max_connections=len(paths) + 10)
    async with httpx.AsyncClient(base_url=url, headers=bearer(key), timeout=timeout, limits=limits) as http:

        async def post(path: str) -> dict[str, Any]:
            began = time.time()
            try:
                response = await http.post(path)
                status, body = response.status_code, response.json()
            except httpx.HTTPError as error:
                status, body = 0, {"error": repr(error)}
            ended = time.time()
            return {"path": path, "status": status, "body": body, "began": began, "ended": ended}

        return await asyncio.gather(*(post(path) for path in paths))


def post_from_another_process(
    url: str, key: str, paths: list[str], directory: Path, *, timeout: float = 60
) -> list[dict[str, Any]]:
    """Runs the crowd in a process of its own, sending `key`, and returns what it wrote; blocks
    until it is done."""
    out = directory / "crowd.json"
    argv = [sys.executable, "-m", "tests.process.crowd", "--url", url, "--out", str(out), *paths]
    argv += ["--timeout", str(timeout)]
    env = os.environ | {KEY_VARIABLE: key}
    subprocess.run(argv, cwd=ROOT, env=env, check=True, timeout=timeout + 30)
    answers: list[dict[str, Any]] = json.loads(out.read_text())
    return answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.process.crowd", description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    answers = asyncio.run(post_all(args.url, os.environ[KEY_VARIABLE], args.paths, args.timeout))
    args.out.write_text(json.dumps(answers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
