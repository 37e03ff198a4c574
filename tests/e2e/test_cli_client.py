"""`reminders users|remind|deliveries` against a live service, as the test team's admin: tables by
default, the service's JSON with --json, and the service's own message (never a traceback) on an error."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from adapters.prometheus_metrics import PrometheusMetrics
from adapters.system_clock import SystemClock
from application.channels import PermanentChannelError
from application.commands import CheckDueReminders
from entrypoints import cli
from entrypoints.bootstrap import Service
from entrypoints.client.transport import ServiceClient
from entrypoints.server import app_for
from entrypoints.settings import ServeSettings
from tests.e2e.live_server import serve
from tests.fakes import RecordingChannel, make_service, team_of


@pytest.fixture
def channel() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def metrics() -> PrometheusMetrics:
    return PrometheusMetrics()


@pytest.fixture
def service(channel: RecordingChannel, metrics: PrometheusMetrics) -> Service:
    return make_service(clock=SystemClock(), channels={"recording": channel}, metrics=metrics)


@pytest.fixture
def service_url(
    service: Service, metrics: PrometheusMetrics, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A live service (scheduler off, delivery worker on) named by REMINDERS_URL, with the key of its
    test team's admin in REMINDERS_API_KEY."""
    with serve(app_for(service, metrics, ServeSettings(scheduler_enabled=False))) as url:
        monkeypatch.setenv("REMINDERS_URL", url)
        monkeypatch.setenv("REMINDERS_API_KEY", team_of(service).issued.plain)
        yield url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert (code, err) == (0, ""), err
    return json.loads(out)


def create_user(capsys: pytest.CaptureFixture[str]) -> str:
    user = run_json(capsys, "users", "create", "--name", "Ada Lovelace", "--email", "ada@example.com")
    return str(user["id"])


def create_weekly(capsys: pytest.CaptureFixture[str], owner: str) -> dict[str, Any]:
    reminder: dict[str, Any] = run_json(
        capsys,
        "remind", "create", "--owner", owner, "--title", "Retro", "--message", "Notes ready, {owner_name}?",
        "--channel", "recording", "--time", "16:00", "--frequency", "weekly", "--weekdays", "mon,thu",
        "--timezone", "Europe/Paris",
    )  # fmt: skip
    return reminder


def test_users_are_created_and_listed_as_a_table_or_as_the_services_json(
    service_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "users", "create", "--name", "Ada Lovelace", "--email", "ada@example.com")
    assert (code, err) == (0, "")
    assert "name:      Ada Lovelace" in out
    assert "email:     ada@example.com" in out
    assert "role:      member" in out

    code, out, _ = run(capsys, "users", "list")
    header, admin, row = out.splitlines()
    assert header.split() == ["ID", "NAME", "EMAIL", "ROLE", "TIMEZONE", "ACTIVE", "CREATED"]
    assert "admin@example.com" in admin  # whose key the client sends
    assert "Ada Lovelace" in row
    assert "ada@example.com" in row

    page = run_json(capsys, "users", "list", "--limit", "1", "--offset", "1")
    assert page["total"] == 2
    assert page["limit"] == 1
    assert [user["email"] for user in page["items"]] == ["ada@example.com"]


