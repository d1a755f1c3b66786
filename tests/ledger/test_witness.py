"""Witness state: refuses rollback, forks and unproven growth; cosigns what it verified."""

from __future__ import annotations

import pytest

import deconflict
from deconflict.errors import InvalidInput, VerificationError
from deconflict.ledger.checkpoint import verify_cosignatures
from deconflict.ledger.witness import WitnessState, cosign, generate_witness_key, update
from deconflict.model import Site


def grow(db, n, prefix):
    db.sites.add_many([Site(id=f"{prefix}{i}", name=f"S{i}", kind="other", owner="UKR", lat=50.4, lon=30.5 + i / 1000,
                            city="Kyiv") for i in range(n)])  # fmt: skip
    return db.ledger.sign_checkpoint()


def test_witness_accepts_consistent_growth(db, tmp_path):
    state = tmp_path / "witness.json"
    first = grow(db, 3, "a")
    assert update(state, first.note, None, log_key=db.ledger.verifier_key).old_size is None
    second = grow(db, 4, "b")
    result = update(state, second.note, db.ledger.consistency_proof(3, 7))
    assert (result.old_size, result.new_size) == (3, 7)
    assert WitnessState.load(state).size == 7


def test_witness_refuses_a_smaller_checkpoint(db, tmp_path):
    state = tmp_path / "witness.json"
    small = grow(db, 3, "a")
    big = grow(db, 2, "b")
    update(state, small.note, None, log_key=db.ledger.verifier_key)
    update(state, big.note, db.ledger.consistency_proof(3, 5))
    before = state.read_bytes()
    with pytest.raises(VerificationError, match="smaller"):
        update(state, small.note, None)
    assert state.read_bytes() == before


def test_witness_refuses_growth_without_a_proof(db, tmp_path):
    state = tmp_path / "witness.json"
    update(state, grow(db, 3, "a").note, None, log_key=db.ledger.verifier_key)
    with pytest.raises(VerificationError, match="no consistency proof"):
        update(state, grow(db, 1, "b").note, [])


def test_witness_detects_a_fork(tmp_path, db_path):
    """The operator rewrites history: a second log with the same key but different entries."""
    key_file = tmp_path / "shared.key"
    honest = deconflict.init(tmp_path / "honest.db", key_file=key_file)
    forked = deconflict.init(tmp_path / "forked.db", key_file=key_file)
    state = tmp_path / "witness.json"
    update(state, grow(honest, 3, "a").note, None, log_key=honest.ledger.verifier_key)
    grow(forked, 2, "a")
    rewritten = grow(forked, 3, "x")  # a different history of size 5
    with pytest.raises(VerificationError, match="fork"):
        update(state, rewritten.note, forked.ledger.consistency_proof(3, 5))
    same_size = grow(deconflict.init(tmp_path / "third.db", key_file=key_file), 3, "z")
    with pytest.raises(VerificationError, match="fork"):
        update(state, same_size.note, None)


def test_witness_refuses_a_checkpoint_signed_by_another_key(db, tmp_path):
    state = tmp_path / "witness.json"
    update(state, grow(db, 2, "a").note, None, log_key=db.ledger.verifier_key)
    other = deconflict.init(tmp_path / "other.db")
    with pytest.raises(VerificationError):
        update(state, grow(other, 3, "a").note, other.ledger.consistency_proof(2, 3))


def test_first_use_needs_the_log_key(db, tmp_path):
    with pytest.raises(InvalidInput, match="log's key"):
        update(tmp_path / "w.json", grow(db, 1, "a").note, None)


def test_witness_cosignature_is_stored_and_verifiable(db, tmp_path):
    state = tmp_path / "witness.json"
    update(state, grow(db, 2, "a").note, None, log_key=db.ledger.verifier_key)
    witness = generate_witness_key("witness.example")
    cosigned = cosign(state, witness, timestamp=1_760_000_000)
    stored = db.ledger.add_cosigned_checkpoint(cosigned)
    (cosignature,) = verify_cosignatures(stored.note, [witness.vkey])
    assert (cosignature.name, cosignature.timestamp) == ("witness.example", 1_760_000_000)
    assert db.ledger.latest_checkpoint().note == cosigned
