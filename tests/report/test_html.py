"""The HTML report as text: self-contained, no network, labelled, escaped."""

from __future__ import annotations

import html as html_module
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from importlib import resources

import pytest

import deconflict.report
from deconflict.errors import InvalidInput
from deconflict.report import ReportData, content_security_policy, render_html
from deconflict.report.html import LEAFLET_VERSION
from deconflict.report.timeline import overall_timeline_svg, sensitivity_svg, site_timeline_svg
from report.report_helpers import data_block, tiny_report_data


def test_package_exports_exactly_the_public_api() -> None:
    assert set(deconflict.report.__all__) == {
        "BrowserError",
        "PageEvents",
        "chromium",
        "Cosignature",
        "LedgerState",
        "OutsideTime",
        "Period",
        "ReportData",
        "SensitivityPoint",
        "content_security_policy",
        "find_chromium",
        "is_approximate",
        "is_synthetic",
        "render_html",
        "render_pdf",
        "report_json",
    }


def test_report_has_a_csp_that_forbids_every_network_request(rendered) -> None:
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', rendered.html)
    assert csp is not None
    assert (
        html_module.unescape(csp.group(1))
        == "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
    )


def test_report_references_no_external_resource(rendered) -> None:
    html = rendered.html
    assert not re.search(r"""\bsrc\s*=\s*["']?(https?:)?//""", html)
    # Links are not requests; the only ones are Leaflet's own attribution link (replaced by text).
    page_without_leaflet = html.replace(html.split("<script>")[1].split("</script>")[0], "")
    assert not re.search(r"""\bhref\s*=\s*["']?(https?:)?//""", page_without_leaflet)
    assert not re.search(r"""url\(\s*["']?(https?:)?//""", html)
    assert not re.search(r"url\(images/", html), "Leaflet's images must be inlined as data: URIs"
    assert "<link" not in html
    assert html.count("<script>") == 3  # Leaflet, the report's own script and the sortable tables, all inline


def test_data_block_holds_every_site_incident_and_match(rendered) -> None:
    data = data_block(rendered.html)
    assert len(data["sites"]) == len(rendered.data.sites)
    assert len(data["incidents"]["id"]) == len(rendered.data.incidents)
    assert len(data["matches"]) == len(rendered.data.matches)
    assert data["study_area"]["type"] == "Polygon"


def test_synthetic_incidents_are_marked_in_the_data_block_and_the_tables(rendered) -> None:
    data = data_block(rendered.html)
    synthetic = dict(zip(data["incidents"]["provenances"], data["incidents"]["synthetic"], strict=True))
    assert synthetic == {"reported": False, "synthetic": True}
    hits = re.search(r'<table id="hits-table">.*?</table>', rendered.html, re.S).group(0)
    synthetic_rows = [row for row in re.findall(r"<tr class=\"synthetic[ a-z-]*\">.*?</tr>", hits, re.S)]
    n_synthetic_hits = sum(m["synthetic"] for m in data["matches"])
    assert n_synthetic_hits > 0
    assert len(synthetic_rows) == n_synthetic_hits
    assert all("SYNTHETIC" in row for row in synthetic_rows)
    assert "1,221 of 1,226 incidents are simulated" in rendered.html


def test_approximate_sites_are_marked_in_the_sites_table(rendered) -> None:
    table = re.search(r'<table id="sites-table">.*?</table>', rendered.html, re.S).group(0)
    rows = {
        re.search(r"<td>([^<]+)</td>", row).group(1): row for row in re.findall(r"<tr[^>]*>.*?</tr>", table, re.S)[1:]
    }
    assert "APPROXIMATE" in rows["aze-consular-section"]
    assert "APPROXIMATE" in rows["aze-cultural-centre"]
    assert "APPROXIMATE" not in rows["wd-Q5369559"]


def test_statistics_ledger_and_notification_sections_show_their_content(rendered) -> None:
    html = rendered.html
    assert "3 hits where 0.04 were expected" in html
    assert "No targeting (null hypothesis)" in html
    assert 'id="checkpoint-note">deconflict.example/kyiv-demo\n1232\n' in html
    assert "witness.example" in html and "deconflict evidence verify bundle.zip --key" in html
    assert "note verbale" in html and "hand-made test acknowledgement" in html
    assert html.count('aria-label="sensitivity-wd-Q5369559"') == 1


def test_text_from_the_data_cannot_break_out_of_the_page(report_data: ReportData) -> None:
    evil = "</script><script>alert(1)</script><!--"
    site = report_data.sites[0].with_changes(name=evil)
    data = replace(report_data, sites=[site, *report_data.sites[1:]], notes=[evil], title=evil)
    html = render_html(data)
    assert "<script>alert(1)" not in html
    assert data_block(html)["sites"][0]["name"] == evil


def test_tiles_url_allows_exactly_its_host() -> None:
    csp = content_security_policy("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert csp.endswith("img-src data: https://*.tile.openstreetmap.org")
    html = render_html(
        tiny_report_data(),
        tiles_url="https://tiles.example.org/{z}/{x}/{y}.png",
        tiles_attribution="© Example contributors",
    )
    assert "img-src data: https://tiles.example.org" in html
    assert json.loads(re.search(r'id="report-config">(.*?)</script>', html).group(1))["tiles_url"].startswith(
        "https://"
    )


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "javascript:alert(1)", "tiles/{z}/{x}/{y}.png", "https://{z}.x/{y}"]
)
def test_tiles_url_must_be_an_http_template(url: str) -> None:
    with pytest.raises(InvalidInput):
        content_security_policy(url)


def test_figures_are_well_formed_svg_with_the_labels(report_data: ReportData) -> None:
    sites = {s.id: s for s in report_data.sites}
    overall = overall_timeline_svg(report_data)
    site = site_timeline_svg(report_data, sites["aze-consular-section"])
    heat = sensitivity_svg(report_data, "wd-Q5369559")
    for svg in (overall, site, heat):
        ET.fromstring(svg)
    assert "SYNTHETIC" in overall and "SYNTHETIC" in site
    assert "APPROXIMATE location" in site
    assert "notified to RUS" in site and "acknowledged by RUS" in site
    assert "1e-05" in heat and "hit radius (m)" in heat


def test_figure_ids_are_unique_across_the_page(rendered) -> None:
    ids = re.findall(r'\sid="([^"]+)"', rendered.html)
    assert len(ids) == len(set(ids))


def test_vendored_leaflet_ships_with_licence_and_version() -> None:
    static = resources.files("deconflict.report").joinpath("static")
    assert f"leaflet {LEAFLET_VERSION}" in static.joinpath("VENDORED.txt").read_text()
    assert static.joinpath("leaflet-LICENSE.txt").read_text().startswith("BSD 2-Clause License")
    assert f"Leaflet {LEAFLET_VERSION}" in static.joinpath("leaflet.js").read_text()[:200]


def test_an_empty_report_renders(tmp_path) -> None:
    data = replace(tiny_report_data(), incidents=[], matches=[], notifications=[], acknowledgements=[])
    html = render_html(data)
    assert data_block(html)["incidents"]["id"] == []
