"""One door: the CLI, the API and the library give the same answers for the same database.

Every door calls the same function of :mod:`deconflict.analysis` (or of the database) with the
same defaults; these tests run both doors on one database and compare what they print.
"""

from __future__ import annotations

import json
import re
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import deconflict
from deconflict.access import create_token
from deconflict.analysis import AnalysisOptions, match_database
from deconflict.api import create_app
from deconflict.cli import app
from deconflict.ids import ID_RE
from deconflict.ledger.bundle import build_bundle
from deconflict.model import Incident, Site
from deconflict.times import parse_time, zone


def _incidents(n: int, rng: np.random.Generator) -> list[Incident]:
    return [
        Incident(
            id=f"bg-{k}",
            time=parse_time(f"2025-{1 + k % 12:02d}-{1 + k % 27:02d}"),
            lat=50.45 + float(rng.normal(0, 0.02)),
            lon=30.51 + float(rng.normal(0, 0.03)),
            uncertainty_m=float(rng.choice([0, 50, 300])),
            provenance="synthetic",
        )
        for k in range(n)
    ]


#: A 20 m hospital with a footprint whose far corner lies about 250 m from the site's point.
HOSPITAL = Site(
    id="hospital",
    name="Hospital No. 1",
    kind="hospital",
    owner="UKR",
    lat=50.4500,
    lon=30.5000,
    radius_m=20,
    footprint_wkt="POLYGON ((30.4998 50.4499, 30.5036 50.4499, 30.5036 50.4514, 30.4998 50.4514, 30.4998 50.4499))",
)
EMBASSY = Site(id="emb", name="Embassy", kind="embassy", owner="AZE", lat=50.4608, lon=30.4905)
OTHER = Site(id="other", name="Other embassy", kind="embassy", owner="HRV", lat=50.4554, lon=30.4933)


@pytest.fixture(scope="module")
def parity_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("parity") / "p.db"
    db = deconflict.init(path, timezone="Europe/Kyiv")
    try:
        db.sites.add_many([HOSPITAL, EMBASSY, OTHER])
        incidents = _incidents(120, np.random.default_rng(5))
        # Inside the footprint, about 244 m east of the hospital's point: a certain hit.
        incidents.append(Incident(id="in-footprint", time=parse_time("2025-11-14"), lat=50.4503, lon=30.50345))
        incidents.append(Incident(id="at-embassy", time=parse_time("2025-11-20"), lat=50.46081, lon=30.49051))
        db.incidents.add_many(incidents)
        db.notifications.notify(["emb"], to="RUS", at="2025-10-01", id="ntf-1")
        db.ledger.sign_checkpoint()
        tokens = {"admin": create_token(db, ["admin"]), "aze": create_token(db, ["owner:AZE"])}
    finally:
        db.close()
    return path, tokens


