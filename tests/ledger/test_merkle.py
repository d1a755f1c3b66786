"""deconflict.ledger.merkle against the RFC 6962 vectors, pymerkle and tampering."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pymerkle
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deconflict.errors import InvalidInput, VerificationError
from deconflict.ledger.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "rfc6962_vectors.json").read_text(encoding="utf-8")
)
LEAVES = [bytes.fromhex(x) for x in VECTORS["leaf_inputs_hex"]]


def _hashes(path_hex: list[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in path_hex]


def _random_leaves(rng: random.Random, size: int) -> list[bytes]:
    return [rng.randbytes(rng.randint(0, 40)) for _ in range(size)]


# --- published vectors -------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["leaf_hashes"], ids=lambda c: c["source"][-40:])
def test_leaf_hash_matches_vector(case: dict[str, str]) -> None:
    assert leaf_hash(bytes.fromhex(case["data_hex"])).hex() == case["hash_hex"]


@pytest.mark.parametrize("case", VECTORS["children"], ids=lambda c: c["hash_hex"][:8])
def test_node_hash_matches_vector(case: dict[str, str]) -> None:
    left, right = bytes.fromhex(case["left_hex"]), bytes.fromhex(case["right_hex"])
    assert node_hash(left, right).hex() == case["hash_hex"]


@pytest.mark.parametrize("level", range(len(VECTORS["node_hashes_by_level"])))
def test_perfect_subtree_roots_match_vector_node_hashes(level: int) -> None:
    width = 1 << level
    expected = VECTORS["node_hashes_by_level"][level]
    computed = [root_hash(LEAVES[i * width : (i + 1) * width]).hex() for i in range(len(expected))]
    assert computed == expected


def test_empty_tree_root_is_sha256_of_empty_string() -> None:
    assert root_hash([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert EMPTY_ROOT.hex() == VECTORS["empty_root_hex"]


@pytest.mark.parametrize("case", VECTORS["roots"], ids=lambda c: f"size{c['size']}")
def test_root_of_standard_leaves_matches_vector(case: dict[str, Any]) -> None:
    assert root_hash(LEAVES[: case["size"]]).hex() == case["root_hex"]


INCLUSION_CASES = VECTORS["inclusion_proofs"] + VECTORS["derived_inclusion_proofs_all"]
CONSISTENCY_CASES = VECTORS["consistency_proofs"] + VECTORS["derived_consistency_proofs_all"]


@pytest.mark.parametrize("case", INCLUSION_CASES, ids=lambda c: f"{c['index']}of{c['size']}")
def test_inclusion_proof_matches_vector_and_verifies(case: dict[str, Any]) -> None:
    leaves = LEAVES[: case["size"]]
    proof = inclusion_proof(leaves, case["index"])
    assert [p.hex() for p in proof] == case["path_hex"]
    verify_inclusion(leaf_hash(leaves[case["index"]]), case["index"], case["size"], proof, root_hash(leaves))


@pytest.mark.parametrize("case", CONSISTENCY_CASES, ids=lambda c: f"{c['size1']}to{c['size2']}")
def test_consistency_proof_matches_vector_and_verifies(case: dict[str, Any]) -> None:
    old, new = LEAVES[: case["size1"]], LEAVES[: case["size2"]]
    proof = consistency_proof(new, case["size1"])
    assert [p.hex() for p in proof] == case["path_hex"]
    verify_consistency(case["size1"], case["size2"], root_hash(old), root_hash(new), proof)


@pytest.mark.parametrize("probe", VECTORS["inclusion_probes"], ids=lambda p: p["file"])
def test_inclusion_probe_gets_upstream_verdict(probe: dict[str, Any]) -> None:
    args = (
        bytes.fromhex(probe["leaf_hash_hex"]),
        probe["index"],
        probe["size"],
        _hashes(probe["path_hex"]),
        bytes.fromhex(probe["root_hex"]),
    )
    if probe["want_error"]:
        with pytest.raises(VerificationError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("probe", VECTORS["consistency_probes"], ids=lambda p: p["file"])
def test_consistency_probe_gets_upstream_verdict(probe: dict[str, Any]) -> None:
    args = (
        probe["size1"],
        probe["size2"],
        bytes.fromhex(probe["root1_hex"]),
        bytes.fromhex(probe["root2_hex"]),
        _hashes(probe["path_hex"]),
    )
    if probe["want_error"]:
        with pytest.raises(VerificationError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_probe_tables_hold_both_verdicts() -> None:
    for table in ("inclusion_probes", "consistency_probes"):
        verdicts = {probe["want_error"] for probe in VECTORS[table]}
        assert verdicts == {True, False}, table


# --- edge policy and argument checks ----------------------------------------------------


@pytest.mark.parametrize("index", [-1, 8, 9])
def test_inclusion_proof_refuses_index_outside_tree(index: int) -> None:
    with pytest.raises(InvalidInput):
        inclusion_proof(LEAVES, index)


@pytest.mark.parametrize("old_size", [-1, 9])
def test_consistency_proof_refuses_old_size_outside_tree(old_size: int) -> None:
    with pytest.raises(InvalidInput):
        consistency_proof(LEAVES, old_size)


@pytest.mark.parametrize("old_size", [0, 8])
def test_consistency_proof_is_empty_from_empty_tree_or_to_same_size(old_size: int) -> None:
    assert consistency_proof(LEAVES, old_size) == []


def test_consistency_from_empty_tree_is_rejected_even_with_empty_proof() -> None:
    with pytest.raises(VerificationError, match="empty tree"):
        verify_consistency(0, 8, EMPTY_ROOT, root_hash(LEAVES), [])


def test_inclusion_rejects_proof_element_of_wrong_length() -> None:
    proof = inclusion_proof(LEAVES, 3)
    proof[1] = proof[1] + b"\x00"
    with pytest.raises(VerificationError, match="32-byte"):
        verify_inclusion(leaf_hash(LEAVES[3]), 3, 8, proof, root_hash(LEAVES))


@pytest.mark.parametrize("size", [-1, 1 << 64])
def test_inclusion_rejects_size_outside_uint64(size: int) -> None:
    with pytest.raises(VerificationError):
        verify_inclusion(leaf_hash(b""), 0, size, [], EMPTY_ROOT)


def test_consistency_rejects_equal_sizes_with_different_roots() -> None:
    with pytest.raises(VerificationError, match="different roots"):
        verify_consistency(3, 3, root_hash(LEAVES[:3]), root_hash(LEAVES[:4]), [])


# --- cross-check with pymerkle, an independent implementation ---------------------------


@pytest.fixture(scope="module")
def random_tree() -> tuple[list[bytes], pymerkle.InmemoryTree]:
    leaves = _random_leaves(random.Random(6962), 130)
    tree = pymerkle.InmemoryTree(algorithm="sha256")  # RFC 6962 prefixes: security on
    for data in leaves:
        tree.append_entry(data)
    return leaves, tree


def test_roots_match_pymerkle_at_every_size(random_tree: Any) -> None:
    leaves, tree = random_tree
    for size in range(len(leaves) + 1):
        assert root_hash(leaves[:size]) == tree.get_root(size), size


def test_inclusion_proofs_match_pymerkle_path(random_tree: Any) -> None:
    leaves, tree = random_tree
    rng = random.Random(1)
    for _ in range(200):
        size = rng.randint(1, len(leaves))
        index = rng.randrange(size)
        ours = inclusion_proof(leaves[:size], index)
        theirs = tree.prove_inclusion(index + 1, size)  # pymerkle counts from 1
        assert theirs.path == [leaf_hash(leaves[index]), *ours]
        verify_inclusion(leaf_hash(leaves[index]), index, size, ours, tree.get_root(size))


def test_consistency_proofs_verify_against_pymerkle_roots(random_tree: Any) -> None:
    leaves, tree = random_tree
    rng = random.Random(2)
    for _ in range(200):
        new_size = rng.randint(1, len(leaves))
        old_size = rng.randint(1, new_size)
        old_root, new_root = tree.get_root(old_size), tree.get_root(new_size)
        ours = consistency_proof(leaves[:new_size], old_size)
        verify_consistency(old_size, new_size, old_root, new_root, ours)
        theirs = tree.prove_consistency(old_size, new_size)
        pymerkle.verify_consistency(root_hash(leaves[:old_size]), root_hash(leaves[:new_size]), theirs)


# --- property tests: any change to a valid proof is caught ------------------------------


@st.composite
def inclusion_cases(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(st.integers(min_value=1, max_value=70))
    leaves = [i.to_bytes(4, "big") + draw(st.binary(max_size=4)) for i in range(size)]
    return leaves, draw(st.integers(min_value=0, max_value=size - 1))


@settings(max_examples=150, deadline=None)
@given(inclusion_cases(), st.data())
def test_inclusion_rejects_any_flipped_proof_bit(case: tuple[list[bytes], int], data: st.DataObject) -> None:
    leaves, index = case
    proof = inclusion_proof(leaves, index)
    assume(proof)
    element = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 8 * 32 - 1))
    tampered = bytearray(proof[element])
    tampered[bit // 8] ^= 1 << (bit % 8)
    proof[element] = bytes(tampered)
    with pytest.raises(VerificationError):
        verify_inclusion(leaf_hash(leaves[index]), index, len(leaves), proof, root_hash(leaves))


@settings(max_examples=150, deadline=None)
@given(inclusion_cases(), st.data())
def test_inclusion_rejects_wrong_index(case: tuple[list[bytes], int], data: st.DataObject) -> None:
    leaves, index = case
    assume(len(leaves) > 1)
    other = data.draw(st.integers(0, len(leaves) - 1).filter(lambda i: i != index))
    proof = inclusion_proof(leaves, index)
    with pytest.raises(VerificationError):
        verify_inclusion(leaf_hash(leaves[index]), other, len(leaves), proof, root_hash(leaves))


@settings(max_examples=150, deadline=None)
@given(inclusion_cases(), st.data())
def test_inclusion_rejects_proof_against_tree_of_other_size(case: tuple[list[bytes], int], data: st.DataObject) -> None:
    leaves, index = case
    other = data.draw(st.integers(index + 1, 80).filter(lambda n: n != len(leaves)))
    longer = leaves + [b"extra" + i.to_bytes(4, "big") for i in range(80)]
    proof = inclusion_proof(leaves, index)
    with pytest.raises(VerificationError):
        verify_inclusion(leaf_hash(leaves[index]), index, other, proof, root_hash(longer[:other]))


@st.composite
def consistency_cases(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(st.integers(min_value=2, max_value=70))
    leaves = [i.to_bytes(4, "big") + draw(st.binary(max_size=4)) for i in range(size)]
    return leaves, draw(st.integers(min_value=1, max_value=size - 1))


@settings(max_examples=150, deadline=None)
@given(consistency_cases(), st.data())
def test_consistency_rejects_any_flipped_proof_bit(case: tuple[list[bytes], int], data: st.DataObject) -> None:
    leaves, old_size = case
    proof = consistency_proof(leaves, old_size)
    element = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 8 * 32 - 1))
    tampered = bytearray(proof[element])
    tampered[bit // 8] ^= 1 << (bit % 8)
    proof[element] = bytes(tampered)
    old_root, new_root = root_hash(leaves[:old_size]), root_hash(leaves)
    with pytest.raises(VerificationError):
        verify_consistency(old_size, len(leaves), old_root, new_root, proof)


@settings(max_examples=150, deadline=None)
@given(consistency_cases(), st.data())
def test_consistency_rejects_wrong_old_size(case: tuple[list[bytes], int], data: st.DataObject) -> None:
    leaves, old_size = case
    other = data.draw(st.integers(1, len(leaves) - 1).filter(lambda n: n != old_size))
    proof = consistency_proof(leaves, old_size)
    with pytest.raises(VerificationError):
        verify_consistency(other, len(leaves), root_hash(leaves[:other]), root_hash(leaves), proof)


@settings(max_examples=150, deadline=None)
@given(consistency_cases(), st.data())
def test_consistency_rejects_wrong_new_size(case: tuple[list[bytes], int], data: st.DataObject) -> None:
    leaves, old_size = case
    other = data.draw(st.integers(old_size, 80).filter(lambda n: n != len(leaves)))
    longer = leaves + [b"extra" + i.to_bytes(4, "big") for i in range(80)]
    proof = consistency_proof(leaves, old_size)
    with pytest.raises(VerificationError):
        verify_consistency(old_size, other, root_hash(leaves[:old_size]), root_hash(longer[:other]), proof)


@settings(max_examples=100, deadline=None)
@given(consistency_cases())
def test_consistency_rejects_a_forked_new_tree(case: tuple[list[bytes], int]) -> None:
    leaves, old_size = case
    forked = [*leaves[: old_size - 1], b"rewritten", *leaves[old_size:]]
    proof = consistency_proof(forked, old_size)
    with pytest.raises(VerificationError):
        verify_consistency(old_size, len(leaves), root_hash(leaves[:old_size]), root_hash(forked), proof)
