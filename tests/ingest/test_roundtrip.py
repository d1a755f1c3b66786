"""Exports re-import unchanged; formats agree."""

from __future__ import annotations

import deconflict
from samples import INCIDENTS_CSV, SITES_CSV


def test_site_csv_export_reimports_unchanged(db, write, tmp_path):
    db.sites.import_file(write("sites.csv", SITES_CSV))
    exported = db.sites.export("csv")
    other = deconflict.init(tmp_path / "other.db", timezone="Europe/Kyiv")
    other.sites.import_file(write("exported.csv", exported))
    assert [h.site for h in other.sites.list()] == [h.site for h in db.sites.list()]
    assert other.sites.export("csv") == exported


def test_site_geojson_export_reimports_unchanged(db, write, tmp_path):
    db.sites.import_file(write("sites.csv", SITES_CSV))
    other = deconflict.init(tmp_path / "other.db")
    other.sites.import_file(write("exported.geojson", db.sites.export("geojson")))
    assert [h.site for h in other.sites.list()] == [h.site for h in db.sites.list()]


def test_incident_csv_export_reimports_unchanged_even_in_another_timezone(db, write, tmp_path):
    db.incidents.import_file(write("incidents.csv", INCIDENTS_CSV))
    exported = db.incidents.export("csv")
    other = deconflict.init(tmp_path / "other.db", timezone="UTC")
    other.incidents.import_file(write("exported.csv", exported))
    assert other.incidents.list() == db.incidents.list()
    assert other.incidents.export("csv") == exported


def test_incident_geojson_export_reimports_unchanged(db, write, tmp_path):
    db.incidents.import_file(write("incidents.csv", INCIDENTS_CSV))
    other = deconflict.init(tmp_path / "other.db", timezone="UTC")
    other.incidents.import_file(write("exported.geojson", db.incidents.export("geojson")))
    assert other.incidents.list() == db.incidents.list()


def test_import_records_the_files_sha256(db, write):
    import hashlib

    path = write("incidents.csv", INCIDENTS_CSV)
    result = db.incidents.import_file(path)
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [(r.filename, r.sha256, r.rows) for r in db.store.list_imports()] == [("incidents.csv", result.sha256, 3)]


def test_acled_export_maps_precision_codes(db, write):
    from deconflict.ingest import ACLED_GEO_PRECISION_RADIUS_M

    content = (
        "event_id_cnty,event_date,time_precision,latitude,longitude,geo_precision,event_type,sub_event_type,notes,source,fatalities\n"
        "UKR1,2025-11-14,1,50.4501,30.5234,2,Explosions/Remote violence,Air/drone strike,hit,Ukrainska Pravda,0\n"
        "UKR2,2025-11-14,3,50.4,30.6,1,Explosions/Remote violence,Shelling/artillery/missile attack,,Suspilne,1\n"
    )
    result = db.incidents.import_file(write("acled.csv", content), "acled")
    assert result.ignored_columns == []
    first, second = db.incidents.get("UKR1"), db.incidents.get("UKR2")
    assert first.extra_fields == {"fatalities": 0} and second.extra_fields == {"fatalities": 1}
    assert first.uncertainty_m == ACLED_GEO_PRECISION_RADIUS_M[2] and first.time.precision == "day"
    assert first.kind == "Explosions/Remote violence / Air/drone strike" and first.source.title == "Ukrainska Pravda"
    assert second.time.precision == "month" and second.time.start.month in (10, 11)


def test_acled_bad_latitude_names_acled_column(cli, write):
    content = "event_date,latitude,longitude\n2025-11-14,95,30.5\n"
    result = cli("incidents", "import", str(write("acled.csv", content)), "--format", "acled")
    assert result.exit_code == 2 and "row 2" in result.stderr and "latitude" in result.stderr
