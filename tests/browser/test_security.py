"""The session and its cookie, sign-out, form tokens, and the Content-Security-Policy."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.pages import SIGN_IN, cookies, heading, not_signed_in, row, sign_in, visit
from tests.browser.service import WebService, unique


def test_the_session_cookie_is_http_only_same_site_lax_and_no_api_key(
    service: WebService, page: Page
) -> None:
    ann = service.member("Ann")
    visit(page, SIGN_IN)
    before = {cookie.get("name") for cookie in page.context.cookies()}

    sign_in(page, ann.key)

    [session] = [cookie for cookie in page.context.cookies() if cookie.get("name") not in before]
    assert session.get("httpOnly") is True
    assert session.get("sameSite") == "Lax"
    assert session.get("secure") is False  # plain HTTP here: Secure only over HTTPS
    value = session.get("value", "")
    assert len(value) >= 32
    assert not value.startswith("rk_")
    assert value not in ann.key


def test_the_json_api_refuses_the_session_cookie(service: WebService, page: Page) -> None:
    ann = service.member("Ann")
    sign_in(page, ann.key)

    with httpx.Client(base_url=service.url, cookies=cookies(page), timeout=10) as http:
        for path in (f"/users/{ann.id}", f"/notifications/user/{ann.id}/", "/deliveries/"):
            answer = http.get(path, headers={"Accept": "application/json"})
            assert answer.status_code == 401, (path, answer.text)
        assert http.post("/notifications/", json={"title": "x"}).status_code == 401


def test_signing_out_ends_the_session_even_for_a_copy_of_the_cookie(service: WebService, page: Page) -> None:
    ann = service.member("Ann")
    sign_in(page, ann.key)
    copied = cookies(page)
    assert not not_signed_in(service.url, copied)  # the copy works while the session lasts

    page.get_by_role("button", name="Sign out").click()

    expect(heading(page)).to_have_text("Sign in")
    assert_accessible(page)
    assert not_signed_in(service.url, copied)
    page.goto("/app/reminders")
    expect(heading(page)).to_have_text("Sign in")


def test_a_post_without_the_form_token_is_refused_and_changes_nothing(
    service: WebService, page: Page
) -> None:
    ann = service.member("Ann")
    title = unique("Payroll")
    reminder = service.reminder(ann, title)
    sign_in(page, ann.key)
    visit(page, "/app/reminders", h1="My reminders")
    pausing = f"/app/reminders/{reminder['id']}/pause"

    without = page.request.post(pausing, form={"next": "/app/reminders"}, max_redirects=0)
    forged = page.request.post(
        pausing, form={"next": "/app/reminders", "csrf_token": "0" * 64}, max_redirects=0
    )

    assert (without.status, forged.status) == (403, 403)
    with service.api(ann.key) as api:
        assert api.get(f"/notifications/{reminder['id']}").json()["active"] is True
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    with_token = page.request.post(
        pausing, form={"next": "/app/reminders", "csrf_token": token}, max_redirects=0
    )
    assert with_token.status == 303  # the same post with the page's own token is taken
    page.reload()
    expect(row(page, title, caption="My reminders")).to_contain_text("Paused")


def test_pages_forbid_inline_scripts_and_styles(service: WebService, page: Page) -> None:
    ada = service.member("Ada", role="admin")
    reminder = service.reminder(ada, unique("Budget"))
    sign_in(page, ada.key)

    for path in ("/app/sign-in", "/app/reminders", "/app/reminders/new", f"/app/reminders/{reminder['id']}"):
        response = visit(page, path)
        policy = response.header_value("content-security-policy") or ""
        assert "script-src 'self'" in policy or "default-src 'self'" in policy, policy
        assert "'unsafe-inline'" not in policy, policy
        assert "'unsafe-eval'" not in policy, policy
        assert page.locator("script:not([src])").count() == 0
        assert page.locator("[style]").count() == 0
