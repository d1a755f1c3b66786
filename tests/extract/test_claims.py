"""Claims become records: ``extract --import`` stores them unverified; a person confirms or rejects.

Runs on both backends (the ``db`` and ``cli`` fixtures are parametrised over SQLite and PostGIS).
The report below is written for the tests (fictional, synthetic).
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from deconflict.errors import ConflictError, InvalidInput, NotFound
from deconflict.ledger.entries import decode_entry
from deconflict.model import Claim
from deconflict.store.base import ClaimQuery

KYIV = ZoneInfo("Europe/Kyiv")
SITES = (
    "id,name,kind,owner,lat,lon,city\n"
    "aze-emb,Embassy of Azerbaijan,embassy,AZE,50.4395,30.501,Kyiv\n"
    "aze-cons,Consular section of the Embassy of Azerbaijan,consular_section,AZE,50.4399,30.5017,Kyiv\n"
    "aze-cc,Azerbaijani Cultural Centre,cultural_centre,AZE,50.447,30.513,Kyiv\n"
)
# Synthetic report, written for the tests.
REPORT = """Aliyev: Moscow knew where our buildings were
Published 14 February 2026, 17:05

MUNICH, Feb 14 (Agency) - Azerbaijan's embassy in Kyiv was damaged in the night of 21 August 2025 and
again in the nights of 14 November and 27 December 2025, President Ilham Aliyev said on Saturday.

"After the first attack we handed the Russian side the coordinates of our embassy, the consular section and
the cultural centre," Aliyev told the conference. "Two more attacks followed."

Azerbaijan's foreign ministry summoned the Russian ambassador on 15 November and handed him a note of protest.
"""


@pytest.fixture
def imported(cli, write, db) -> dict[str, object]:
    assert cli("sites", "import", str(write("sites.csv", SITES))).exit_code == 0
    result = cli("extract", str(write("report.txt", REPORT)), "--import", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _notification_claim(db) -> Claim:
    (claim,) = db.claims.list(kind="notification")
    return claim


def test_extract_import_stores_the_claim_and_the_responses_unverified_with_the_report_hash(imported, db):
    report = imported["reports"][0]
    claim = _notification_claim(db)
    assert claim.status == "unverified" and claim.source_sha256 == report["source_sha256"]
    assert set(claim.site_ids) == {"aze-emb", "aze-cons", "aze-cc"}
    assert (claim.sender, claim.recipient) == ("AZE", "RUS")
    kinds = {c.response_kind for c in db.claims.list(kind="response")}
    assert {"summons", "protest_note"} <= kinds
    assert set(imported["claims"]) == {c.id for c in db.claims.list()}


def test_the_claim_is_bounded_by_the_first_and_the_second_hit(imported, db):
    claim = _notification_claim(db)
    assert claim.not_before == datetime(2025, 8, 21, 6, 0, tzinfo=KYIV)
    assert claim.not_after == datetime(2025, 11, 13, 18, 0, tzinfo=KYIV)


def test_confirming_a_notification_claim_logs_a_notification_with_the_interval_and_the_source(imported, db):
    claim = _notification_claim(db)
    size = db.ledger.size
    review = db.claims.confirm(claim.id, note="checked against the MSC transcript")
    notification = review.notification
    assert notification is not None and review.log_index == size
    assert notification.notified_at.precision == "interval"
    assert (notification.notified_at.start, notification.notified_at.end) == (claim.not_before, claim.not_after)
    assert notification.reference == f"sha256:{claim.source_sha256}"
    assert set(notification.site_ids) == {"aze-emb", "aze-cons", "aze-cc"} and notification.recipient == "RUS"
    (entry,) = [decode_entry(row.data) for row in db.ledger.entries(size)]
    assert entry["kind"] == "notification" and entry["body"]["notification_id"] == notification.id
    stored = db.claims.get(claim.id)
    assert (stored.status, stored.notification_id, stored.review_note) == (
        "confirmed",
        notification.id,
        "checked against the MSC transcript",
    )
    assert [n.id for n, _ in db.notifications.list("aze-cc")] == [notification.id]


def test_a_claim_is_reviewed_once(imported, db):
    claim = _notification_claim(db)
    db.claims.reject(claim.id, note="another embassy")
    size = db.ledger.size
    with pytest.raises(ConflictError, match="already rejected"):
        db.claims.confirm(claim.id)
    assert db.ledger.size == size and db.claims.get(claim.id).status == "rejected"


def test_reimporting_the_report_adds_no_claim(imported, cli, write, db):
    again = json.loads(cli("extract", str(write("report.txt", REPORT)), "--import", "--json").stdout)
    assert again["claims"] == [] and again["imported"] == []
    assert db.claims.count() == len(imported["claims"])


def test_a_claim_without_a_lower_bound_needs_the_reviewer_to_give_the_time(cli, write, db):
    cli("sites", "import", str(write("sites.csv", SITES)))
    text = "Date: 2025-12-01\nBaku said it had passed the coordinates of its embassy in Kyiv to the Russian side."
    cli("extract", str(write("short.txt", text)), "--import")
    claim = _notification_claim(db)
    assert claim.not_before is None
    with pytest.raises(InvalidInput, match="give the time"):
        db.claims.confirm(claim.id)
    review = db.claims.confirm(claim.id, at="2025-10-01/2025-12-02")
    assert review.notification is not None and review.notification.site_ids == ("aze-emb",)


def test_cli_lists_shows_confirms_and_rejects(imported, cli, db):
    listing = json.loads(cli("claims", "list", "--kind", "notification", "--json").stdout)
    (row,) = listing
    shown = json.loads(cli("claims", "show", row["id"], "--json").stdout)
    assert shown == row
    confirmed = cli("claims", "confirm", row["id"], "--json")
    assert confirmed.exit_code == 0, confirmed.output
    assert json.loads(confirmed.stdout)["notification"]["precision"] == "interval"
    response = db.claims.list(kind="response")[0]
    rejected = cli("claims", "reject", response.id, "--note", "duplicate")
    assert rejected.exit_code == 0 and db.claims.get(response.id).status == "rejected"
    twice = cli("claims", "confirm", row["id"])
    assert twice.exit_code == 2 and "already confirmed" in twice.stderr


def test_cli_refuses_an_unknown_claim_and_a_bad_status(cli):
    missing = cli("claims", "show", "clm-nope")
    assert missing.exit_code == 2 and "clm-nope" in missing.stderr
    bad = cli("claims", "list", "--status", "maybe")
    assert bad.exit_code == 2 and "maybe" in bad.stderr


def test_the_store_refuses_a_stored_claim_id_and_changes_nothing(imported, db):
    claim = db.claims.list()[0]
    with pytest.raises(ConflictError), db.store.transaction():
        db.store.insert_claims([claim], None)
    assert db.store.count_claims(ClaimQuery()) == len(imported["claims"])
    with pytest.raises(NotFound), db.store.transaction():
        db.store.review_claim("clm-nope", "rejected", "2026-01-01T00:00:00Z", None, None)
