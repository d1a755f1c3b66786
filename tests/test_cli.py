"""The command line as a user meets it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from deconflict.cli import app
from samples import INCIDENTS_CSV, SITES_CSV


def test_init_creates_the_database_at_the_db_option(tmp_path):
    path = tmp_path / "new.db"
    result = CliRunner().invoke(app, ["--db", str(path), "init", "--timezone", "Europe/Kyiv"])
    assert result.exit_code == 0 and path.exists()
    assert "Europe/Kyiv" in result.stdout


def test_db_path_comes_from_the_environment(tmp_path):
    path = tmp_path / "env.db"
    result = CliRunner().invoke(app, ["init"], env={"DECONFLICT_DB": str(path)})
    assert result.exit_code == 0 and path.exists()


def test_init_twice_is_a_conflict(cli):
    result = cli("init")
    assert result.exit_code == 2 and "already exists" in result.stderr


def test_unknown_timezone_is_refused(tmp_path):
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "x.db"), "init", "--timezone", "Mars/Base"])
    assert result.exit_code == 2 and "unknown timezone" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_sites_add_then_show_and_list_json(cli):
    added = cli(
        "sites",
        "add",
        "--id",
        "aze",
        "--name",
        "Embassy of Azerbaijan",
        "--kind",
        "embassy",
        "--owner",
        "AZE",
        "--lat",
        "50.46082",
        "--lon",
        "30.49056",
        "--alt-name",
        "uk=Посольство",
    )
    assert added.exit_code == 0, added.output
    assert "radius 50 m" in added.stdout
    shown = json.loads(cli("sites", "show", "aze", "--json").stdout)
    assert shown["names"] == [{"lang": "uk", "name": "Посольство"}] and shown["city"] == "Kyiv"
    listed = json.loads(cli("sites", "list", "--near", "50.4608,30.4905", "--within", "100", "--json").stdout)
    assert [s["id"] for s in listed] == ["aze"] and listed[0]["distance_m"] < 10


def test_sites_add_refuses_a_bad_owner_with_exit_2(cli):
    result = cli(
        "sites",
        "add",
        "--name",
        "X",
        "--kind",
        "embassy",
        "--owner",
        "Azerbaijan",
        "--lat",
        "50",
        "--lon",
        "30",
    )
    assert result.exit_code == 2 and "owner" in result.stderr and "Traceback" not in result.output


def test_sites_list_table_shows_distance_nearest_first(cli, write):
    cli("sites", "import", str(write("s.csv", SITES_CSV)))
    result = cli("sites", "list", "--near", "50.4455,30.5083", "--within", "5000")
    assert result.exit_code == 0
    rows = [line for line in result.stdout.splitlines() if line.endswith(("0", "m")) and "-emb" in line]
    assert rows[0].startswith("pol-emb")
    assert "3 site(s)" in result.stdout


def test_sites_list_rejects_malformed_near(cli):
    result = cli("sites", "list", "--near", "50.4", "--within", "10")
    assert result.exit_code == 2 and "LAT,LON" in result.stderr


def test_sites_export_geojson_to_file(cli, write, tmp_path):
    cli("sites", "import", str(write("s.csv", SITES_CSV)))
    target = tmp_path / "out.geojson"
    result = cli("sites", "export", "--format", "geojson", "--out", str(target))
    assert result.exit_code == 0
    document = json.loads(target.read_text())
    assert len(document["features"]) == 3


def test_incidents_import_list_and_export(cli, write):
    imported = cli("incidents", "import", str(write("i.csv", INCIDENTS_CSV)), "--json")
    assert json.loads(imported.stdout)["added"] == 3
    listed = json.loads(cli("incidents", "list", "--json").stdout)
    assert [row["id"] for row in listed] == ["i3", "i2", "i1"]
    near = json.loads(cli("incidents", "list", "--near", "50.4609,30.4906", "--within", "200", "--json").stdout)
    assert {row["id"] for row in near} == {"i1", "i2"}
    exported = cli("incidents", "export").stdout
    assert exported.splitlines()[0].startswith("id,time,time_precision,lat,lon")


def test_incidents_show_unknown_is_exit_2(cli):
    result = cli("incidents", "show", "missing")
    assert result.exit_code == 2 and "missing" in result.stderr


def test_commands_without_a_database_say_how_to_make_one(tmp_path):
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "none.db"), "sites", "list"])
    assert result.exit_code == 2 and "deconflict init" in result.stderr


def test_large_incident_imports_show_progress_and_complete(cli, write, db):
    lines = ["time,lat,lon,uncertainty_m"] + [f"2025-01-{1 + i % 28:02d},50.{i:05d},30.5,10" for i in range(12_000)]
    path = write("big.csv", "\n".join(lines) + "\n")
    result = cli("incidents", "import", str(path))
    assert result.exit_code == 0, result.output
    assert db.incidents.count() == 12_000


def test_an_unwritable_output_path_is_one_line_and_exit_2(cli, tmp_path):
    result = cli("sites", "export", "--out", str(tmp_path / "missing-dir" / "x.csv"))
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and "Traceback" not in result.output


def test_a_directory_where_a_file_is_expected_is_exit_2(cli, tmp_path):
    result = cli("incidents", "import", str(tmp_path))
    assert result.exit_code == 2 and "directory" in result.stderr
