"""Every malformed input: one line on stderr naming file, row and field; exit 2; DB unchanged."""

from __future__ import annotations

import csv

import pytest

from pg import snapshot
from samples import INCIDENTS_CSV, SITES_CSV

SITE_HEADER = "id,name,kind,owner,lat,lon\n"
INC_HEADER = "id,time,lat,lon,uncertainty_m\n"

BAD_SITE_FILES = [
    ("missing latitude", SITE_HEADER + "a,A,embassy,AZE,,30.5\n", ["row 2", "'lat'"]),
    (
        "latitude out of range",
        SITE_HEADER + "a,A,embassy,AZE,95,30.5\n",
        ["row 2", "'lat'", "outside"],
    ),
    ("longitude out of range", SITE_HEADER + "a,A,embassy,AZE,50,181\n", ["row 2", "'lon'"]),
    (
        "non-numeric latitude",
        SITE_HEADER + "a,A,embassy,AZE,fifty,30.5\n",
        ["row 2", "'lat'", "number"],
    ),
    ("unknown kind", SITE_HEADER + "a,A,bunker,AZE,50,30.5\n", ["row 2", "'kind'"]),
    ("unknown owner", SITE_HEADER + "a,A,embassy,ZZQ1,50,30.5\n", ["row 2", "'owner'"]),
    (
        "duplicate ids",
        SITE_HEADER + "a,A,embassy,AZE,50,30.5\na,B,embassy,AZE,50,30.6\n",
        ["'a' appears twice", "rows 2 and 3", "row 3, field 'id'"],
    ),
    ("empty file", "", ["empty"]),
    ("header only", SITE_HEADER, ["no rows"]),
    (
        "wrong delimiter",
        SITE_HEADER.replace(",", ";") + "a;A;embassy;AZE;50;30.5\n",
        ["delimiter", "row 1"],
    ),
    ("missing column", "id,name,kind,owner,lat\na,A,embassy,AZE,50\n", ["missing column", "lon"]),
    ("too many fields", SITE_HEADER + "a,A,embassy,AZE,50,30.5,extra\n", ["row 2", "7 fields"]),
    (
        "second row bad",
        SITE_HEADER + "a,A,embassy,AZE,50,30.5\nb,B,embassy,AZE,50,nan\n",
        ["row 3", "'lon'"],
    ),
]


@pytest.mark.parametrize(("case", "content", "expected"), BAD_SITE_FILES, ids=[c[0] for c in BAD_SITE_FILES])
def test_bad_site_file_is_refused_naming_where_and_changes_nothing(cli, db_path, write, case, content, expected):
    before = snapshot(db_path)
    path = write("sites.csv", content)
    result = cli("sites", "import", str(path))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and str(path) in lines[0]
    for fragment in expected:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.output
    assert snapshot(db_path) == before


def test_latin1_bytes_are_refused_naming_the_line(cli, db_path, write):
    before = snapshot(db_path)
    path = write(
        "sites.csv",
        (SITE_HEADER + "a,Ambassade de Fran\xe7e,embassy,FRA,50,30.5\n").encode("latin-1"),
    )
    result = cli("sites", "import", str(path))
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr and "line 2" in result.stderr
    assert snapshot(db_path) == before


def test_field_larger_than_the_csv_limit_is_refused(cli, db_path, write):
    before = snapshot(db_path)
    huge = "x" * (csv.field_size_limit() + 10)
    path = write("sites.csv", SITE_HEADER + f"a,{huge},embassy,AZE,50,30.5\n")
    result = cli("sites", "import", str(path))
    assert result.exit_code == 2
    assert "row 2" in result.stderr and "field larger than field limit" in result.stderr
    assert snapshot(db_path) == before


def test_ids_already_in_the_database_are_refused_and_nothing_is_added(cli, db, db_path, write):
    ok = write("ok.csv", SITES_CSV)
    assert cli("sites", "import", str(ok)).exit_code == 0
    before_count = db.sites.count()
    clash = write("clash.csv", SITE_HEADER + "new1,New,embassy,AZE,50,30.5\naze-emb,Dup,embassy,AZE,50,30.5\n")
    result = cli("sites", "import", str(clash))
    assert result.exit_code == 2 and "aze-emb" in result.stderr and "already" in result.stderr
    assert db.sites.count() == before_count
    assert [h.site.id for h in db.sites.list(ids=["new1"])] == []


