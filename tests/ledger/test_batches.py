"""Incident batches keep their upper subtree hashes: proofs equal the ones rebuilt from all records."""

from __future__ import annotations

import pytest

from deconflict.errors import VerificationError
from deconflict.ledger import merkle
from deconflict.ledger.batches import STORED_FROM_LEVEL, batch_proofs, batch_tree


def _records(n: int) -> list[bytes]:
    return [f'{{"id":"inc-{i}"}}'.encode() for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 31, 32, 33, 63, 64, 65, 100, 257, 1000])
def test_batch_root_is_the_rfc6962_root_and_only_upper_levels_are_stored(n):
    records = _records(n)
    root, nodes = batch_tree(records)
    assert root == merkle.root_hash(records)
    assert all(level >= STORED_FROM_LEVEL for (level, _), _ in nodes)
    assert len(nodes) == sum(n >> level for level in range(STORED_FROM_LEVEL, max(n, 1).bit_length() + 1))


@pytest.mark.parametrize("n", [1, 5, 32, 33, 95, 130, 1000])
@pytest.mark.parametrize("stored_kept", [True, False])
def test_every_proof_equals_the_one_rebuilt_from_every_record(n, stored_kept):
    records = _records(n)
    _, nodes = batch_tree(records)
    reads: list[tuple[int, int]] = []

    def between(start: int, end: int) -> list[bytes]:
        reads.append((start, end))
        return records[start:end]

    proofs = batch_proofs(n, range(n), dict(nodes) if stored_kept else {}, between)
    assert proofs == {p: merkle.inclusion_proof(records, p) for p in range(n)}
    if stored_kept:  # only aligned blocks of 2**STORED_FROM_LEVEL records are read, each once
        assert all(end - start <= 1 << STORED_FROM_LEVEL for start, end in reads)
        assert len(reads) == len(set(reads))
    else:  # an old batch without stored nodes is read once, for all its proofs
        assert reads == [(0, n)] if n >= 1 << STORED_FROM_LEVEL else len(reads) <= 1


def test_a_proof_from_a_block_with_a_record_missing_is_refused():
    records = _records(100)
    _, nodes = batch_tree(records)
    with pytest.raises(VerificationError, match="holds 31 records"):
        batch_proofs(100, [40], dict(nodes), lambda start, end: records[start : end - 1])
