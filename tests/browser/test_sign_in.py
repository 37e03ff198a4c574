"""Signing in: with an API key, or with a link mailed to the address (once only)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.pages import SIGN_IN, OpenPage, heading, sign_in, visit
from tests.browser.service import WebService


def test_a_key_signs_in_and_opens_my_reminders(service: WebService, page: Page) -> None:
    ann = service.member("Ann")

    sign_in(page, ann.key)

    expect(heading(page)).to_have_text("My reminders")
    expect(page.get_by_role("link", name="New reminder").first).to_be_visible()
    expect(page.get_by_text(ann.name).first).to_be_visible()


def test_signing_in_goes_on_to_the_page_asked_for(service: WebService, page: Page) -> None:
    ann = service.member("Ann")

    page.goto("/app/deliveries")
    expect(page).to_have_url(re.compile(r"/app/sign-in\?next="))
    expect(heading(page)).to_have_text("Sign in")
    assert_accessible(page)
    page.get_by_label("API key", exact=True).fill(ann.key)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(heading(page)).to_have_text("My deliveries")
    assert_accessible(page)


def test_a_wrong_key_is_refused_and_never_shown_back(service: WebService, page: Page) -> None:
    wrong = "rk_0badc0ffee00_" + "Q" * 43
    visit(page, SIGN_IN, h1="Sign in")

    page.get_by_label("API key", exact=True).fill(wrong)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_role("alert")).to_be_visible()
    expect(heading(page)).to_have_text("Sign in")
    expect(page.get_by_label("API key", exact=True)).to_have_value("")
    assert "0badc0ffee00" not in page.content()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(page)


def test_an_emailed_link_signs_in_once(service: WebService, page: Page, open_page: OpenPage) -> None:
    ann = service.member("Ann")
    mails_before = len(service.smtp.handler.mails)
    visit(page, SIGN_IN, h1="Sign in")

    page.get_by_label("Email", exact=True).fill(ann.email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(heading(page)).to_have_text("Sign in")
    assert_accessible(page)
    link = service.sign_in_link(ann.email, after=mails_before)

    visit(page, link, h1="Sign in to Team Reminders")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(heading(page)).to_have_text("My reminders")
    assert_accessible(page)

    again = open_page()
    visit(again, link, h1="Sign in to Team Reminders")
    again.get_by_role("button", name="Sign in", exact=True).click()
    expect(heading(again)).to_contain_text("used")
    expect(again.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(again)


def test_asking_for_a_link_answers_the_same_for_an_unknown_address(service: WebService, page: Page) -> None:
    ann = service.member("Ann")
    answers = []
    for email in (ann.email, "nobody-here@example.com"):
        visit(page, SIGN_IN)
        page.get_by_label("Email", exact=True).fill(email)
        page.get_by_role("button", name="Email me a sign-in link").click()
        expect(heading(page)).to_have_text("Sign in")
        answers.append(page.locator("main").inner_text())

    assert answers[0] == answers[1]
    service.sign_in_link(ann.email)  # the known address did get its link
