"""Breach monitoring: every incident write is checked, in its own transaction, and alerts are raised once."""

from __future__ import annotations

import pytest

import deconflict
from deconflict.access import Principal
from deconflict.errors import ConflictError, NotFound, VerificationError
from deconflict.guarantees.breach import sweep
from deconflict.guarantees.monitor import run_once
from deconflict.model import Incident
from deconflict.times import parse_time
from guarantees.conftest import far_away, on_embassy

AZE = Principal("t-aze", frozenset({"owner:AZE"}), "aze")
POL = Principal("t-pol", frozenset({"owner:POL"}), "pol")


def test_an_import_raises_an_alert_in_its_own_transaction_and_log_entry(
    protected: deconflict.Database, write: object
) -> None:
    db = protected
    path = write("reports.csv", "id,time,lat,lon,uncertainty_m\nhit,2025-03-01T12:00,50.45,30.5201,20\n")  # type: ignore[operator]
    db.incidents.import_file(path)
    (record,) = db.alerts.list()
    alert = record.alert
    assert (alert.incident_id, alert.object.id, alert.basis_kind, alert.basis_id) == (
        "hit",
        "emb",
        "notification",
        "ntf-emb",
    )
    assert alert.hit_probability == pytest.approx(1.0) and alert.trigger == "import"
    assert db.ledger.entry(alert.log_index).kind == "alert"
    assert alert.incident_index == db.store.incident_entry("hit")[0]  # type: ignore[index]
    db.ledger.verify()


def test_a_refused_import_raises_no_alert(protected: deconflict.Database) -> None:
    db = protected
    db.incidents.add_rows([on_embassy("hit")])
    size = db.ledger.size
    with pytest.raises(ConflictError):
        db.incidents.add_rows([on_embassy("hit-2"), on_embassy("hit")])
    assert [a.alert.incident_id for a in db.alerts.list()] == ["hit"] and db.ledger.size == size


def test_an_incident_before_the_notification_or_far_away_raises_nothing(protected: deconflict.Database) -> None:
    protected.incidents.add_rows([on_embassy("early", "2024-06-01T12:00"), far_away("far")])
    assert protected.alerts.list() == []


def test_an_unverified_extracted_incident_alerts_when_a_person_confirms_it(protected: deconflict.Database) -> None:
    db = protected
    db.incidents.add(
        Incident(
            id="x1",
            time=parse_time("2025-03-01T12:00Z"),
            lat=50.45,
            lon=30.52,
            status="unverified",
            provenance="extracted",
        )
    )
    assert db.alerts.list() == []
    db.incidents.review("x1", "confirmed")
    (record,) = db.alerts.list()
    assert record.alert.trigger == "review" and record.alert.incident_id == "x1"


def test_the_threshold_decides_and_a_lower_one_is_caught_by_the_monitor(protected: deconflict.Database) -> None:
    db = protected
    # 400 m away with a 500 m uncertainty disk: a hit probability of about 0.003
    db.incidents.add_rows(
        [{"id": "edge", "time": "2025-03-01T12:00", "lat": 50.4536, "lon": 30.52, "uncertainty_m": 500}]
    )
    assert db.alerts.list() == []
    db.alerts.set_threshold(0.001)
    raised = run_once(db, deliver=False).alerts
    assert [a.incident_id for a in raised] == ["edge"] and raised[0].hit_probability < 0.05
    assert run_once(db, deliver=False).alerts == []  # at most once
    with pytest.raises(deconflict.InvalidInput):
        db.alerts.set_threshold(0)


def test_a_commitment_covering_the_time_replaces_the_notification_basis(protected: deconflict.Database) -> None:
    db = protected
    commitment, _ = db.commitments.add(party="RUS", sites=["emb"], made_at="2025-02-01", until="2025-03-31")
    db.incidents.add_rows([on_embassy("in-window"), on_embassy("after-window", "2025-05-01T12:00")])
    bases = {(a.alert.incident_id, a.alert.basis_kind) for a in db.alerts.list()}
    assert bases == {("in-window", "commitment"), ("after-window", "notification")}
    assert db.alerts.list(commitment_id=commitment.id)[0].alert.commitment_id == commitment.id


def test_a_commitment_recorded_later_raises_alerts_for_incidents_already_in_its_window(
    protected: deconflict.Database,
) -> None:
    db = protected
    db.incidents.add_rows([on_embassy("hit")])
    assert [a.alert.basis_kind for a in db.alerts.list()] == ["notification"]
    db.commitments.add(party="RUS", sites=["emb"], made_at="2025-02-15", start="2025-02-01")
    assert sorted(a.alert.basis_kind for a in db.alerts.list()) == ["commitment", "notification"]
    assert sweep(db) == []


def test_an_owner_sees_only_the_alerts_on_its_own_objects(protected: deconflict.Database) -> None:
    db = protected
    db.sites.create(name="Other", kind="embassy", owner="POL", lat=50.47, lon=30.50, id="pol")
    db.notifications.notify(["pol"], to="RUS", at="2025-01-01")
    db.incidents.add_rows(
        [on_embassy("hit"), {"id": "pol-hit", "time": "2025-03-01T12:00", "lat": 50.47, "lon": 30.50}]
    )
    assert [a.alert.incident_id for a in db.alerts.list(principal=AZE)] == ["hit"]
    assert [a.alert.incident_id for a in db.alerts.list(principal=POL)] == ["pol-hit"]
    assert db.alerts.list(principal=POL, owner="AZE") == []
    aze_alert = db.alerts.list(principal=AZE)[0].alert.id
    with pytest.raises(NotFound):
        db.alerts.get(aze_alert, principal=POL)
    with pytest.raises(NotFound):
        db.alerts.acknowledge(aze_alert, principal=POL)


def test_an_alert_is_acknowledged_once_as_a_log_entry(protected: deconflict.Database) -> None:
    db = protected
    db.incidents.add_rows([on_embassy("hit")])
    (record,) = db.alerts.list()
    acknowledged, index = db.alerts.acknowledge(record.alert.id, note="seen; note verbale sent", principal=AZE)
    assert acknowledged.acknowledged == {
        "by": "aze",
        "note": "seen; note verbale sent",
        "log_index": index,
        "at": db.ledger.entry(index).logged_at,
    }
    assert db.alerts.list(unacknowledged=True) == []
    with pytest.raises(ConflictError):
        db.alerts.acknowledge(record.alert.id)


def test_log_verify_notices_an_alert_row_removed_or_changed(protected: deconflict.Database) -> None:
    db = protected
    db.incidents.add_rows([on_embassy("hit")])
    db.ledger.verify()
    (record,) = db.alerts.list()
    with db.store.transaction():
        db.store.update_rows("alerts", {"id": record.alert.id}, {"object_id": "elsewhere", "id": "alr-forged"})
    with pytest.raises(VerificationError):
        db.ledger.verify()
