"""Helpers of the web UI's browser tests (importable as ``api.ui_browser``).

One headless Chromium (:func:`deconflict.report.chromium`, loopback only) per test module;
:func:`visit` opens a UI page and records what it did (requests, console errors) so a test can
check that nothing left the machine and nothing failed; :func:`sign_in` puts a token's cookie
in a fresh browser context.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from deconflict.report import PageEvents, chromium, find_chromium

#: axe-core, vendored from npm (tests/vendor/VENDORED.txt); injected into pages by the accessibility checks.
AXE_JS = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
#: Where the screenshots of the UI tests go (docs/server.md shows some of them; `make docs-screenshots`).
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img" / "ui"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module, reaching loopback only. Fails, never skips, when missing."""
    try:
        find_chromium()
    except Exception as exc:
        pytest.fail(str(exc), pytrace=False)
    with chromium(network="loopback") as launched:
        yield launched


@dataclass
class Visit:
    """A page opened by :func:`visit` and what it did."""

    page: Page
    events: PageEvents

    def outside_requests(self, base_url: str) -> list[str]:
        """Requests to anything but the server under test (``data:`` URLs are no requests)."""
        own = urlsplit(base_url).netloc
        return [url for url, _ in self.events.requests if not url.startswith("data:") and urlsplit(url).netloc != own]


def sign_in(browser: Browser, base_url: str, token: str) -> BrowserContext:
    """A new browser context signed in with ``token`` (through the login form, as a person would)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_navigation_timeout(600_000)  # the report computes the analysis: slow on a busy machine
    context.set_default_timeout(120_000)
    page = context.new_page()
    page.goto(f"{base_url}/ui/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/")
    page.close()
    return context


def visit(context: BrowserContext, url: str) -> Visit:
    """Open ``url`` in a new page of ``context``, recording requests and errors, and wait for it to settle."""
    page = context.new_page()
    events = PageEvents.watch(page)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return Visit(page, events)


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's violations of ``impacts`` on the page, one line each (rule, impact, first targets)."""
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core is not vendored at {AXE_JS} (bash scripts/vendor-ui-assets.sh)", pytrace=False)
    # Evaluated through the DevTools protocol: the UI's CSP (script-src 'self') rightly refuses an inline tag.
    page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    results = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in results
        if v["impact"] in impacts
    ]
