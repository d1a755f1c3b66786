"""The report's map in Chromium: opens on the featured sites, clear of the controls, clustered, with outlines.

Screenshots are written under the test's output directory and, for the manual, to
``docs/images/`` when ``DECONFLICT_DOCS_SCREENSHOTS=1`` (docs/reports.md shows them).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from deconflict.basemap import read_basemap
from deconflict.model import Site
from deconflict.report import PageEvents, render_html
from report.basemap_helpers import EARTH, WATER, build_basemap
from report.report_helpers import tiny_report_data

pytestmark = pytest.mark.slow

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
LAND = (0xF4, 0xF1, 0xEA)
BORDER = (0x8A, 0x8F, 0x98)


def keep_for_docs(screenshot: Path, name: str) -> None:
    """Copy a screenshot into docs/images when asked to (the manual shows what the tests saw)."""
    if os.environ.get("DECONFLICT_DOCS_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, DOCS_IMAGES / name)


def open_report(browser: Browser, path: Path) -> tuple[Page, PageEvents]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    events = PageEvents.watch(page)
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("html[data-report-ready=true]", state="attached", timeout=30_000)
    page.evaluate("document.getElementById('map').scrollIntoView()")
    return page, events


def map_shot(page: Page, path: Path) -> Path:
    page.locator("#map").screenshot(path=path)
    return path


def share_of(path: Path, colour: tuple[int, int, int], tolerance: int = 6) -> float:
    from PIL import Image

    image = Image.open(path).convert("RGB")
    found = sum(
        n
        for n, (r, g, b) in image.getcolors(maxcolors=1 << 22)
        if abs(r - colour[0]) <= tolerance and abs(g - colour[1]) <= tolerance and abs(b - colour[2]) <= tolerance
    )
    return found / (image.size[0] * image.size[1])


@pytest.fixture(scope="module")
def kyiv(rendered, browser: Browser) -> Any:
    page, events = open_report(browser, rendered.html_path)
    yield page, events, rendered
    page.close()


def test_the_map_opens_on_the_featured_sites_not_on_every_incident(kyiv) -> None:
    page, events, rendered = kyiv
    stats = page.evaluate("window.__reportStats")
    assert stats["zoom"] >= 14, "the map should open on the three notified Azerbaijani sites"
    assert stats["sitesInView"] < len(rendered.data.sites)
    points = page.evaluate("window.__reportFeaturedPoints()")
    box = page.locator("#map").bounding_box()
    assert {p["id"] for p in points} == {"wd-Q5369559", "aze-consular-section", "aze-cultural-centre"}
    for p in points:
        assert p["shown"]
        assert box["x"] < p["x"] < box["x"] + box["width"] and box["y"] < p["y"] < box["y"] + box["height"]
    shot = map_shot(page, rendered.out_dir / "map-featured.png")
    keep_for_docs(shot, "report-map-featured.png")
    assert events.errors == []


def test_no_control_covers_a_featured_site(kyiv) -> None:
    page, _, _ = kyiv
    rects = page.evaluate(
        "Array.from(document.querySelectorAll('#map .leaflet-control')).map(e => e.getBoundingClientRect().toJSON())"
        ".filter(r => r.width > 0)"
    )
    assert len(rects) >= 5  # zoom, owner, layers, scale, legend, banner, attribution
    margin = 10  # a marker's radius and its ring
    for p in page.evaluate("window.__reportFeaturedPoints()"):
        for r in rects:
            inside = (
                r["left"] - margin <= p["x"] <= r["right"] + margin
                and r["top"] - margin <= p["y"] <= r["bottom"] + margin
            )
            assert not inside, f"a control at {r} covers {p['id']}"


def test_controls_are_collapsed_until_clicked(kyiv) -> None:
    page, _, _ = kyiv
    assert page.locator(".leaflet-control-layers-expanded").count() == 0
    legend = page.locator(".legend")
    assert not legend.locator(".dm-body").is_visible()
    legend.locator(".dm-toggle").click()
    assert legend.locator(".dm-body").is_visible() and "SYNTHETIC" in legend.inner_text()
    legend.locator(".dm-toggle").click()
    assert not legend.locator(".dm-body").is_visible()


def test_sites_sharing_a_building_spread_out_when_their_cluster_is_clicked(kyiv) -> None:
    page, events, rendered = kyiv
    clustered = page.evaluate(
        "(() => { const m = window.__reportMap; let n = 0; m.eachLayer(l => { if (l.getAllChildMarkers) n++; }); return n; })()"
    )
    assert clustered >= 1
    cluster = page.locator(".leaflet-pane.leaflet-featured-pane .site-cluster").first
    cluster.click()
    page.wait_for_timeout(600)  # the spiderfy animation
    legs = page.evaluate(
        "(() => { let n = 0; window.__reportMap.eachLayer(l => { if (l._spiderLeg) n++; }); return n; })()"
    )
    assert legs >= 2, "the embassy and its consular section should spread out on click"
    shot = map_shot(page, rendered.out_dir / "map-spiderfied.png")
    keep_for_docs(shot, "report-map-spiderfied.png")
    assert events.errors == []


def test_every_site_is_on_the_map_once_zoomed_out(kyiv) -> None:
    page, _, rendered = kyiv
    page.evaluate("() => { window.__reportMap.setView([50.45, 30.52], 11, {animate: false}); }")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__reportSiteShown()") == len(rendered.data.sites) == 79
    visible_clusters = page.locator(".site-cluster").count()
    assert 1 <= visible_clusters < 40, "77 embassies are clusters, not one blob and not 77 overlapping dots"


def test_country_outlines_give_a_country_scale_map_its_context(kyiv) -> None:
    page, events, rendered = kyiv
    page.evaluate("() => { window.__reportMap.setView([49.0, 31.0], 5, {animate: false}); }")
    page.wait_for_timeout(300)
    shot = map_shot(page, rendered.out_dir / "map-country.png")
    keep_for_docs(shot, "report-map-country.png")
    assert share_of(shot, LAND) > 0.3, "land (Natural Earth outlines) should fill much of a map of Ukraine"
    assert share_of(shot, BORDER, tolerance=30) > 0.002, "country borders should be drawn"
    assert events.errors == []
    outside = [url for url, _ in events.requests if not url.startswith(("file:", "data:"))]
    assert outside == []


def test_one_site_in_another_city_does_not_zoom_the_map_out(browser: Browser, tmp_path: Path) -> None:
    data = tiny_report_data()
    lviv = Site("s9", "Consulate in Lviv", "consulate", "POL", 49.8397, 24.0297)
    data = replace(data, sites=[*data.sites, lviv], featured_site_ids=["s1"])
    path = tmp_path / "two-cities.html"
    path.write_text(render_html(data), encoding="utf-8")
    page, events = open_report(browser, path)
    try:
        stats = page.evaluate("window.__reportStats")
        assert stats["zoom"] >= 14 and stats["sitesInView"] == 2
        assert events.errors == []
    finally:
        page.close()


def test_an_embedded_pmtiles_basemap_renders_with_no_network_request(browser: Browser, tmp_path: Path) -> None:
    archive = build_basemap(tmp_path / "kyiv-test.pmtiles", (30.44, 50.43, 30.54, 50.49), zooms=range(8, 16))
    html = render_html(tiny_report_data(), basemap=read_basemap(archive))
    assert 'id="basemap-data"' in html and 'id="outlines-data"' in html
    path = tmp_path / "basemap.html"
    path.write_text(html, encoding="utf-8")
    page, events = open_report(browser, path)
    try:
        # protomaps-leaflet draws its tiles asynchronously; wait until both colours are on screen.
        page.wait_for_timeout(1500)
        shot = map_shot(page, tmp_path / "map-basemap.png")
        keep_for_docs(shot, "report-map-basemap.png")
        attribution = page.locator(".leaflet-control-attribution").inner_text()
    finally:
        page.close()
    assert share_of(shot, WATER) > 0.1, "the archive's water polygon (western half) is not drawn"
    assert share_of(shot, EARTH) > 0.1, "the archive's land polygon is not drawn"
    assert "test tiles made by deconflict's test suite" in attribution
    assert events.errors == []
    assert [url for url, _ in events.requests if not url.startswith(("file:", "data:", "blob:"))] == []
