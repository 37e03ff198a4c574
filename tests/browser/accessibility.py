"""axe-core on a page: no violation of impact "serious" or "critical" is allowed on any page we serve.

axe runs as a script in the page, which a page with JavaScript turned off cannot run: such a page's
HTML is checked in a page of its own with scripts on, opened on the same origin so that its
stylesheet (and so its contrast) is the same.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakSet

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Page

BLOCKING = frozenset({"serious", "critical"})
SHOWN = 8  # elements named per problem
AXE = Axe()
# Pages whose context has JavaScript turned off (open_page records them).
WITHOUT_SCRIPTS: WeakSet[Page] = WeakSet()


def assert_accessible(page: Page) -> None:
    """Fails, naming each rule, its help and the elements, when axe finds a serious or critical problem."""
    violations = _violations_of_copy(page) if page in WITHOUT_SCRIPTS else _violations(page)
    blocking = [violation for violation in violations if violation.get("impact") in BLOCKING]
    assert not blocking, f"accessibility problems on {page.url}:\n" + "\n".join(map(describe, blocking))


def describe(violation: dict[str, Any]) -> str:
    targets = [" ".join(map(str, node.get("target", []))) for node in violation.get("nodes", [])]
    more = f" and {len(targets) - SHOWN} more" if len(targets) > SHOWN else ""
    where = "; ".join(targets[:SHOWN]) + more
    return f"- {violation['id']} ({violation['impact']}): {violation['help']}\n    at {where}"


def _violations(page: Page) -> list[dict[str, Any]]:
    violations: list[dict[str, Any]] = AXE.run(page).response["violations"]
    return violations


def _violations_of_copy(page: Page) -> list[dict[str, Any]]:
    browser = page.context.browser
    assert browser is not None
    html = page.content()
    viewport = page.viewport_size
    checker = browser.new_context(viewport=viewport)
    try:
        copy = checker.new_page()
        copy.goto(page.url)  # any page of the origin: what matters is the base URL and the CSP
        copy.set_content(html)
        return _violations(copy)
    finally:
        checker.close()
