"""Two teams on one service: the admin of one sees nothing of the other, as if it did not exist."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.pages import sign_in, visit
from tests.browser.service import WebService, unique


def test_another_teams_admin_sees_nothing_of_the_first_team(service: WebService, page: Page) -> None:
    ann = service.member("Ann")
    title = unique("First team's secret")
    reminder = service.reminder(ann, title)
    delivery = service.send_now(ann, reminder["id"])
    other = service.team("Second team")
    sign_in(page, other.key)

    for path in (
        f"/app/reminders/{reminder['id']}",
        f"/app/reminders/{reminder['id']}/edit",
        f"/app/team/members/{ann.id}/keys",
    ):
        visit(page, path, status=404, h1="Not found")
        assert title not in page.content()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    acknowledging = f"/app/deliveries/{delivery['delivery_id']}/ack"
    answer = page.request.post(acknowledging, form={"csrf_token": token or "", "next": "/app/deliveries"})
    assert answer.status == 404
    with service.api(ann.key) as api:
        assert api.get(f"/deliveries/{delivery['delivery_id']}").json()["acknowledged_at"] is None

    visit(page, "/app/team", h1="Team")
    members = page.get_by_role("table", name="Members")
    expect(members).to_contain_text(other.name)
    expect(members).not_to_contain_text(ann.name)
    visit(page, "/app/deliveries", h1="My deliveries")
    expect(page.get_by_text(title)).to_have_count(0)
    visit(page, "/app/reminders?status=all&q=" + title.split()[-1], h1="My reminders")
    expect(page.get_by_text(title)).to_have_count(0)
    visit(page, "/app/audit", h1="Audit trail")
    expect(page.get_by_role("table", name="Audit trail")).not_to_contain_text(ann.name)
    expect(page.get_by_role("table", name="Audit trail")).not_to_contain_text(reminder["id"])
