"""Corrections, notifications, duplicates and layers through the CLI and the API: the same answers.

The library behaviour is tested in tests/test_corrections.py; here each door is driven as a user
would, and the CLI's JSON is compared with the API's for the same database.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import deconflict
from deconflict.access import create_token
from deconflict.api import create_app
from deconflict.cli import app
from deconflict.times import format_stored
from samples import INCIDENTS_CSV, SITES_CSV

NEWS = "id,time,lat,lon,uncertainty_m,kind,source_url\nnews-1,2025-11-14T01:30:00+02:00,50.4610,30.4907,300,missile,https://example.org/news\n"


def _cli(path: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["--db", str(path), *args])
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.stderr


@pytest.fixture
def filled(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "d.db"
    db = deconflict.init(path, timezone="Europe/Kyiv")
    try:
        (tmp_path / "s.csv").write_text(SITES_CSV, encoding="utf-8")
        (tmp_path / "i.csv").write_text(INCIDENTS_CSV, encoding="utf-8")
        (tmp_path / "n.csv").write_text(NEWS, encoding="utf-8")
        db.sites.import_file(tmp_path / "s.csv")
        db.incidents.import_file(tmp_path / "i.csv")
        db.incidents.import_file(tmp_path / "n.csv")
        db.notifications.notify(["aze-emb"], to="RUS", at="2025-10-05", id="ntf-1")
        db.notifications.acknowledge("ntf-1", by="RUS", at="2025-10-06", id="ack-1")
        token = create_token(db, ["admin"])
    finally:
        db.close()
    return path, token


def _api(path: Path, token: str) -> TestClient:
    client = TestClient(create_app(path))
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_cli_corrections_end_to_end_and_the_log_verifies(filled):
    path, _ = filled
    out = _cli(path, "sites", "amend", "pol-emb", "--lat", "50.44561", "--lon", "30.50842", "--reason", "surveyed")
    assert "amended site pol-emb" in out and "surveyed" in out
    shown = _cli(path, "sites", "show", "pol-emb", "--history")
    assert "history of site pol-emb (amended)" in shown and "reason: surveyed" in shown and "lat=50.4455" in shown
    # Logged times in the database's timezone with their offset, like every time the CLI shows.
    with deconflict.open(path) as db:
        logged = db.sites.history("pol-emb").events[-1].logged_at
        assert format_stored(logged, db.timezone) in shown and logged not in shown
    out = _cli(path, "notifications", "amend", "ntf-1", "--at", "2025-10-03", "--reason", "date misread")
    assert "2025-10-03" in out
    listed = json.loads(_cli(path, "notifications", "list", "--json"))
    assert listed[0]["state"] == "amended" and listed[0]["notified_at_text"] == "2025-10-03"
    assert listed[0]["corrections"][0]["reason"] == "date misread"
    _cli(path, "acknowledgements", "withdraw", "ack-1", "--reason", "another note")
    assert json.loads(_cli(path, "acknowledgements", "list", "--json")) == []
    _cli(path, "sites", "withdraw", "fra-emb", "--reason", "closed")
    assert "fra-emb" not in _cli(path, "sites", "list")
    assert "WITHDRAWN" in _cli(path, "sites", "list", "--history")
    analyze = json.loads(_cli(path, "match", "--json"))
    assert analyze  # still works on the effective state
    _cli(path, "log", "verify")


def test_a_correction_without_reason_is_refused_by_the_cli(filled):
    path, _ = filled
    result = CliRunner().invoke(app, ["--db", str(path), "sites", "amend", "pol-emb", "--lat", "50.4456"])
    assert result.exit_code == 2 and "--reason" in result.stderr


def test_a_future_date_warns_and_yes_records_it(filled):
    path, _ = filled
    err = _cli(path, "notify", "aze-emb", "--to", "RUS", "--at", "2999-01-01", code=2)
    assert "warning:" in err and "in the future" in err and "--yes" in err
    assert len(json.loads(_cli(path, "notifications", "list", "--json"))) == 1
    _cli(path, "notify", "aze-emb", "--to", "RUS", "--at", "2999-01-01", "--yes")
    assert len(json.loads(_cli(path, "notifications", "list", "--json"))) == 2


def test_duplicates_and_merge_from_the_cli(filled):
    path, _ = filled
    groups = json.loads(_cli(path, "incidents", "duplicates", "--json"))
    assert groups == [{"incident_ids": ["i1", "news-1"], "keep": "i1", "reasons": groups[0]["reasons"]}]
    out = _cli(path, "incidents", "merge", "i1", "news-1")
    assert "merged 2 reports into incident i1 (2 sources)" in out
    assert json.loads(_cli(path, "incidents", "duplicates", "--json")) == []
    history = json.loads(_cli(path, "incidents", "show", "news-1", "--history", "--json"))
    assert history["state"] == "merged into i1"
    _cli(path, "log", "verify")


def test_cli_and_api_give_the_same_notification_records_histories_and_duplicates(filled):
    path, token = filled
    _cli(path, "notifications", "amend", "ntf-1", "--ref", "NV-1", "--reason", "reference added")
    with _api(path, token) as client:
        record = client.get("/api/v1/notifications/ntf-1/record").json()
        history = client.get("/api/v1/notifications/ntf-1/history").json()
        duplicates = client.get("/api/v1/incidents/duplicates").json()
        site_history = client.get("/api/v1/sites/aze-emb/history").json()
    assert record == json.loads(_cli(path, "notifications", "show", "ntf-1", "--json"))
    assert (
        history["events"] == json.loads(_cli(path, "notifications", "show", "ntf-1", "--history", "--json"))["history"]
    )
    assert duplicates == json.loads(_cli(path, "incidents", "duplicates", "--json"))
    assert (
        site_history["events"] == json.loads(_cli(path, "sites", "show", "aze-emb", "--history", "--json"))["history"]
    )


def test_api_corrections_and_merge_are_log_entries(filled):
    path, token = filled
    with _api(path, token) as client:
        amended = client.post("/api/v1/sites/pol-emb/amend", json={"lat": 50.44561, "reason": "surveyed"})
        assert amended.status_code == 200, amended.text
        refused = client.post("/api/v1/notifications/ntf-1/amend", json={"notified_at": "2999-01-01", "reason": "x"})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "implausible"
        assert "in the future" in refused.json()["error"]["warnings"][0]
        forced = client.post(
            "/api/v1/notifications/ntf-1/amend", json={"notified_at": "2025-10-03", "reason": "date misread"}
        )
        assert forced.status_code == 200
        assert client.post("/api/v1/acknowledgements/ack-1/withdraw", json={"reason": "wrong"}).status_code == 200
        merged = client.post("/api/v1/incidents/merge", json={"incident_ids": ["i1", "news-1"]})
        assert merged.status_code == 201 and merged.json()["id"] == "i1"
        assert client.get("/api/v1/incidents/news-1/history").json()["state"] == "merged into i1"
        assert client.post("/api/v1/sites/fra-emb/withdraw", json={"reason": "closed"}).status_code == 200
        assert "fra-emb" not in {s["id"] for s in client.get("/api/v1/sites").json()["items"]}
    _cli(path, "log", "verify")


def test_api_import_with_on_existing_update(filled, tmp_path):
    path, token = filled
    body = INCIDENTS_CSV.replace("on the premises", "on the premises (revised)").encode()
    with _api(path, token) as client:
        refused = client.post("/api/v1/incidents/import?filename=i.csv", content=body)
        assert refused.status_code == 409
        result = client.post("/api/v1/incidents/import?filename=i.csv&on_existing=update", content=body)
        assert result.status_code == 201, result.text
        assert (result.json()["added"], result.json()["updated"], result.json()["unchanged"]) == (0, 1, 2)


def test_layers_from_the_cli_and_the_api_agree_and_are_typed(filled, tmp_path):
    path, token = filled
    geojson = json.loads(_cli(path, "match", "--format", "geojson"))
    with _api(path, token) as client:
        api_layer = client.get("/api/v1/match/layer?format=geojson")
        api_csv = client.get("/api/v1/match/layer?format=csv")
    assert api_layer.headers["content-type"].startswith("application/geo+json")
    assert api_layer.json() == geojson
    feature = next(f for f in geojson["features"] if f["properties"]["incident_id"] == "i1")
    assert feature["geometry"]["type"] == "LineString" and feature["geometry"]["coordinates"][1] == [30.49056, 50.46082]
    props = feature["properties"]
    assert isinstance(props["hit_probability"], float) and props["counted"] is True
    assert props["time_start"] == "2025-11-13T16:00:00Z" and props["time_end"] == "2025-11-14T04:00:00Z"
    assert api_csv.text == _cli(path, "match", "--format", "csv")
    assert "geometry_wkt" in api_csv.text.splitlines()[0] and ",true," in api_csv.text


def test_incident_and_site_exports_are_typed_for_qgis_and_reimport(filled, tmp_path):
    path, _ = filled
    incidents = json.loads(_cli(path, "incidents", "export", "--format", "geojson"))
    props = {f["properties"]["id"]: f["properties"] for f in incidents["features"]}
    assert props["i2"]["uncertainty_m"] == 50.0 and props["i2"]["time_start"] == props["i2"]["time_end"]
    assert props["i1"]["counted"] is True and isinstance(props["i1"]["lat"], float)
    sites = json.loads(_cli(path, "sites", "export", "--format", "geojson"))
    site = sites["features"][0]["properties"]
    assert isinstance(site["radius_m"], float) and site["approximate"] is False
    other = deconflict.init(tmp_path / "other.db", timezone="UTC")
    try:
        (tmp_path / "x.geojson").write_text(json.dumps(incidents), encoding="utf-8")
        (tmp_path / "s.geojson").write_text(json.dumps(sites), encoding="utf-8")
        other.sites.import_file(tmp_path / "s.geojson")
        other.incidents.import_file(tmp_path / "x.geojson")
        with deconflict.open(path) as db:
            assert other.incidents.list() == db.incidents.list()
            assert [h.site for h in other.sites.list()] == [h.site for h in db.sites.list()]
    finally:
        other.close()


def test_geopackage_and_typed_geodataframes(filled, tmp_path):
    geopandas = pytest.importorskip("geopandas")  # the geo extra; installed with [dev]
    path, _ = filled
    target = tmp_path / "analysis-free.gpkg"
    CliRunner().invoke(app, ["--db", str(path), "incidents", "export", "--format", "gpkg", "--out", str(target)])
    frame = geopandas.read_file(target)
    assert str(frame["time_start"].dtype).startswith("datetime64") and frame["uncertainty_m"].dtype == float
    matches = tmp_path / "matches.gpkg"
    _cli(path, "match", "--format", "gpkg", "--out", str(matches))
    lines = geopandas.read_file(matches)
    assert set(lines.geometry.geom_type) == {"LineString"} and lines.crs.to_epsg() == 4326
    with deconflict.open(path) as db:
        sites = db.sites.to_geodataframe()
        incidents = db.incidents.to_geodataframe()
    assert sites["radius_m"].dtype == float and sites["approximate"].dtype == bool
    assert str(incidents["time_end"].dtype) in ("datetime64[ns, UTC]", "datetime64[ms, UTC]", "datetime64[us, UTC]")


def test_city_as_a_place_and_inflected_search(filled):
    path, token = filled
    for spelling in ("Київ", "Kiev", "Kyiv", "Киев"):
        listed = json.loads(_cli(path, "sites", "list", "--city", spelling, "--json"))
        assert {s["id"] for s in listed} == {"aze-emb", "pol-emb", "fra-emb"}, spelling
    assert json.loads(_cli(path, "sites", "list", "--city", "Odessa", "--json")) == []
    unknown = _cli(path, "sites", "list", "--city", "Atlantis-on-Sea", code=2)
    assert "--city" in unknown
    for phrase in ("посольство азербайджану", "посольства Азербайджану", "Botschaft Aserbaidschans"):
        assert [s["id"] for s in json.loads(_cli(path, "sites", "list", "--search", phrase, "--json"))] == ["aze-emb"]
    with _api(path, token) as client:
        found = client.get("/api/v1/sites", params={"city": "Kiev"}).json()["items"]
    assert {s["id"] for s in found} == {"aze-emb", "pol-emb", "fra-emb"}


def test_odessa_is_odesa_in_ukraine():
    from deconflict.names import city_label, find_city

    assert find_city("Odessa").country_code == "UA" and find_city("Одесса").geonameid == find_city("Odesa").geonameid
    assert city_label("Kiev") == city_label("Київ") == city_label("Kyiv") == "Kyiv, UA"


@pytest.mark.parametrize(
    ("command", "record_id", "route"),
    [
        (("sites", "withdraw"), "fra-emb", "/api/v1/sites/fra-emb/withdraw"),
        (("notifications", "withdraw"), "ntf-1", "/api/v1/notifications/ntf-1/withdraw"),
        (("acknowledgements", "withdraw"), "ack-1", "/api/v1/acknowledgements/ack-1/withdraw"),
    ],
)
def test_a_withdrawal_answers_the_same_json_from_the_cli_and_the_api(filled, tmp_path, command, record_id, route):
    path, token = filled
    twin = tmp_path / "twin" / path.name
    twin.parent.mkdir()
    for file in path.parent.glob(path.name + "*"):
        shutil.copy2(file, twin.parent / file.name)
    cli = json.loads(_cli(path, *command, record_id, "--reason", "recorded in error", "--json"))
    with _api(twin, token) as client:
        answer = client.post(route, json={"reason": "recorded in error"})
    assert answer.status_code == 200, answer.text
    assert cli == answer.json()
    assert cli["id"] == record_id and cli["log_index"] > 0
