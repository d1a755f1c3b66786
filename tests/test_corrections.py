"""Corrections in the append-only record: amendments, withdrawals, revisions and merges (both backends).

Each correction is a new log entry; the effective state is what every listing, analysis and bundle
uses; the old version stays in the log, the history and the evidence bundle; ``log verify`` passes.
"""

from __future__ import annotations

import json

import pytest

from deconflict.analysis import first_notifications
from deconflict.errors import ConflictError, Implausible, InvalidInput, NotFound, VerificationError
from deconflict.ledger.bundle import build_bundle, verify_bundle
from deconflict.ledger.entries import decode_entry
from deconflict.records import correction_labels
from samples import INCIDENTS_CSV, SITES_CSV


@pytest.fixture
def filled(db, write):
    db.sites.import_file(write("sites.csv", SITES_CSV))
    db.incidents.import_file(write("incidents.csv", INCIDENTS_CSV))
    return db


def test_site_amendment_is_a_new_commitment_and_every_view_uses_it(filled):
    db = filled
    before = db.store.site_commitments("pol-emb")
    _site, index = db.sites.amend("pol-emb", lat=50.44561, lon=30.50842, radius_m=40, reason="surveyed on site")
    after = db.store.site_commitments("pol-emb")
    assert len(after) == len(before) + 1 and after[-1].entry_index == index
    assert after[-1].commitment != before[-1].commitment and after[-1].salt != before[-1].salt
    entry = decode_entry(db.ledger.entry(index).data)
    assert entry["kind"] == "site_amended"
    assert entry["body"] == {"site_id": "pol-emb", "commitment": after[-1].commitment,
                             "supersedes": before[-1].entry_index, "reason": "surveyed on site"}  # fmt: skip
    listed = {h.site.id: h.site for h in db.sites.list()}["pol-emb"]
    assert (listed.lat, listed.lon, listed.radius_m) == (50.44561, 30.50842, 40.0)
    assert [h.site.id for h in db.sites.list(near=(50.44561, 30.50842), within_m=5)] == ["pol-emb"]
    history = db.sites.history("pol-emb")
    assert history.state == "amended"
    assert [(e.action, e.record["lat"]) for e in history.events] == [("recorded", "50.4455"), ("amended", "50.44561")]
    assert history.events[1].reason == "surveyed on site"
    db.ledger.verify()


def test_amending_an_approximate_site_makes_it_exact_unless_told(filled):
    db = filled
    db.sites.create(name="Mission", kind="embassy", owner="HRV", lat=50.45, lon=30.52, approximate=True, id="hrv")
    site, _ = db.sites.amend("hrv", lat=50.4501, lon=30.5203, reason="placed from a survey photo")
    assert site.approximate is False
    site, _ = db.sites.amend("hrv", lat=50.4502, lon=30.5203, approximate=True, reason="still a guess")
    assert site.approximate is True


def test_a_correction_needs_a_reason_and_a_change(filled):
    with pytest.raises(InvalidInput, match="reason") as exc:
        filled.sites.amend("pol-emb", lat=50.4456, reason=" ")
    assert exc.value.where == "reason"
    with pytest.raises(InvalidInput, match="changes nothing"):
        filled.sites.amend("pol-emb", lat=50.4455, reason="no-op")
    assert filled.ledger.size == 4


def test_a_tampered_site_or_broken_chain_fails_verification(filled):
    db = filled
    db.sites.amend("pol-emb", lat=50.44561, reason="surveyed")
    with db.store.transaction():
        db.store.connection.execute("UPDATE sites SET lat = 50.4455 WHERE id = 'pol-emb'")
    with pytest.raises(VerificationError, match="log entry 4: table sites, row 'pol-emb', lat"):
        db.ledger.verify()


