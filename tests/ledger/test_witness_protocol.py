"""C2SP tlog-witness: the witness answers as the specification says, over real HTTP.

Interoperability evidence: the Go-signed checkpoints, keys and consistency proof of
transparency-dev/witness's own tests, and the request/response examples of the
specification text (see vectors/SOURCES.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from pathlib import Path

import pytest

from deconflict.errors import InvalidInput
from deconflict.ledger.checkpoint import Checkpoint, sign_checkpoint, verify_cosignatures
from deconflict.ledger.note import ALG_COSIGNATURE_V1, Signer, note_signatures, parse_signer_key, verify_note
from deconflict.ledger.witness import (
    SIZE_CONTENT_TYPE,
    Witness,
    add_checkpoint_body,
    generate_witness_key,
    origin_hash,
    parse_add_checkpoint,
)
from deconflict.ledger.witness_http import post_checkpoint, start_witness

VECTORS = json.loads((Path(__file__).parent / "vectors" / "tlog_witness_vectors.json").read_text(encoding="utf-8"))
GO = VECTORS["transparency_dev_witness"]
SPEC = VECTORS["c2sp_spec"]
EMPTY_ROOT = hashlib.sha256(b"").digest()


def go_witness_signer() -> Signer:
    """The Go tests' witness key, used as Go's NewSignerForCosignatureV1 does (type 0x04, same seed)."""
    published = parse_signer_key(GO["witness_skey_test_only"])
    return Signer(published._private_key, published.name, ALG_COSIGNATURE_V1)


def go_checkpoint(size: int, root_hex: str) -> str:
    """A checkpoint signed with the Go tests' log key (Ed25519 is deterministic: Go signs the same bytes)."""
    return sign_checkpoint(
        Checkpoint("monkeys", size, bytes.fromhex(root_hex)), parse_signer_key(GO["log_skey_test_only"])
    )


GO_PROOF = [bytes.fromhex(h) for h in GO["consistency_5_to_8_hex"]]


@pytest.fixture
def go_witness(tmp_path):
    with start_witness(Witness(tmp_path / "state.json", go_witness_signer(), [GO["log_vkey"]])) as server:
        yield server


def test_the_go_tests_checkpoints_and_proof_verify_with_our_code():
    assert verify_note(GO["checkpoint_size5"], GO["log_vkey"]).text.startswith("monkeys\n5\n")
    assert verify_note(GO["checkpoint_size8"], GO["log_vkey"]).text.startswith("monkeys\n8\n")
    # Our signer reproduces the Go-signed bytes exactly (the note format and key handling agree).
    body5 = verify_note(GO["checkpoint_size5"], GO["log_vkey"]).text
    root5 = base64.b64decode(body5.split("\n")[2])
    assert go_checkpoint(5, root5.hex()) == GO["checkpoint_size5"]


def test_the_go_exchange_replayed_against_our_witness_over_http(go_witness):
    first = post_checkpoint(go_witness.url, 0, [], GO["checkpoint_size5"])
    assert first.status == 200
    second = post_checkpoint(go_witness.url, 5, GO_PROOF, GO["checkpoint_size8"])
    assert second.status == 200
    vkey = go_witness_signer().vkey
    cosigned = GO["checkpoint_size8"] + second.body.decode()
    (cosignature,) = verify_cosignatures(cosigned, [vkey])
    assert cosignature.name == "witness" and abs(cosignature.timestamp - time.time()) < 60
    # The monitoring route serves the checkpoint with the log's and the witness's signatures.
    answer = go_witness.server.witness.checkpoint_answer(origin_hash("monkeys"))
    text = answer.body.decode()
    verify_note(text, GO["log_vkey"])
    verify_cosignatures(text, [vkey])


