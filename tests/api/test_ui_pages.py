"""Every page of the web UI, by every scope that may open it, in Chromium: a working page, checked.

For each page and scope: the page answers, draws its map markers where it has a map (counted in
the DOM and seen in the screenshot's pixels), logs no console error, fetches nothing from outside
the server, and axe-core (vendored, tests/vendor/axe-core) finds no serious or critical
accessibility violation. A screenshot of each goes to the test's output directory, or to
``$DECONFLICT_UI_SHOTS`` when set (``make ui-screenshots`` refreshes docs/img/ui, shown in
docs/server.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext

from api.api_helpers import Fixture, LiveServer
from api.ui_browser import axe_violations, browser, sign_in, visit
from pg import free_port

__all__ = ["browser"]

pytestmark = pytest.mark.slow

SCOPES = ("admin", "aze", "analyst", "public")
#: page → the scopes that may use it (the others get the "not for this token" page, checked too).
PAGES: dict[str, tuple[str, ...]] = {
    "sites": SCOPES,
    "sites/new": ("admin", "aze"),
    "sites/aze-embassy/edit": ("admin", "aze"),
    "notify": ("admin", "aze"),
    "incidents": ("admin", "aze", "analyst"),
    "incidents?near_site=aze-embassy&within_m=2000&status=confirmed": ("admin", "aze", "analyst"),
    "analysis": ("admin", "aze", "analyst"),
    "alerts": ("admin", "aze", "analyst"),  # an analyst owns nothing: an empty inbox
    "log": SCOPES,
    "report": ("admin", "aze", "analyst"),
}
#: Pages with a map, and the colour of their markers (ui.js): site blue, analyst cells purple, incident red.
MARKERS = {"sites": {"analyst": (0x6A, 0x3D, 0x9A), "*": (0x1F, 0x4E, 0x9C)}, "incidents": {"*": (0xB0, 0x00, 0x20)}}


def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("DECONFLICT_UI_SHOTS")
    path = Path(configured) if configured else tmp_path_factory.mktemp("ui-shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def server(api_db: Fixture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(api_db.copy_to(tmp_path_factory.mktemp("ui-pages")), free_port())
    live.start(timeout_s=180)  # a busy machine starts it slowly
    yield live
    live.stop()


@pytest.fixture(scope="module")
def contexts(browser: Browser, server: LiveServer, api_db: Fixture) -> Iterator[dict[str, BrowserContext]]:
    opened = {scope: sign_in(browser, server.url, api_db.tokens[scope]) for scope in SCOPES}
    yield opened
    for context in opened.values():
        context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shots_dir(tmp_path_factory)


def marker_pixels(path: Path, colour: tuple[int, int, int]) -> int:
    """How many pixels of the image are within 24 of ``colour`` in each channel."""
    counts = Image.open(path).convert("RGB").getcolors(maxcolors=1 << 22) or []
    return sum(n for n, rgb in counts if all(abs(a - b) < 24 for a, b in zip(rgb, colour, strict=True)))


def shot_name(page: str, scope: str) -> str:
    """``sites-aze.png``, ``sites-edit-aze.png``, ``incidents-filtered-analyst.png``..."""
    base = page.split("?")[0].replace("aze-embassy/", "").replace("/", "-")
    return f"{base}{'-filtered' if '?' in page else ''}-{scope}.png"


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("page", list(PAGES))
def test_page_works_for_the_scope(
    page: str, scope: str, contexts: dict[str, BrowserContext], server: LiveServer, shots: Path
) -> None:
    opened = visit(contexts[scope], f"{server.url}/ui/{page}")
    try:
        allowed = scope in PAGES[page]
        text = opened.page.locator("main").inner_text()
        if not allowed:  # the page says why, in words
            said = opened.page.locator("main .error").count() or "public log only" in text
            assert said, f"{page} as {scope}: {text[:300]}"
        base = page.split("?")[0]
        if allowed and base in MARKERS and scope != "public":  # the public's "sites" page is the log's summary
            opened.page.wait_for_selector("#map[data-ready=true]")
            assert opened.page.locator("#map .leaflet-interactive").count() > 0, "no markers on the map"
            assert "🇺🇦" not in opened.page.locator(".leaflet-control-attribution").inner_text()
            map_shot = shots / f"map-{shot_name(page, scope)}"
            opened.page.locator("#map").screenshot(path=map_shot)
            colour = MARKERS[base].get(scope, MARKERS[base]["*"])
            assert marker_pixels(map_shot, colour) > 50, f"markers are not visible in {map_shot}"
        if base == "report" and allowed:
            opened.page.wait_for_function("window.__reportReady === true")
        opened.page.screenshot(path=shots / shot_name(page, scope), full_page=True)
        errors = opened.events.errors
        if not allowed:  # the refusal's own status (403/404) is logged by the browser as a failed load
            errors = [e for e in errors if not (e.startswith("console: Failed to load resource") and "/ui/" in e)]
        assert errors == []
        assert opened.outside_requests(server.url) == []
        if base != "report":  # the report is its own document (docs/reports.md), checked by tests/report
            assert axe_violations(opened.page) == []
    finally:
        opened.page.close()


def test_sign_in_page_is_accessible(browser: Browser, server: LiveServer, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        opened = visit(context, f"{server.url}/ui/login")
        opened.page.fill("#token", "dcf_wrong")
        opened.page.click("button[type=submit]")
        opened.page.wait_for_selector(".error")
        opened.page.screenshot(path=shots / "login-refused.png")
        assert axe_violations(opened.page) == []
        assert opened.outside_requests(server.url) == []
    finally:
        context.close()


def test_confirmation_and_refused_forms_are_accessible(
    contexts: dict[str, BrowserContext], server: LiveServer, shots: Path
) -> None:
    opened = visit(contexts["aze"], f"{server.url}/ui/sites/new")
    page = opened.page
    try:
        page.fill("#name", "Residence of the Ambassador")
        page.select_option("#kind", "residence")
        page.fill("#lat", "50.4589")
        page.fill("#lon", "30.49a")
        page.click("text=Review the site")
        page.wait_for_selector("#lon-error")
        assert page.input_value("#name") == "Residence of the Ambassador"  # kept
        assert page.get_attribute("#lon", "aria-invalid") == "true"
        page.screenshot(path=shots / "site-form-refused-aze.png", full_page=True)
        assert axe_violations(page) == []
        page.fill("#lon", "30.4977")
        page.click("text=Review the site")
        page.wait_for_selector("text=This is permanent")
        page.screenshot(path=shots / "site-confirm-aze.png", full_page=True)
        assert axe_violations(page) == []
        page.click("text=Change something")
        page.wait_for_selector("#name")
        assert page.input_value("#lon") == "30.4977"
        # The refused form came back with status 400, which the browser logs as a failed load; nothing else.
        refusal = [e for e in opened.events.errors if "status of 400" in e and e.endswith("/ui/sites/new")]
        assert opened.events.errors == refusal and len(refusal) == 1
        assert opened.outside_requests(server.url) == []
    finally:
        page.close()
