"""The web UI in a real browser: Playwright driving Debian's Chromium against a live server.

Sign in with a token, see the sites on the map and in the table (filtered live by htmx), add a
notification and see it in the log. The browser is the project's one driver
(:func:`deconflict.report.chromium`, reaching loopback only). Fails with a clear message when
Chromium is missing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from api.api_helpers import Fixture, LiveServer
from deconflict.report import chromium, find_chromium

# Starts Chromium and a server: seconds each.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        find_chromium()
    except Exception as exc:
        pytest.fail(str(exc), pytrace=False)
    with chromium(network="loopback") as launched:
        yield launched


def test_sign_in_add_a_notification_and_see_it_in_the_log(
    browser: Browser, live_server: LiveServer, fresh: Fixture
) -> None:
    page = browser.new_page()
    page.set_default_timeout(300_000)  # the analysis and the report take long on a busy machine
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    page.goto(f"{live_server.url}/ui/")
    assert page.url.endswith("/ui/login")
    page.fill("#token", fresh.tokens["aze"])
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/")
    assert page.locator("#site-table").inner_text().count("Azerbaijan") == 2
    assert "Croatia" not in page.content()
    page.wait_for_selector("#map .leaflet-interactive")  # the sites are drawn on the map

    page.fill("#search", "Consular")  # htmx replaces the table as one types
    expect(page.locator("#site-table")).not_to_contain_text("Embassy of Azerbaijan")  # no eval: the CSP forbids it
    expect(page.locator("#site-table")).to_contain_text("Consular section of Azerbaijan")

    page.click("text=Add notification")
    page.check("input[name=site_ids][value=aze-embassy]")
    page.fill("#recipient", "RUS")
    page.fill("#notified_at", "2025-12-24T09:00Z")
    page.fill("#reference", "AZE-UI-1")
    page.click("text=Review the notification")
    page.wait_for_selector("text=This is permanent")
    page.click("text=Write to the log (permanent)")
    page.wait_for_url("**/ui/log?highlight=*")
    highlighted = page.locator("tr.highlight").inner_text()
    assert "notification" in highlighted and "aze-embassy notified to RUS 2025-12-24 11:00 +02:00" in highlighted
    assert problems == []

    page.click("text=Sign out")
    page.wait_for_url("**/ui/login")
    page.goto(f"{live_server.url}/ui/notify")
    assert page.url.endswith("/ui/login")


def test_analysis_and_report_pages_render_for_an_analyst(
    browser: Browser, live_server: LiveServer, fresh: Fixture
) -> None:
    page = browser.new_page()
    page.set_default_timeout(300_000)  # the analysis and the report take long on a busy machine
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{live_server.url}/ui/login")
    page.fill("#token", fresh.tokens["analyst"])
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/")
    assert "cell_0.01deg" in page.locator("#site-table").inner_text()
    page.goto(f"{live_server.url}/ui/analysis")
    assert "hit after notification" in page.content() or "hit on its" in page.content()
    page.goto(f"{live_server.url}/ui/report")
    page.wait_for_selector(".leaflet-container")
    assert "deconflict report" in page.title().lower() or "deconflict report" in page.content().lower()
    assert problems == []
