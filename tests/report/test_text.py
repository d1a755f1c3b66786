"""The text and tables lead with the notified and flagged sites; the About box; stored report defaults."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from deconflict.analysis import report_data
from deconflict.model import Incident
from deconflict.options import AnalysisOptions, ReportDefaults
from deconflict.report import render_html
from deconflict.times import TimeSpan
from samples import SITES_CSV


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(start) : html.index(end, html.index(start))]


def test_plain_words_lead_with_notified_and_flagged_sites_and_the_rest_is_one_line(rendered) -> None:
    words = _section(rendered.html, "<h3>In plain words</h3>", "<h3>Observed and expected hits</h3>")
    assert words.count("<li>") == 3  # the three notified Azerbaijani premises, not the un-notified fourth
    assert "Embassy of Azerbaijan" in words
    summary = re.search(r'<p id="rest-summary">(.*?)</p>', words, re.S).group(1)
    assert summary.startswith("The other 1 site analysed has no possible hit") and "consistent with chance" in summary


def test_every_site_is_in_one_sortable_table_shown_on_screen_only(rendered) -> None:
    lead = re.search(r'<table id="statistics-table">.*?</table>', rendered.html, re.S).group(0)
    every = re.search(r'<table id="all-sites-table" class="sortable">.*?</table>', rendered.html, re.S).group(0)
    assert lead.count("<tr") - 1 == 3
    assert every.count("<tr") - 1 == len(rendered.data.analysis) == 4
    assert '<details class="screen-only" id="all-sites">' in rendered.html
    assert ".screen-only { display: none !important; }" in rendered.html  # not printed


def test_sortable_table_sorts_by_a_numeric_column_in_the_browser(rendered, browser) -> None:
    page = browser.new_page()
    try:
        page.goto(rendered.html_path.as_uri())
        page.click("#all-sites > summary")
        header = page.locator("#all-sites-table th", has_text="p adjusted")
        header.click()
        values = page.eval_on_selector_all(
            "#all-sites-table tbody tr", "rows => rows.map(r => r.cells[r.cells.length - 1].textContent.trim())"
        )
        numbers = [float(v) for v in values]
        assert numbers == sorted(numbers)
        header.click()
        again = page.eval_on_selector_all(
            "#all-sites-table tbody tr", "rows => rows.map(r => parseFloat(r.cells[r.cells.length - 1].textContent))"
        )
        assert again == sorted(numbers, reverse=True)
    finally:
        page.close()


def _small_database(db, write):
    db.sites.import_file(write("sites.csv", SITES_CSV))
    db.notifications.notify(["aze-emb"], to="RUS", at="2024-01-03T10:00Z", sender="AZE", id="n1")
    rng = np.random.default_rng(3)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    incidents = [
        Incident(
            f"bg-{k}",
            TimeSpan(start + timedelta(days=7 * k), start + timedelta(days=7 * k, hours=6), "interval"),
            50.45 + float(rng.uniform(-0.03, 0.03)),
            30.50 + float(rng.uniform(-0.04, 0.04)),
            uncertainty_m=200,
            provenance="synthetic",
        )
        for k in range(40)
    ]
    hit = Incident("hit-1", TimeSpan(datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 2, tzinfo=UTC), "day"),
                   50.46082, 30.49056, uncertainty_m=10, provenance="reported")  # fmt: skip
    db.incidents.add_many([*incidents, hit])
    db.ledger.sign_checkpoint()
    return db


def test_report_defaults_are_stored_with_the_database(db, write) -> None:
    assert db.report_defaults() == ReportDefaults()
    stored = ReportDefaults(title="Kyiv brief", site_ids=("aze-emb",), notes=("DEMO: a caveat",))
    db.set_report_defaults(stored)
    assert db.report_defaults() == stored
    _small_database(db, write)
    db.set_analysis_options(AnalysisOptions(seed=7))
    data = report_data(db)
    assert data.title == "Kyiv brief" and data.notes[0] == "DEMO: a caveat"
    assert {c.site_id for c in data.sensitivity} == {"aze-emb"}
    about = dict(data.about)
    assert about["Seed"].startswith("7 ") and "on this database" in about["Reproduce"]
    html = render_html(data)
    box = re.search(r'<div class="about-box" id="about-analysis">.*?</div>', html, re.S).group(0)
    assert "About this analysis" in box and "Seed" in box and "Study area" in box and "Background bandwidth" in box
    other = dict(report_data(db, replace(db.analysis_options(), seed=11)).about)
    assert other["Reproduce"] == "deconflict report --out report.html --seed 11"
