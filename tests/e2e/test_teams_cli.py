"""`reminders teams create|list` and the first start: how an operator gets the first API key of a team.

The commands run against a SQLite file, as an operator would run them; the key they print is then
used against a server built over the same file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from entrypoints.cli import main
from entrypoints.server import build_app
from entrypoints.settings import ServeSettings
from tests.e2e.teams import call

KEY = re.compile(r"rk_[0-9a-f]{12}_[A-Za-z0-9_-]{43,}")
FIRST_KEY_LINE = re.compile(r"admin API key \(shown once\): (?P<key>\S+)")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'reminders.db'}"


def create_team(url: str, name: str, admin_email: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Runs `teams create` and returns the lines it printed."""
    status = main(
        ["teams", "create", "--name", name, "--admin-name", "Ada", "--admin-email", admin_email,
         "--database-url", url]
    )  # fmt: skip
    printed = capsys.readouterr()
    assert status == 0, printed.err
    lines: list[str] = printed.out.splitlines()
    return lines


@contextmanager
def server(url: str) -> Iterator[TestClient]:
    """The app over the store at `url`, as `reminders serve` builds it, without background work."""
    settings = ServeSettings(database_url=url, scheduler_enabled=False, delivery_enabled=False)
    with TestClient(build_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_teams_create_prints_the_admins_key_last_and_it_works(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    printed = create_team(database_url, "Acme", "ada@example.com", capsys)

    key = printed[-1]
    assert KEY.fullmatch(key), printed
    assert sum(key in line for line in printed) == 1
    with server(database_url) as client:
        users = call(client, "GET", "/users/", key=key)
        assert users.status_code == 200, users.text
        [admin] = users.json()["items"]
        assert (admin["name"], admin["email"], admin["role"]) == ("Ada", "ada@example.com", "admin")
        trail = call(client, "GET", "/audit", key=key, params={"action": "team.created"}).json()
        assert [(entry["actor"], entry["target_id"]) for entry in trail["items"]] == [
            ("system", admin["team_id"])
        ]
    assert capsys.readouterr().err == ""  # a store with a team gets no first-start key


def test_teams_list_shows_every_team(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    first = create_team(database_url, "Acme", "ada@example.com", capsys)
    second = create_team(database_url, "Globex", "ada@example.com", capsys)  # one email, two teams

    assert main(["teams", "list", "--database-url", database_url]) == 0
    listed = capsys.readouterr().out.splitlines()

    assert [line.split("\t")[1] for line in listed] == ["Acme", "Globex"]
    with server(database_url) as client:
        acme = call(client, "GET", "/users/", key=first[-1]).json()["items"][0]["team_id"]
        globex = call(client, "GET", "/users/", key=second[-1]).json()["items"][0]["team_id"]
    assert [line.split("\t")[0] for line in listed] == [acme, globex]
    assert acme != globex


def test_teams_list_on_an_empty_store_says_so(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["teams", "list", "--database-url", database_url]) == 0

    printed = capsys.readouterr()
    assert (printed.out, printed.err) == ("", "no teams yet\n")


@pytest.mark.parametrize(
    ("flag", "value", "complaint"),
    [
        ("--admin-email", "not-an-email", "--admin-email is not a valid email address"),
        ("--name", "   ", "--name must not be blank"),
        ("--admin-name", "", "--admin-name must not be empty"),
    ],
)
def test_a_bad_argument_is_one_clear_line_and_creates_nothing(
    database_url: str, capsys: pytest.CaptureFixture[str], flag: str, value: str, complaint: str
) -> None:
    arguments = {"--name": "Acme", "--admin-name": "Ada", "--admin-email": "ada@example.com", flag: value}

    with pytest.raises(SystemExit) as stopped:
        main(
            [
                "teams",
                "create",
                *(part for pair in arguments.items() for part in pair),
                "--database-url",
                database_url,
            ]
        )

    message = stopped.value.code
    assert isinstance(message, str)  # printed on stderr, exit status 1
    assert message.startswith("reminders teams create: "), message
    assert complaint in message, message
    assert "\n" not in message
    assert "Traceback" not in message
    assert capsys.readouterr().out == ""
    main(["teams", "list", "--database-url", database_url])
    assert capsys.readouterr().out == ""


def test_the_first_start_prints_one_admin_key_once(
    database_url: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), server(database_url) as client:
        printed = capsys.readouterr()
        [web_app, line] = printed.err.splitlines()
        assert web_app == "web app: http://127.0.0.1:8000/app/ (sign in with this key)"
        shown = FIRST_KEY_LINE.fullmatch(line)
        assert shown is not None, line
        key = shown["key"]
        assert KEY.fullmatch(key)
        users = call(client, "GET", "/users/", key=key)
        assert users.status_code == 200, users.text
        [admin] = users.json()["items"]
        assert (admin["email"], admin["role"], admin["team_id"]) == ("admin@localhost", "admin", "default")
    assert printed.out == ""
    assert key not in caplog.text

    with server(database_url) as client:
        assert call(client, "GET", "/users/", key=key).status_code == 200
    again = capsys.readouterr()
    assert (again.out, again.err) == ("", "")


def test_a_lost_admin_key_is_replaced_from_the_command_line_without_touching_the_old_ones(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with server(database_url) as client:
        first = FIRST_KEY_LINE.fullmatch(capsys.readouterr().err.strip().splitlines()[-1])
        assert first is not None

    status = main(["teams", "issue-key", "--email", "ADMIN@localhost", "--database-url", database_url])
    printed = capsys.readouterr()

    assert status == 0, printed.err
    key = printed.out.splitlines()[-1]
    assert KEY.fullmatch(key)
    with server(database_url) as client:
        users = call(client, "GET", "/users/", key=key)
        assert users.status_code == 200, users.text
        assert call(client, "GET", "/users/", key=first["key"]).status_code == 200
        trail = call(client, "GET", "/audit", key=key, params={"action": "key.created"}).json()
        assert [entry["actor"] for entry in trail["items"]] == ["system", "system"]


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--email", "nobody@example.com"], "team 'default' has no user 'nobody@example.com'"),
        (["--email", "admin@localhost", "--team", "elsewhere"], "team 'elsewhere' has no user"),
    ],
)
def test_issuing_a_key_for_no_such_user_says_so_and_issues_nothing(
    database_url: str, capsys: pytest.CaptureFixture[str], flags: list[str], says: str
) -> None:
    with server(database_url):
        capsys.readouterr()

    with pytest.raises(SystemExit) as stopped:
        main(["teams", "issue-key", *flags, "--database-url", database_url])

    assert says in str(stopped.value.code)
