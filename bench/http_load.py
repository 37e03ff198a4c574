"""The load generator of the HTTP benchmark: wrk when it is installed (`apt-get install wrk`), else a small
asyncio client; both keep their connections open and send one request after another on each.

The asyncio client runs in one Python process, so it is much slower than wrk and itself the limit of
fast apps: its ratios understate the gap. Figures of the two are not comparable.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str  # with the query string
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()  # beyond Host, and Content-Type with a body


@dataclass(frozen=True, slots=True)
class Load:
    tool: str
    requests: int
    seconds: float
    failed: int  # non-2xx answers and socket errors

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


class LoadFailed(RuntimeError):
    """The load generator could not run."""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def generate(
    base_url: str, request: Request, *, seconds: float, connections: int, threads: int, directory: Path
) -> Load:
    if wrk_available():
        return with_wrk(
            base_url, request, seconds=seconds, connections=connections, threads=threads, directory=directory
        )
    return asyncio.run(_keepalive(base_url, request, seconds, connections))


def with_wrk(
    base_url: str, request: Request, *, seconds: float, connections: int, threads: int, directory: Path
) -> Load:
    script = directory / "request.lua"
    body = request.body.decode()
    if "]]" in body:
        raise LoadFailed("the body cannot be written as a Lua long string")
    headers = "".join(
        f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n" for name, value in request.headers
    )
    script.write_text(
        f'wrk.method = "{request.method}"\n'
        f"wrk.body = [[{body}]]\n"
        'wrk.headers["Content-Type"] = "application/json"\n' + headers
    )
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "-s",
        str(script),
        base_url + request.path,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LoadFailed(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    match = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b", done.stdout)
    if match is None:
        raise LoadFailed(f"cannot read wrk's output:\n{done.stdout}")
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0}[match.group(3)]
    failed = int(_number(done.stdout, r"Non-2xx or 3xx responses:\s+(\d+)") or 0)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", done.stdout)
    if errors:
        failed += sum(int(n) for n in errors.groups())
    return Load("wrk", int(match.group(1)), float(match.group(2)) * scale, failed)


def _number(text: str, pattern: str) -> float | None:
    match = re.search(pattern, text)
    return float(match.group(1)) if match else None


async def _keepalive(base_url: str, request: Request, seconds: float, connections: int) -> Load:
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = f"{request.method} {request.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in request.headers)
    if request.body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(request.body)}\r\n"
    raw = (head + "\r\n").encode() + request.body
    streams = [await asyncio.open_connection(host, port) for _ in range(connections)]
    deadline = time.perf_counter() + seconds
    counts = {"done": 0, "failed": 0}

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while time.perf_counter() < deadline:
            writer.write(raw)
            answer = await reader.readuntil(b"\r\n\r\n")
            status = int(answer.split(b" ", 2)[1])
            length = re.search(rb"(?i)content-length:\s*(\d+)", answer)
            await reader.readexactly(int(length.group(1)) if length else 0)
            counts["done"] += 1
            counts["failed"] += not 200 <= status < 300

    began = time.perf_counter()
    await asyncio.gather(*(one(reader, writer) for reader, writer in streams))
    elapsed = time.perf_counter() - began
    for _, writer in streams:
        writer.close()
    return Load("asyncio client", counts["done"], elapsed, counts["failed"])
