"""The persistent log: appends, proofs against the stored tree, tampering caught by verify."""

from __future__ import annotations

import pytest

import deconflict
from deconflict.errors import NotFound, VerificationError
from deconflict.ledger import merkle
from deconflict.ledger.checkpoint import verify_checkpoint
from deconflict.ledger.entries import canonical_json, canonical_record, decode_entry
from pg import tamper
from samples import INCIDENTS_CSV, SITES_CSV


@pytest.fixture
def ledger_db(db, write):
    db.sites.import_file(write("sites.csv", SITES_CSV))
    db.incidents.import_file(write("incidents.csv", INCIDENTS_CSV))
    db.notifications.notify(["aze-emb"], to="RUS", at="2024-06-01", channel="note-verbale", reference="No. 1", id="n1")
    db.ledger.sign_checkpoint()
    return db


def leaves(db):
    return [row.data for row in db.ledger.entries()]


def test_entries_are_canonical_json_naming_their_index_and_kind(ledger_db):
    kinds = [row.kind for row in ledger_db.ledger.entries()]
    assert kinds == ["site_committed"] * 3 + ["incident", "notification"]
    for row in ledger_db.ledger.entries():
        decoded = decode_entry(row.data)
        assert decoded["index"] == row.index and decoded["kind"] == row.kind
        assert canonical_json(decoded) == row.data
        assert row.leaf_hash == merkle.leaf_hash(row.data)


def test_stored_tree_gives_the_rfc6962_root_and_valid_proofs(ledger_db):
    data = leaves(ledger_db)
    ledger = ledger_db.ledger
    for size in range(1, len(data) + 1):
        assert ledger.root(size) == merkle.root_hash(data[:size])
        for index in range(size):
            proof = ledger.inclusion_proof(index, size)
            assert proof == merkle.inclusion_proof(data[:size], index)
            merkle.verify_inclusion(merkle.leaf_hash(data[index]), index, size, proof, ledger.root(size))
        if size > 1:
            for old in range(1, size):
                assert ledger.consistency_proof(old, size) == merkle.consistency_proof(data[:size], old)


def test_checkpoint_is_a_signed_c2sp_note_of_the_current_tree(ledger_db):
    stored = ledger_db.ledger.latest_checkpoint()
    checkpoint = verify_checkpoint(stored.note, ledger_db.ledger.verifier_key)
    assert checkpoint.origin == ledger_db.ledger.origin
    assert checkpoint.size == 5 and checkpoint.root_hash == merkle.root_hash(leaves(ledger_db))
    lines = stored.note.split("\n")
    assert lines[1] == "5" and lines[3] == "" and lines[4].startswith("— " + ledger_db.ledger.origin + " ")


def test_site_commitment_hides_coordinates_but_binds_the_record(ledger_db):
    entry = decode_entry(ledger_db.ledger.entry(0).data)
    assert "50.46" not in ledger_db.ledger.entry(0).data.decode()
    (commitment,) = ledger_db.store.site_commitments(entry["body"]["site_id"])
    assert entry["body"]["commitment"] == commitment.commitment
    assert len(commitment.salt) == 32


def test_incident_batch_entry_commits_to_every_incident_in_order(ledger_db):
    entry = decode_entry(ledger_db.ledger.entry(3).data)
    incidents = ledger_db.store.incidents_in_entry(3)
    from deconflict.export import incident_row

    records = [canonical_record(incident_row(i)) for i in incidents]
    assert [i.id for i in incidents] == ["i1", "i2", "i3"]
    assert entry["body"]["records_root"] == merkle.root_hash(records).hex()
    assert entry["body"]["import"]["filename"] == "incidents.csv"


def test_notification_of_an_unknown_site_is_refused_and_logs_nothing(ledger_db):
    size = ledger_db.ledger.size
    with pytest.raises(NotFound):
        ledger_db.notifications.notify(["nope"], to="RUS", at="2024-06-01", id="n2")
    assert ledger_db.ledger.size == size


