"""deconflict.ledger.note: signed notes, checkpoints, cosignatures and key files."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconflict.errors import ConflictError, InvalidInput, NotFound, VerificationError
from deconflict.ledger.checkpoint import (
    Checkpoint,
    Cosignature,
    cosign_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
    verify_cosignatures,
)
from deconflict.ledger.merkle import leaf_hash, root_hash
from deconflict.ledger.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    Signer,
    format_signer_key,
    format_verifier_key,
    generate_signer,
    load_signer_key,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    verify_note,
    write_signer_key,
)

EXAMPLES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "signed_note_examples.json").read_text(encoding="utf-8")
)
PETER_VKEY = EXAMPLES["vkey"]
PETER_NOTE = EXAMPLES["note_text"]
PETER_TEXT = EXAMPLES["signed_text"]
SUMDB = EXAMPLES["checkpoint_examples"][0]

ALL_CASES = [
    {"label": EXAMPLES["label"], "vkey": PETER_VKEY, "note_text": PETER_NOTE, "valid": True},
    *EXAMPLES["more_examples"],
    *EXAMPLES["tampered"],
    EXAMPLES["tampered_variant"],
    *EXAMPLES["checkpoint_examples"],
]


def _signer(name: str, seed_byte: int, algorithm: int = ALG_ED25519) -> Signer:
    return Signer(Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32), name, algorithm)


LOG = _signer("example.org/deconflict", 1)
WITNESS = _signer("witness.example.org/w1", 2, ALG_COSIGNATURE_V1)
OTHER_WITNESS = _signer("witness.example.org/w2", 3, ALG_COSIGNATURE_V1)
CHECKPOINT = Checkpoint("example.org/deconflict", 3, root_hash([b"a", b"b", b"c"]))


# --- published examples -----------------------------------------------------------------


def test_example_table_holds_valid_and_invalid_notes() -> None:
    assert {case["valid"] for case in ALL_CASES} == {True, False}
    assert len(ALL_CASES) == 15


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c["label"][:60])
def test_published_note_gets_expected_verdict(case: dict[str, Any]) -> None:
    if case["valid"]:
        note = verify_note(case["note_text"], case["vkey"])
        assert case["note_text"].startswith(note.text + "\n— ")
    else:
        with pytest.raises(VerificationError):
            verify_note(case["note_text"], case["vkey"])


def test_resigning_peter_neumann_text_reproduces_go_note_byte_for_byte() -> None:
    check = EXAMPLES["signer_check"]
    signer = parse_signer_key(check["skey"])
    assert sign_note(check["text"], signer) == check["expected_signed_note"]


def test_go_private_key_string_round_trips() -> None:
    skey = EXAMPLES["signer_check"]["skey"]
    signer = parse_signer_key(skey)
    assert format_signer_key(signer) == skey
    assert signer.vkey == PETER_VKEY


def test_peter_neumann_vkey_parses_to_published_key() -> None:
    verifier = parse_verifier_key(PETER_VKEY)
    assert verifier.name == "PeterNeumann"
    assert verifier.key_id == 0xC74F20A3
    assert verifier.algorithm == ALG_ED25519
    assert verifier.public_key.hex() == ("1a5cd907143c384c41e830c5bce12aa8817ec5649aaabf2c31388b35b2d744d6")


@pytest.mark.parametrize("vkey", sorted({case["vkey"] for case in ALL_CASES}))
def test_verifier_key_string_round_trips(vkey: str) -> None:
    verifier = parse_verifier_key(vkey)
    assert format_verifier_key(verifier.name, verifier.public_key) == vkey


def test_verified_note_reports_signatures_from_unknown_keys_as_unverified() -> None:
    case = EXAMPLES["more_examples"][1]  # Peter + Enoch, checked with Peter's key
    note = verify_note(case["note_text"], case["vkey"])
    assert [s.name for s in note.verified_signatures] == ["PeterNeumann"]
    assert [s.name for s in note.unverified_signatures] == ["EnochRoot"]
    assert note.text == PETER_TEXT


def test_sum_golang_org_checkpoint_verifies_to_published_fields() -> None:
    checkpoint = verify_checkpoint(SUMDB["note_text"], SUMDB["vkey"])
    assert checkpoint.origin == "go.sum database tree"
    assert checkpoint.size == 6476701
    assert base64.b64encode(checkpoint.root_hash).decode() == SUMDB["parsed"]["root_hash_b64"]
    assert checkpoint.extensions == ()


def test_sum_golang_org_checkpoint_verifies_with_any_of_several_keys() -> None:
    cosigned = EXAMPLES["checkpoint_examples"][2]
    keys = [case["vkey"] for case in EXAMPLES["checkpoint_examples"][:3]]
    note = verify_note(cosigned["note_text"], keys)
    assert [s.name for s in note.verified_signatures] == ["sum.golang.org", "monkeys", "witness"]


# --- signed-note rules ------------------------------------------------------------------


def test_note_text_is_split_at_the_last_blank_line() -> None:
    text = "first paragraph\n\nsecond paragraph\n"
    note = verify_note(sign_note(text, LOG), LOG.vkey)
    assert note.text == text


def test_one_bad_signature_from_a_known_key_rejects_the_note() -> None:
    bad_line = PETER_NOTE.split("\n\n")[1].replace("SffcvIAQ", "SffcvIAR")
    with pytest.raises(VerificationError, match="invalid signature"):
        verify_note(PETER_NOTE + bad_line, PETER_VKEY)


def test_signature_with_known_name_but_other_key_id_is_ignored() -> None:
    impostor = _signer("PeterNeumann", 9)
    forged = sign_note(PETER_TEXT, impostor)
    with pytest.raises(VerificationError, match="no valid signature"):
        verify_note(forged, PETER_VKEY)
    note = verify_note(PETER_NOTE + forged.split("\n\n")[1], PETER_VKEY)
    assert len(note.unverified_signatures) == 1


def test_note_with_sixteen_signatures_verifies() -> None:
    signers = [_signer(f"signer{i}", 40 + i) for i in range(16)]
    lines = "".join(sign_note(PETER_TEXT, s).split("\n\n")[1] for s in signers)
    note = verify_note(PETER_TEXT + "\n" + lines, [s.vkey for s in signers])
    assert len(note.verified_signatures) == 16


def test_note_with_more_than_100_signatures_is_rejected() -> None:
    line = PETER_NOTE.split("\n\n")[1]
    with pytest.raises(VerificationError, match="more than 100"):
        verify_note(PETER_TEXT + "\n" + line * 101, PETER_VKEY)


@pytest.mark.parametrize(
    ("label", "note"),
    [
        ("carriage return", PETER_NOTE.replace("problem,\n", "problem,\r\n")),
        ("tab", PETER_NOTE.replace("If you", "If\tyou")),
        ("no final newline", PETER_NOTE[:-1]),
        ("hyphen instead of em dash", PETER_NOTE.replace("— ", "- ")),
        ("no signature", PETER_TEXT + "\n"),
        ("base64 without padding", PETER_NOTE.replace("AM=\n", "AM\n")),
        ("key name with plus", PETER_NOTE.replace("— PeterNeumann", "— Peter+Neumann")),
    ],
)
def test_malformed_note_is_rejected(label: str, note: str) -> None:
    with pytest.raises(VerificationError, match="malformed"):
        verify_note(note, PETER_VKEY)


def test_note_bytes_that_are_not_utf8_are_rejected() -> None:
    raw = PETER_NOTE.encode().replace(b"cryptography", b"crypt\xffgraphy")
    with pytest.raises(VerificationError, match="UTF-8"):
        verify_note(raw, PETER_VKEY)


def test_note_given_as_bytes_verifies() -> None:
    assert verify_note(PETER_NOTE.encode(), PETER_VKEY).text == PETER_TEXT


@pytest.mark.parametrize("text", ["", "no final newline", "bell \x07\n"])
def test_sign_note_refuses_text_that_cannot_be_a_note(text: str) -> None:
    with pytest.raises(InvalidInput):
        sign_note(text, LOG)


def test_sign_note_refuses_a_cosigner() -> None:
    with pytest.raises(InvalidInput, match="0x01"):
        sign_note(PETER_TEXT, WITNESS)


def test_verify_note_refuses_two_keys_with_same_name_and_id() -> None:
    with pytest.raises(InvalidInput, match="share"):
        verify_note(PETER_NOTE, [PETER_VKEY, PETER_VKEY])


# --- verifier and signer keys -----------------------------------------------------------


def _vkey_with(raw: bytes, name: str = "PeterNeumann") -> str:
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex()
    return f"{name}+{key_id}+{base64.b64encode(raw).decode()}"


@pytest.mark.parametrize(
    ("label", "vkey"),
    [
        ("wrong key ID", PETER_VKEY.replace("c74f20a3", "c74f20a4")),
        ("short key ID", PETER_VKEY.replace("c74f20a3", "c74f20a")),
        ("missing parts", "PeterNeumann+c74f20a3"),
        ("not base64", "PeterNeumann+c74f20a3+not*base64"),
        ("ECDSA type byte", _vkey_with(b"\x02" + bytes(32))),
        ("31-byte key", _vkey_with(b"\x01" + bytes(31))),
        ("33-byte key", _vkey_with(b"\x01" + bytes(33))),
        ("space in name", _vkey_with(b"\x01" + bytes(32), name="Peter Neumann")),
    ],
)
def test_invalid_verifier_key_is_refused(label: str, vkey: str) -> None:
    with pytest.raises(InvalidInput):
        parse_verifier_key(vkey)


def test_verifier_key_id_follows_signed_note_formula() -> None:
    public = LOG.public_key
    expected = hashlib.sha256(LOG.name.encode() + b"\n\x01" + public).digest()[:4]
    assert LOG.key_id == int.from_bytes(expected, "big")
    encoded = base64.b64encode(b"\x01" + public).decode()
    assert LOG.vkey == f"{LOG.name}+{expected.hex()}+{encoded}"


def test_private_key_string_with_wrong_key_id_is_refused() -> None:
    skey = EXAMPLES["signer_check"]["skey"].replace("c74f20a3", "00000000")
    with pytest.raises(InvalidInput, match="key ID"):
        parse_signer_key(skey)


def test_signer_repr_does_not_reveal_the_seed() -> None:
    signer = parse_signer_key(EXAMPLES["signer_check"]["skey"])
    assert "AYEKFALV" not in repr(signer)
    assert signer.seed().hex() not in repr(signer)


def test_key_file_is_written_mode_0600_in_go_format(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    signer = generate_signer("example.org/log")
    write_signer_key(path, signer)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text() == format_signer_key(signer) + "\n"
    assert path.read_text().startswith(f"PRIVATE+KEY+example.org/log+{signer.key_id:08x}+")


def test_key_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "witness.key"
    write_signer_key(path, WITNESS)
    loaded = load_signer_key(path)
    assert (loaded.vkey, loaded.algorithm) == (WITNESS.vkey, ALG_COSIGNATURE_V1)


def test_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    write_signer_key(path, LOG)
    with pytest.raises(ConflictError):
        write_signer_key(path, generate_signer("other"))
    assert load_signer_key(path).vkey == LOG.vkey


def test_loading_missing_key_file_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        load_signer_key(tmp_path / "absent.key")


def test_loading_garbage_key_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.key"
    path.write_text("not a key\n")
    with pytest.raises(InvalidInput) as caught:
        load_signer_key(path)
    assert caught.value.where == str(path)


# --- checkpoints ------------------------------------------------------------------------


def test_checkpoint_text_is_origin_size_and_base64_root() -> None:
    expected_root = base64.b64encode(CHECKPOINT.root_hash).decode()
    assert CHECKPOINT.to_text() == f"example.org/deconflict\n3\n{expected_root}\n"


def test_checkpoint_with_extensions_round_trips_through_text() -> None:
    checkpoint = Checkpoint("o", 0, root_hash([]), ("ext one", "ext two"))
    assert parse_checkpoint(checkpoint.to_text()) == checkpoint


def test_signed_checkpoint_verifies_to_the_same_checkpoint() -> None:
    assert verify_checkpoint(sign_checkpoint(CHECKPOINT, LOG), LOG.vkey) == CHECKPOINT


def test_sumdb_style_tree_note_for_hello_world_matches_go_golden_text() -> None:
    checkpoint = Checkpoint("go.sum database tree", 123456789012, leaf_hash(b"hello world"))
    assert checkpoint.to_text() == (
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"
    )


ROOT_B64 = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("leading zero in size", f"o\n03\n{ROOT_B64}\n"),
        ("negative size", f"o\n-3\n{ROOT_B64}\n"),
        ("non-ASCII digits", f"o\n٣\n{ROOT_B64}\n"),
        ("size above 2^64-1", f"o\n{1 << 64}\n{ROOT_B64}\n"),
        ("empty origin", f"\n3\n{ROOT_B64}\n"),
        ("only two lines", "o\n3\n"),
        ("no final newline", f"o\n3\n{ROOT_B64}"),
        ("31-byte root", f"o\n3\n{base64.b64encode(bytes(31)).decode()}\n"),
        ("unpadded base64 root", f"o\n3\n{ROOT_B64.rstrip('=')}\n"),
        ("empty extension line", f"o\n3\n{ROOT_B64}\n\n"),
    ],
)
def test_malformed_checkpoint_text_is_refused(label: str, text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_checkpoint(text)


def test_signed_note_that_is_not_a_checkpoint_fails_checkpoint_verification() -> None:
    with pytest.raises(VerificationError, match="not a checkpoint"):
        verify_checkpoint(sign_note("just a note\n", LOG), LOG.vkey)


# --- cosignatures (c2sp.org/tlog-cosignature, Ed25519 cosignature/v1) --------------------


def test_cosignature_line_is_key_id_timestamp_and_signature_over_cosignature_v1_message() -> None:
    signed = sign_checkpoint(CHECKPOINT, LOG)
    cosigned = cosign_checkpoint(signed, WITNESS, 1679315147)
    assert cosigned.startswith(signed)
    line = cosigned[len(signed) :]
    name, _, encoded = line.removeprefix("— ").removesuffix("\n").partition(" ")
    raw = base64.b64decode(encoded)
    public = WITNESS.public_key
    key_id = hashlib.sha256(WITNESS.name.encode() + b"\n\x04" + public).digest()[:4]
    message = b"cosignature/v1\ntime 1679315147\n" + CHECKPOINT.to_text().encode()
    private = Ed25519PrivateKey.from_private_bytes(bytes([2]) * 32)
    assert name == WITNESS.name
    assert raw == key_id + (1679315147).to_bytes(8, "big") + private.sign(message)


def test_cosigned_checkpoint_still_verifies_with_the_log_key() -> None:
    cosigned = cosign_checkpoint(sign_checkpoint(CHECKPOINT, LOG), WITNESS, 1700000000)
    assert verify_checkpoint(cosigned, LOG.vkey) == CHECKPOINT


def test_cosignatures_of_trusted_witnesses_are_returned_with_their_timestamps() -> None:
    note = cosign_checkpoint(sign_checkpoint(CHECKPOINT, LOG), WITNESS, 1700000000)
    note = cosign_checkpoint(note, OTHER_WITNESS, 1700000005)
    found = verify_cosignatures(note, [WITNESS.vkey, OTHER_WITNESS.vkey], quorum=2)
    assert found == [
        Cosignature(WITNESS.name, WITNESS.key_id, 1700000000),
        Cosignature(OTHER_WITNESS.name, OTHER_WITNESS.key_id, 1700000005),
    ]


def test_too_few_cosignatures_for_the_quorum_are_rejected() -> None:
    note = cosign_checkpoint(sign_checkpoint(CHECKPOINT, LOG), WITNESS, 1700000000)
    with pytest.raises(VerificationError, match="2 required"):
        verify_cosignatures(note, [WITNESS.vkey, OTHER_WITNESS.vkey], quorum=2)


def test_cosignature_with_altered_timestamp_is_rejected() -> None:
    signed = sign_checkpoint(CHECKPOINT, LOG)
    cosigned = cosign_checkpoint(signed, WITNESS, 1700000000)
    encoded = cosigned[len(signed) :].removesuffix("\n").split(" ")[2]
    raw = bytearray(base64.b64decode(encoded))
    raw[11] ^= 1  # last byte of the 8-byte timestamp after the 4-byte key ID
    forged = signed + f"— {WITNESS.name} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(VerificationError, match="invalid signature"):
        verify_cosignatures(forged, WITNESS.vkey)


def test_cosignature_is_not_a_note_signature_of_the_same_key() -> None:
    plain = Signer(Ed25519PrivateKey.from_private_bytes(bytes([2]) * 32), WITNESS.name)
    cosigned = cosign_checkpoint(sign_checkpoint(CHECKPOINT, LOG), WITNESS, 1700000000)
    with pytest.raises(VerificationError, match="no valid signature"):
        verify_note(cosigned, plain.vkey)


def test_verify_cosignatures_refuses_a_plain_note_key() -> None:
    cosigned = cosign_checkpoint(sign_checkpoint(CHECKPOINT, LOG), WITNESS, 1700000000)
    with pytest.raises(InvalidInput, match="0x04"):
        verify_cosignatures(cosigned, LOG.vkey)


def test_cosigning_checks_the_log_signature_when_given_the_log_key() -> None:
    tampered = sign_checkpoint(CHECKPOINT, LOG).replace("\n3\n", "\n4\n")
    with pytest.raises(VerificationError):
        cosign_checkpoint(tampered, WITNESS, 1700000000, log_key=LOG.vkey)


@pytest.mark.parametrize("timestamp", [-1, 1 << 63])
def test_cosigning_refuses_timestamp_outside_0_to_2_63(timestamp: int) -> None:
    with pytest.raises(InvalidInput):
        cosign_checkpoint(sign_checkpoint(CHECKPOINT, LOG), WITNESS, timestamp)


def test_cosigning_refuses_a_note_signer() -> None:
    with pytest.raises(InvalidInput, match="0x04"):
        cosign_checkpoint(sign_checkpoint(CHECKPOINT, LOG), LOG, 1700000000)


def test_cosigning_refuses_a_note_that_is_not_a_checkpoint() -> None:
    with pytest.raises(VerificationError, match="not a checkpoint"):
        cosign_checkpoint(sign_note("hello\n", LOG), WITNESS, 1700000000)


def test_c2sp_example_cosignature_line_carries_its_timestamp() -> None:
    spec_line = (
        "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
        "rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
    )
    note = verify_note(sign_checkpoint(CHECKPOINT, LOG) + spec_line, LOG.vkey)
    (unknown,) = note.unverified_signatures
    assert unknown.name == "witness.example.com/w1"
    assert int.from_bytes(unknown.signature[:8], "big") == 1679315147
    assert len(unknown.signature) == 8 + 64
