"""Evidence bundles verify offline and any altered byte is caught."""

from __future__ import annotations

import io
import zipfile

import pytest

from deconflict.errors import VerificationError
from deconflict.ledger.bundle import build_bundle, verify_bundle
from deconflict.ledger.note import generate_signer
from deconflict.ledger.witness import cosign, generate_witness_key, update
from samples import INCIDENTS_CSV, SITES_CSV


@pytest.fixture
def bundle(db, write, tmp_path):
    db.sites.import_file(write("sites.csv", SITES_CSV))
    db.incidents.import_file(write("incidents.csv", INCIDENTS_CSV))
    db.notifications.notify(
        ["aze-emb", "pol-emb"], to="RUS", at="2024-01-03/2025-08-27", channel="note-verbale", id="n1"
    )
    db.notifications.acknowledge("n1", by="RUS", at="2024-02-01", reference="No. 7", id="a1")
    checkpoint = db.ledger.sign_checkpoint()
    witness = generate_witness_key("witness.example")
    update(tmp_path / "w.json", checkpoint.note, None, log_key=db.ledger.verifier_key)
    db.ledger.add_cosigned_checkpoint(cosign(tmp_path / "w.json", witness, timestamp=1_763_100_000))
    return build_bundle(db.ledger, "aze-emb"), db.ledger.verifier_key, witness.vkey


def test_bundle_verifies_and_says_what_it_proves(bundle):
    data, key, witness = bundle
    report = verify_bundle(data, key, [witness])
    text = "\n".join(report.statements)
    assert "committed to the log" in text and "notified to RUS" in text and "acknowledged by RUS" in text
    assert "2 incident record(s)" in text
    assert report.cosigners == [("witness.example", "2025-11-14T06:00:00+00:00")]
    assert "cosigned by witness witness.example at 2025-11-14T06:00:00+00:00" in text


def test_bundle_without_witness_keys_lists_unchecked_signers(bundle):
    data, key, _ = bundle
    assert verify_bundle(data, key).unverified_signers == ["witness.example"]


def test_bundle_refuses_another_logs_key(bundle):
    data, _, _ = bundle
    with pytest.raises(VerificationError):
        verify_bundle(data, generate_signer("deconflict/other").vkey)


def test_bundle_fails_when_a_trusted_witness_did_not_cosign(bundle):
    data, key, _ = bundle
    impostor = generate_witness_key("witness.example")
    with pytest.raises(VerificationError, match=r"witness\.example"):
        verify_bundle(data, key, [impostor.vkey])


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# Verification reads only the bundle's bytes, which do not depend on the backend that built them:
# the exhaustive search runs once, on SQLite (the other bundle tests run on both backends).
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])
def test_flipping_any_single_byte_of_any_file_in_the_bundle_is_caught(bundle):
    data, key, witness = bundle
    members = _members(data)
    verify_bundle(_rezip(members), key, [witness])  # re-zipping alone changes nothing
    checked = 0
    for name, content in members.items():
        for position in range(len(content)):
            for mask in (0x01, 0x80):
                altered = bytearray(content)
                altered[position] ^= mask
                with pytest.raises(VerificationError):
                    verify_bundle(_rezip({**members, name: bytes(altered)}), key, [witness])
                checked += 1
    assert checked > 2 * 4000


def test_flipped_bytes_in_the_zip_container_are_caught(bundle):
    data, key, witness = bundle
    for position in range(0, len(data), 7):
        altered = bytearray(data)
        altered[position] ^= 0x01
        try:
            verify_bundle(bytes(altered), key, [witness])
        except VerificationError:
            continue
        # A flip the zip format ignores (e.g. in a timestamp) must leave every file intact.
        assert _members(bytes(altered)) == _members(data)


def test_missing_or_extra_files_are_caught(bundle):
    data, key, _ = bundle
    members = _members(data)
    with pytest.raises(VerificationError, match="exactly"):
        verify_bundle(_rezip({k: v for k, v in members.items() if k != "incidents.json"}), key)
    with pytest.raises(VerificationError, match="exactly"):
        verify_bundle(_rezip({**members, "extra.txt": b"x"}), key)


def test_not_a_zip_is_a_verification_error(bundle):
    _, key, _ = bundle
    with pytest.raises(VerificationError, match="zip"):
        verify_bundle(b"not a zip at all", key)


def test_bundle_prefers_the_newest_cosigned_checkpoint_over_a_newer_plain_one(bundle, db):
    _, key, witness = bundle
    cosigned_size = db.ledger.latest_checkpoint().size
    db.notifications.acknowledge("n1", by="RUS", at="2024-03-01", reference="No. 8", id="a2")
    plain = db.ledger.sign_checkpoint()
    assert plain.size == cosigned_size + 1
    report = verify_bundle(build_bundle(db.ledger, "fra-emb"), key, [witness])
    assert report.checkpoint_size == cosigned_size and report.cosigners