def test_withdrawn_site_leaves_listings_but_keeps_its_history_and_bundle(filled):
    db = filled
    _notification, _ = db.notifications.notify(["fra-emb"], to="RUS", at="2025-10-05")
    _, index = db.sites.withdraw("fra-emb", reason="registered twice")
    assert "fra-emb" not in {h.site.id for h in db.sites.list()} and db.sites.count() == 2
    assert "fra-emb" in {h.site.id for h in db.sites.list(include_withdrawn=True)}
    assert db.sites.history("fra-emb").state == "withdrawn"
    with pytest.raises(ConflictError):
        db.sites.withdraw("fra-emb", reason="again")
    with pytest.raises(ConflictError):
        db.sites.amend("fra-emb", lat=50.44, reason="too late")
    report = verify_bundle(build_bundle(db.ledger, "fra-emb"), db.ledger.verifier_key)
    assert any("WITHDRAWN" in s and "registered twice" in s and str(index) in s for s in report.statements)
    db.ledger.verify()


def test_notification_amendment_is_used_by_the_analysis_and_said(filled):
    db = filled
    notification, first = db.notifications.notify(["aze-emb"], to="RUS", at="2025-10-05")
    amended, index = db.notifications.amend(notification.id, at="2025-10-03", reason="date misread from the note")
    ((listed, listed_index),) = db.notifications.list()
    assert listed == amended and listed_index == index
    assert first_notifications(db)["aze-emb"].notified_at == amended.notified_at
    assert any("AMENDED" in label and "date misread" in label for label in correction_labels(db))
    original = decode_entry(db.ledger.entry(first).data)
    assert original["body"]["notified_at"]["start"] == "2025-10-04T21:00:00Z"  # the log keeps the original
    history = db.notifications.history(notification.id)
    assert [e.action for e in history.events] == ["recorded", "amended"]
    assert db.notifications.get(notification.id).to_json()["notified_at_text"] == "2025-10-03"
    db.ledger.verify()


def test_bundle_carries_the_chain_of_a_site_and_its_notification(filled):
    db = filled
    notification, _ = db.notifications.notify(["aze-emb"], to="RUS", at="2025-10-05")
    db.sites.amend("aze-emb", lat=50.46090, lon=30.49060, reason="surveyed on site")
    db.notifications.amend(notification.id, reference="NV-12/2025", reason="reference added")
    data = build_bundle(db.ledger, "aze-emb")
    report = verify_bundle(data, db.ledger.verifier_key)
    text = "\n".join(report.statements)
    assert "50.46082" in text and "50.4609" in text and "surveyed on site" in text
    assert "AMENDED" in text and "reference added" in text and "NV-12/2025" in text
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        site = json.loads(archive.read("site.json"))
    assert len(site["earlier_versions"]) == 1


def test_withdrawn_notification_takes_its_acknowledgements_out_of_force(filled):
    db = filled
    notification, _ = db.notifications.notify(["aze-emb"], to="RUS", at="2025-10-05")
    _ack, _ = db.notifications.acknowledge(notification.id, by="RUS", at="2025-10-06")
    db.notifications.withdraw(notification.id, reason="entered for the wrong site")
    assert db.notifications.list() == [] and db.notifications.acknowledgements() == []
    assert [n.id for n, _ in db.notifications.list(include_withdrawn=True)] == [notification.id]
    assert "aze-emb" not in first_notifications(db)
    assert db.notifications.get(notification.id).state == "withdrawn"
    db.ledger.verify()


def test_acknowledgement_withdrawal(filled):
    db = filled
    notification, _ = db.notifications.notify(["aze-emb"], to="RUS", at="2025-10-05")
    ack, _ = db.notifications.acknowledge(notification.id, by="RUS", at="2025-10-06")
    _, index = db.acknowledgements.withdraw(ack.id, reason="the reply was to another note")
    assert db.notifications.acknowledgements() == []
    assert db.acknowledgements.history(ack.id).state == "withdrawn"
    assert decode_entry(db.ledger.entry(index).data)["kind"] == "acknowledgement_withdrawn"
    with pytest.raises(NotFound):
        db.acknowledgements.withdraw("ack-nope", reason="x")
    db.ledger.verify()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda db, f: db.notifications.notify(["aze-emb"], to="RUS", at="2999-01-01", force=f), "in the future"),
        (lambda db, f: db.sites.create(name="Swapped", kind="embassy", owner="AZE", lat=30.49, lon=50.46,
                                       city="Kyiv", force=f),
         "lat and lon swapped"),
        (lambda db, f: db.sites.create(name="Twice", kind="embassy", owner="AZE", lat=50.46083, lon=30.49057,
                                       force=f),
         "probably the same site"),
    ],
)  # fmt: skip
def test_implausible_input_warns_writes_nothing_and_force_records_it(filled, call, match):
    db = filled
    size = db.ledger.size
    with pytest.raises(Implausible, match=match):
        call(db, False)
    assert db.ledger.size == size
    call(db, True)
    assert db.ledger.size == size + 1


