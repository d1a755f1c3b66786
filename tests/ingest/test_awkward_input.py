"""Awkward but valid input is accepted."""

from __future__ import annotations

from samples import SITES_CSV


def test_utf8_bom_and_crlf_line_ends_are_accepted(cli, db, write):
    path = write("sites.csv", b"\xef\xbb\xbf" + SITES_CSV.replace("\n", "\r\n").encode("utf-8"))
    result = cli("sites", "import", str(path))
    assert result.exit_code == 0, result.output
    assert db.sites.get("aze-emb").names == (
        ("de", "Botschaft Aserbaidschans"),
        ("uk", "Посольство Азербайджану"),
    )


def test_quoted_fields_with_newlines_and_commas_are_accepted(cli, db, write):
    content = 'id,name,kind,owner,lat,lon,notes\na,"Embassy, ""main""",embassy,AZE,50.1,30.2,"line one\nline two"\n'
    result = cli("sites", "import", str(write("sites.csv", content)))
    assert result.exit_code == 0, result.output
    site = db.sites.get("a")
    assert site.name == 'Embassy, "main"' and site.notes == "line one\nline two"


def test_unknown_columns_are_reported_not_silently_dropped(cli, write):
    content = "name,kind,owner,lat,lon,colour\nA,embassy,AZE,50.1,30.2,blue\n"
    result = cli("sites", "import", str(write("sites.csv", content)))
    assert result.exit_code == 0
    assert "ignored unknown column(s) colour" in result.stderr


def test_geojson_polygon_footprint_is_kept_and_gives_the_point(cli, db, write):
    content = (
        '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon",'
        '"coordinates":[[[30.49,50.46],[30.4912,50.46],[30.4912,50.4608],[30.49,50.4608],[30.49,50.46]]]},'
        '"properties":{"id":"fp","name":"Compound","kind":"embassy","owner":"AZE"}}]}'
    )
    assert cli("sites", "import", str(write("s.geojson", content))).exit_code == 0
    site = db.sites.get("fp")
    assert site.footprint_wkt is not None and site.footprint_wkt.startswith("POLYGON")
    assert 50.46 < site.lat < 50.4608 and 30.49 < site.lon < 30.4912