def _cli(path: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--db", str(path), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _client(path: Path, **kwargs: object) -> TestClient:
    return TestClient(create_app(path, **kwargs))  # type: ignore[arg-type]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_api_analysis_items_equal_analyze_json(parity_db):
    path, tokens = parity_db
    cli_rows = json.loads(_cli(path, "analyze", "--json"))
    with _client(path) as client:
        body = client.get("/api/v1/analysis", headers=_bearer(tokens["admin"])).json()
    assert body["items"] == cli_rows
    assert body["seed"] == cli_rows[0]["seed"]


def test_api_and_cli_agree_for_another_seed_and_a_study_area(parity_db, tmp_path):
    path, tokens = parity_db
    area = tmp_path / "area.wkt"
    area.write_text("POLYGON ((30.40 50.40, 30.62 50.40, 30.62 50.52, 30.40 50.52, 30.40 50.40))")
    cli_rows = json.loads(_cli(path, "analyze", "--json", "--seed", "7", "--study-area", str(area)))
    from deconflict.analysis import load_study_area

    overrides = {"seed": 7, "study_area": load_study_area(area)}
    with _client(path, analysis_overrides=overrides) as client:
        body = client.get("/api/v1/analysis", headers=_bearer(tokens["admin"])).json()
    assert body["items"] == cli_rows and body["seed"] == 7


def test_api_match_items_equal_match_json(parity_db):
    path, tokens = parity_db
    cli_rows = json.loads(_cli(path, "match", "--json"))
    with _client(path) as client:
        body = client.get("/api/v1/match?limit=1000", headers=_bearer(tokens["admin"])).json()
    assert body["items"] == cli_rows
    assert cli_rows and min(r["hit_probability"] for r in cli_rows) >= AnalysisOptions().min_probability


def _report_json(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert found
    data = json.loads(found.group(1))
    data.pop("generated_at")
    return data


def test_admin_api_report_data_equals_cli_report(parity_db, tmp_path):
    path, tokens = parity_db
    out = tmp_path / "r.html"
    _cli(path, "report", "--out", str(out))
    with _client(path) as client:
        response = client.get("/api/v1/report", headers=_bearer(tokens["admin"]))
    assert response.status_code == 200
    cli_data, api_data = _report_json(out.read_text(encoding="utf-8")), _report_json(response.text)
    assert api_data == cli_data
    assert cli_data["analysis"] and cli_data["periods"] and cli_data["sensitivity"]


def test_a_database_with_five_incidents_is_refused_by_both_doors(tmp_path):
    path = tmp_path / "small.db"
    db = deconflict.init(path)
    try:
        db.sites.add_many([EMBASSY, OTHER])
        db.incidents.add_many(_incidents(5, np.random.default_rng(1)))
        token = create_token(db, ["admin"])
    finally:
        db.close()
    result = CliRunner().invoke(app, ["--db", str(path), "analyze", "--json"])
    assert result.exit_code == 2 and "too few to estimate a background" in result.stderr
    with _client(path) as client:
        response = client.get("/api/v1/analysis", headers=_bearer(token))
    assert response.status_code == 400
    assert "too few to estimate a background" in response.json()["error"]["message"]


@pytest.mark.parametrize("site_id", ["hospital", "emb", "other"])
def test_every_listed_match_is_in_the_sites_evidence_bundle(parity_db, site_id):
    path, _ = parity_db
    with deconflict.open(path) as db:
        matched = {m.match.incident_id for m in match_database(db, site_ids=[site_id])}
        bundle = build_bundle(db.ledger, site_id)
    with zipfile.ZipFile(BytesIO(bundle)) as archive:
        names = archive.namelist()
        listed = json.loads(archive.read("incidents.json")) if "incidents.json" in names else []
    in_bundle = {row["record"]["id"] for row in listed}
    assert matched <= in_bundle
    if site_id == "hospital":
        assert "in-footprint" in matched


def test_the_footprint_hit_is_a_certain_match_and_in_the_bundle(parity_db):
    path, _ = parity_db
    with deconflict.open(path) as db:
        (hit,) = [m for m in match_database(db, site_ids=["hospital"]) if m.match.incident_id == "in-footprint"]
    assert hit.match.probability == pytest.approx(1.0)
    assert hit.match.distance_m > 200


def test_notify_through_cli_api_and_library_gives_one_id_format_and_sender(parity_db, tmp_path):
    source, tokens = parity_db
    path = tmp_path / "copy.db"
    for suffix in ("", ".key"):
        Path(f"{path}{suffix}").write_bytes(Path(f"{source}{suffix}").read_bytes())
    Path(f"{path}.key").chmod(0o600)
    with deconflict.open(path, key_file=f"{path}.key") as db:
        by_library, _ = db.notifications.notify(["emb"], to="RUS", at="2025-10-02")
    printed = json.loads(
        _cli(path, "--key-file", f"{path}.key", "notify", "emb", "--to", "RUS", "--at", "2025-10-03", "--json")
    )
    with _client(path, key_file=f"{path}.key") as client:
        response = client.post(
            "/api/v1/notifications",
            headers=_bearer(tokens["aze"]),
            json={"site_ids": ["emb"], "recipient": "RUS", "notified_at": "2025-10-04"},
        )
    assert response.status_code == 201, response.text
    ids = [by_library.id, printed["id"], response.json()["id"]]
    pattern = re.compile(r"^ntf-[0-9a-f]{12}$")
    assert all(pattern.match(i) and ID_RE.match(i) for i in ids), ids
    with deconflict.open(path) as db:
        recorded = {n.id: n for n, _ in db.notifications.list()}
    assert {recorded[i].sender for i in ids} == {"AZE"}
    kyiv = zone("Europe/Kyiv")
    expected = [parse_time(day, None, kyiv) for day in ("2025-10-02", "2025-10-03", "2025-10-04")]
    assert [recorded[i].notified_at for i in ids] == expected  # each read in the database's timezone
