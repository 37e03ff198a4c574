"""The `reminders` command: settings checked before anything starts, and one real server end to end."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
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
from starlette.testclient import TestClient

from entrypoints import cli
from entrypoints import settings as config
from tests.e2e.conftest import bearer
from tests.process.processes import ADMIN_KEY_LINE


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No REMINDERS_ variable, and a fresh working directory for the default reminders.db."""
    for name in list(os.environ):
        if name.startswith("REMINDERS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.fixture
def servers(clean_env: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Records every server `main` would start, instead of starting it."""
    started: list[dict[str, Any]] = []

    def run(server: uvicorn.Server) -> None:
        config = server.config
        started.append(
            {
                "host": config.host,
                "port": config.port,
                "grace": config.timeout_graceful_shutdown,
                "app": config.app,
            }
        )

    clean_env.setattr(cli._Server, "run", run)
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
        (["serve", "--per-target-concurrency", "0"], {}, "--per-target-concurrency"),
        (["serve", "--send-wait-seconds", "-1"], {}, "--send-wait-seconds"),
        (["serve"], {"REMINDERS_SHUTDOWN_GRACE_SECONDS": "soon"}, "REMINDERS_SHUTDOWN_GRACE_SECONDS"),
        (["serve", "--keep-deliveries-days", "0"], {}, "--keep-deliveries-days"),
        (["worker"], {"REMINDERS_DELIVERY_LEASE_SECONDS": "-5"}, "REMINDERS_DELIVERY_LEASE_SECONDS"),
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


@pytest.mark.parametrize(("command", "part"), [("tick", "scheduler"), ("worker", "delivery worker")])
def test_tick_and_worker_with_the_in_memory_store_refuse_with_an_explanation(
    servers: list[dict[str, Any]], capsys: pytest.CaptureFixture[str], command: str, part: str
) -> None:
    code = cli.main([command, "--database-url", "memory://"])

    assert code == 2
    error = capsys.readouterr().err
    assert f"reminders {command}:" in error
    assert "in-memory" in error
    assert part in error
    assert "reminders serve" in error
    assert "REMINDERS_DATABASE_URL" in error
    assert servers == []


# -- the delivery settings --------------------------------------------------------------------------------


def settings_from(argv: list[str], env: dict[str, str] | None = None) -> config.ServeSettings:
    return config.load(config.ServeSettings, cli.parser().parse_args(argv), env or {})


def test_the_delivery_settings_have_the_documented_defaults() -> None:
    settings = settings_from(["serve"])

    assert settings.delivery_enabled is True
    assert settings.delivery_lease_seconds == 60
    assert settings.per_target_concurrency == 4
    assert settings.send_wait_seconds == 10
    assert settings.shutdown_grace_seconds == 10
    assert settings.keep_deliveries_days == 90


COMMAND_SETTINGS = {"serve": config.SERVE, "tick": config.TICK, "worker": config.WORKER}


@pytest.mark.parametrize(
    ("commands", "flag", "value", "field", "expected"),
    [
        (["serve", "worker"], "--delivery-lease-seconds", "90", "delivery_lease_seconds", 90),
        (["serve", "worker"], "--per-target-concurrency", "2", "per_target_concurrency", 2),
        (["serve"], "--send-wait-seconds", "0.5", "send_wait_seconds", 0.5),
        (["serve", "worker"], "--shutdown-grace-seconds", "3", "shutdown_grace_seconds", 3),
        (["serve", "tick"], "--keep-deliveries-days", "7", "keep_deliveries_days", 7),
    ],
)
def test_each_delivery_setting_is_a_flag_and_a_variable_and_the_flag_wins(
    commands: list[str], flag: str, value: str, field: str, expected: float
) -> None:
    variable = "REMINDERS_" + flag.removeprefix("--").replace("-", "_").upper()

    for command in commands:  # the commands it applies to; the others refuse it (test_cli_help.py)
        settings = COMMAND_SETTINGS[command]
        from_variable = settings.load(cli.parser().parse_args([command]), {variable: value})
        from_flag = settings.load(cli.parser().parse_args([command, flag, value]), {variable: "1000"})
        assert getattr(from_variable, field) == expected
        assert getattr(from_flag, field) == expected


def test_no_delivery_turns_the_servers_delivery_worker_off() -> None:
    assert settings_from(["serve", "--no-delivery"]).delivery_enabled is False
    assert settings_from(["serve", "--no-delivery-enabled"]).delivery_enabled is False
    assert settings_from(["serve"], {"REMINDERS_DELIVERY_ENABLED": "false"}).delivery_enabled is False


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["serve", "--delivery-lease-seconds", "5"], {}),
        (["serve", "--delivery-lease-seconds", "10"], {}),  # equal to the default channel timeout
        (["worker", "--channel-timeout-seconds", "60"], {}),  # equal to the default lease
        (["serve", "--channel-timeout-seconds", "30"], {"REMINDERS_DELIVERY_LEASE_SECONDS": "20"}),
    ],
)
def test_a_lease_no_longer_than_the_channel_timeout_stops_start_up_naming_both(
    servers: list[dict[str, Any]],
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: dict[str, str],
) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)

    assert cli.main(argv) == 2

    error = capsys.readouterr().err
    assert "--delivery-lease-seconds" in error
    assert "--channel-timeout-seconds" in error
    assert servers == []


def test_a_lease_longer_than_the_channel_timeout_is_accepted(servers: list[dict[str, Any]]) -> None:
    assert cli.main(["serve", "--delivery-lease-seconds", "20", "--channel-timeout-seconds", "5"]) == 0

    assert len(servers) == 1


def test_the_shutdown_grace_bounds_how_long_the_server_waits_when_stopping(
    servers: list[dict[str, Any]],
) -> None:
    assert cli.main(["serve", "--shutdown-grace-seconds", "2.5"]) == 0

    [options] = servers
    assert options["grace"] == 3


@pytest.mark.parametrize(
    ("flags", "status", "state"),
    [
        (["--send-wait-seconds", "5"], 200, "sent"),
        (["--no-delivery", "--send-wait-seconds", "0"], 202, "pending"),
    ],
)
def test_serve_sends_what_it_queues_unless_delivery_is_off(
    servers: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    status: int,
    state: str,
) -> None:
    assert cli.main(["serve", "--database-url", "memory://", *flags]) == 0
    [options] = servers
    key = admin_key(capsys.readouterr().err)

    with TestClient(options["app"], headers=bearer(key)) as http:
        owner = http.post("/users/", json={"name": "Ann", "email": "ann@example.com"}).json()
        reminder = http.post(
            "/notifications/",
            json={
                "owner_id": owner["id"],
                "title": "Stand-up",
                "message": "Join",
                "channel": "log",
                "time_of_day": "09:00",
                "frequency": "daily",
            },
        ).json()
        response = http.post(f"/notifications/send/{reminder['id']}")
        queue = http.get("/health").json()["checks"]["queue"]

    assert response.status_code == status, response.text
    assert response.json()["status"] == state
    assert queue["pending"] == (1 if state == "pending" else 0)


def admin_key(stderr: str) -> str:
    """The key `serve` prints on stderr when it creates the first team, from its one line."""
    [key] = [
        line.removeprefix(ADMIN_KEY_LINE) for line in stderr.splitlines() if line.startswith(ADMIN_KEY_LINE)
    ]
    return key


# -- a real server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    """`reminders serve` in a subprocess on a new store, ticking every 0.2 s; yields its URL, its stdout
    file and the admin key it printed on stderr."""
    port = free_port()
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    env = {name: value for name, value in os.environ.items() if not name.startswith("REMINDERS_")}
    executable = Path(sys.executable).parent / "reminders"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [str(executable), "serve", "--port", str(port), "--tick-seconds", "0.2"],
            stdout=out,
            stderr=err,
            env=env,
            cwd=tmp_path,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the server exited: {stderr.read_text()}")
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("the server did not answer /health within 20 s")
                time.sleep(0.1)
            yield url, stdout, admin_key(stderr.read_text())
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_real_server_delivers_a_once_reminder_exactly_once(server: tuple[str, Path, str]) -> None:
    url, stdout, key = server
    with httpx.Client(base_url=url, timeout=5, headers=bearer(key)) as http:
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
    assert key not in stdout.read_text()  # printed once on stderr, never logged
    lines = [json.loads(line) for line in stdout.read_text().splitlines() if line.strip()]
    assert lines
    assert all("request_id" in line for line in lines)
    create_lines = [line for line in lines if line["request_id"] == "live-create-reminder"]
    assert {line["message"] for line in create_lines} == {"request finished"}  # "started" is DEBUG
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


# -- the store setting ---------------------------------------------------------------------------------


def test_the_default_store_is_a_sqlite_file_in_the_working_directory(
    servers: list[dict[str, Any]], tmp_path: Path
) -> None:
    assert cli.main(["serve"]) == 0

    assert servers
    assert (tmp_path / "reminders.db").is_file()


@pytest.mark.parametrize(
    "url",
    ["mysql://bob:hunter2@db/reminders", "sqlite://", "postgresql+psycopg2://bob:hunter2@db/x", "not a url"],
)
def test_an_unsupported_database_url_stops_start_up_naming_the_setting_and_hiding_its_password(
    servers: list[dict[str, Any]], clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    clean_env.setenv("REMINDERS_DATABASE_URL", url)

    assert cli.main(["serve"]) == 2

    error = capsys.readouterr().err
    assert "REMINDERS_DATABASE_URL" in error
    assert "memory://" in error  # the way out is named
    assert "hunter2" not in error
    assert servers == []


def test_an_unreachable_database_stops_start_up_without_showing_its_password(
    servers: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["serve", "--database-url", "postgresql://bob:hunter2@127.0.0.1:1/reminders"])

    assert code == 1
    error = capsys.readouterr().err
    assert "cannot open the store" in error
    assert "hunter2" not in error
    assert servers == []


def test_migrate_brings_a_database_to_the_newest_revision_once(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    url = f"sqlite:///{tmp_path / 'migrated.db'}"

    assert cli.main(["migrate", "--database-url", url]) == 0
    assert "schema upgraded from empty to" in capsys.readouterr().out
    assert cli.main(["migrate", "--database-url", url]) == 0
    assert "already at the newest revision" in capsys.readouterr().out
    assert cli.main(["migrate", "--database-url", "memory://"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_serve_without_migrating_refuses_a_database_that_was_never_migrated(
    servers: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["serve", "--no-migrate", "--database-url", f"sqlite:///{tmp_path / 'new.db'}"])

    assert code == 2
    assert "reminders migrate" in capsys.readouterr().err
    assert servers == []


def test_the_in_memory_store_says_at_start_up_that_nothing_will_be_kept(
    servers: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    assert cli.main(["serve", "--database-url", "memory://"]) == 0

    assert any("keeps nothing" in record.getMessage() for record in caplog.records)


def test_serve_refuses_a_database_migrated_by_a_newer_release_and_leaves_it_alone(
    servers: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    assert cli.main(["migrate", "--database-url", url]) == 0
    with sqlite3.connect(tmp_path / "newer.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_newer'")
    capsys.readouterr()

    assert cli.main(["serve", "--database-url", url]) == 2

    error = capsys.readouterr().err
    assert "9999_newer" in error
    assert "newer than this version" in error
    assert servers == []
    with sqlite3.connect(tmp_path / "newer.db") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [("9999_newer",)]
