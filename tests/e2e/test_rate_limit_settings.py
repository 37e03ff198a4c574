"""The rate-limit settings of `reminders serve`: flags and variables, their defaults, bad values
stopping start-up (never showing a Redis password), and the limits reaching the app."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from entrypoints import cli
from entrypoints import settings as config
from entrypoints.http.rate_limits import RateLimitMiddleware


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("REMINDERS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.fixture
def servers(clean_env: pytest.MonkeyPatch) -> list[Any]:
    """The app of every server `main` would start, instead of starting it."""
    started: list[Any] = []

    def run(server: uvicorn.Server) -> None:
        started.append(server.config.app)

    clean_env.setattr(cli._Server, "run", run)
    clean_env.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    return started


def serve_settings(argv: list[str], env: dict[str, str] | None = None) -> config.ServeSettings:
    return config.SERVE.load(cli.parser().parse_args(["serve", *argv]), env or {})


def test_by_default_limits_are_counted_in_memory_10_sends_and_120_writes_a_minute() -> None:
    settings = serve_settings([])

    assert settings.rate_limit_storage == "memory://"
    assert settings.send_rate_limit == "10/minute"
    assert settings.write_rate_limit == "120/minute"


@pytest.mark.parametrize(
    ("flag", "value", "field"),
    [
        ("--rate-limit-storage", "redis://127.0.0.1:6379/3", "rate_limit_storage"),
        ("--rate-limit-storage", "rediss://:secret@cache.example.com:6380/0", "rate_limit_storage"),
        ("--send-rate-limit", "5 per 30 seconds", "send_rate_limit"),
        ("--write-rate-limit", "1000/hour", "write_rate_limit"),
    ],
)
def test_each_rate_limit_setting_is_a_flag_and_a_variable_and_the_flag_wins(
    flag: str, value: str, field: str
) -> None:
    variable = config.env_var(field)

    from_variable = serve_settings([], {variable: value})
    from_flag = serve_settings([flag, value], {variable: "not even a limit"})

    assert getattr(from_variable, field) == value
    assert getattr(from_flag, field) == value


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["--send-rate-limit", "ten a minute"], {}, "--send-rate-limit"),
        (["--send-rate-limit", "0/minute"], {}, "--send-rate-limit"),
        (["--send-rate-limit", "10/minute;100/hour"], {}, "--send-rate-limit"),
        ([], {"REMINDERS_WRITE_RATE_LIMIT": "120/fortnight"}, "REMINDERS_WRITE_RATE_LIMIT"),
        ([], {"REMINDERS_WRITE_RATE_LIMIT": "120"}, "REMINDERS_WRITE_RATE_LIMIT"),
        (["--rate-limit-storage", "memcached://:hunter2@cache:11211"], {}, "--rate-limit-storage"),
        ([], {"REMINDERS_RATE_LIMIT_STORAGE": "redis://:hunter2@"}, "REMINDERS_RATE_LIMIT_STORAGE"),
        (
            [],
            {"REMINDERS_RATE_LIMIT_STORAGE": "redis://:hunter2@cache:port/0"},
            "REMINDERS_RATE_LIMIT_STORAGE",
        ),
        (["--rate-limit-storage", "memory://elsewhere"], {}, "--rate-limit-storage"),
    ],
)
def test_a_bad_rate_limit_setting_stops_start_up_naming_it_and_hiding_any_password(
    servers: list[Any],
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: dict[str, str],
    named: str,
) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)

    code = cli.main(["serve", "--database-url", "memory://", *argv])

    assert code == 2
    error = capsys.readouterr().err
    assert named in error
    assert "hunter2" not in error
    assert servers == []


def test_a_bad_limit_is_explained_with_examples(
    servers: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", "--send-rate-limit", "lots"]) == 2

    assert "like 10/minute" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["tick", "worker", "migrate"])
def test_only_serve_takes_the_rate_limit_settings(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--send-rate-limit", "5/minute"])

    assert exit_.value.code == 2
    assert "unrecognized arguments: --send-rate-limit" in capsys.readouterr().err


def test_serve_limits_its_app_as_configured(servers: list[Any]) -> None:
    argv = [
        "serve",
        "--database-url",
        "memory://",
        "--send-rate-limit",
        "2/minute",
        "--write-rate-limit",
        "7/hour",
    ]

    assert cli.main(argv) == 0

    [app] = servers
    [limited] = [entry for entry in app.user_middleware if entry.cls is RateLimitMiddleware]
    limiter = limited.kwargs["limiter"]
    assert (limiter.send.describe(), limiter.write.describe()) == ("at most 2 a minute", "at most 7 an hour")
    assert limiter.storage_name == "memory://"
