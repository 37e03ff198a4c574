"""Deliveries: a reminder's history fills in as the service sends it; snooze and acknowledge from the
list of my deliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.pages import heading, reload_until, sign_in, visit
from tests.browser.service import WebService, unique
from tests.process.api import whole_second


def test_a_delivery_shows_in_the_reminders_history_once_it_is_sent(service: WebService, page: Page) -> None:
    ann = service.member("Ann")
    title = unique("Tea")
    due = whole_second(3)
    reminder = service.reminder(
        ann,
        title,
        frequency="once",
        date=due.date().isoformat(),
        time_of_day=due.strftime("%H:%M:%S"),
        timezone="UTC",
    )
    sign_in(page, ann.key)
    visit(page, f"/app/reminders/{reminder['id']}", h1=title)
    history = page.get_by_role("table", name="Deliveries").locator("tbody tr")

    reload_until(page, lambda: history.filter(has_text="sent"))

    expect(history).to_have_count(1)
    assert_accessible(page)
    page.get_by_role("button", name="Send now").click()
    expect(heading(page)).to_have_text(title)
    reload_until(page, lambda: history.filter(has_text="sent").nth(1))
    expect(history).to_have_count(2)
    assert_accessible(page)


def test_a_delivery_is_snoozed_then_acknowledged_from_my_deliveries(service: WebService, page: Page) -> None:
    ann = service.member("Ann")
    reminder = service.reminder(ann, unique("Stretch"))
    sent = service.send_now(ann, reminder["id"])
    delivery_id = sent["delivery_id"]
    sign_in(page, ann.key)
    visit(page, "/app/deliveries", h1="My deliveries")
    snooze = page.locator(f'form[action="/app/deliveries/{delivery_id}/snooze"]')
    minutes = snooze.get_by_label("Snooze for").locator("option").nth(1).get_attribute("value")
    assert minutes is not None

    snooze.get_by_label("Snooze for").select_option(minutes)
    snooze.get_by_role("button", name="Snooze").click()

    expect(heading(page)).to_have_text("My deliveries")
    assert_accessible(page)
    with service.api(ann.key) as api:
        items = api.get("/deliveries/", params={"limit": 100}).json()["items"]
    [snoozed] = [item for item in items if item["parent_delivery_id"] == delivery_id]
    assert (snoozed["kind"], snoozed["status"]) == ("snooze", "pending")
    due_in = datetime.fromisoformat(snoozed["scheduled_for"]) - datetime.now(UTC)
    assert timedelta(minutes=int(minutes) - 1) < due_in <= timedelta(minutes=int(minutes))

    page.locator(f'form[action="/app/deliveries/{delivery_id}/ack"]').get_by_role("button").click()

    expect(heading(page)).to_have_text("My deliveries")
    expect(page.locator(f'form[action="/app/deliveries/{delivery_id}/ack"]')).to_have_count(0)
    assert_accessible(page)
    with service.api(ann.key) as api:
        acknowledged = api.get(f"/deliveries/{delivery_id}").json()
        cancelled = api.get(f"/deliveries/{snoozed['delivery_id']}").json()
    assert acknowledged["acknowledged_by"] == ann.id
    assert cancelled["status"] == "cancelled"