BAD_INCIDENT_FILES = [
    ("bad date", INC_HEADER + "i1,2025-13-45,50,30.5,10\n", ["row 2", "'time'"]),
    ("missing time", INC_HEADER + "i1,,50,30.5,10\n", ["row 2", "'time'"]),
    (
        "negative uncertainty",
        INC_HEADER + "i1,2025-11-14,50,30.5,-5\n",
        ["row 2", "'uncertainty_m'"],
    ),
    (
        "non-numeric uncertainty",
        INC_HEADER + "i1,2025-11-14,50,30.5,far\n",
        ["row 2", "'uncertainty_m'"],
    ),
    (
        "bad confidence",
        "time,lat,lon,confidence\n2025-11-14,50,30.5,sure\n",
        ["row 2", "'confidence'"],
    ),
    (
        "bad sha256",
        "time,lat,lon,source_sha256\n2025-11-14,50,30.5,abc\n",
        ["row 2", "'source_sha256'"],
    ),
    (
        "duplicate ids",
        INC_HEADER + "i1,2025-11-14,50,30.5,10\ni1,2025-11-15,50,30.5,10\n",
        ["'i1' appears twice", "rows 2 and 3", "row 3, field 'id'"],
    ),
    ("missing latitude", INC_HEADER + "i1,2025-11-14,,30.5,10\n", ["row 2", "'lat'"]),
]


@pytest.mark.parametrize(("case", "content", "expected"), BAD_INCIDENT_FILES, ids=[c[0] for c in BAD_INCIDENT_FILES])
def test_bad_incident_file_is_refused_and_changes_nothing(cli, db_path, write, case, content, expected):
    before = snapshot(db_path)
    path = write("incidents.csv", content)
    result = cli("incidents", "import", str(path))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(path) in lines[0]
    for fragment in expected:
        assert fragment in lines[0], (fragment, lines[0])
    assert snapshot(db_path) == before


def test_reimporting_the_same_incident_file_is_refused(cli, db, write):
    path = write("incidents.csv", INCIDENTS_CSV)
    assert cli("incidents", "import", str(path)).exit_code == 0
    again = cli("incidents", "import", str(path))
    assert again.exit_code == 2 and "already" in again.stderr
    assert db.incidents.count() == 3


def test_missing_file_is_a_clear_error(cli, tmp_path):
    result = cli("sites", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", ["not valid JSON"]),
        ('{"type": "Feature"}', ["FeatureCollection"]),
        ('{"type": "FeatureCollection", "features": []}', ["no features"]),
        (
            '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point",'
            '"coordinates":[30.5]},"properties":{"name":"A","kind":"embassy","owner":"AZE"}}]}',
            ["feature 1", "'geometry'"],
        ),
        (
            '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point",'
            '"coordinates":[30.5, 95]},"properties":{"name":"A","kind":"embassy","owner":"AZE"}}]}',
            ["feature 1", "'lat'"],
        ),
    ],
)
def test_bad_geojson_is_refused_naming_the_feature(cli, db_path, write, content, expected):
    before = snapshot(db_path)
    path = write("sites.geojson", content)
    result = cli("sites", "import", str(path))
    assert result.exit_code == 2, result.output
    for fragment in expected:
        assert fragment in result.stderr
    assert snapshot(db_path) == before


@pytest.mark.parametrize("radius", ["-5", "-1", "0", "-0.5"])
def test_a_non_positive_radius_is_refused_not_replaced_by_the_default(cli, db_path, write, radius):
    before = snapshot(db_path)
    path = write("sites.csv", f"id,name,kind,owner,lat,lon,radius_m\na,A,embassy,AZE,50,30.5,{radius}\n")
    result = cli("sites", "import", str(path))
    assert result.exit_code == 2 and "row 2, field 'radius_m'" in result.stderr
    assert snapshot(db_path) == before
