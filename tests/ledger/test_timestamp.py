"""RFC 3161 timestamps of checkpoints: real tokens from real TSAs, verified, refused when wrong."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.errors import VerificationError
from deconflict.ledger.outside import log_signed_note
from deconflict.ledger.timestamp import TsaTrust, load_tsa_trust, verify_timestamp
from outside_servers import OtherNoteTSA, ReplayingTSA

VECTORS = Path(__file__).parent / "vectors" / "rfc3161"
SIGSTAGE = (VECTORS / "sigstage-response-sha256.tsr").read_bytes()


def test_a_real_published_response_from_the_sigstore_staging_tsa_verifies():
    trust = load_tsa_trust([VECTORS / "sigstage-ts-chain.pem"])
    token = verify_timestamp(SIGSTAGE, b"hello", trust)
    assert token.gen_time_text == "2025-05-09T11:58:55Z"
    assert token.tsa == "CN=sigstore-tsa,O=sigstore.dev"
    assert token.policy == "1.3.6.1.4.1.57264.2" and token.accuracy_s == 1.0
    assert token.chain_pem.count("BEGIN CERTIFICATE") == 2


def test_openssl_agrees_on_the_published_response(tmp_path):
    (tmp_path / "hello").write_bytes(b"hello")
    (tmp_path / "r.tsr").write_bytes(SIGSTAGE)
    done = subprocess.run(["openssl", "ts", "-verify", "-data", str(tmp_path / "hello"), "-in", str(tmp_path / "r.tsr"),
                           "-CAfile", str(VECTORS / "sigstage-ts-chain.pem")], capture_output=True, text=True)  # fmt: skip
    assert "Verification: OK" in done.stdout


def test_the_published_response_is_refused_for_another_message_or_an_untrusted_root(tsas):
    trust = load_tsa_trust([VECTORS / "sigstage-ts-chain.pem"])
    with pytest.raises(VerificationError, match="another message"):
        verify_timestamp(SIGSTAGE, b"hello, world", trust)
    with pytest.raises(VerificationError, match="does not chain to a trusted TSA root"):
        verify_timestamp(SIGSTAGE, b"hello", load_tsa_trust(tsas.roots))
    with pytest.raises(VerificationError, match="no trusted TSA root"):
        verify_timestamp(SIGSTAGE, b"hello", TsaTrust())


def test_a_checkpoint_timestamped_by_two_tsas_is_stored_and_verifies_again(db, grow, tsas):
    grow("a", 3)
    run = db.ledger.timestamp([tsas.first.url, tsas.second.url], load_tsa_trust(tsas.roots))
    assert run.checkpoint_size == 3 and not run.unreachable
    stored = db.ledger.timestamps()
    assert [t.tsa_url for t in stored] == [tsas.first.url, tsas.second.url]
    note = log_signed_note(db.ledger.latest_checkpoint().note, db.ledger.origin)
    for token, root in zip(stored, tsas.roots, strict=True):
        assert token.note == note and token.checkpoint_size == 3
        # Each token verifies offline against its own TSA's root only.
        again = verify_timestamp(token.response, note.encode(), load_tsa_trust([root]))
        assert again.gen_time_text == token.gen_time
    # The roots are remembered: a later run needs no --tsa-cert.
    grow("b", 1)
    assert db.ledger.timestamp([tsas.first.url]).checkpoint_size == 4


@pytest.mark.parametrize(
    ("kind", "options", "trusted", "message"),
    [
        (OtherNoteTSA, {}, True, "another message"),
        (ReplayingTSA, {}, True, "nonce"),
        (None, "expired", True, "was not valid at the token's time"),
        (None, {}, False, "does not chain to a trusted TSA root"),
    ],
)
def test_refused_tokens_store_nothing(db, grow, tsas, expired, kind, options, trusted, message):
    grow("a", 2)
    bad = tsas.make("bad TSA", kind or tsas.first.__class__, **(expired if options == "expired" else options))
    roots = [tsas.first.files.ca_cert, *([bad.files.ca_cert] if trusted else [])]
    with pytest.raises(VerificationError, match=message):
        db.ledger.timestamp([tsas.first.url, bad.url], load_tsa_trust(roots))
    assert db.ledger.timestamps() == []
    assert db.store.get_meta("tsa_trust_pem") is None


def test_an_unreachable_tsa_is_reported_and_the_others_kept(db, grow, tsas):
    grow("a", 1)
    dead = tsas.make("dead TSA")
    dead_url = dead.url
    dead.close()
    run = db.ledger.timestamp([dead_url, tsas.first.url], load_tsa_trust(tsas.roots))
    assert [u for u, _ in run.unreachable] == [dead_url] and len(run.stored) == 1


def test_cli_timestamp_prints_tokens_and_refuses_with_exit_1(db_path, db, grow, tsas):
    grow("a", 2)
    runner = CliRunner()
    root = str(tsas.first.files.ca_cert)
    done = runner.invoke(app, ["--db", str(db_path), "log", "timestamp", "--tsa", tsas.first.url, "--tsa-cert", root])
    assert done.exit_code == 0, done.output
    assert "checkpoint 2 timestamped" in done.output and "test TSA one" in done.output
    listed = runner.invoke(app, ["--db", str(db_path), "log", "timestamps", "--json"])
    assert '"checkpoint_size": 2' in listed.output
    liar = tsas.make("liar", OtherNoteTSA)
    refused = runner.invoke(app, ["--db", str(db_path), "log", "timestamp", "--tsa", liar.url, "--tsa-cert",
                                  str(liar.files.ca_cert)])  # fmt: skip
    assert refused.exit_code == 1
    assert "another message" in refused.output and "Traceback" not in refused.output
    assert len(db.ledger.timestamps()) == 1


def test_log_verify_rechecks_stored_tokens_and_names_an_altered_one(db, grow, tsas):
    grow("a", 2)
    db.ledger.timestamp([tsas.first.url], load_tsa_trust(tsas.roots))
    assert db.ledger.verify().timestamps == 1
    grow("b", 1)
    later = db.ledger.sign_checkpoint().note
    mark = db.store._MARK
    with db.store.transaction():
        db.store.connection.execute(f"UPDATE checkpoint_timestamps SET note = {mark}", (later,))
    with pytest.raises(VerificationError, match="timestamp of checkpoint 2"):
        db.ledger.verify()
