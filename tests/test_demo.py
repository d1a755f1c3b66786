"""The Kyiv demo builds a labelled database."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

import deconflict
from deconflict.cli import app
from deconflict.demo import KYIV_BOUNDS, synthetic_kyiv_strikes


@pytest.mark.slow
def test_demo_builds_the_kyiv_example_and_labels_synthetic_data(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in result.stdout and "approximate" in result.stdout
    with deconflict.open(tmp_path / "demo" / "demo.db") as db:
        aze = {h.site.id for h in db.sites.list(owner="AZE")}
        assert {"wd-Q5369559", "aze-consular-section", "aze-cultural-centre"} <= aze
        assert db.sites.get("aze-cultural-centre").approximate
        synthetic = db.incidents.list(provenance="synthetic")
        assert synthetic and all("SYNTHETIC" in (i.notes or "") for i in synthetic)
        reported = db.incidents.list(provenance="reported")
        assert {i.time.start.date().isoformat()[:7] for i in reported if "aze" in i.id} == {
            "2024-01",
            "2025-08",
            "2025-11",
        }
        (commitment,) = db.commitments.records()
        assert commitment.commitment.form == "public-statement" and commitment.commitment.party == "RUS"
        assert commitment.commitment.text == "diplomatic locations are taken into account"
        assert commitment.status == "unacknowledged" and commitment.deadline_missed_index is not None
        (convoy,) = db.movements.list()
        assert convoy.synthetic and convoy.window.start.isoformat().startswith("2025-11-13")
        alerts = db.alerts.list()
        reported_alerts = {
            (a.alert.incident_id, a.alert.object.id) for a in alerts if a.incident.provenance == "reported"
        }
        assert ("rep-2025-11-14-aze-embassy", "wd-Q5369559") in reported_alerts
        assert ("rep-2025-11-14-aze-embassy", convoy.id) in reported_alerts  # the convoy passed the embassy that night
        assert not any(a.alert.incident_id.startswith("rep-2024-01-02") for a in alerts)  # before the notification
        db.ledger.verify()
    assert "PUBLIC STATEMENT" in result.stdout and "UNACKNOWLEDGED" in result.stdout
    assert (tmp_path / "demo" / "dossier-aze-embassy.zip").exists()
    assert (tmp_path / "demo" / "evidence-synthetic-convoy.zip").exists()
    report = (tmp_path / "demo" / "report.html").read_text(encoding="utf-8")
    assert 'id="commitments-table"' in report and 'id="movements-table"' in report and 'id="alerts-table"' in report
    # The database stores the demo's options and report defaults: `report` on it makes the same report.
    again = tmp_path / "again.html"
    rerun = CliRunner().invoke(app, ["--db", str(tmp_path / "demo" / "demo.db"), "report", "--out", str(again)])
    assert rerun.exit_code == 0, rerun.output
    first, second = _data_block(report), _data_block(again.read_text(encoding="utf-8"))
    assert first.pop("generated_at") != "" and second.pop("generated_at") != ""
    assert first == second
    assert first["title"] == "deconflict demo: diplomatic premises in Kyiv" and first["notes"][0].startswith("DEMO:")


def _data_block(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert match is not None
    return json.loads(match.group(1))


def test_synthetic_background_is_reproducible_and_inside_the_city():
    first = synthetic_kyiv_strikes(np.random.default_rng(1))
    second = synthetic_kyiv_strikes(np.random.default_rng(1))
    assert first == second and len(first) > 500
    min_lat, max_lat, min_lon, max_lon = KYIV_BOUNDS
    assert all(min_lat <= i.lat <= max_lat and min_lon <= i.lon <= max_lon for i in first)
