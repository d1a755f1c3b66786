"""Incident batches as Merkle trees whose upper levels are stored, so proofs cost O(log n).

A batch entry (``incident``, ``incident_revision``, ``incident_merge``) commits to its records
with ``records_root``, the RFC 6962 root over their canonical JSON. Proving one record needs the
O(log n) hashes of the subtrees beside its path; recomputing those from the records costs O(n)
per record, so a bundle of k records of a batch of n hashed the batch k times (O(k·n)). When a
batch is logged, the hashes of its complete subtrees of ``2**STORED_FROM_LEVEL`` records and
more are stored as well (about ``n / 2**(STORED_FROM_LEVEL - 1)`` rows, :func:`batch_tree`); a
proof then reads them and rehashes only the few records of the aligned block holding the record
it proves (:func:`batch_proofs`): O(k·(2**STORED_FROM_LEVEL + log n)) for a bundle. Batches
logged before the nodes were kept are hashed once, for all their proofs.

The nodes are an index, not evidence: a bundle's proofs are checked against ``records_root`` in
the log entry, and ``log verify`` recomputes the nodes from the records and compares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from deconflict.errors import VerificationError
from deconflict.ledger import merkle, tree
from deconflict.ledger.tree import NodeKey

__all__ = ["STORED_FROM_LEVEL", "batch_proofs", "batch_tree", "subtree_levels"]

#: Subtrees of ``2**STORED_FROM_LEVEL`` records and more are stored (32: about n / 16 rows a batch).
STORED_FROM_LEVEL = 5

#: ``records_between(start, end)``: the records a batch commits to at positions ``[start, end)``.
RecordsBetween = Callable[[int, int], list[bytes]]


def subtree_levels(records: Sequence[bytes]) -> list[list[bytes]]:
    """Hashes of every complete subtree of ``records``, per level: ``levels[l][i]`` is node ``(l, i)``.

    Level 0 are the leaf hashes; level ``l`` holds ``len(records) >> l`` nodes.
    """
    level = [merkle.leaf_hash(record) for record in records]
    levels = [level]
    while len(level) >= 2:
        level = [merkle.node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        levels.append(level)
    return levels


def _reader(levels: Sequence[Sequence[bytes]]) -> Callable[[list[NodeKey]], dict[NodeKey, bytes]]:
    return lambda keys: {(lv, i): levels[lv][i] for lv, i in keys if lv < len(levels) and i < len(levels[lv])}


def batch_tree(records: Sequence[bytes]) -> tuple[bytes, list[tuple[NodeKey, bytes]]]:
    """The RFC 6962 root of a batch and the subtree hashes to store with it (levels >= :data:`STORED_FROM_LEVEL`).

    Returns
    -------
    tuple
        ``(records_root, [((level, index), hash), ...])``; the root equals
        :func:`deconflict.ledger.merkle.root_hash` of ``records``.
    """
    levels = subtree_levels(records)
    root = tree.root_at(len(records), _reader(levels))
    stored = [((lv, i), digest) for lv in range(STORED_FROM_LEVEL, len(levels)) for i, digest in enumerate(levels[lv])]
    return root, stored


class _BatchNodes:
    """Node reader for one batch: stored upper levels, lower levels rehashed per aligned block."""

    def __init__(self, size: int, stored: Mapping[NodeKey, bytes], records_between: RecordsBetween) -> None:
        self.size = size
        self.stored = stored
        self.records_between = records_between
        self.blocks: dict[int, list[list[bytes]]] = {}
        self.whole: list[list[bytes]] | None = None  # when the upper levels were never stored
        if not stored and size >= 1 << STORED_FROM_LEVEL:
            self.whole = subtree_levels(records_between(0, size))

    def _block_levels(self, block: int) -> list[list[bytes]]:
        if block not in self.blocks:
            start = block << STORED_FROM_LEVEL
            end = min(self.size, start + (1 << STORED_FROM_LEVEL))
            records = self.records_between(start, end)
            if len(records) != end - start:
                raise VerificationError(f"the batch holds {len(records)} records at positions {start}..{end - 1}")
            self.blocks[block] = subtree_levels(records)
        return self.blocks[block]

    def get_nodes(self, keys: list[NodeKey]) -> dict[NodeKey, bytes]:
        found: dict[NodeKey, bytes] = {}
        for key in keys:
            level, index = key
            if self.whole is None and level >= STORED_FROM_LEVEL and key not in self.stored:
                self.whole = subtree_levels(self.records_between(0, self.size))
            if self.whole is not None:
                found.update(_reader(self.whole)([key]))
            elif level >= STORED_FROM_LEVEL:
                found[key] = self.stored[key]
            else:
                block = (index << level) >> STORED_FROM_LEVEL
                local = (level, index - (block << (STORED_FROM_LEVEL - level)))
                digest = _reader(self._block_levels(block))([local]).get(local)
                if digest is not None:
                    found[key] = digest
        return found


def batch_proofs(
    size: int, positions: Iterable[int], stored: Mapping[NodeKey, bytes], records_between: RecordsBetween
) -> dict[int, list[bytes]]:
    """Inclusion proofs of the records at ``positions`` in a batch of ``size`` records.

    Parameters
    ----------
    size
        The batch's record count (its entry's ``count``).
    positions
        Positions to prove.
    stored
        The batch's stored subtree hashes (:meth:`Store.batch_nodes`); empty for an old batch,
        which is then hashed once for all the proofs.
    records_between
        The records at positions ``[start, end)``, as the batch commits to them.

    Returns
    -------
    dict
        ``{position: proof}``, each proof as :func:`deconflict.ledger.merkle.inclusion_proof` gives it.
    """
    reader = _BatchNodes(size, stored, records_between)
    return {position: tree.inclusion_proof_at(position, size, reader) for position in sorted(set(positions))}
