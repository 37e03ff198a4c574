"""The terminal client's edges, against a scripted HTTP peer: the API key, the query it sends, a
202 from send-now, answers that are not the service's, and a service that cannot be reached."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from entrypoints import cli
from entrypoints.client.arguments import weekdays
from tests.process.processes import EXECUTABLE, clean_environment, free_port

PENDING = {
    "delivery_id": "d1", "reminder_id": "r1", "channel": "webhook", "status": "pending",
    "scheduled_for": None, "sent_at": None, "next_attempt_at": "2026-01-05T09:00:03+00:00",
    "lateness_seconds": None, "attempts": 1,
    "attempt_log": [{"number": 1, "started_at": "2026-01-05T09:00:00+00:00", "duration_ms": 12.5,
                     "error": "HTTP 503"}],
    "error": "HTTP 503",
}  # fmt: skip
EMPTY_PAGE = {"items": [], "total": 0, "limit": 50, "offset": 0}
# A team reminder's delivery to one of its recipients, waiting out their quiet hours.
DEFERRED = PENDING | {
    "delivery_id": "d2", "channel": "email", "status": "deferred", "kind": "scheduled", "recipient_id": "u7",
    "parent_delivery_id": None, "acknowledged_at": None, "acknowledged_by": None,
    "deferred_until": "2026-01-05T07:00:00+00:00", "reason": "quiet_hours",
    "scheduled_for": "2026-01-05T03:00:00+00:00", "next_attempt_at": "2026-01-05T07:00:00+00:00",
    "attempts": 0, "attempt_log": [], "error": None,
}  # fmt: skip
SNOOZED = PENDING | {"delivery_id": "d3", "kind": "snooze", "parent_delivery_id": "d1", "recipient_id": None}
CRON_FOR_THE_TEAM = {
    "id": "r9", "owner_id": "u1", "title": "Stand-up", "message": "Now", "channel": "email", "target": None,
    "time_of_day": None, "frequency": "cron", "weekdays": [], "date": None, "timezone": "Europe/Berlin",
    "rrule": None, "cron": "0 9 * * 1-5", "starts_on": "2026-01-05", "ends_on": "2026-06-30",
    "skip_dates": ["2026-04-06", "2026-05-01"], "recipients": "team", "local_time": "recipient",
    "repeat_until_ack": {"every_minutes": 15, "max_times": 3}, "active": True,
    "next_run_at": "2026-01-05T08:00:00+00:00", "last_run_at": None,
    "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00",
}  # fmt: skip


@dataclass
class Peer:
    """Answers every request with `status`, `body` and `content_type`; remembers what it was sent."""

    url: str = ""
    status: int = 200
    body: bytes = json.dumps(EMPTY_PAGE).encode()
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)


@pytest.fixture
def peer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Peer]:
    with serving(Peer()) as scripted:
        monkeypatch.setenv("REMINDERS_URL", scripted.url + "/")
        monkeypatch.delenv("REMINDERS_API_KEY", raising=False)
        yield scripted


@contextmanager
def serving(scripted: Peer) -> Iterator[Peer]:

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            scripted.requests.append((self.command, self.path, dict(self.headers)))
            scripted.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(scripted.status)
            self.send_header("Content-Type", scripted.content_type)
            self.send_header("Content-Length", str(len(scripted.body)))
            for name, value in scripted.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(scripted.body)

        do_GET = do_POST = do_DELETE = answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scripted.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield scripted
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_api_key_goes_as_a_bearer_token_only_when_it_is_set(
    peer: Peer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["users", "list"]) == 0
    monkeypatch.setenv("REMINDERS_API_KEY", "")
    assert cli.main(["users", "list"]) == 0
    monkeypatch.setenv("REMINDERS_API_KEY", "s3cret")
    assert cli.main(["users", "list"]) == 0
    sent = [headers.get("Authorization") for _, _, headers in peer.requests]
    assert sent == [None, None, "Bearer s3cret"]
    assert capsys.readouterr().out == "no users\n" * 3


def test_options_become_the_apis_query_and_ids_stay_one_path_segment(
    peer: Peer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["users", "list", "--inactive", "--limit", "5", "--offset", "10"]) == 0
    assert cli.main(["remind", "list", "--owner", "u/1", "--active", "--channel", "log"]) == 0
    assert cli.main(["deliveries", "list", "--status", "failed"]) == 0
    assert cli.main(["deliveries", "list", "--reminder", "r 1", "--limit", "3"]) == 0
    assert [(method, path) for method, path, _ in peer.requests] == [
        ("GET", "/users/?limit=5&offset=10&active=false"),
        ("GET", "/notifications/user/u%2F1/?channel=log&active=true"),
        ("GET", "/deliveries/?status=failed"),
        ("GET", "/notifications/r%201/deliveries?limit=3"),
    ]


def test_a_send_still_retrying_shows_the_delivery_says_so_and_succeeds(
    peer: Peer, capsys: pytest.CaptureFixture[str]
) -> None:
    peer.status, peer.body = 202, json.dumps(PENDING).encode()
    assert cli.main(["remind", "send", "r1"]) == 0
    out, err = capsys.readouterr()
    assert "status:         pending" in out
    assert "next attempt:   2026-01-05 09:00:03 UTC" in out
    assert "1        2026-01-05 09:00:00 UTC  12.5         HTTP 503" in out
    assert err.startswith("not sent yet (pending)")
    assert "reminders deliveries list --reminder r1" in err

    assert cli.main(["remind", "send", "r1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == PENDING
    assert peer.requests[0][:2] == ("POST", "/notifications/send/r1")


def test_an_answer_not_in_the_services_shape_is_still_one_line(
    peer: Peer, capsys: pytest.CaptureFixture[str]
) -> None:
    peer.status, peer.body, peer.content_type = 502, b"<html>Bad Gateway</html>", "text/html"
    assert cli.main(["users", "list"]) == 1
    assert capsys.readouterr().err == f"reminders users list: {peer.url} answered HTTP 502 Bad Gateway\n"

    peer.status = 200
    assert cli.main(["users", "list"]) == 1
    assert capsys.readouterr().err == (
        f"reminders users list: {peer.url} answered with something that is not JSON\n"
    )


def test_a_service_that_cannot_be_reached_gives_one_clear_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = subprocess.run(
        [str(EXECUTABLE), "remind", "list", "--owner", "u1"],
        env=clean_environment({"REMINDERS_URL": url}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"reminders remind list: cannot reach the service at {url} (connection refused); "
        "is it running? Set REMINDERS_URL to its address.\n"
    )


def test_a_url_that_is_not_http_gives_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REMINDERS_URL", "127.0.0.1:8000")
    assert cli.main(["users", "list"]) == 1
    assert capsys.readouterr().err == (
        "reminders users list: REMINDERS_URL must be an http:// or https:// URL, not '127.0.0.1:8000'\n"
    )


def test_weekdays_are_read_as_names_or_numbers_and_anything_else_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert weekdays("mon,fri") == [0, 4]
    assert weekdays("Monday, sunday") == [0, 6]
    assert weekdays("0,3") == [0, 3]
    with pytest.raises(SystemExit) as exit_:
        cli.main(["remind", "create", "--owner", "u", "--title", "t", "--message", "m", "--time", "09:00",
                  "--frequency", "weekly", "--weekdays", "mon,funday"])  # fmt: skip
    assert exit_.value.code == 2
    assert "'funday' is not a weekday" in capsys.readouterr().err


def test_the_api_key_is_not_carried_along_a_redirect(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMINDERS_API_KEY", "s3cret")
    with serving(Peer()) as elsewhere:
        peer.status, peer.headers = 307, {"Location": f"{elsewhere.url}/users/"}
        cli.main(["users", "list"])

    assert peer.requests[0][2]["Authorization"] == "Bearer s3cret"
    assert elsewhere.requests, "the redirect was not followed"
    assert "Authorization" not in elsewhere.requests[0][2]


def test_deliveries_show_their_kind_and_a_recipient_column_only_when_one_is_for_a_person(
    peer: Peer, capsys: pytest.CaptureFixture[str]
) -> None:
    peer.body = json.dumps(EMPTY_PAGE | {"items": [DEFERRED, SNOOZED], "total": 2}).encode()
    assert cli.main(["deliveries", "list"]) == 0
    header, deferred, snoozed = capsys.readouterr().out.splitlines()
    assert header.split()[:7] == ["ID", "REMINDER", "CHANNEL", "STATUS", "KIND", "RECIPIENT", "SCHEDULED"]
    assert deferred.split()[:6] == ["d2", "r1", "email", "deferred", "scheduled", "u7"]
    assert snoozed.split()[:6] == ["d3", "r1", "webhook", "pending", "snooze", "-"]

    peer.body = json.dumps(EMPTY_PAGE | {"items": [SNOOZED], "total": 1}).encode()
    assert cli.main(["deliveries", "list"]) == 0
    assert "RECIPIENT" not in capsys.readouterr().out


def test_one_delivery_shows_whom_it_is_for_what_it_follows_and_why_it_waits(
    peer: Peer, capsys: pytest.CaptureFixture[str]
) -> None:
    peer.body = json.dumps(DEFERRED).encode()
    assert cli.main(["remind", "send", "r1"]) == 0
    out = capsys.readouterr().out
    assert "kind:           scheduled" in out
    assert "recipient:      u7" in out
    assert "deferred:       until 2026-01-05 07:00:00 UTC (quiet_hours)" in out
    assert "follows:" not in out

    answered = {"acknowledged_at": "2026-01-05T09:01:00+00:00", "acknowledged_by": "u1"}
    peer.body = json.dumps(SNOOZED | answered).encode()
    assert cli.main(["remind", "send", "r1"]) == 0
    out = capsys.readouterr().out
    assert "follows:        d1" in out
    assert "acked at:       2026-01-05 09:01:00 UTC" in out
    assert "acked by:       u1" in out
    assert "recipient:" not in out


def test_a_cron_reminder_for_the_team_shows_its_rule_and_whom_it_reaches(
    peer: Peer, capsys: pytest.CaptureFixture[str]
) -> None:
    peer.body = json.dumps(CRON_FOR_THE_TEAM).encode()
    assert cli.main(["remind", "show", "r9"]) == 0
    out = capsys.readouterr().out
    assert "schedule:  cron 0 9 * * 1-5 Europe/Berlin, team, each in own time" in out
    assert "starts:    2026-01-05" in out
    assert "ends:      2026-06-30" in out
    assert "skips:     2026-04-06, 2026-05-01" in out
    assert "reaches:   team" in out
    assert "repeat:    every 15 min until acknowledged, at most 3 times" in out

    three = CRON_FOR_THE_TEAM | {"recipients": ["u1", "u2", "u3"]}
    peer.body = json.dumps(EMPTY_PAGE | {"items": [three], "total": 1}).encode()
    assert cli.main(["remind", "list", "--owner", "u1"]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert "cron 0 9 * * 1-5 Europe/Berlin, 3 recipients, each in own time" in row


def test_a_users_quiet_hours_are_shown_with_their_days(
    peer: Peer, capsys: pytest.CaptureFixture[str]
) -> None:
    person = {
        "id": "u1", "team_id": "t", "name": "Ada", "email": "ada@example.com", "role": "member",
        "timezone": "Europe/London", "active": True, "quiet_hours": {"start": "22:00", "end": "07:00",
        "weekdays": [0, 1, 2, 3, 4]}, "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip
    peer.status, peer.body = 201, json.dumps(person).encode()
    assert cli.main(["users", "create", "--name", "Ada", "--email", "ada@example.com"]) == 0
    assert "quiet:     22:00-07:00 mon,tue,wed,thu,fri" in capsys.readouterr().out


def test_remind_create_sends_a_rule_or_cron_and_no_time_when_none_is_given(
    peer: Peer, capsys: pytest.CaptureFixture[str]
) -> None:
    peer.status, peer.body = 201, json.dumps(CRON_FOR_THE_TEAM).encode()
    common = ["remind", "create", "--owner", "u1", "--title", "Stand-up", "--message", "Now"]
    assert cli.main([*common, "--frequency", "cron", "--cron", "0 9 * * 1-5"]) == 0
    rule_flags = ["--frequency", "rrule", "--rrule", "FREQ=DAILY;INTERVAL=3", "--time", "09:00"]
    assert cli.main([*common, *rule_flags]) == 0
    cron, rule = (json.loads(body) for body in peer.bodies)
    assert cron == {"owner_id": "u1", "title": "Stand-up", "message": "Now", "frequency": "cron",
                    "cron": "0 9 * * 1-5"}  # fmt: skip
    assert (rule["rrule"], rule["time_of_day"]) == ("FREQ=DAILY;INTERVAL=3", "09:00")
    assert "cron" not in rule
