"""Every main page on a 360 px wide phone without sideways scrolling, and a keyboard's first stop."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.pages import SIGN_IN, OpenPage, sign_in, visit
from tests.browser.service import WebService, unique

PHONE = {"width": 360, "height": 740}


def page_width(page: Page) -> int:
    width: int = page.evaluate("document.scrollingElement.scrollWidth")
    return width


def test_the_main_pages_fit_a_360_px_screen(service: WebService, open_page: OpenPage) -> None:
    ada = service.member("Ada", role="admin", timezone="America/Argentina/Buenos_Aires")
    ann = service.member("Ann")
    reminder = service.reminder(ada, unique("A rather long title for the quarterly planning meeting"))
    service.send_now(ada, reminder["id"])
    long_target = "http://127.0.0.1:9/" + "a-path-without-spaces-" * 6  # nothing listens: a long error too
    hook = service.reminder(ada, unique("Deploy"), channel="webhook", target=long_target)
    with service.api(ada.key) as api:
        assert api.post(f"/notifications/send/{hook['id']}").status_code in (202, 502)
    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    visit(page, SIGN_IN)
    widths = {SIGN_IN: page_width(page)}
    sign_in(page, ada.key)

    for path in (
        "/app/reminders",
        "/app/reminders/new",
        f"/app/reminders/{reminder['id']}",
        f"/app/reminders/{reminder['id']}/edit",
        f"/app/reminders/{hook['id']}",
        "/app/deliveries",
        "/app/team",
        f"/app/team/members/{ann.id}/keys",
        "/app/audit",
        "/app/status",
    ):
        visit(page, path)
        widths[path] = page_width(page)

    too_wide = {path: width for path, width in widths.items() if width > PHONE["width"]}
    assert not too_wide, (
        f"these pages scroll sideways at {PHONE['width']} px (their widths in px): {too_wide}"
    )


def test_the_first_tab_reaches_the_skip_link_and_shows_where_focus_is(
    service: WebService, page: Page
) -> None:
    ann = service.member("Ann")
    for signed_in in (False, True):
        if signed_in:
            sign_in(page, ann.key)
        visit(page, "/app/reminders" if signed_in else SIGN_IN)

        page.keyboard.press("Tab")

        focused = page.evaluate(
            """() => {
                const element = document.activeElement;
                const style = getComputedStyle(element);
                return {text: element.textContent.trim(), href: element.getAttribute("href"),
                        outline: style.outlineStyle, width: style.outlineWidth};
            }"""
        )
        assert focused["href"] == "#main", focused
        assert focused["outline"] != "none", focused
        assert focused["width"] != "0px", focused
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
