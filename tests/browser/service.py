"""A real `reminders serve` for the browser tests: SQLite in a folder of its own, a short tick, and an
aiosmtpd server as its SMTP peer (so the sign-in page offers email links and a test can read them).

Tests make their own people and reminders through the JSON API (`WebService.member`, `.reminder`)
or, for a second team, through `reminders teams create` on the same SQLite file.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.integration.peers import HOST, SmtpServer
from tests.process.api import bearer
from tests.process.processes import EXECUTABLE, RemindersProcess, admin_key, clean_environment

TICK_SECONDS = 0.25
STOP_SECONDS = 10.0
MAIL_SECONDS = 10.0
LINK = re.compile(r"https?://\S+?/app/sign-in/link/[A-Za-z0-9_\-]+")


@dataclass(frozen=True)
class Person:
    """Someone who can sign in: a user of a team and a key of theirs."""

    id: str
    name: str
    email: str
    key: str
    team_id: str


def unique(word: str) -> str:
    """`word` and a short random suffix: the tests of a module share one store."""
    return f"{word} {uuid.uuid4().hex[:6]}"


def address(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") + "@example.com"


class WebService:
    """The running service, its SMTP peer, and the JSON API as the first team's admin."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.database_url = f"sqlite:///{folder / 'reminders.db'}"
        self.smtp = SmtpServer().start()
        args = [
            f"--database-url={self.database_url}",
            f"--tick-seconds={TICK_SECONDS}",
            f"--smtp-url=smtp://{HOST}:{self.smtp.port}",
            "--email-from=reminders@example.com",
            "--retry-base-seconds=0.2",
        ]
        self.process = RemindersProcess("serve", args, name="serve", cwd=folder)
        try:
            self.process.wait_ready()
        except BaseException:
            self.stop()
            raise
        self.url = self.process.url
        self.admin_key = admin_key(self.process)
        self.admin = self.api(self.admin_key)

    def stop(self) -> None:
        """Ctrl-C, as a person would stop it; SIGKILL (and a ProcessError) when that is not enough."""
        try:
            if self.process.process.poll() is None:
                self.process.stop(signal.SIGINT, timeout=STOP_SECONDS)
        finally:
            self.smtp.stop()

    def api(self, key: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=bearer(key), timeout=15)

    def member(
        self,
        name: str = "Ann",
        *,
        role: str = "member",
        timezone: str = "UTC",
        admin: Person | None = None,
        exact: bool = False,
    ) -> Person:
        """A new user, with a key, of `admin`'s team (the first team by default). Their name is `name` and a
        random suffix, unless `exact`."""
        name = name if exact else unique(name)
        with self.api(admin.key if admin else self.admin_key) as admin_api:
            made = admin_api.post(
                "/users/", json={"name": name, "email": address(name), "role": role, "timezone": timezone}
            )
            assert made.status_code == 201, made.text
            user = made.json()
            issued = admin_api.post(f"/users/{user['id']}/keys", json={"name": "browser tests"})
            assert issued.status_code == 201, issued.text
        return Person(user["id"], name, user["email"], issued.json()["key"], user["team_id"])

    def team(
        self,
        name: str = "Second team",
        *,
        admin_name: str = "Admin",
        timezone: str = "UTC",
        exact: bool = False,
    ) -> Person:
        """A new team made by the operator's command line against the same store; its first admin. The
        names get a random suffix, unless `exact`."""
        if not exact:
            name, admin_name = unique(name), unique(admin_name)
        command = [str(EXECUTABLE), "teams", "create", f"--name={name}", f"--admin-name={admin_name}"]
        command += [f"--admin-email={address(admin_name)}", f"--database-url={self.database_url}"]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=60, env=clean_environment(), cwd=self.folder
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.strip().splitlines()
        key = lines[-1].strip()
        _, admin_id, email = next(line for line in lines if line.startswith("admin ")).split()
        with self.api(key) as admin:
            me = admin.patch(f"/users/{admin_id}", json={"timezone": timezone})
            assert me.status_code == 200, me.text
        return Person(admin_id, admin_name, email, key, me.json()["team_id"])

    def reminder(self, owner: Person, title: str, **fields: Any) -> dict[str, Any]:
        """A reminder of `owner`'s through the log channel; daily at 09:00 unless `fields` say otherwise."""
        body = {
            "title": title,
            "message": f"{title}, {{owner_name}}",
            "channel": "log",
            "frequency": "daily",
            "time_of_day": "09:00",
            **fields,
        }
        with self.api(owner.key) as api:
            made = api.post("/notifications/", json=body)
        assert made.status_code == 201, made.text
        reminder: dict[str, Any] = made.json()
        return reminder

    def send_now(self, owner: Person, reminder_id: str) -> dict[str, Any]:
        """A delivery of the reminder sent at once, as the API's send-now answers it."""
        with self.api(owner.key) as api:
            sent = api.post(f"/notifications/send/{reminder_id}")
        assert sent.status_code in (200, 202), sent.text
        delivery: dict[str, Any] = sent.json()
        return delivery

    def sign_in_link(self, email: str, *, after: int = 0, timeout: float = MAIL_SECONDS) -> str:
        """The sign-in link in the first mail to `email` past the first `after` mails of the server."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for mail in list(self.smtp.handler.mails)[after:]:
                if email in mail.rcpt_tos and (found := LINK.search(mail.part("plain"))):
                    return found.group(0)
            time.sleep(0.05)
        raise AssertionError(
            f"no sign-in link mailed to {email} within {timeout} s: {self.process.describe()}"
        )
