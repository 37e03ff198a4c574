"""What `reminders <command> --help` lists, and how a flag a command does not take is refused: each
command takes only the settings that apply to it, under its own usage."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from entrypoints import cli
from entrypoints import settings as config

STORE = {"--database-url", "--log-format", "--log-level"}
SCHEMA = {"--migrate", "--no-migrate"}
SCHEDULER = {"--tick-seconds", "--batch-size", "--grace-seconds", "--keep-deliveries-days"}
DELIVERY = {
    *("--delivery-concurrency", "--per-target-concurrency", "--delivery-lease-seconds"),
    *("--shutdown-grace-seconds", "--retry-base-seconds", "--retry-max-seconds"),
}
CHANNELS = {
    *("--smtp-url", "--email-from", "--webhook-secret", "--channel-timeout-seconds"),
    *("--allow-private-targets", "--no-allow-private-targets", "--public-url"),
}
HTTP = {"--host", "--port", "--send-wait-seconds"}
RATE_LIMITS = {"--rate-limit-storage", "--send-rate-limit", "--write-rate-limit"}
SERVE_ONLY = {
    *("--scheduler-enabled", "--no-scheduler-enabled", "--no-scheduler"),
    *("--delivery-enabled", "--no-delivery-enabled", "--no-delivery"),
}
FLAGS = {
    "serve": {"-h", *STORE, *SCHEMA, *HTTP, *RATE_LIMITS, *SCHEDULER, *DELIVERY, *CHANNELS, *SERVE_ONLY},
    "tick": {"-h", *STORE, *SCHEMA, *SCHEDULER},
    "worker": {"-h", *STORE, *SCHEMA, *DELIVERY, *CHANNELS, "--tick-seconds"},
    "migrate": {"-h", *STORE},
}


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """argparse wraps help to the terminal's width; wide enough, a flag is never cut in two."""
    monkeypatch.setenv("COLUMNS", "250")


