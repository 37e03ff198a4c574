"""Fixtures of the browser tests: the system's Chromium driven by Playwright against a real service.

Chromium is /usr/bin/chromium (`apt-get install chromium`); nothing is downloaded. Without it the
tests are skipped, saying so, unless CI is set: there they fail, as a skip would hide a web app never
exercised.

Playwright's sync API keeps an asyncio loop marked as running on its thread for as long as it is
started, and under pytest-xdist other tests (which may call asyncio.run) share a worker's thread; so
Playwright, the browser and the service live for one module, and are gone before the next module runs.

A test that fails leaves a screenshot of each page it opened in tests/browser/artifacts/ (or
$REMINDERS_BROWSER_ARTIFACTS).
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.accessibility import WITHOUT_SCRIPTS
from tests.browser.evidence import artifacts
from tests.browser.pages import OpenPage
from tests.browser.service import WebService

CHROMIUM = Path("/usr/bin/chromium")
HOW_TO_INSTALL = (
    f"the browser tests drive {CHROMIUM}, which is missing: install it with `apt-get install chromium`"
)
TIMEOUT_MS = 10_000
PAGES = pytest.StashKey[list[Page]]()

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {HOW_TO_INSTALL}")
        pytest.skip(HOW_TO_INSTALL)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[WebService]:
    """One service per module (and per xdist worker), on SQLite in a folder of its own."""
    running = WebService(tmp_path_factory.mktemp("web"))
    yield running
    running.admin.close()
    running.stop()


@pytest.fixture
def open_page(browser: Browser, service: WebService, request: pytest.FixtureRequest) -> Iterator[OpenPage]:
    """`open_page(**context_options)`: a page in a context of its own (own cookies), with the service as
    base URL; `java_script_enabled=False` for one that runs no script."""
    contexts = []
    pages = request.node.stash.setdefault(PAGES, [])

    def open_(**options: Any) -> Page:
        settings = {"viewport": {"width": 1280, "height": 800}, "locale": "en-GB", "timezone_id": "UTC"}
        context = browser.new_context(base_url=service.url, **(settings | options))
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        if options.get("java_script_enabled") is False:
            WITHOUT_SCRIPTS.add(page)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page: OpenPage) -> Page:
    return open_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Screenshots of the pages of a test that failed, taken before its fixtures close them, and the end
    of what its service logged."""
    report = yield
    if report.failed and report.when in ("setup", "call"):
        service = getattr(item, "funcargs", {}).get("service")
        if isinstance(service, WebService):
            report.sections.append(("reminders serve", service.process.describe(tail=20)))
        pages: list[Page] = item.stash.get(PAGES, [])
        for number, page in enumerate(pages):
            if page.is_closed():
                continue
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)
            path = artifacts() / f"{name}-{number}.png"
            try:
                page.screenshot(path=path, full_page=True)
            except Exception as error:  # a crashed page must not hide the test's own failure
                report.sections.append(("screenshot", f"none of page {number}: {error}"))
            else:
                report.sections.append(("screenshot", f"{page.url} -> {path}"))
    return report
