"""match / analyze / report from the command line, on the Kyiv demo database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scipy import stats as scipy_stats
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.demo import build_demo_database


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    db, _ = build_demo_database(out)
    db.close()
    return out / "demo.db"


def run(db: Path, *args: str):
    return CliRunner().invoke(app, ["--db", str(db), *args])


def test_match_lists_the_reported_hits_on_the_azerbaijani_embassy(demo_db):
    result = run(demo_db, "match", "--site", "wd-Q5369559", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    reported = {r["incident_id"] for r in rows if r["provenance"] == "reported"}
    assert {"rep-2024-01-02-aze-embassy", "rep-2025-08-28-aze-embassy", "rep-2025-11-14-aze-embassy"} <= reported
    assert all(0 < r["hit_probability"] <= 1 for r in rows)
    on_premises = next(r for r in rows if r["incident_id"] == "rep-2025-11-14-aze-embassy")
    assert on_premises["hit_probability"] == pytest.approx(1.0)


def test_match_table_labels_synthetic_data(demo_db):
    result = run(demo_db, "match")
    assert result.exit_code == 0 and "SYNTHETIC" in result.stdout


def test_analyze_json_has_the_documented_keys_and_consistent_p_values(demo_db):
    result = run(demo_db, "analyze", "--site", "wd-Q5369559", "--json", "--seed", "3")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    for key in ("site_id", "observed", "expected", "p_value", "notified_at", "observed_after", "expected_after",
                "p_value_after", "rate_ratio", "p_value_change", "p_value_control", "p_adjusted", "sentence",
                "assumptions", "data_labels"):  # fmt: skip
        assert key in row, key
    assert row["notified_at"].startswith("2025-08-27")
    assert row["observed"] == pytest.approx(3.0) and row["observed_after"] == pytest.approx(2.0)
    # With certain hits the after-notification p-value is the exact Poisson upper tail.
    assert row["p_value_after"] == pytest.approx(scipy_stats.poisson.sf(1, row["expected_after"]), rel=1e-6)
    assert any("SYNTHETIC" in label for label in row["data_labels"])
    assert "At least 2 attacks hit" in row["sentence"] and "after notification" in row["sentence"]
    assert row["headline"]["p_value"] is not None and row["headline"]["adjusted"] == row["p_adjusted"]


def test_analyze_is_reproducible_with_a_seed(demo_db):
    first = json.loads(run(demo_db, "analyze", "--json", "--seed", "5").stdout)
    second = json.loads(run(demo_db, "analyze", "--json", "--seed", "5").stdout)
    assert first == second


def test_analyze_table_prints_sentences_and_the_synthetic_warning(demo_db):
    result = run(demo_db, "analyze")
    assert result.exit_code == 0, result.output
    assert "wd-Q5369559" in result.stdout and "after notification" in result.stdout
    assert "SYNTHETIC" in result.stdout and "not proof of intent" in result.stdout


def test_analyze_unknown_site_and_bad_bandwidth_are_exit_2(demo_db):
    assert run(demo_db, "analyze", "--site", "nope").exit_code == 2
    bad = run(demo_db, "analyze", "--bandwidth", "wide")
    assert bad.exit_code == 2 and "bandwidth" in bad.stderr


def test_analyze_needs_incidents(tmp_path):
    db = tmp_path / "empty.db"
    assert run(db, "init").exit_code == 0
    assert run(db, "sites", "add", "--name", "E", "--kind", "embassy", "--owner", "AZE", "--lat", "50",
               "--lon", "30").exit_code == 0  # fmt: skip
    result = run(db, "analyze")
    assert result.exit_code == 2 and "too few" in result.stderr


def test_study_area_file_is_read_and_bad_ones_refused(demo_db, tmp_path):
    area = tmp_path / "area.wkt"
    area.write_text("POLYGON ((30.3 50.36, 30.76 50.36, 30.76 50.56, 30.3 50.56, 30.3 50.36))")
    assert run(demo_db, "analyze", "--study-area", str(area), "--site", "wd-Q5369559").exit_code == 0
    area.write_text("LINESTRING (0 0, 1 1)")
    bad = run(demo_db, "analyze", "--study-area", str(area))
    assert bad.exit_code == 2 and "Polygon" in bad.stderr


@pytest.mark.slow
def test_report_writes_an_offline_html_file(demo_db, tmp_path):
    target = tmp_path / "report.html"
    result = run(demo_db, "report", "--out", str(target))
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    assert "default-src &#39;none&#39;" in html and "SYNTHETIC" in html
    assert "wd-Q5369559" in html and "after notification" in html
    assert "http://" not in html.split("<script", 1)[0].replace("http://www.w3.org", "")


def test_a_site_outside_the_study_area_is_refused_when_asked_for_and_dropped_otherwise(demo_db, tmp_path):
    south = tmp_path / "south.wkt"
    south.write_text("POLYGON ((30.3 50.35, 30.76 50.35, 30.76 50.45, 30.3 50.45, 30.3 50.35))")
    asked = run(demo_db, "analyze", "--study-area", str(south), "--site", "wd-Q5369559")
    assert asked.exit_code == 2 and "outside the study area" in asked.stderr
    rows = json.loads(run(demo_db, "analyze", "--study-area", str(south), "--json").stdout)
    assert "wd-Q5369559" not in {r["site_id"] for r in rows}
    assert any("outside the study area were not analysed" in label for label in rows[0]["data_labels"])


def test_sensitivity_grid_is_printed_in_the_table(demo_db):
    result = run(demo_db, "analyze", "--site", "wd-Q5369559", "--sensitivity")
    assert result.exit_code == 0, result.output
    assert "sensitivity" in result.stdout and result.stdout.count("wd-Q5369559") >= 10


def test_analyze_refuses_an_unknown_engine_and_a_scheduler_without_dask(demo_db):
    result = run(demo_db, "analyze", "--engine", "spark")
    assert result.exit_code == 2 and "unknown engine 'spark'" in result.output and "Traceback" not in result.output
    result = run(demo_db, "analyze", "--scheduler", "tcp://127.0.0.1:8786")
    assert result.exit_code == 2 and "--scheduler needs --engine dask" in result.output
