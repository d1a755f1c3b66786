"""Incidents and sites as sources write them: ACLED downloads, GIS headers, European CSVs, row numbers."""

from __future__ import annotations

import pytest

from deconflict.errors import InvalidInput
from samples import file_digest

ACLED_HEADER = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,assoc_actor_1,"
    "inter1,actor2,inter2,interaction,civilian_targeting,iso,region,country,admin1,admin2,admin3,location,"
    "latitude,longitude,geo_precision,source,source_scale,notes,fatalities,tags,timestamp\n"
)
ACLED_ROWS = (
    "UKR1001,02 January 2024,2024,1,Political violence,Explosions/Remote violence,Air/drone strike,"
    "Military Forces of Russia (2000-),,8,Civilians (Ukraine),7,87,Civilian targeting,804,Europe,Ukraine,"
    "Kyiv City,Kyivska,Shevchenkivskyi,Kyiv - Shevchenkivskyi,50.4608,30.4905,1,Ukrainska Pravda,National,"
    '"On 2 January 2024, a missile hit near the embassy.",2,,1704412800\n'
    "UKR1002,14 November 2025,2025,1,Political violence,Explosions/Remote violence,Air/drone strike,"
    "Military Forces of Russia (2000-),,8,,,80,,804,Europe,Ukraine,Kyiv City,Kyivska,,Kyiv,50.4500,30.5234,2,"
    "Suspilne,National,Drone debris.,0,,1763337600\n"
)


def test_acled_as_downloaded_keeps_dates_fatalities_actors_and_places_typed(db, write):
    result = db.incidents.import_file(write("acled.csv", ACLED_HEADER + ACLED_ROWS), "acled")
    assert result.added == 2 and result.ignored_columns == []
    first = db.incidents.get("UKR1001")
    assert first.time.precision == "day" and first.time.start.isoformat() == "2024-01-01T22:00:00+00:00"
    extra = first.extra_fields
    assert extra["fatalities"] == 2 and extra["civilian_targeting"] is True
    assert extra["actor1"] == "Military Forces of Russia (2000-)" and extra["actor2"] == "Civilians (Ukraine)"
    assert (extra["admin1"], extra["admin2"], extra["admin3"]) == ("Kyiv City", "Kyivska", "Shevchenkivskyi")
    assert extra["location"] == "Kyiv - Shevchenkivskyi" and extra["timestamp"] == 1704412800
    second = db.incidents.get("UKR1002").extra_fields
    assert second["fatalities"] == 0 and second["civilian_targeting"] is False and "actor2" not in second
    db.ledger.verify()


def test_an_acled_export_without_format_is_recognised_and_the_flag_suggested(cli, write, db_path):
    path = write("2025-acled.csv", ACLED_HEADER + ACLED_ROWS)
    result = cli("incidents", "import", str(path))
    assert result.exit_code == 2 and "looks like an ACLED export" in result.stderr and "--format acled" in result.stderr
    assert cli("incidents", "import", str(path), "--format", "acled").exit_code == 0


def test_the_wikidata_export_without_format_is_recognised(cli, write):
    path = write(
        "embassies.csv", "QID;operator;type;latitude;longitude;city;address;\nQ1;Poland;embassy;50;30;Kyiv;;\n"
    )
    result = cli("sites", "import", str(path))
    assert result.exit_code == 2 and "--format wikidata-embassies" in result.stderr


def test_an_acled_date_that_cannot_be_read_names_the_row_and_column(db, write):
    bad = ACLED_HEADER + ACLED_ROWS.replace("14 November 2025", "14 Novembre 2025")
    with pytest.raises(InvalidInput, match="not a date") as exc:
        db.incidents.import_file(write("acled.csv", bad), "acled")
    assert exc.value.where.endswith("row 3, field 'event_date'")


def test_latitude_and_longitude_headers_are_read_for_sites_and_incidents(db, write):
    db.sites.import_file(write("s.csv", "name,kind,owner,latitude,longitude\nEmbassy,embassy,AZE,50.46,30.49\n"))
    db.incidents.import_file(write("i.csv", "id,time,latitude,longitude\nx,2025-11-14,50.46,30.49\n"))
    assert db.sites.list()[0].site.lat == 50.46 and db.incidents.get("x").lon == 30.49


def test_semicolon_csv_with_delimiter_and_a_hint_without(cli, write, db_path):
    text = "id;time;lat;lon;uncertainty_m\nx;2025-11-14;50,46;30,49;10\n".replace("50,46", "50.46").replace(
        "30,49", "30.49"
    )
    path = write("european.csv", text)
    refused = cli("incidents", "import", str(path))
    assert refused.exit_code == 2 and "--delimiter ';'" in refused.stderr and "row 1 (header)" in refused.stderr
    assert cli("incidents", "import", str(path), "--delimiter", ";").exit_code == 0
    sites = write("sites.csv", "name;kind;owner;lat;lon\nEmbassy;embassy;AZE;50.46;30.49\n")
    assert cli("sites", "import", str(sites), "--delimiter", ";").exit_code == 0


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("sites", "id,name,kind,owner,lat,lon\na,A,embassy,AZE,50.1,30.5\nb,B,embassy,AZE,50.2,30.5\n"
                  "a,C,embassy,AZE,50.3,30.5\n"),
        ("incidents", "id,time,lat,lon\ni1,2025-11-14,50.1,30.5\ni2,2025-11-14,50.2,30.5\ni1,2025-11-15,50.3,30.5\n"),
    ],
)  # fmt: skip
def test_a_repeated_id_names_both_rows_as_a_spreadsheet_numbers_them(cli, write, db_path, kind, text):
    path = write(f"{kind}.csv", text)
    before = file_digest(db_path) if not str(db_path).startswith("postgresql") else None
    result = cli(kind, "import", str(path))
    assert result.exit_code == 2
    assert "appears twice, in rows 2 and 4" in result.stderr and "row 4, field 'id'" in result.stderr
    if before is not None:
        assert file_digest(db_path) == before


def test_the_second_data_row_is_row_3(cli, write):
    result = cli(
        "sites", "import", str(write("s.csv", "name,kind,owner,lat,lon\nA,embassy,AZE,50,30\nB,bunker,AZE,50,30\n"))
    )
    assert result.exit_code == 2 and "s.csv, row 3, field 'kind'" in result.stderr


def test_update_import_of_an_acled_redownload_adds_the_new_event_and_revises_the_changed(db, write):
    db.incidents.import_file(write("a1.csv", ACLED_HEADER + ACLED_ROWS), "acled")
    newer = ACLED_ROWS.replace(",2,,1704412800", ",3,,1704499200") + ACLED_ROWS.splitlines(keepends=True)[1].replace(
        "UKR1002", "UKR1003"
    )
    result = db.incidents.import_file(write("a2.csv", ACLED_HEADER + newer), "acled", on_existing="update")
    assert (result.added, result.updated, result.unchanged) == (1, 1, 1)
    assert db.incidents.get("UKR1001").extra_fields["fatalities"] == 3
    assert db.incidents.history("UKR1001").events[0].record["extra"].startswith('{"actor1"')
    db.ledger.verify()
