"""Fixtures for the report tests: the Kyiv demo as ReportData, its HTML and PDF, one browser.

The notification, acknowledgement, statistics, periods, sensitivity grid and ledger state are
made by hand here (the report only displays them); sites, incidents and matches come from the
demo database and :func:`deconflict.match.match`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from deconflict.demo import KYIV_BOUNDS, build_demo_database
from deconflict.match import IncidentInput, SiteInput, match
from deconflict.model import Acknowledgement, Notification
from deconflict.report import (
    Cosignature,
    LedgerState,
    Period,
    ReportData,
    SensitivityPoint,
    chromium,
    find_chromium,
    render_html,
    render_pdf,
)
from deconflict.times import TimeSpan

AZE_SITES = ("wd-Q5369559", "aze-consular-section", "aze-cultural-centre")
NOTIFIED = TimeSpan(datetime(2024, 1, 3, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC), "interval")
ACKNOWLEDGED = TimeSpan(datetime(2024, 3, 15, 9, 0, tzinfo=UTC), datetime(2024, 3, 15, 9, 0, tzinfo=UTC), "instant")
ASSUMPTIONS = [
    "No targeting (null hypothesis): strikes fall independently with the intensity of all other strikes.",
    "'After notification' means after the END of the notification interval (conservative).",
]
CHECKPOINT = (
    "deconflict.example/kyiv-demo\n1232\nq1X4bYkYpS0bB3Qv9mQ3m0H3cZb8mE4eJ5Yf9+0c2KQ=\n\n"
    "— deconflict.example/kyiv-demo Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


def analysis_row(site_id: str, observed: float, expected: float, p: float, *, notified: bool) -> dict[str, object]:
    """One hand-made row in the shape of ``deconflict analyze --json`` plus sentence and flagged."""
    after = (
        {
            "observed_after": max(observed - 1, 0),
            "expected_after": expected * 0.9,
            "p_value_after": p,
            "rate_ratio": 9.5,
            "rate_ratio_ci": [1.1, None],
            "p_value_change": 0.03,
        }
        if notified
        else {
            "observed_after": None,
            "expected_after": None,
            "p_value_after": None,
            "rate_ratio": None,
            "rate_ratio_ci": None,
            "p_value_change": None,
        }
    )
    p_adjusted = min(1.0, p * 79)
    return {
        "site_id": site_id,
        "observed": observed,
        "expected": expected,
        "p_value": p,
        "notified_at": "2024-03-01T00:00:00Z" if notified else None,
        **after,
        "p_value_control": 0.04,
        "p_adjusted": p_adjusted,
        "flagged": p_adjusted <= 0.05,
        "sentence": f"{observed:g} hits where {expected:.2g} were expected (hand-made test figures, p = {p:.2g}).",
        "assumptions": ASSUMPTIONS,
    }


def make_report_data(out_dir: Path) -> ReportData:
    """The Kyiv demo as a ReportData with a hand-made notification, statistics and ledger."""
    db, _summary = build_demo_database(out_dir)
    try:
        sites = [hit.site for hit in db.sites.list()]
        incidents = db.incidents.list()
    finally:
        db.close()
    found = match(
        [SiteInput(s.id, s.lat, s.lon, s.radius_m, s.kind, s.city or "") for s in sites],
        [IncidentInput(i.id, i.lat, i.lon, i.uncertainty_m, (i.time.start, i.time.end)) for i in incidents],
        min_probability=0.01,
    )
    notification = Notification(
        id="note-2024-001",
        site_ids=AZE_SITES,
        recipient="RUS",
        notified_at=NOTIFIED,
        channel="note verbale",
        reference="hand-made test notification",
        sender="AZE",
    )
    quarters = [
        (datetime(y, m, 1, tzinfo=UTC), datetime(y + (m == 10), (m + 3) % 12 or 12, 1, tzinfo=UTC))
        for y in (2024, 2025)
        for m in (1, 4, 7, 10)
    ]
    observed = {0: 1, 6: 1, 7: 1}
    return ReportData(
        title="Kyiv: diplomatic premises and strikes (demo)",
        generated_at=datetime(2026, 2, 20, 12, 0, tzinfo=UTC),
        sites=sites,
        incidents=incidents,
        notifications=[notification],
        acknowledgements=[
            Acknowledgement("ack-1", notification.id, "RUS", ACKNOWLEDGED, "hand-made test acknowledgement")
        ],
        matches=list(found),
        analysis=[
            analysis_row("wd-Q5369559", 3, 0.04, 1.1e-5, notified=True),
            analysis_row("aze-consular-section", 2, 0.03, 4.2e-4, notified=True),
            analysis_row("aze-cultural-centre", 0, 0.02, 1.0, notified=True),
            analysis_row("wd-Q12127766", 0, 0.05, 1.0, notified=False),
        ],
        sensitivity=[
            SensitivityPoint("wd-Q5369559", bw, r, 1e-5 * bw / 1000 * r / 50)
            for bw in (500.0, 1000.0, 2000.0)
            for r in (25.0, 50.0, 100.0)
        ],
        periods=[Period("wd-Q5369559", a, b, observed.get(k, 0), 0.005) for k, (a, b) in enumerate(quarters)],
        ledger=LedgerState(
            origin="deconflict.example/kyiv-demo",
            size=1232,
            root_hash_b64="q1X4bYkYpS0bB3Qv9mQ3m0H3cZb8mE4eJ5Yf9+0c2KQ=",
            checkpoint_note=CHECKPOINT,
            verifier_key="deconflict.example/kyiv-demo+4a5b6c7d+AXb0c2VzdC1rZXktbm90LXJlYWw=",
            cosignatures=(Cosignature("witness.example", "0badc0de", 1771588800),),
        ),
        notes=[
            "Background strikes are SYNTHETIC (simulated, seed 20251114): no open point-level strike data exists for Kyiv.",
            "The notification, acknowledgement, statistics and ledger figures in this report are hand-made test values.",
        ],
        study_area_wkt=(
            f"POLYGON(({KYIV_BOUNDS[2]} {KYIV_BOUNDS[0]}, {KYIV_BOUNDS[3]} {KYIV_BOUNDS[0]}, "
            f"{KYIV_BOUNDS[3]} {KYIV_BOUNDS[1]}, {KYIV_BOUNDS[2]} {KYIV_BOUNDS[1]}, "
            f"{KYIV_BOUNDS[2]} {KYIV_BOUNDS[0]}))"
        ),
        study_area_label="the study area (a box around Kyiv, not the city boundary)",
    )


@dataclass(frozen=True)
class Rendered:
    """A report written to disk for the tests."""

    data: ReportData
    html_path: Path
    html: str
    out_dir: Path


@pytest.fixture(scope="session")
def report_data(tmp_path_factory: pytest.TempPathFactory) -> ReportData:
    return make_report_data(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def rendered(report_data: ReportData, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    out_dir = tmp_path_factory.mktemp("report")
    html = render_html(report_data)
    path = out_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    return Rendered(report_data, path, html, out_dir)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session (offline). Fails, never skips, when it is missing."""
    try:
        find_chromium()
    except Exception as exc:
        pytest.fail(f"{exc} (run `make test`, which installs it)", pytrace=False)
    with chromium() as handle:
        yield handle


@pytest.fixture(scope="session")
def pdf_path(rendered: Rendered, browser: Browser) -> Path:
    path = rendered.out_dir / "report.pdf"
    render_pdf(rendered.html_path, path, browser=browser)
    return path


@pytest.fixture(scope="session")
def pdftoppm() -> str:
    found = shutil.which("pdftoppm")
    if found is None:
        pytest.fail("pdftoppm is not installed (Debian package poppler-utils; `make test` installs it)", pytrace=False)
    return found
