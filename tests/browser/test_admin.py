"""What admins do (members, keys shown once, the audit trail, the status page), and what a member may
not see."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.pages import OpenPage, heading, row, sign_in, visit
from tests.browser.service import WebService, address, unique


def test_an_admin_adds_a_member_and_gives_them_a_key_shown_once(
    service: WebService, page: Page, open_page: OpenPage
) -> None:
    ada = service.member("Ada", role="admin")
    grace = unique("Grace")
    sign_in(page, ada.key)
    visit(page, "/app/team", h1="Team")
    adding = page.get_by_role("region", name="Add a member")

    adding.get_by_label("Name", exact=True).fill(grace)
    adding.get_by_label("Email", exact=True).fill(address(grace))
    adding.get_by_label("Role", exact=True).select_option("member")
    adding.get_by_label("Time zone", exact=True).select_option("Europe/Berlin")
    adding.get_by_role("button", name="Add member").click()

    member = row(page, grace, caption="Members")
    expect(member).to_contain_text("Europe/Berlin")
    assert_accessible(page)
    member.get_by_role("link", name="API keys").click()
    expect(heading(page)).to_have_text(f"API keys of {grace}")
    assert_accessible(page)
    page.get_by_label("Key name", exact=True).fill("laptop")
    with page.expect_response(lambda answer: answer.request.method == "POST") as posted:
        page.get_by_role("button", name="Create key").click()
    expect(heading(page)).to_have_text("Key created")
    key = page.locator("#new-key").inner_text().strip()
    assert key.startswith("rk_")
    assert "no-store" in (posted.value.header_value("cache-control") or "")
    assert_accessible(page)

    shown = row(page, "_".join(key.split("_")[:2]), caption="API keys")  # its row names only the prefix

    page.reload()  # posts the form again: at most another key, never this one
    expect(heading(page)).to_be_visible()
    assert key not in page.content()
    page.go_back()
    expect(heading(page)).to_have_text(f"API keys of {grace}")
    expect(shown).to_contain_text("Active")
    assert key not in page.content()
    assert_accessible(page)

    theirs = open_page()
    sign_in(theirs, key)
    expect(heading(theirs)).to_have_text("My reminders")
    expect(theirs.get_by_role("banner")).to_contain_text(grace)

    shown.get_by_role("button", name="Revoke").click()
    expect(shown).to_contain_text("Revoked")
    assert_accessible(page)
    with service.api(key) as api:
        assert api.get("/users/").status_code == 401


def test_a_member_sees_neither_others_reminders_nor_admin_pages(service: WebService, page: Page) -> None:
    ann, bob = service.member("Ann"), service.member("Bob")
    bobs = service.reminder(bob, unique("Bob's secret"))
    sign_in(page, ann.key)

    for path in (
        f"/app/reminders/{bobs['id']}",
        f"/app/reminders/{bobs['id']}/edit",
        f"/app/team/members/{bob.id}/keys",  # a member has keys pages: their own alone
        "/app/no-such-page",
    ):
        visit(page, path, status=404, h1="Not found")
        assert bobs["title"] not in page.content()
        assert bob.name not in page.content()
    for path in ("/app/team", "/app/audit", "/app/status"):
        visit(page, path, status=403, h1="Not allowed")
    visit(page, f"/app/team/members/{ann.id}/keys", status=200, h1=f"API keys of {ann.name}")
    expect(page.get_by_role("navigation").get_by_role("link", name="Team", exact=True)).to_have_count(0)
    visit(page, "/app/reminders", h1="My reminders")
    expect(page.get_by_text(bobs["title"])).to_have_count(0)


def test_the_audit_trail_and_the_status_page(service: WebService, page: Page) -> None:
    ada = service.member("Ada", role="admin")
    reminder = service.reminder(ada, unique("Invoices"))
    service.send_now(ada, reminder["id"])
    sign_in(page, ada.key)

    visit(page, "/app/audit", h1="Audit trail")
    expect(page.get_by_role("table", name="Audit trail")).to_be_visible()
    page.get_by_label("Target (id)", exact=True).fill(reminder["id"])
    page.get_by_role("button", name="Filter").click()
    entries = page.get_by_role("table", name="Audit trail").locator("tbody tr")
    expect(entries.first).to_contain_text(reminder["id"])
    expect(entries.filter(has_not_text=reminder["id"])).to_have_count(0)
    assert_accessible(page)

    visit(page, "/app/status", h1="Service status")
    chart = page.get_by_role("img", name=re.compile("Deliveries per hour"))
    expect(chart).to_be_visible()
    page.get_by_text("Deliveries per hour as a table").click()
    expect(page.get_by_role("table", name="Deliveries per hour")).to_be_visible()
    assert_accessible(page)
