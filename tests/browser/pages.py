"""What a person does in the browser, in the words the pages show (the accessible names tests rely on).

`visit` and `sign_in` check each page they reach with axe; a test that reaches a page another way
(a button, a link) calls `assert_accessible` itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from playwright.sync_api import Locator, Page, Response, expect

from tests.browser.accessibility import assert_accessible

SIGN_IN = "/app/sign-in"
# open_page(**context_options): a page in a browser context of its own (conftest.py)
OpenPage = Callable[..., Page]


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def visit(page: Page, path: str, *, h1: str | None = None, status: int | None = None) -> Response:
    """Opens `path`, checks its h1 and HTTP status when given, and checks it with axe."""
    response = page.goto(path)
    assert response is not None
    if status is not None:
        assert response.status == status, f"{path}: {response.status}, expected {status}"
    if h1 is not None:
        expect(heading(page)).to_have_text(h1)
    assert_accessible(page)
    return response


def sign_in(page: Page, key: str) -> None:
    """Signs in with an API key on the sign-in page; lands on a page of the app, signed in."""
    visit(page, SIGN_IN, h1="Sign in")
    page.get_by_label("API key", exact=True).fill(key)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_accessible(page)


def cookies(page: Page) -> dict[str, str]:
    """The cookies the browser holds for the service, by name: to replay them from outside it."""
    return {cookie.get("name", ""): cookie.get("value", "") for cookie in page.context.cookies()}


def row(page: Page, text: str, *, caption: str | None = None) -> Locator:
    """The table row that names `text` (in the table with that caption, when given)."""
    table = page.get_by_role("table", name=caption) if caption else page.locator("table")
    return table.get_by_role("row").filter(has_text=text)


def reload_until(page: Page, shown: Callable[[], Locator], *, timeout: float = 20.0) -> None:
    """Reloads the page until `shown()` is visible: for what the service does on its own (a delivery)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(shown()).to_be_visible(timeout=1_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        page.reload()


def not_signed_in(url: str, cookies: dict[str, str]) -> bool:
    """True when the service sends a holder of `cookies` to the sign-in page rather than showing a page."""
    with httpx.Client(base_url=url, cookies=cookies, follow_redirects=False, timeout=10) as http:
        answer = http.get("/app/reminders", headers={"Accept": "text/html"})
    return answer.status_code in (302, 303) and answer.headers["location"].split("?")[0].endswith(SIGN_IN)
