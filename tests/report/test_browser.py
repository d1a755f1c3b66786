"""The report in a real browser: Playwright driving Debian's Chromium, network cut off, events counted.

Chromium runs with every connection sent to an unreachable proxy, and :class:`PageEvents` records
each request the page makes and each console error, uncaught exception and failed request. The
screenshot is written under the test's output directory (``<tmp>/report*/report-map.png``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from deconflict.report import PageEvents, render_html
from report.report_helpers import tiny_report_data

# Starts Chromium: seconds.
pytestmark = pytest.mark.slow


@dataclass
class Loaded:
    """The report loaded once in the browser, with what DevTools saw."""

    url: str
    requests: list[tuple[str, str]]
    errors: list[str]
    stats: dict[str, Any]
    screenshot: Path
    popup: str | None


@pytest.fixture(scope="module")
def loaded(rendered, browser: Browser) -> Loaded:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    events = PageEvents.watch(page)
    try:
        url = rendered.html_path.resolve().as_uri()
        page.goto(url)
        page.wait_for_function("window.__reportReady === true", timeout=20_000)
        stats = page.evaluate("window.__reportStats")
        page.evaluate("document.getElementById('map').scrollIntoView()")
        screenshot = rendered.out_dir / "report-map.png"
        page.screenshot(path=screenshot)
        popup = _click_loneliest_synthetic_incident(page)
        return Loaded(url, list(events.requests), list(events.errors), stats, screenshot, popup)
    finally:
        page.close()


def _click_loneliest_synthetic_incident(page: Page) -> str | None:
    """Centre the map on the synthetic incident farthest from every site, click it, return the popup text."""
    point = page.evaluate(
        """(() => {
            const data = JSON.parse(document.getElementById('report-data').textContent);
            const d = window.__reportIncidents;
            let best = -1, bestD = -1;
            for (let k = 0; k < d.count; k++) {
                if (!d.isSynthetic(k)) continue;
                let near = Infinity;
                for (const s of data.sites) near = Math.min(near, (s.lat - d.lat[k]) ** 2 + (s.lon - d.lon[k]) ** 2);
                if (near > bestD) { bestD = near; best = k; }
            }
            window.__reportMap.setView([d.lat[best], d.lon[best]], 15, {animate: false});
            const box = document.getElementById('map').getBoundingClientRect();
            const p = window.__reportMap.latLngToContainerPoint([d.lat[best], d.lon[best]]);
            return {x: box.left + p.x, y: box.top + p.y};
        })()"""
    )
    page.mouse.click(point["x"], point["y"])
    page.wait_for_function("!!document.querySelector('.leaflet-popup-content')", timeout=5_000)
    text = page.evaluate("document.querySelector('.leaflet-popup-content').textContent")
    return str(text)


def test_report_loads_without_console_errors(loaded: Loaded) -> None:
    assert loaded.errors == []


def test_report_makes_no_request_outside_its_own_file(loaded: Loaded) -> None:
    outside = [(url, kind) for url, kind in loaded.requests if url != loaded.url and not url.startswith("data:")]
    assert outside == []
    assert (loaded.url, "document") in loaded.requests


def test_map_has_one_marker_per_site_and_per_incident(loaded: Loaded, rendered) -> None:
    assert loaded.stats["siteMarkers"] == len(rendered.data.sites) == 79
    assert loaded.stats["incidentMarkers"] == len(rendered.data.incidents) == 1226
    assert loaded.stats["hitLines"] == len(rendered.data.matches)


def test_clicking_a_synthetic_incident_says_it_is_synthetic(loaded: Loaded) -> None:
    assert loaded.popup is not None
    assert loaded.popup.startswith("syn-") and "SYNTHETIC" in loaded.popup


def test_screenshot_is_written_and_shows_the_map(loaded: Loaded) -> None:
    from PIL import Image

    image = Image.open(loaded.screenshot).convert("RGB")
    assert image.size == (1280, 900)
    colours = image.getcolors(maxcolors=1 << 20)
    site_blue = sum(n for n, (r, g, b) in colours if abs(r - 0x1F) < 20 and abs(g - 0x4E) < 20 and abs(b - 0x9C) < 20)
    assert site_blue > 500, "embassy markers are not visible on the map"


def test_online_tiles_are_the_only_requests_when_asked_for(browser: Browser, tmp_path: Path) -> None:
    path = tmp_path / "tiles.html"
    path.write_text(
        render_html(
            tiny_report_data(), tiles_url="https://tiles.example.org/{z}/{x}/{y}.png", tiles_attribution="© Example"
        ),
        encoding="utf-8",
    )
    page = browser.new_page(viewport={"width": 800, "height": 600})
    events = PageEvents.watch(page)
    try:
        page.goto(path.as_uri())
        page.wait_for_function("window.__reportReady === true", timeout=20_000)
        stats = page.evaluate("window.__reportStats")
    finally:
        page.close()
    outside = {url.split("/")[2] for url, _ in events.requests if url.startswith("http")}
    assert outside == {"tiles.example.org"}
    assert stats["siteMarkers"] == 2 and stats["incidentMarkers"] == 3
    # The browser is offline: the tile requests fail, and that is the only kind of error.
    assert events.errors and all("tiles.example.org" in e for e in events.errors)
