"""Commitments: named objects, windows, acknowledgement deadlines whose silence is logged once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import deconflict
from deconflict.errors import InvalidInput, NotFound
from deconflict.guarantees.commitments import acknowledgement_status
from deconflict.guarantees.monitor import run_once

DEADLINE = datetime(2025, 2, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "acknowledged,now,status",
    [
        (None, datetime(2025, 2, 1, tzinfo=UTC), "awaiting"),
        (None, datetime(2025, 2, 16, tzinfo=UTC), "unacknowledged"),
        (datetime(2025, 2, 10, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC), "acknowledged"),
        (datetime(2025, 2, 20, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC), "acknowledged late"),
    ],
)
def test_acknowledgement_status_rule(acknowledged: datetime | None, now: datetime, status: str) -> None:
    assert acknowledgement_status(DEADLINE, acknowledged, now) == status


def test_no_deadline_means_not_requested() -> None:
    assert acknowledgement_status(None, None, DEADLINE) == "not requested"


def test_all_sites_of_an_owner_are_resolved_to_the_named_list_when_recorded(protected: deconflict.Database) -> None:
    db = protected
    commitment, index = db.commitments.add(
        party="RUS", owners=["AZE"], form="public-statement", text="diplomatic locations are taken into account"
    )
    db.sites.create(name="Later", kind="consulate", owner="AZE", lat=50.40, lon=30.40, id="later")
    assert commitment.site_ids == ("emb",) and commitment.owners == ("AZE",)
    body = db.ledger.entry(index).data
    assert b'"site_id":"emb"' in body and b"later" not in body
    assert db.commitments.get(commitment.id).to_json()["public_statement"] is True


@pytest.mark.parametrize(
    "fields,error,where",
    [
        ({"sites": ["nope"]}, NotFound, "sites"),
        ({"sites": ["emb"], "made_at": "2025-03-01", "deadline": "2025-02-01"}, InvalidInput, "deadline"),
        ({"sites": ["emb"], "start": "2025-03-05", "until": "2025-03-01"}, InvalidInput, "until"),
        ({}, InvalidInput, "sites"),
        ({"sites": ["emb"], "form": "rumour"}, InvalidInput, "form"),
        ({"sites": ["emb"], "party": "Russia"}, InvalidInput, "party"),
    ],
)
def test_bad_commitments_are_refused_and_nothing_is_written(
    protected: deconflict.Database, fields: dict[str, object], error: type[Exception], where: str
) -> None:
    db = protected
    size = db.ledger.size
    with pytest.raises(error) as caught:
        db.commitments.add(**{"party": "RUS", **fields})  # type: ignore[arg-type]
    assert caught.value.where == where  # type: ignore[attr-defined]
    assert db.ledger.size == size and db.commitments.records() == []


def test_a_missed_deadline_is_logged_once_and_a_late_acknowledgement_says_so(protected: deconflict.Database) -> None:
    db = protected
    commitment, _ = db.commitments.add(party="RUS", sites=["emb"], made_at="2025-02-01", deadline="2025-02-15")
    assert db.commitments.get(commitment.id).status == "unacknowledged"  # computed, before any monitor run
    first = run_once(db, deliver=False).deadlines_missed
    assert [c for c, _ in first] == [commitment.id]
    entry = db.ledger.entry(first[0][1])
    assert entry.kind == "deadline_missed" and b'"deadline":"2025-02-15T22:00:00Z"' in entry.data
    assert run_once(db, deliver=False).deadlines_missed == []
    _, index = db.acknowledge(commitment.id, by="RUS", at="2025-03-01")
    record = db.commitments.get(commitment.id)
    assert record.status == "acknowledged late" and record.acknowledgements[0][1] == index
    assert record.deadline_missed_index == first[0][1]
    db.ledger.verify()


def test_an_acknowledgement_by_the_deadline_is_acknowledged(protected: deconflict.Database) -> None:
    db = protected
    commitment, _ = db.commitments.add(party="RUS", sites=["emb"], made_at="2025-02-01", deadline="2025-02-15")
    db.acknowledge(commitment.id, by="RUS", at="2025-02-10", reference="note 123")
    assert db.commitments.get(commitment.id).status == "acknowledged"
    assert run_once(db, deliver=False).deadlines_missed == []