def test_verify_passes_on_an_untouched_log(ledger_db):
    report = ledger_db.ledger.verify()
    assert (report.size, report.notifications, report.incidents, report.checkpoints) == (5, 1, 3, 1)


ZERO_HASH = {"sqlite": "zeroblob(32)", "postgis": "decode(repeat('00', 32), 'hex')"}
EDIT_ENTRY_4 = {
    "sqlite": "UPDATE log_entries SET data = replace(data, 'No. 1', 'No. 2') WHERE idx = 4",
    "postgis": "UPDATE log_entries SET data = convert_to(replace(convert_from(data, 'UTF8'), 'No. 1', 'No. 2'), 'UTF8') "
    "WHERE idx = 4",
}
NEWLINE = {"sqlite": "char(10)", "postgis": "chr(10)"}


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (EDIT_ENTRY_4, "entry 4"),
        ("UPDATE log_entries SET leaf_hash = {zero_hash} WHERE idx = 2", "entry 2"),
        ("DELETE FROM log_entries WHERE idx = 1", "entry 1"),
        ("UPDATE log_nodes SET hash = {zero_hash} WHERE level = 1 AND idx = 1", "(1, 1)"),
        ("DELETE FROM log_entries WHERE idx = 4", "truncated"),
        ("UPDATE sites SET lat = 50.0 WHERE id = 'aze-emb'", "table sites, row 'aze-emb', lat"),
        ("UPDATE incidents SET lat = 50.0 WHERE id = 'i2'", "entry 3"),
        ("DELETE FROM incidents WHERE id = 'i3'", "entry 3"),
        ("UPDATE notifications SET recipient = 'BLR' WHERE id = 'n1'", "entry 4"),
        (
            "UPDATE checkpoints SET note = replace(note, {nl} || '5' || {nl}, {nl} || '4' || {nl})",
            "checkpoint",
        ),
    ],
    ids=[
        "entry-bytes", "leaf-hash", "deleted-entry", "node-hash", "truncated", "site-edited", "incident-edited",
        "incident-deleted", "notification-edited", "checkpoint-edited",
    ],
)  # fmt: skip
def test_verify_names_the_first_bad_index_after_tampering(ledger_db, db_path, backend, sql, message):
    sql = sql[backend] if isinstance(sql, dict) else sql.format(zero_hash=ZERO_HASH[backend], nl=NEWLINE[backend])
    if "DELETE FROM log_entries WHERE idx = 4" in sql:
        tamper(db_path, "DELETE FROM log_nodes WHERE level = 0 AND idx = 4")
        tamper(db_path, "DELETE FROM notification_sites")
        tamper(db_path, "DELETE FROM notifications")
    tamper(db_path, sql)
    with (
        deconflict.open(db_path) as reopened,
        pytest.raises(VerificationError, match=message.replace("(", r"\(").replace(")", r"\)")),
    ):
        reopened.ledger.verify()


def test_reordered_entries_are_caught(ledger_db, db_path):
    tamper(db_path, "UPDATE log_entries SET idx = -1 WHERE idx = 0")
    tamper(db_path, "UPDATE log_entries SET idx = 0 WHERE idx = 1")
    tamper(db_path, "UPDATE log_entries SET idx = 1 WHERE idx = -1")
    with deconflict.open(db_path) as reopened, pytest.raises(VerificationError, match="entry 0"):
        reopened.ledger.verify()


def test_checkpoint_with_a_foreign_key_file_is_refused(ledger_db, tmp_path):
    from deconflict.ledger.note import generate_signer

    with pytest.raises(VerificationError, match="not this log's key"):
        ledger_db.ledger.sign_checkpoint(generate_signer(ledger_db.ledger.origin))


def test_proof_reads_are_logarithmic(ledger_db):
    calls = []
    store = ledger_db.store
    original = store.log_get_nodes

    def counting(keys):
        calls.append(len(keys))
        return original(keys)

    store.log_get_nodes = counting  # type: ignore[method-assign]
    ledger_db.ledger.inclusion_proof(2, 5)
    assert len(calls) == 1 and calls[0] <= 2 * 3