def help_of(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def usage_flags(text: str) -> set[str]:
    """The flags in the usage lines at the top of a help or error message."""
    usage = re.split(r"\n\n|\nreminders [a-z]+: error:", text)[0]
    assert usage.startswith("usage: ")
    return set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", usage))


@pytest.mark.parametrize("command", sorted(FLAGS))
def test_each_command_lists_exactly_the_flags_that_apply_to_it(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of(command, capsys)

    assert usage_flags(text) == FLAGS[command]


@pytest.mark.parametrize("command", sorted(FLAGS))
def test_help_shows_the_choices_of_the_log_settings(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(command, capsys)

    assert "--log-format {json,text}" in text
    assert "--log-level {DEBUG,INFO,WARNING,ERROR}" in text


def test_serve_help_names_the_variable_of_every_setting_under_a_heading(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = help_of("serve", capsys)

    assert set(re.findall(r"\[(REMINDERS_[A-Z_]+);", text)) == {
        config.env_var(name) for name in config.ServeSettings.model_fields
    }
    for heading in ("store and logs:", "HTTP:", "rate limits:", "scheduler:", "delivery:", "channels:"):
        assert f"\n{heading}\n" in text


def test_the_worker_explains_what_tick_seconds_means_for_it(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of("worker", capsys)

    assert "The queue is polled every 0.25 s, or every this many seconds when shorter." in text
    assert "Seconds between scheduler ticks" not in text


@pytest.mark.parametrize(
    ("argv", "refused"),
    [
        (["serve", "--unknown"], "--unknown"),
        (["tick", "--port", "9000"], "--port 9000"),
        (["tick", "--host", "0.0.0.0"], "--host 0.0.0.0"),
        (["tick", "--send-wait-seconds", "1"], "--send-wait-seconds 1"),
        (["tick", "--delivery-concurrency", "4"], "--delivery-concurrency 4"),
        (["worker", "--port", "9000"], "--port 9000"),
        (["worker", "--send-wait-seconds", "1"], "--send-wait-seconds 1"),
        (["worker", "--batch-size", "10"], "--batch-size 10"),
        (["migrate", "--port", "9000"], "--port 9000"),
        (["migrate", "--no-migrate"], "--no-migrate"),
    ],
)
def test_a_flag_the_command_does_not_take_is_refused_with_that_commands_usage(
    capsys: pytest.CaptureFixture[str], argv: list[str], refused: str
) -> None:
    command = argv[0]

    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)

    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith(f"usage: reminders {command} [-h]")
    assert usage_flags(error) == FLAGS[command]
    assert error.endswith(f"reminders {command}: error: unrecognized arguments: {refused}\n")


def test_the_top_level_help_lists_the_service_client_and_operator_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])

    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: reminders [-h] {serve,tick,worker,migrate,users,remind,deliveries,teams} ")
    assert re.search(r"\n +teams +Create and list teams", text)


@pytest.mark.parametrize(
    ("action", "flags"),
    [
        ("create", {"-h", "--name", "--admin-name", "--admin-email", "--database-url"}),
        ("list", {"-h", "--database-url"}),
    ],
)
def test_teams_actions_list_their_flags_and_the_store_they_use(
    action: str, flags: set[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["teams", action, "--help"])

    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: reminders teams {action} [-h]")
    assert usage_flags(text) == flags
    assert "REMINDERS_DATABASE_URL" in text


@pytest.mark.parametrize("command", ["users", "remind", "deliveries"])
def test_client_commands_say_where_they_connect_and_which_key_they_send(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of(command, capsys)

    assert "$REMINDERS_URL" in text
    assert "$REMINDERS_API_KEY as a bearer token" in text


def test_an_unknown_flag_before_the_command_gets_the_top_level_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--port", "9000", "serve"])

    assert exit_.value.code == 2
    assert capsys.readouterr().err.startswith("usage: reminders [-h] {serve,tick,worker,migrate,")


def test_a_variable_for_settings_a_command_does_not_take_is_ignored() -> None:
    """One environment for serve, tick and worker: tick reads its own settings and no others."""
    environ = {
        "REMINDERS_PORT": "not a port",
        "REMINDERS_SEND_WAIT_SECONDS": "soon",
        "REMINDERS_DELIVERY_LEASE_SECONDS": "1",  # would be shorter than the channels' timeout
        "REMINDERS_TICK_SECONDS": "0.5",
    }

    settings = config.TICK.load(cli.parser().parse_args(["tick"]), environ)

    assert settings.tick_seconds == 0.5
    assert (settings.port, settings.send_wait_seconds, settings.delivery_lease_seconds) == (8000, 10, 60)
    with pytest.raises(config.SettingsError, match="REMINDERS_PORT"):
        config.SERVE.load(cli.parser().parse_args(["serve"]), environ)


@pytest.mark.parametrize(
    ("argv", "patched", "code", "said"),
    [
        (["serve", "--database-url", "memory://"], "entrypoints.server.build_app", 0, "stopped"),
        (["worker"], "entrypoints.server.build_runtime", 0, "stopped"),
        (["migrate"], "entrypoints.bootstrap.migrate_store", 130, "interrupted"),
    ],
)
def test_ctrl_c_while_starting_stops_a_service_quietly_and_interrupts_a_migration(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    argv: list[str],
    patched: str,
    code: int,
    said: str,
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    monkeypatch.setattr(patched, interrupted)

    assert cli.main(argv) == code

    captured = capsys.readouterr()
    assert captured.err.startswith(f"reminders {argv[0]}: interrupted")
    assert said in captured.err
    assert "Traceback" not in captured.err


def test_the_installed_command_answers_help_and_refuses_unknown_flags_with_the_subcommands_usage() -> None:
    executable = Path(sys.executable).parent / "reminders"

    shown = subprocess.run(
        [executable, "tick", "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    refused = subprocess.run(
        [executable, "serve", "--unknown"], capture_output=True, text=True, timeout=30, check=False
    )

    assert shown.returncode == 0, shown.stderr
    assert "--port" not in shown.stdout
    assert "--tick-seconds" in shown.stdout
    assert refused.returncode == 2
    assert refused.stderr.startswith("usage: reminders serve")
    assert "reminders serve: error: unrecognized arguments: --unknown" in refused.stderr
