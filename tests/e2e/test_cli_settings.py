"""The `reminders` command: settings checked before anything starts, and one real server end to end."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from entrypoints import cli


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("REMINDERS_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def servers(clean_env: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Records every server `main` would start, instead of starting it."""
    started: list[dict[str, Any]] = []

    def run(app: Any, **options: Any) -> None:
        started.append(options)

    clean_env.setattr(uvicorn, "run", run)
    clean_env.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    return started


def test_an_out_of_range_port_flag_stops_start_up_naming_the_flag(
    servers: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["serve", "--port", "70000"])

    assert code == 2
    error = capsys.readouterr().err
    assert "--port" in error
    assert "70000" in error
    assert servers == []


def test_a_non_numeric_port_variable_stops_start_up_naming_the_variable(
    servers: list[dict[str, Any]], clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("REMINDERS_PORT", "abc")

    code = cli.main(["serve"])

    assert code == 2
    error = capsys.readouterr().err
    assert "REMINDERS_PORT" in error
    assert "abc" in error
    assert servers == []


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["serve", "--tick-seconds", "0"], {}, "--tick-seconds"),
        (["serve", "--log-format", "xml"], {}, "--log-format"),
        (["serve"], {"REMINDERS_LOG_LEVEL": "LOUD"}, "REMINDERS_LOG_LEVEL"),
        (["serve"], {"REMINDERS_DELIVERY_CONCURRENCY": "0"}, "REMINDERS_DELIVERY_CONCURRENCY"),
        (["serve", "--port", "0"], {}, "--port"),
        (["serve"], {"REMINDERS_GRACE_SECONDS": "inf"}, "REMINDERS_GRACE_SECONDS"),
        (["serve"], {"REMINDERS_TICK_SECONDS": "nan"}, "REMINDERS_TICK_SECONDS"),
        (["serve", "--email-from", "bogus"], {}, "--email-from"),
        (["serve"], {"REMINDERS_SMTP_URL": "ftp://mail.example.com"}, "REMINDERS_SMTP_URL"),
    ],
)
def test_any_invalid_setting_stops_start_up_naming_where_it_came_from(
    servers: list[dict[str, Any]],
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: dict[str, str],
    named: str,
) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)

    code = cli.main(argv)

    assert code == 2
    assert named in capsys.readouterr().err
    assert servers == []


def test_a_flag_wins_over_the_environment(
    servers: list[dict[str, Any]], clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("REMINDERS_PORT", "abc")
    clean_env.setenv("REMINDERS_HOST", "0.0.0.0")

    code = cli.main(["serve", "--port", "8123"])

    assert code == 0
    [options] = servers
    assert (options["host"], options["port"]) == ("0.0.0.0", 8123)


def test_defaults_apply_when_nothing_is_set(servers: list[dict[str, Any]]) -> None:
    assert cli.main(["serve"]) == 0

    [options] = servers
    assert (options["host"], options["port"]) == ("127.0.0.1", 8000)


def test_tick_with_the_in_memory_store_refuses_with_an_explanation(
    servers: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["tick"])

    assert code != 0
    error = capsys.readouterr().err
    assert "in-memory" in error
    assert "reminders serve" in error
    assert servers == []


# -- a real server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`reminders serve` in a subprocess, ticking every 0.2 s; yields its URL and its stdout file."""
    port = free_port()
    stdout = tmp_path / "stdout.log"
    env = {name: value for name, value in os.environ.items() if not name.startswith("REMINDERS_")}
    executable = Path(sys.executable).parent / "reminders"
    with stdout.open("wb") as out:
        process = subprocess.Popen(
            [str(executable), "serve", "--port", str(port), "--tick-seconds", "0.2"],
            stdout=out,
            stderr=subprocess.PIPE,
            env=env,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while True:
                if process.poll() is not None:
                    pytest.fail(
                        f"the server exited: {process.stderr.read().decode() if process.stderr else ''}"
                    )
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("the server did not answer /health within 20 s")
                time.sleep(0.1)
            yield url, stdout
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()


def test_a_real_server_delivers_a_once_reminder_exactly_once(server: tuple[str, Path]) -> None:
    url, stdout = server
    with httpx.Client(base_url=url, timeout=5) as http:
        user = http.post(
            "/users/",
            json={"name": "Live", "email": "live@example.com"},
            headers={"x-request-id": "live-create-user"},
        )
        assert user.status_code == 201, user.text
        # One to two seconds ahead, with its own date so that midnight cannot get in the way.
        at = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
        created = http.post(
            "/notifications/",
            json={
                "owner_id": user.json()["id"],
                "title": "Live",
                "message": "Delivered by the real scheduler",
                "channel": "log",
                "time_of_day": at.strftime("%H:%M:%S"),
                "frequency": "once",
                "date": at.date().isoformat(),
            },
            headers={"x-request-id": "live-create-reminder"},
        )
        assert created.status_code == 201, created.text
        reminder = created.json()
        assert reminder["next_run_at"] == at.isoformat()

        deliveries: list[dict[str, Any]] = []
        deadline = time.monotonic() + 15
        while not deliveries and time.monotonic() < deadline:
            time.sleep(0.2)
            deliveries = http.get(f"/notifications/{reminder['id']}/deliveries").json()["items"]
        assert deliveries, "the reminder was not delivered within 15 s"
        time.sleep(1.0)  # five more ticks: none of them may deliver it again

        [delivery] = http.get(f"/notifications/{reminder['id']}/deliveries").json()["items"]
        assert (delivery["status"], delivery["channel"]) == ("sent", "log")
        assert delivery["scheduled_for"] == at.isoformat()
        after = http.get(f"/notifications/{reminder['id']}").json()
        assert after["active"] is False
        assert after["next_run_at"] is None
        assert after["last_run_at"] is not None
        metrics = http.get("/metrics").text
        assert 'reminders_deliveries_total{channel="log",outcome="sent"} 1.0' in metrics
        health = http.get("/health", headers={"x-request-id": "live-health"}).json()
        assert health["status"] == "ok"
        assert health["checks"]["scheduler"]["enabled"] is True
        assert health["checks"]["scheduler"]["last_tick_at"] is not None

    time.sleep(0.2)
    lines = [json.loads(line) for line in stdout.read_text().splitlines() if line.strip()]
    assert lines
    assert all("request_id" in line for line in lines)
    create_lines = [line for line in lines if line["request_id"] == "live-create-reminder"]
    assert {line["message"] for line in create_lines} == {"request started", "request finished"}
    assert [line.get("status") for line in create_lines if line["message"] == "request finished"] == [201]
    delivered = [line for line in lines if line["message"] == "reminder delivered"]
    assert [line["reminder_id"] for line in delivered] == [reminder["id"]]


def test_a_malformed_smtp_url_never_shows_its_password(
    servers: list[dict[str, Any]], clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("REMINDERS_SMTP_URL", "smtp://bob:hunter2@")

    assert cli.main(["serve"]) == 2
    error = capsys.readouterr().err
    assert "REMINDERS_SMTP_URL" in error
    assert "hunter2" not in error
    assert servers == []