def test_acknowledgement_before_its_notification_needs_force(filled):
    db = filled
    notification, _ = db.notifications.notify(["aze-emb"], to="RUS", at="2025-10-05")
    with pytest.raises(Implausible, match="before the notification"):
        db.notifications.acknowledge(notification.id, by="RUS", at="2025-09-01")
    db.notifications.acknowledge(notification.id, by="RUS", at="2025-09-01", force=True)
    assert len(db.notifications.acknowledgements()) == 1


def test_reimport_with_update_revises_changed_records_and_keeps_the_old_version(filled, write):
    db = filled
    revised = INCIDENTS_CSV.replace("on the premises", "on the premises (ACLED revision)")
    revised += "i4,2025-11-20,day,50.45,30.52,100,drone,,,fair,\n"
    path = write("incidents-2.csv", revised)
    with pytest.raises(ConflictError, match="already in the database"):
        db.incidents.import_file(path)
    assert db.incidents.count() == 3
    result = db.incidents.import_file(path, on_existing="update")
    assert (result.added, result.updated, result.unchanged) == (1, 1, 2)
    assert db.incidents.count() == 4 and db.incidents.get("i1").notes == "on the premises (ACLED revision)"
    history = db.incidents.history("i1")
    assert history.state == "revised" and [e.kind for e in history.events] == ["incident", "incident_revision"]
    assert history.events[0].record["notes"] == "on the premises"
    again = db.incidents.import_file(path, on_existing="update")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 4)
    skip = db.incidents.import_file(write("i3.csv", revised.replace("(ACLED revision)", "(third)")), on_existing="skip")
    assert (skip.added, skip.updated) == (0, 0) and "(ACLED revision)" in db.incidents.get("i1").notes
    db.ledger.verify()


def test_a_revision_keeps_the_review_decision(filled, write):
    db = filled
    db.incidents.review("i3", "rejected", "not a strike")
    db.incidents.import_file(write("r.csv", INCIDENTS_CSV.replace("Shahed", "Geran-2")), on_existing="update")
    assert db.incidents.get("i3").status == "rejected" and db.incidents.get("i3").weapon == "Geran-2"
    db.ledger.verify()


def test_merge_counts_a_strike_once_and_keeps_every_source(filled, write):
    db = filled
    db.incidents.import_file(
        write("news.csv", "id,time,lat,lon,uncertainty_m,kind,source_url\n"
                          "news-1,2025-11-14T01:30:00+02:00,50.4610,30.4907,300,missile,https://example.org/news\n")
    )  # fmt: skip
    groups = db.incidents.duplicates()
    assert [g.incident_ids for g in groups] == [("i1", "news-1")] and groups[0].keep == "i1"
    merged, index = db.incidents.merge(["news-1", "i1"])
    assert merged.id == "i1" and merged.uncertainty_m == 0.0
    assert merged.time.precision == "instant"  # the most precise time (the news report's)
    assert {s.url for s in merged.sources} == {"https://example.org/a", "https://example.org/news"}
    assert db.incidents.count() == 3 and "news-1" not in {i.id for i in db.incidents.list()}
    assert db.incidents.history("news-1").state == "merged into i1"
    assert db.incidents.duplicates() == []
    with pytest.raises(NotFound):
        db.incidents.merge(["news-1", "i2"])
    db.ledger.verify()
    report = verify_bundle(build_bundle(db.ledger, "aze-emb"), db.ledger.verifier_key)
    assert str(index) in report.statements[-2]


def test_merge_of_reports_that_cannot_be_one_strike_needs_force(filled):
    with pytest.raises(Implausible, match="do not overlap in time"):
        filled.incidents.merge(["i1", "i3"])
    with pytest.raises(InvalidInput, match="at least two"):
        filled.incidents.merge(["i1", "i1"])
    merged, _ = filled.incidents.merge(["i1", "i3"], keep="i3", force=True, reason="one event per the ministry")
    assert merged.id == "i3"
