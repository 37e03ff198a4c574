"""The receiver's own ceiling: requests per second a plain load generator gets from it, in the same run.

Two generators, since the service's webhook client (httpx) keeps its connections open and `ab`
cannot (uvicorn's h11 does not keep an HTTP/1.0 connection alive, and `ab -k` speaks HTTP/1.0):
- `ab` (apache2-utils), one new connection per request, when it is installed;
- a small asyncio client that keeps `concurrency` HTTP/1.1 connections open, the way httpx does.
Both POST the body a webhook delivery sends, to the receiver's /ceiling, which answers as /hook does
without recording the request.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# The size and shape of what WebhookChannel sends for the benchmark's reminders.
BODY = (
    b'{"delivery_id":"0123456789abcdef0123456789abcdef","reminder_id":"0123456789abcdef0123456789abcdef",'
    b'"title":"Hook 1","message":"Hi Hook 1, Hook 1 at 2026-11-29 05:00 (UTC)",'
    b'"scheduled_for":"2026-11-29T05:00:00+00:00","owner":{"id":"0123456789abcdef0123456789abcdef",'
    b'"name":"Hook 1","email":"hook1@example.com"}}'
)


@dataclass(frozen=True, slots=True)
class Load:
    tool: str
    concurrency: int
    requests: int
    seconds: float
    failed: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def describe(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.tool}, {self.concurrency} at once: {self.per_second:,.0f} requests/s{failed}"


def ab_available() -> bool:
    return shutil.which("ab") is not None


def with_ab(url: str, *, requests: int, concurrency: int) -> Load:
    with tempfile.NamedTemporaryFile(suffix=".json") as body:
        Path(body.name).write_bytes(BODY)
        began = time.perf_counter()
        done = subprocess.run(
            [
                "ab",
                "-q",
                "-n",
                str(requests),
                "-c",
                str(concurrency),
                "-p",
                body.name,
                "-T",
                "application/json",
                "-H",
                "Idempotency-Key: ceiling",
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"ab failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    seconds = _number(done.stdout, r"Time taken for tests:\s+([\d.]+)") or elapsed
    failed = int(_number(done.stdout, r"Failed requests:\s+(\d+)") or 0)
    failed += int(_number(done.stdout, r"Non-2xx responses:\s+(\d+)") or 0)
    return Load("ab (new connection per request)", concurrency, requests, seconds, failed)


def _number(text: str, pattern: str) -> float | None:
    match = re.search(pattern, text)
    return float(match.group(1)) if match else None


def with_keepalive(url: str, *, requests: int, concurrency: int) -> Load:
    return asyncio.run(_keepalive(url, requests, concurrency))


async def _keepalive(url: str, requests: int, concurrency: int) -> Load:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Idempotency-Key: ceiling\r\nContent-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    share = [requests // concurrency + (n < requests % concurrency) for n in range(concurrency)]
    connections = [await asyncio.open_connection(host, port) for _ in range(concurrency)]
    failed = 0

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: int) -> None:
        nonlocal failed
        for _ in range(count):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            failed += not 200 <= status < 300

    began = time.perf_counter()
    await asyncio.gather(*(one(r, w, count) for (r, w), count in zip(connections, share, strict=True)))
    elapsed = time.perf_counter() - began
    for _, writer in connections:
        writer.close()
    return Load("asyncio client, keep-alive", concurrency, requests, elapsed, failed)
