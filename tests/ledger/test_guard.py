"""Analysis, report and bundle refuse a database whose tables differ from its log (or warn, with --unverified)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import deconflict
from deconflict.cli import app
from deconflict.demo import build_demo_database
from deconflict.errors import VerificationError
from deconflict.ledger.guard import UNVERIFIED_LABEL, guard_state
from pg import tamper
from samples import INCIDENTS_CSV, SITES_CSV

EMBASSY = "wd-Q5369559"
#: The issue's first case: a hit on the embassy after its notification, inserted without a log entry.
FAKE_HIT = (
    "INSERT INTO incidents (id, time_start, time_end, time_precision, lat, lon, uncertainty_m, uncertainty_model, "
    "confidence, status) SELECT 'fake-hit', '2025-12-01T00:00:00Z', '2025-12-01T00:00:00Z', 'instant', lat, lon, "
    "0, 'normal', 'confirmed', 'confirmed' FROM sites WHERE id = '" + EMBASSY + "'"
)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("guard-demo")
    db, _ = build_demo_database(out)
    db.close()
    return out / "demo.db"


@pytest.fixture
def tampered(demo_file: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo.db"
    shutil.copy(demo_file, copy)
    shutil.copy(f"{demo_file}.key", f"{copy}.key")
    tamper(copy, FAKE_HIT)
    return copy


def run(db: Path, *args: str):
    return CliRunner().invoke(app, ["--db", str(db), *args])


def test_analysis_report_and_bundle_refuse_a_database_that_differs_from_its_log(tampered: Path, tmp_path: Path):
    for args in (
        ("analyze", "--site", EMBASSY, "--json"),
        ("report", "--out", str(tmp_path / "report.html")),
        ("evidence", "export", EMBASSY, "--out", str(tmp_path / "bundle.zip")),
    ):
        result = run(tampered, *args)
        assert result.exit_code == 1, (args, result.output)
        assert "table incidents, row 'fake-hit', entry_idx" in result.output and "--unverified" in result.output
    assert not (tmp_path / "report.html").exists() and not (tmp_path / "bundle.zip").exists()


def test_unverified_goes_on_with_the_warning_printed_and_in_every_output(tampered: Path, tmp_path: Path):
    result = run(tampered, "analyze", "--site", EMBASSY, "--json", "--unverified")
    assert result.exit_code == 0, result.output
    (row,) = [r for r in json.loads(result.stdout) if r["site_id"] == EMBASSY]
    assert row["data_labels"][0].startswith(UNVERIFIED_LABEL) and "fake-hit" in row["data_labels"][0]
    assert UNVERIFIED_LABEL in result.stderr
    report = run(tampered, "report", "--out", str(tmp_path / "report.html"), "--no-analysis", "--unverified")
    assert report.exit_code == 0, report.output
    assert UNVERIFIED_LABEL in (tmp_path / "report.html").read_text(encoding="utf-8")
    bundle = run(tampered, "evidence", "export", EMBASSY, "--out", str(tmp_path / "b.zip"), "--unverified", "--json")
    assert bundle.exit_code == 0, bundle.output
    assert json.loads(bundle.stdout)["warning"].startswith(UNVERIFIED_LABEL)


def test_the_untouched_demo_passes_the_guard(demo_file: Path):
    with deconflict.open(demo_file) as db:
        assert guard_state(db.store) is None


def test_an_edit_after_a_passed_check_is_caught_by_the_same_open_database(db, db_path, write):
    # The guard keeps its result per open store until the log grows or another connection writes.
    db.sites.import_file(write("sites.csv", SITES_CSV))
    db.incidents.import_file(write("incidents.csv", INCIDENTS_CSV))
    assert guard_state(db.store) is None
    tamper(db_path, "UPDATE incidents SET status = 'rejected' WHERE id = 'i1'")
    with pytest.raises(VerificationError, match="table incidents"):
        guard_state(db.store)
    assert guard_state(db.store, unverified=True).startswith(UNVERIFIED_LABEL)
