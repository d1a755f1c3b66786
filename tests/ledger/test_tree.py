"""deconflict.ledger.tree (stored subtree hashes) against deconflict.ledger.merkle."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.errors import InvalidInput, VerificationError
from deconflict.ledger import merkle
from deconflict.ledger.tree import (
    InMemoryNodeStore,
    LevelHashes,
    NodeKey,
    append_many_nodes,
    append_nodes,
    consistency_proof_at,
    inclusion_proof_at,
    root_at,
    subtree_keys,
)

MAX_SIZE = 300


def _log2_ceil(n: int) -> int:
    return max(n - 1, 0).bit_length()


@pytest.fixture(scope="module")
def leaves() -> list[bytes]:
    rng = random.Random(9162)
    return [rng.randbytes(rng.randint(0, 24)) for _ in range(MAX_SIZE)]


@pytest.fixture(scope="module")
def store(leaves: list[bytes]) -> InMemoryNodeStore:
    built = InMemoryNodeStore()
    for data in leaves:
        built.append([merkle.leaf_hash(data)])
    return built


def test_every_stored_node_is_the_root_of_its_perfect_subtree(leaves: list[bytes], store: InMemoryNodeStore) -> None:
    for (level, index), value in store.nodes.items():
        width = 1 << level
        assert value == merkle.root_hash(leaves[index * width : (index + 1) * width])


def test_store_holds_exactly_the_complete_subtrees(store: InMemoryNodeStore) -> None:
    expected = {(level, index) for level in range(MAX_SIZE.bit_length()) for index in range(MAX_SIZE >> level)}
    assert set(store.nodes) == expected


def test_batch_append_stores_the_same_nodes_as_single_appends(leaves: list[bytes], store: InMemoryNodeStore) -> None:
    rng = random.Random(5)
    batched = InMemoryNodeStore()
    while batched.size < MAX_SIZE:
        count = min(rng.randint(0, 40), MAX_SIZE - batched.size)
        batched.append(merkle.leaf_hash(d) for d in leaves[batched.size : batched.size + count])
    assert batched.nodes == store.nodes


def test_append_one_leaf_returns_leaf_first_then_completed_parents() -> None:
    hashes = [merkle.leaf_hash(bytes([i])) for i in range(4)]
    store = InMemoryNodeStore()
    store.append(hashes[:3])
    created = append_nodes(3, hashes[3], store)
    assert [key for key, _ in created] == [(0, 3), (1, 1), (2, 0)]
    assert created[-1][1] == merkle.root_hash([bytes([i]) for i in range(4)])


def test_append_one_leaf_reads_once_and_at_most_log_n_nodes(store: InMemoryNodeStore) -> None:
    for size in range(1, MAX_SIZE):
        store.reset_counters()
        append_nodes(size, merkle.leaf_hash(b"next"), store)
        assert store.read_calls == 1
        assert store.keys_read == bin(size).count("1") <= _log2_ceil(size) + 1


def test_append_to_empty_tree_reads_nothing() -> None:
    store = InMemoryNodeStore()
    assert append_nodes(0, merkle.leaf_hash(b"first"), store) == [((0, 0), merkle.leaf_hash(b"first"))]
    assert store.read_calls == 0


def test_append_refuses_leaf_hash_of_wrong_length() -> None:
    with pytest.raises(InvalidInput):
        append_many_nodes(0, [b"short"], InMemoryNodeStore())


@pytest.mark.parametrize("size", range(MAX_SIZE + 1))
def test_root_at_matches_merkle_root_with_one_read_of_log_n_nodes(
    size: int, leaves: list[bytes], store: InMemoryNodeStore
) -> None:
    store.reset_counters()
    assert root_at(size, store) == merkle.root_hash(leaves[:size])
    assert store.read_calls == (1 if size else 0)
    assert store.keys_read <= _log2_ceil(size) + 1


def test_inclusion_proofs_match_merkle_at_random_points(leaves: list[bytes], store: InMemoryNodeStore) -> None:
    rng = random.Random(11)
    for _ in range(400):
        size = rng.randint(1, MAX_SIZE)
        index = rng.randrange(size)
        store.reset_counters()
        proof = inclusion_proof_at(index, size, store)
        assert store.read_calls == (1 if size > 1 else 0)
        assert store.keys_read <= 2 * _log2_ceil(size)
        assert proof == merkle.inclusion_proof(leaves[:size], index)
        merkle.verify_inclusion(merkle.leaf_hash(leaves[index]), index, size, proof, root_at(size, store))


def test_consistency_proofs_match_merkle_at_random_points(leaves: list[bytes], store: InMemoryNodeStore) -> None:
    rng = random.Random(12)
    for _ in range(400):
        new_size = rng.randint(1, MAX_SIZE)
        old_size = rng.randint(1, new_size)
        store.reset_counters()
        proof = consistency_proof_at(old_size, new_size, store)
        assert store.read_calls == (1 if proof else 0)
        assert store.keys_read <= 2 * _log2_ceil(new_size)
        assert proof == merkle.consistency_proof(leaves[:new_size], old_size)
        merkle.verify_consistency(old_size, new_size, root_at(old_size, store), root_at(new_size, store), proof)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, MAX_SIZE).flatmap(lambda n: st.tuples(st.integers(0, n - 1), st.just(n))))
def test_inclusion_proof_at_matches_merkle_for_any_index(
    leaves: list[bytes], store: InMemoryNodeStore, point: tuple[int, int]
) -> None:
    index, size = point
    assert inclusion_proof_at(index, size, store) == merkle.inclusion_proof(leaves[:size], index)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, MAX_SIZE).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_consistency_proof_at_matches_merkle_for_any_sizes(
    leaves: list[bytes], store: InMemoryNodeStore, sizes: tuple[int, int]
) -> None:
    old_size, new_size = sizes
    expected = merkle.consistency_proof(leaves[:new_size], old_size)
    assert consistency_proof_at(old_size, new_size, store) == expected


def test_reader_may_be_a_plain_callable(leaves: list[bytes], store: InMemoryNodeStore) -> None:
    assert root_at(77, store.get_nodes) == merkle.root_hash(leaves[:77])


def test_missing_stored_node_raises_verification_error() -> None:
    def empty_reader(keys: list[NodeKey]) -> dict[NodeKey, bytes]:
        return {}

    with pytest.raises(VerificationError, match="missing"):
        root_at(5, empty_reader)


def test_stored_node_of_wrong_length_raises_verification_error() -> None:
    with pytest.raises(VerificationError, match="32-byte"):
        root_at(1, lambda keys: {key: b"x" for key in keys})


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (0, 0)])
def test_inclusion_proof_at_refuses_index_outside_tree(index: int, size: int) -> None:
    with pytest.raises(InvalidInput):
        inclusion_proof_at(index, size, InMemoryNodeStore())


def test_consistency_proof_at_refuses_old_size_above_new_size() -> None:
    with pytest.raises(InvalidInput):
        consistency_proof_at(6, 5, InMemoryNodeStore())


@pytest.mark.parametrize(
    ("begin", "end", "expected"),
    [
        (0, 0, []),
        (0, 1, [(0, 0)]),
        (0, 6, [(2, 0), (1, 2)]),
        (0, 7, [(2, 0), (1, 2), (0, 6)]),
        (3, 8, [(0, 3), (2, 1)]),
        (4, 7, [(1, 2), (0, 6)]),
    ],
)
def test_subtree_keys_is_the_minimal_cover_of_the_range(begin: int, end: int, expected: list[NodeKey]) -> None:
    assert subtree_keys(begin, end) == expected


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8, 9, 100, 1025])
def test_level_hashes_hold_exactly_the_nodes_an_in_memory_store_holds(n):
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(n)]
    reference, compact = InMemoryNodeStore(), LevelHashes()
    reference.append(leaves)
    for leaf in leaves:
        compact.append(leaf)
    assert dict(zip(compact, (compact.get(k) for k in compact), strict=True)) == reference.nodes
    assert len(compact) == len(reference.nodes) and compact.get((0, n)) is None
    assert root_at(n, compact) == merkle.root_hash([b"%d" % i for i in range(n)])
