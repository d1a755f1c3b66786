"""`deconflict extract --import`, then review: confirm or reject, each a log entry."""

from __future__ import annotations

import json
from pathlib import Path

from deconflict.ledger.entries import decode_entry

REPORTS = Path(__file__).parent / "reports"
SITES = (
    "id,name,kind,owner,lat,lon,city,name:de,name:uk\n"
    "wd-Q5369559,Embassy of Azerbaijan,embassy,AZE,50.46082,30.49056,Kyiv,Botschaft Aserbaidschans,"
    "Посольство Азербайджану\n"
)


def test_extract_import_stores_unverified_candidates_with_their_source(cli, write, db):
    assert cli("sites", "import", str(write("sites.csv", SITES))).exit_code == 0
    result = cli("extract", str(REPORTS / "en01.txt"), str(REPORTS / "de01.txt"), "--import", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["imported"], payload
    for incident_id in payload["imported"]:
        incident = db.incidents.get(incident_id)
        assert incident.status == "unverified" and incident.provenance == "extracted"
        assert not incident.counted
        assert incident.source.sha256 in {r["source_sha256"] for r in payload["reports"]}
    assert all(i.status == "unverified" for i in db.incidents.list(provenance="extracted"))


def test_confirm_and_reject_are_log_entries_and_change_what_counts(cli, write, db):
    cli("sites", "import", str(write("sites.csv", SITES)))
    imported = json.loads(cli("extract", str(REPORTS), "--import", "--json").stdout)["imported"]
    first, second = imported[0], imported[1]
    size = db.ledger.size
    assert cli("incidents", "confirm", first, "--note", "matches the MFA statement").exit_code == 0
    assert cli("incidents", "reject", second).exit_code == 0
    assert db.incidents.get(first).counted and db.incidents.get(first).status == "confirmed"
    assert db.incidents.get(second).status == "rejected" and not db.incidents.get(second).counted
    entries = [decode_entry(row.data) for row in db.ledger.entries(size)]
    assert [(e["kind"], e["body"]["incident_id"], e["body"]["status"]) for e in entries] == [
        ("review", first, "confirmed"),
        ("review", second, "rejected"),
    ]
    assert db.ledger.verify().size == size + 2


def test_reimporting_the_same_reports_adds_nothing(cli, write, db):
    cli("sites", "import", str(write("sites.csv", SITES)))
    first = json.loads(cli("extract", str(REPORTS / "en01.txt"), "--import", "--json").stdout)["imported"]
    again = json.loads(cli("extract", str(REPORTS / "en01.txt"), "--import", "--json").stdout)["imported"]
    assert first and again == []


def test_extract_missing_path_is_exit_2(cli, tmp_path):
    result = cli("extract", str(tmp_path / "nope.txt"))
    assert result.exit_code == 2 and "nope.txt" in result.stderr


def test_confirm_unknown_incident_is_exit_2(cli):
    result = cli("incidents", "confirm", "nope")
    assert result.exit_code == 2 and "nope" in result.stderr


def test_review_of_several_ids_is_all_or_nothing(cli, write, db):
    cli("sites", "import", str(write("sites.csv", SITES)))
    imported = json.loads(cli("extract", str(REPORTS / "en01.txt"), "--import", "--json").stdout)["imported"]
    size = db.ledger.size
    result = cli("incidents", "reject", imported[0], "nosuch")
    assert result.exit_code == 2 and "nosuch" in result.stderr
    assert db.incidents.get(imported[0]).status == "unverified" and db.ledger.size == size


def test_confirming_twice_is_refused(cli, write, db):
    cli("sites", "import", str(write("sites.csv", SITES)))
    first = json.loads(cli("extract", str(REPORTS / "en01.txt"), "--import", "--json").stdout)["imported"][0]
    assert cli("incidents", "confirm", first).exit_code == 0
    again = cli("incidents", "confirm", first)
    assert again.exit_code == 2 and "already confirmed" in again.stderr
