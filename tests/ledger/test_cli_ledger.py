"""The ledger from the command line: notify, checkpoints, proofs, witness, bundles, exit codes."""

from __future__ import annotations

import base64
import json

import pytest

import deconflict
from deconflict.ledger import merkle
from pg import tamper
from samples import INCIDENTS_CSV, SITES_CSV


@pytest.fixture
def logged(cli, write):
    assert cli("sites", "import", str(write("s.csv", SITES_CSV))).exit_code == 0
    assert cli("incidents", "import", str(write("i.csv", INCIDENTS_CSV))).exit_code == 0
    result = cli("notify", "aze-emb", "pol-emb", "--to", "RUS", "--at", "2024-01-03/2025-08-27", "--channel",
                 "note-verbale", "--ref", "No. 12", "--id", "n1", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["log_index"] == 4
    return cli


def test_init_prints_the_verifier_key_and_writes_a_private_key(tmp_path, runner):
    from deconflict.cli import app

    result = runner.invoke(app, ["--db", str(tmp_path / "n.db"), "init", "--origin", "example.org/log"])
    assert result.exit_code == 0
    assert "verifier key  example.org/log+" in result.stdout
    key = tmp_path / "n.db.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_text().startswith("PRIVATE+KEY+example.org/log+")
    assert b"PRIVATE" not in (tmp_path / "n.db").read_bytes()


def test_notify_unknown_site_is_exit_2_and_logs_nothing(logged, db):
    result = logged("notify", "nope", "--to", "RUS", "--at", "2025-01-01")
    assert result.exit_code == 2 and "nope" in result.stderr
    assert db.ledger.size == 5


def test_notify_bad_recipient_and_time_are_exit_2(logged):
    assert logged("notify", "aze-emb", "--to", "Russia", "--at", "2025-01-01").exit_code == 2
    assert logged("notify", "aze-emb", "--to", "RUS", "--at", "14 Nov").exit_code == 2


def test_acknowledge_then_checkpoint_then_prove(logged, db):
    assert logged("acknowledge", "n1", "--by", "RUS", "--at", "2024-02-01", "--ref", "No. 7").exit_code == 0
    checkpoint = logged("log", "checkpoint")
    assert checkpoint.exit_code == 0 and checkpoint.stdout.splitlines()[1] == "6"
    proof = json.loads(logged("log", "prove", "4", "--json").stdout)
    leaves = [row.data for row in db.ledger.entries()]
    merkle.verify_inclusion(
        base64.b64decode(proof["leaf_hash"]), 4, 6, [base64.b64decode(h) for h in proof["proof"]],
        merkle.root_hash(leaves),
    )  # fmt: skip
    consistency = logged("log", "consistency", "3")
    assert consistency.exit_code == 0
    hashes = [base64.b64decode(line) for line in consistency.stdout.split()]
    merkle.verify_consistency(3, 6, merkle.root_hash(leaves[:3]), merkle.root_hash(leaves), hashes)


def test_prove_without_a_checkpoint_says_how_to_make_one(logged):
    result = logged("log", "prove", "1")
    assert result.exit_code == 2 and "log checkpoint" in result.stderr


def test_log_verify_ok_then_exit_1_after_tampering(logged, db_path):
    assert logged("log", "checkpoint").exit_code == 0
    ok = logged("log", "verify", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["size"] == 5
    tamper(db_path, "UPDATE notifications SET notified_start = '2023-01-01T00:00:00Z'")
    bad = logged("log", "verify")
    assert bad.exit_code == 1 and "entry 4" in bad.stderr and "Traceback" not in bad.output


def test_log_entries_lists_exact_bytes(logged):
    rows = json.loads(logged("log", "entries", "--json").stdout)
    assert [r["kind"] for r in rows] == ["site_committed"] * 3 + ["incident", "notification"]
    assert rows[4]["entry"]["body"]["reference"] == "No. 12"


def test_witness_cli_round_trip_and_refusals(logged, cli, tmp_path, db_path):
    state, cp1, cp2, proof = (tmp_path / n for n in ("w.json", "cp1.txt", "cp2.txt", "proof.txt"))
    assert logged("log", "checkpoint", "--out", str(cp1)).exit_code == 0
    vkey = deconflict.open(db_path).ledger.verifier_key
    first = cli("witness", "update", "--state", str(state), "--checkpoint", str(cp1), "--log-key", vkey)
    assert first.exit_code == 0 and "size 5" in first.stdout
    assert cli("acknowledge", "n1", "--by", "RUS", "--at", "2024-02-01").exit_code == 0
    assert cli("log", "checkpoint", "--out", str(cp2)).exit_code == 0
    no_proof = cli("witness", "update", "--state", str(state), "--checkpoint", str(cp2))
    assert no_proof.exit_code == 1 and "consistency proof" in no_proof.stderr
    proof.write_text(cli("log", "consistency", "5").stdout)
    grown = cli("witness", "update", "--state", str(state), "--checkpoint", str(cp2), "--proof", str(proof))
    assert grown.exit_code == 0 and "5 -> 6" in grown.stdout
    rollback = cli("witness", "update", "--state", str(state), "--checkpoint", str(cp1))
    assert rollback.exit_code == 1 and "smaller" in rollback.stderr
    key = tmp_path / "witness.key"
    assert cli("witness", "init", "--name", "w.example", "--key-file", str(key)).exit_code == 0
    cosigned = tmp_path / "cosigned.txt"
    assert (
        cli("witness", "cosign", "--state", str(state), "--key-file", str(key), "--out", str(cosigned)).exit_code == 0
    )
    assert cli("log", "add-cosignature", str(cosigned)).exit_code == 0
    assert "— w.example " in deconflict.open(db_path).ledger.latest_checkpoint().note


def test_witness_update_from_db(logged, cli, tmp_path, db_path):
    state = tmp_path / "w.json"
    assert logged("log", "checkpoint").exit_code == 0
    assert cli("witness", "update", "--state", str(state), "--from-db", str(db_path)).exit_code == 0
    assert cli("acknowledge", "n1", "--by", "RUS", "--at", "2024-02-01").exit_code == 0
    assert cli("log", "checkpoint").exit_code == 0
    result = cli("witness", "update", "--state", str(state), "--from-db", str(db_path))
    assert result.exit_code == 0 and "5 -> 6" in result.stdout


def test_evidence_export_and_verify_from_the_cli(logged, cli, tmp_path, db_path):
    bundle = tmp_path / "b.zip"
    exported = cli("evidence", "export", "aze-emb", "--out", str(bundle))
    assert exported.exit_code == 0 and bundle.exists()
    vkey = deconflict.open(db_path).ledger.verifier_key
    verified = cli("evidence", "verify", str(bundle), "--key", vkey, "--json")
    assert verified.exit_code == 0
    statements = json.loads(verified.stdout)["statements"]
    assert any("notified to RUS" in s for s in statements)
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bundle.write_bytes(bytes(data))
    broken = cli("evidence", "verify", str(bundle), "--key", vkey)
    assert broken.exit_code == 1 and broken.stderr.startswith("error: ")


def test_evidence_verify_needs_no_database(logged, cli, tmp_path, db_path, runner):
    from deconflict.cli import app

    bundle = tmp_path / "b.zip"
    cli("evidence", "export", "aze-emb", "--out", str(bundle))
    vkey = deconflict.open(db_path).ledger.verifier_key
    result = runner.invoke(app, ["--db", str(tmp_path / "absent.db"), "evidence", "verify", str(bundle), "--key", vkey])
    assert result.exit_code == 0 and not (tmp_path / "absent.db").exists()


def test_evidence_export_with_another_logs_key_file_refuses_and_writes_nothing(logged, cli, tmp_path, db_path):
    from typer.testing import CliRunner

    from deconflict.cli import app

    assert cli("log", "checkpoint").exit_code == 0  # a covering checkpoint exists: only the manifest is signed
    other = tmp_path / "other.db"
    deconflict.init(other, key_file=tmp_path / "other.db.key").close()
    bundle = tmp_path / "b.zip"
    args = ["--db", str(db_path), "--key-file", str(tmp_path / "other.db.key")]
    result = CliRunner().invoke(app, [*args, "evidence", "export", "aze-emb", "--out", str(bundle)])
    assert result.exit_code == 1, result.output
    assert "not this log's key" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not bundle.exists()


def test_evidence_export_of_unknown_site_is_exit_2(logged, tmp_path):
    result = logged("evidence", "export", "nope", "--out", str(tmp_path / "x.zip"))
    assert result.exit_code == 2 and "nope" in result.stderr


def test_add_cosignature_refuses_a_checkpoint_without_cosignatures(logged, tmp_path):
    plain = tmp_path / "cp.txt"
    assert logged("log", "checkpoint", "--out", str(plain)).exit_code == 0
    result = logged("log", "add-cosignature", str(plain))
    assert result.exit_code == 2 and "no witness cosignature" in result.stderr


def test_a_bad_time_names_the_option(logged):
    result = logged("notify", "aze-emb", "--to", "RUS", "--at", "2025-13-01")
    assert result.exit_code == 2 and result.stderr.startswith("error: --at:")
