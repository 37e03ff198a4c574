"""The README's screenshots, taken of a small team's pages at 1280x800.

With REMINDERS_UPDATE_SCREENSHOTS=1 (`make screenshots`) they replace docs/screenshots/<name>.png;
otherwise they go to the artifacts folder, so every run still takes them (and checks each page with
axe) without touching the repository.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.evidence import artifacts
from tests.browser.pages import SIGN_IN, OpenPage, heading, reload_until, sign_in, visit
from tests.browser.service import WebService

MONDAYS_AT_TEN = re.compile(r"^Mon\b.*\b10:00 CES?T\b")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def folder() -> Path:
    if os.environ.get("REMINDERS_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return artifacts("screenshots")


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=folder() / f"{name}.png", full_page=True)


def test_the_readme_screenshots(service: WebService, open_page: OpenPage) -> None:
    ada = service.team("Acme", admin_name="Ada Lovelace", timezone="Europe/Berlin", exact=True)
    grace = service.member("Grace Hopper", timezone="America/New_York", admin=ada, exact=True)
    service.member("Ravi Kumar", timezone="Asia/Kolkata", admin=ada, exact=True)
    standup = service.reminder(
        ada, "Stand-up", message="Stand-up in five minutes, {owner_name}", frequency="weekly",
        weekdays=[0, 1, 2, 3, 4], time_of_day="09:25",
    )  # fmt: skip
    service.reminder(
        ada, "Team retro", message="Retro at 16:00 your time", frequency="rrule",
        rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", time_of_day="16:00", recipients="team",
        local_time="recipient",
    )  # fmt: skip
    service.reminder(ada, "Pay the invoices", frequency="cron", cron="0 10 L * *", time_of_day=None)
    service.reminder(ada, "Water the plants", time_of_day="08:00", active=False)
    service.reminder(grace, "Release notes", frequency="weekly", weekdays=[4], time_of_day="15:00")
    for _ in range(2):
        service.send_now(ada, standup["id"])
    hook = service.reminder(ada, "Deploy hook", channel="webhook", target="http://127.0.0.1:9/deploy")
    with service.api(ada.key) as api:  # nothing listens there: it fails, and the list offers a retry
        assert api.post(f"/notifications/send/{hook['id']}").status_code in (202, 502)
    page = open_page(viewport={"width": 1280, "height": 800})

    visit(page, SIGN_IN, h1="Sign in")
    shoot(page, "sign-in")
    sign_in(page, ada.key)
    visit(page, "/app/reminders", h1="My reminders")
    shoot(page, "reminders")
    visit(page, "/app/reminders/new", h1="New reminder")
    page.get_by_label("Title", exact=True).fill("Plan the sprint")
    page.get_by_label("Message", exact=True).fill("Sprint planning at 10:00 in the big room")
    page.get_by_label("Repeats", exact=True).select_option(label="Weekly")
    page.get_by_role("checkbox", name="Monday").check()
    page.get_by_label("Time", exact=True).fill("10:00")
    page.get_by_label("Time", exact=True).blur()
    expect(page.locator("#previews ol.previews > li")).to_have_text([MONDAYS_AT_TEN] * 5)
    shoot(page, "new-reminder")
    visit(page, f"/app/reminders/{standup['id']}", h1="Stand-up")
    expect(page.get_by_role("table", name="Deliveries").locator("tbody tr")).to_have_count(2)
    shoot(page, "reminder")
    visit(page, "/app/deliveries", h1="My deliveries")
    reload_until(page, lambda: page.get_by_role("button", name="Retry"))
    shoot(page, "deliveries")
    visit(page, "/app/team", h1="Team")
    shoot(page, "team")
    visit(page, "/app/status", h1="Service status")
    expect(heading(page)).to_be_visible()
    shoot(page, "status")

    names = {"sign-in", "reminders", "new-reminder", "reminder", "deliveries", "team", "status"}
    assert {path.stem for path in folder().glob("*.png")} >= names