def test_a_reminder_is_created_listed_shown_and_deleted(
    service_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = create_user(capsys)
    weekly = create_weekly(capsys, owner)
    assert weekly["weekdays"] == [0, 3]
    assert weekly["timezone"] == "Europe/Paris"
    code, out, err = run(
        capsys,
        "remind", "create", "--owner", owner, "--title", "Gifts", "--message", "Wrap them",
        "--time", "09:00", "--frequency", "once", "--date", "2099-12-24",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "schedule:  once 2099-12-24 09:00 UTC" in out
    assert "channel:   log" in out  # the service's default channel

    code, out, _ = run(capsys, "remind", "list", "--owner", owner)
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "TITLE", "CHANNEL", "SCHEDULE"]
    assert weekly["id"] in lines[1]
    assert "weekly mon,thu 16:00 Europe/Paris" in lines[1]
    assert "Gifts" in lines[2]
    assert len(lines) == 3

    code, out, _ = run(capsys, "remind", "list", "--owner", owner, "--limit", "1", "--offset", "1")
    assert out.splitlines()[-1] == "2 of 2 reminders"
    page = run_json(capsys, "remind", "list", "--owner", owner, "--frequency", "weekly")
    assert [item["id"] for item in page["items"]] == [weekly["id"]]

    code, out, _ = run(capsys, "remind", "show", weekly["id"])
    assert code == 0
    assert f"id:        {weekly['id']}" in out
    assert "message:   Notes ready, {owner_name}?" in out
    assert run_json(capsys, "remind", "show", weekly["id"]) == weekly

    code, out, err = run(capsys, "remind", "delete", weekly["id"])
    assert (code, out, err) == (0, f"deleted reminder {weekly['id']}\n", "")
    code, _, err = run(capsys, "remind", "show", weekly["id"])
    assert code == 1
    assert f"reminder '{weekly['id']}' was not found (404 not_found" in err


def test_sending_now_delivers_and_the_delivery_is_listed(
    service_url: str, channel: RecordingChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    reminder = create_weekly(capsys, create_user(capsys))

    code, out, err = run(capsys, "remind", "send", reminder["id"])
    assert (code, err) == (0, "")
    assert "status:         sent" in out
    assert [notification.title for notification in channel.sent] == ["Retro"]

    page = run_json(capsys, "deliveries", "list", "--reminder", reminder["id"])
    [delivery] = page["items"]
    assert delivery["status"] == "sent"
    code, out, _ = run(capsys, "deliveries", "list", "--reminder", reminder["id"])
    header, row = out.splitlines()
    assert header.split()[:4] == ["ID", "REMINDER", "CHANNEL", "STATUS"]
    assert row.split()[:4] == [delivery["delivery_id"], reminder["id"], "recording", "sent"]

    across = run_json(capsys, "deliveries", "list", "--status", "sent", "--channel", "recording")
    assert [item["delivery_id"] for item in across["items"]] == [delivery["delivery_id"]]
    assert run_json(capsys, "deliveries", "list", "--status", "failed")["items"] == []


def test_a_send_that_fails_prints_the_services_message_and_exits_non_zero(
    service_url: str, channel: RecordingChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    reminder = create_weekly(capsys, create_user(capsys))
    channel.failures.append(PermanentChannelError("the receiver said no"))

    code, out, err = run(capsys, "remind", "send", reminder["id"])
    assert (code, out) == (1, "")
    assert err.startswith("reminders remind send: the delivery was not sent (failed): the receiver said no")
    assert "(502 delivery_failed, request " in err
    assert "Traceback" not in err


def test_an_unknown_id_prints_the_services_message_and_exits_non_zero(
    service_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        ["remind", "show", "no-such-id"],
        ["remind", "send", "no-such-id"],
        ["remind", "delete", "no-such-id", "--json"],
        ["deliveries", "list", "--reminder", "no-such-id"],
    ):
        code, out, err = run(capsys, *argv)
        assert (code, out) == (1, ""), argv
        assert "reminder 'no-such-id' was not found (404 not_found, request " in err, argv
        assert len(err.splitlines()) == 1
        assert "Traceback" not in err


def test_a_refused_request_names_each_field_the_service_refused(
    service_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = create_user(capsys)
    code, out, err = run(
        capsys,
        "remind", "create", "--owner", owner, "--title", "T", "--message", "M",
        "--time", "9am", "--frequency", "daily",
    )  # fmt: skip
    assert (code, out) == (1, "")
    first, *fields = err.splitlines()
    assert first.startswith("reminders remind create: the request is not valid (400 validation_error")
    assert [line.split(":")[0].strip() for line in fields] == ["time_of_day"]

    code, _, err = run(capsys, "users", "create", "--name", "Ada", "--email", "ADA@example.com")
    assert code == 1
    assert "(409 conflict" in err

    code, _, err = run(capsys, "users", "list", "--limit", "500")
    assert code == 1
    assert "  limit: " in err


@pytest.mark.parametrize("key", [None, "rk_000000000000_not-the-secret"])
def test_a_missing_or_wrong_key_prints_the_services_401_and_exits_non_zero(
    service_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: str | None
) -> None:
    admins_key = os.environ["REMINDERS_API_KEY"]
    if key is None:
        monkeypatch.delenv("REMINDERS_API_KEY")
    else:
        monkeypatch.setenv("REMINDERS_API_KEY", key)

    code, out, err = run(capsys, "users", "create", "--name", "Ada", "--email", "ada@example.com")

    assert (code, out) == (1, "")
    assert err.startswith(
        "reminders users create: a valid API key is required: send Authorization: Bearer <key> "
        "(401 unauthorized, request "
    )
    assert "REMINDERS_API_KEY" in err
    assert "Traceback" not in err
    if key is not None:
        assert key not in err
    monkeypatch.setenv("REMINDERS_API_KEY", admins_key)
    assert run_json(capsys, "users", "list")["total"] == 1  # only the admin: Ada was not created


def test_a_user_is_created_with_a_role_and_a_time_zone(
    service_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    created = run_json(
        capsys, "users", "create", "--name", "Grace", "--email", "grace@example.com",
        "--role", "admin", "--timezone", "America/New_York",
    )  # fmt: skip

    assert (created["role"], created["timezone"]) == ("admin", "America/New_York")
    code, out, _ = run(capsys, "users", "list")
    assert code == 0
    assert "America/New_York" in out.splitlines()[-1]


def api() -> ServiceClient:
    """The API itself, for what the client has no command for."""
    return ServiceClient.from_environment(os.environ)


def admin_id(capsys: pytest.CaptureFixture[str]) -> str:
    users = run_json(capsys, "users", "list")["items"]
    return str(next(user["id"] for user in users if user["role"] == "admin"))


def test_rule_and_cron_reminders_show_their_rule_in_the_schedule(
    service_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = create_user(capsys)
    code, out, err = run(
        capsys,
        "remind", "create", "--owner", owner, "--title", "Review", "--message", "Demo",
        "--frequency", "rrule", "--rrule", "FREQ=MONTHLY;BYDAY=2TU", "--time", "09:00",
        "--timezone", "Europe/Berlin",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "schedule:  rrule FREQ=MONTHLY;BYDAY=2TU 09:00 Europe/Berlin" in out
    cron = run_json(
        capsys,
        "remind", "create", "--owner", owner, "--title", "Stand-up", "--message", "Now",
        "--frequency", "cron", "--cron", "0 9 * * 1-5", "--timezone", "Europe/Berlin",
    )  # fmt: skip
    assert (cron["cron"], cron["time_of_day"]) == ("0 9 * * 1-5", None)

    code, out, err = run(capsys, "remind", "list", "--owner", owner)
    assert (code, err) == (0, "")
    _, rrule_row, cron_row = out.splitlines()
    assert "rrule FREQ=MONTHLY;BYDAY=2TU 09:00 Europe/Berlin" in rrule_row
    assert "cron 0 9 * * 1-5 Europe/Berlin" in cron_row
    code, out, _ = run(capsys, "remind", "show", cron["id"])
    assert (code, "schedule:  cron 0 9 * * 1-5 Europe/Berlin") == (0, out.splitlines()[6])

    code, out, err = run(
        capsys,
        "remind", "create", "--owner", owner, "--title", "T", "--message", "M",
        "--frequency", "cron", "--cron", "0 9 * * 1-5", "--time", "09:00",
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert [line.split(":")[0].strip() for line in err.splitlines()[1:]] == ["time_of_day"]


def test_a_team_reminder_says_whom_it_reaches_and_its_deliveries_name_kind_and_recipient(
    service_url: str, service: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    ada, admin = create_user(capsys), admin_id(capsys)
    pair = api().post(
        "/notifications/",
        {"owner_id": ada, "title": "Notes", "message": "Write them", "channel": "log", "frequency": "daily",
         "time_of_day": "09:00", "recipients": [ada, admin], "local_time": "recipient"},
    ).body  # fmt: skip
    api().post(
        "/notifications/",
        {"owner_id": ada, "title": "Drill", "message": "Fire drill", "channel": "log", "frequency": "weekly",
         "weekdays": [4], "time_of_day": "10:00", "recipients": "team", "repeat_until_ack":
         {"every_minutes": 15, "max_times": 3}},
    )  # fmt: skip

    code, out, _ = run(capsys, "remind", "list", "--owner", ada)
    _, pair_row, team_row = out.splitlines()
    assert "daily 09:00 UTC, 2 recipients, each in own time" in pair_row
    assert "weekly fri 10:00 UTC, team" in team_row
    code, out, _ = run(capsys, "remind", "show", pair["id"])
    assert f"reaches:   {ada}, {admin}" in out
    assert "repeat:" not in out

    service.bus.handle(CheckDueReminders(now=datetime.fromisoformat(pair["next_run_at"])))
    code, out, err = run(capsys, "deliveries", "list", "--reminder", pair["id"])
    assert (code, err) == (0, "")
    header, *rows = out.splitlines()
    assert header.split()[:6] == ["ID", "REMINDER", "CHANNEL", "STATUS", "KIND", "RECIPIENT"]
    assert sorted(row.split()[5] for row in rows) == sorted([ada, admin])
    assert {row.split()[4] for row in rows} == {"scheduled"}


def test_a_snoozed_delivery_is_listed_with_its_kind(
    service_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    reminder = create_weekly(capsys, create_user(capsys))
    sent = run_json(capsys, "remind", "send", reminder["id"])
    snooze = api().post(f"/deliveries/{sent['delivery_id']}/snooze", {"minutes": 10}).body

    code, out, _ = run(capsys, "deliveries", "list", "--reminder", reminder["id"])
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split()[:6] == ["ID", "REMINDER", "CHANNEL", "STATUS", "KIND", "SCHEDULED"]
    assert [row.split()[3:5] for row in rows] == [["pending", "snooze"], ["sent", "manual"]]
    assert rows[0].split()[0] == snooze["delivery_id"]
