"""My reminders: the form with its preview (with and without JavaScript), its messages, editing, and
pausing and resuming from the list."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.pages import OpenPage, heading, row, sign_in, visit
from tests.browser.service import Person, WebService, unique

NEW = "/app/reminders/new"
# Mondays and Thursdays at 09:00 in Tokyo, shown in Tokyo's zone (JST all year).
WEEKLY_PREVIEW = re.compile(r"^(Mon|Thu)\b.*\b09:00 JST\b")


def fill_weekly(page: Page, title: str) -> None:
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Message", exact=True).fill("Stand-up in the small room")
    page.get_by_label("Repeats", exact=True).select_option(label="Weekly")
    page.get_by_role("checkbox", name="Monday").check()
    page.get_by_role("checkbox", name="Thursday").check()
    page.get_by_label("Time", exact=True).fill("09:00")


def expect_weekly_previews(page: Page) -> None:
    """Five previews, each a Monday or Thursday: retried, as the live preview answers each change."""
    expect(page.locator("#previews ol.previews > li")).to_have_text([WEEKLY_PREVIEW] * 5)


def reminders_of(service: WebService, person: Person) -> list[dict[str, Any]]:
    with service.api(person.key) as api:
        items: list[dict[str, Any]] = api.get(f"/notifications/user/{person.id}/").json()["items"]
    return items


def test_the_live_preview_shows_the_next_five_in_my_zone_then_creates(
    service: WebService, page: Page
) -> None:
    kenji = service.member("Kenji", timezone="Asia/Tokyo")
    title = unique("Stand-up")
    sign_in(page, kenji.key)
    visit(page, NEW, h1="New reminder")
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("Asia/Tokyo")

    fill_weekly(page, title)

    expect_weekly_previews(page)  # no button pressed: the page's script asked for them
    expect(page).to_have_url(re.compile(re.escape(NEW) + "$"))
    expect(page.get_by_role("contentinfo")).to_contain_text("Asia/Tokyo")  # the zone named
    assert_accessible(page)
    page.get_by_role("button", name="Create reminder").click()

    expect(heading(page)).to_have_text(title)
    expect_weekly_previews(page)
    assert_accessible(page)
    [made] = reminders_of(service, kenji)
    assert (made["title"], made["frequency"], made["weekdays"]) == (title, "weekly", [0, 3])
    assert (made["time_of_day"][:5], made["timezone"]) == ("09:00", "Asia/Tokyo")


def test_without_javascript_the_form_previews_and_creates(service: WebService, open_page: OpenPage) -> None:
    kenji = service.member("Kenji", timezone="Asia/Tokyo")
    title = unique("Stand-up")
    page = open_page(java_script_enabled=False)
    sign_in(page, kenji.key)
    visit(page, NEW, h1="New reminder")

    fill_weekly(page, title)
    page.get_by_role("button", name="Preview").click()

    expect(heading(page)).to_have_text("New reminder")
    expect_weekly_previews(page)
    expect(page.get_by_label("Title", exact=True)).to_have_value(title)
    assert_accessible(page)
    assert reminders_of(service, kenji) == []  # a preview saves nothing
    page.get_by_role("button", name="Create reminder").click()

    expect(heading(page)).to_have_text(title)
    assert_accessible(page)
    [made] = reminders_of(service, kenji)
    assert made["weekdays"] == [0, 3]


def test_a_bad_cron_expression_is_explained_beside_its_field(service: WebService, page: Page) -> None:
    ann = service.member("Ann")
    sign_in(page, ann.key)
    visit(page, NEW, h1="New reminder")
    page.get_by_label("Title", exact=True).fill("Backups")
    page.get_by_label("Message", exact=True).fill("Check the backups")
    page.get_by_label("Repeats", exact=True).select_option(label="Cron")

    page.get_by_label("Cron expression", exact=True).fill("every monday please")
    page.get_by_role("button", name="Create reminder").click()

    problem = page.locator("p.problem#cron-problem")
    expect(problem).to_be_visible()
    field = page.get_by_label("Cron expression", exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", re.compile(r"(^|\s)cron-problem(\s|$)"))
    expect(page.get_by_role("alert")).to_contain_text(problem.inner_text())
    expect(page.get_by_label("Title", exact=True)).to_have_value("Backups")
    assert_accessible(page)
    assert reminders_of(service, ann) == []


def test_a_reminder_is_edited(service: WebService, page: Page) -> None:
    ann = service.member("Ann")
    title = unique("Water the plants")
    reminder = service.reminder(ann, title)
    sign_in(page, ann.key)
    visit(page, f"/app/reminders/{reminder['id']}", h1=title)

    page.get_by_role("link", name="Edit", exact=True).click()
    expect(heading(page)).to_have_text("Edit reminder")
    expect(page.get_by_label("Title", exact=True)).to_have_value(title)
    assert_accessible(page)
    page.get_by_label("Title", exact=True).fill(title + " and the garden")
    page.get_by_label("Time", exact=True).fill("10:30")
    page.get_by_role("button", name="Save changes").click()

    expect(heading(page)).to_have_text(title + " and the garden")
    assert_accessible(page)
    with service.api(ann.key) as api:
        saved = api.get(f"/notifications/{reminder['id']}").json()
    assert (saved["title"], saved["time_of_day"][:5]) == (title + " and the garden", "10:30")


def test_a_reminder_is_paused_and_resumed_from_the_list(service: WebService, page: Page) -> None:
    ann = service.member("Ann")
    title = unique("Timesheet")
    reminder = service.reminder(ann, title)
    sign_in(page, ann.key)
    visit(page, "/app/reminders", h1="My reminders")
    mine = row(page, title, caption="My reminders")
    expect(mine).to_contain_text("Active")

    mine.get_by_role("button", name="Pause").click()

    expect(mine).to_contain_text("Paused")
    assert_accessible(page)
    with service.api(ann.key) as api:
        assert api.get(f"/notifications/{reminder['id']}").json()["active"] is False
    page.get_by_label("Status", exact=True).select_option("paused")
    page.get_by_role("button", name="Filter").click()
    expect(mine).to_contain_text("Paused")
    assert_accessible(page)
    page.get_by_label("Status", exact=True).select_option("active")
    page.get_by_role("button", name="Filter").click()
    expect(mine).to_have_count(0)
    visit(page, "/app/reminders", h1="My reminders")

    mine.get_by_role("button", name="Resume").click()

    expect(mine).to_contain_text("Active")
    assert_accessible(page)
    with service.api(ann.key) as api:
        assert api.get(f"/notifications/{reminder['id']}").json()["active"] is True