@pytest.mark.parametrize(
    ("case", "initial", "old", "new", "proof", "status"),
    [
        # The cases of transparency-dev/witness TestUpdate, with the HTTP status tlog-witness prescribes.
        ("consistent growth", (5, "init"), 5, "size8", "go", 200),
        ("old size is not the witness's size", (5, "init"), 2, "size8", None, 409),
        ("a proof sent from size 0", (0, "empty"), 0, (5, "init"), "go", 422),
        ("resubmitting the same checkpoint", (5, "init"), 5, (5, "init"), None, 200),
        ("same size, another root (a fork)", (5, "init"), 5, (5, "fff"), None, 422),
        ("growth without a proof", (4, "init"), 4, (5, "init"), None, 422),
        ("a smaller checkpoint", "size8", 8, "size5", "go", 400),
        ("a garbage proof", "size5", 5, "size8", "garbage", 422),
    ],
)
def test_the_go_update_table_gets_the_spec_statuses(tmp_path, case, initial, old, new, proof, status):
    roots = {"init": GO["update_table_root_size5_hex"], "empty": EMPTY_ROOT.hex(),
             "fff": "fffffffffffffffef412d2a54fa94838862d453631617b0307e5c77dcbeefc11"}  # fmt: skip

    def checkpoint(spec):
        if spec == "size5":
            return GO["checkpoint_size5"]
        if spec == "size8":
            return GO["checkpoint_size8"]
        return go_checkpoint(spec[0], roots[spec[1]])

    witness = Witness(tmp_path / "state.json", go_witness_signer(), [GO["log_vkey"]])
    start = checkpoint(initial)
    assert witness.add_checkpoint(add_checkpoint_body(0, [], start)).status == 200
    before = (tmp_path / "state.json").read_bytes()
    if proof == "garbage":
        # Two-byte "hashes", as in the Go test: valid base64, a proof that cannot verify.
        body = b"old 5\nqqo=\nu7s=\nzMw=\n3d0=\n\n" + checkpoint(new).encode()
    else:
        body = add_checkpoint_body(old, GO_PROOF if proof == "go" else [], checkpoint(new))
    answer = witness.add_checkpoint(body)
    assert answer.status == status, (case, answer.body)
    if status == 409:
        assert answer.body == f"{start.split(chr(10))[1]}\n".encode() and answer.content_type == SIZE_CONTENT_TYPE
    if status != 200:
        assert (tmp_path / "state.json").read_bytes() == before, "a refused checkpoint changed the state"


def test_the_spec_example_request_parses_and_an_unknown_origin_gets_404(go_witness):
    old, proof, note = parse_add_checkpoint(SPEC["add_checkpoint_request"].encode())
    assert old == 20852014 and len(proof) == 4 and all(len(h) == 32 for h in proof)
    assert note.startswith("example.com/behind-the-sofa\n20852163\n") and len(note_signatures(note)) == 2
    answer = go_witness.server.witness.add_checkpoint(SPEC["add_checkpoint_request"].encode())
    assert answer.status == 404
    assert post_checkpoint(go_witness.url, old, proof, note).status == 404


def test_the_spec_example_cosignatures_have_the_cosignature_v1_form():
    for signature in note_signatures(SPEC["cosigned_checkpoint"] + SPEC["add_checkpoint_response"]):
        if signature.name.startswith("witness.example"):
            assert len(signature.signature) == 8 + 64
            assert int.from_bytes(signature.signature[:8], "big") > 0
    (example,) = [s for s in note_signatures(SPEC["cosigned_checkpoint"]) if s.name == "witness.example.com/w1"]
    timestamp = int.from_bytes(example.signature[:8], "big")
    body = SPEC["cosigned_checkpoint"].split("\n\n")[0] + "\n"
    assert SPEC["cosignature_v1_signed_message"] == f"cosignature/v1\ntime {timestamp}\n" + body


def test_spec_refusals_on_our_own_log(db, tmp_path, grow):
    grow("a", 3)
    first = db.ledger.sign_checkpoint()
    witness = Witness(tmp_path / "w.json", generate_witness_key("w.example"), [db.ledger.verifier_key])
    body = add_checkpoint_body(0, [], first.note)
    assert witness.add_checkpoint(body).status == 200
    grow("b", 2)
    second = db.ledger.sign_checkpoint()
    proof = db.ledger.consistency_proof(3, 5)
    forged = second.note[:-10] + ("B" if second.note[-10] != "B" else "C") + second.note[-9:]
    assert witness.add_checkpoint(add_checkpoint_body(3, proof, forged)).status == 403
    assert witness.add_checkpoint(add_checkpoint_body(6, proof, second.note)).status == 400
    stale = witness.add_checkpoint(add_checkpoint_body(0, [], second.note))
    assert (stale.status, stale.body, stale.content_type) == (409, b"3\n", SIZE_CONTENT_TYPE)
    assert witness.add_checkpoint(add_checkpoint_body(3, proof[::-1], second.note)).status == 422
    assert witness.add_checkpoint(add_checkpoint_body(3, proof, second.note)).status == 200
    assert witness.latest(db.ledger.origin)[0] == 5


def test_parse_refuses_malformed_bodies():
    for body in (b"old 01\n\nx", b"10\n\nx", b"old 5\nnot base64!\n\nx", b"old 5\nAAAA\n", b"\xff", b"old 5"):
        with pytest.raises(InvalidInput):
            parse_add_checkpoint(body)
    with pytest.raises(InvalidInput, match="63"):
        parse_add_checkpoint(b"old 1\n" + (base64.b64encode(bytes(32)) + b"\n") * 64 + b"\nx")


def test_concurrent_submissions_never_roll_the_state_back(db, tmp_path, grow):
    """The race the specification warns about: check and store must be one atomic step."""
    witness = Witness(tmp_path / "w.json", generate_witness_key("w.example"), [db.ledger.verifier_key])
    notes = []
    for step in range(6):
        grow(f"s{step}", 1)
        notes.append(db.ledger.sign_checkpoint())
    assert witness.add_checkpoint(add_checkpoint_body(0, [], notes[0].note)).status == 200
    bodies = [
        add_checkpoint_body(notes[0].size, db.ledger.consistency_proof(notes[0].size, n.size), n.note)
        for n in notes[1:]
    ]
    statuses: list[int] = []
    with start_witness(witness) as server:
        threads = [threading.Thread(target=lambda b=b: statuses.append(post_checkpoint(server.url, *parse_add_checkpoint(b)).status)) for b in bodies]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses.count(200) == 1 and statuses.count(409) == len(bodies) - 1
    size = witness.latest(db.ledger.origin)[0]
    assert size in {n.size for n in notes[1:]}
    # A restarted witness reads the same state from disk and continues from it.
    again = Witness(tmp_path / "w.json", witness.signer, [db.ledger.verifier_key])
    assert again.latest(db.ledger.origin)[0] == size
    last = notes[-1]
    if size < last.size:
        proof = db.ledger.consistency_proof(size, last.size)
        assert again.add_checkpoint(add_checkpoint_body(size, proof, last.note)).status == 200
    assert again.latest(db.ledger.origin)[0] == last.size


@pytest.mark.slow
def test_witness_serve_runs_the_protocol_as_a_real_process(db_path, db, tmp_path, grow):
    import subprocess
    import sys

    from typer.testing import CliRunner

    from deconflict.cli import app
    from deconflict.ledger.note import write_signer_key
    from pg import free_port

    key = generate_witness_key("served.example")
    write_signer_key(tmp_path / "w.key", key)
    port = free_port()
    command = [str(Path(sys.executable).with_name("deconflict")), "witness", "serve", "--key-file", str(tmp_path / "w.key"),
               "--state", str(tmp_path / "w.json"), "--log", db.ledger.verifier_key, "--port", str(port)]  # fmt: skip
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert "listening on" in (server.stderr.readline() if server.stderr else "")
        grow("a", 2)
        runner = CliRunner()
        url = f"http://127.0.0.1:{port}"
        done = runner.invoke(app, ["--db", str(db_path), "log", "witness", "--url", url, "--witness-key", key.vkey])
        assert done.exit_code == 0, done.output
        assert "cosigned by served.example" in done.output and "is witnessed" in done.output
        assert json.loads((tmp_path / "w.json").read_text())["logs"][db.ledger.origin]["size"] == 2
    finally:
        server.terminate()
        server.wait(timeout=10)
