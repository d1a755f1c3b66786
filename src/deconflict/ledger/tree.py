"""Merkle tree computations over stored complete-subtree hashes.

A log never rebuilds its tree. It stores the hash of every *complete*
(perfect) subtree once that subtree is full, and never changes it again:
node ``(level, index)`` is the root of the leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf hashes.
Any other hash the RFC 9162 algorithms need (the root, or the hash of the
ragged right edge of the tree) is folded from a handful of stored nodes, a
"compact range" in the words of transparency-dev/merkle.

Every function here first works out which nodes it needs, fetches them in ONE
call to the reader, then computes. Reads are O(log n) keys: at most one key
per level for a root, about two per level for a proof.

The reader is anything with ``get_nodes(keys) -> {key: hash}`` (the
:class:`NodeReader` protocol), or a plain callable with that signature, so a
SQLite or PostgreSQL store plugs in without this module knowing about it.
A node missing from the reader's answer raises
:class:`~deconflict.errors.VerificationError`: the stored log is incomplete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Protocol, TypeAlias, runtime_checkable

from deconflict.errors import InvalidInput, VerificationError
from deconflict.ledger.merkle import EMPTY_ROOT, HASH_SIZE, node_hash

__all__ = [
    "InMemoryNodeStore",
    "LevelHashes",
    "NodeKey",
    "NodeReader",
    "append_many_nodes",
    "append_nodes",
    "consistency_proof_at",
    "inclusion_proof_at",
    "root_at",
    "subtree_keys",
]

NodeKey: TypeAlias = tuple[int, int]
"""``(level, index)`` of a complete subtree; level 0 are the leaves."""


@runtime_checkable
class NodeReader(Protocol):
    """Where stored subtree hashes come from."""

    def get_nodes(self, keys: list[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Return the stored hash of each key (keys not stored may be left out)."""
        ...


Reader: TypeAlias = NodeReader | Callable[[list[NodeKey]], Mapping[NodeKey, bytes]]
NewNodes: TypeAlias = list[tuple[NodeKey, bytes]]


def _read(reader: Reader, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
    """Fetch ``keys`` in one batched call and check the answer is complete."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    fetch = reader.get_nodes if isinstance(reader, NodeReader) else reader
    found = fetch(wanted)
    nodes: dict[NodeKey, bytes] = {}
    for key in wanted:
        value = found.get(key)
        if value is None:
            raise VerificationError(f"stored tree node (level {key[0]}, index {key[1]}) is missing")
        if len(value) != HASH_SIZE:
            raise VerificationError(f"stored tree node (level {key[0]}, index {key[1]}) is not a {HASH_SIZE}-byte hash")
        nodes[key] = bytes(value)
    return nodes


def subtree_keys(begin: int, end: int) -> list[NodeKey]:
    """Complete subtrees that exactly cover the leaves ``[begin, end)``, left to right.

    Parameters
    ----------
    begin, end
        Leaf range, ``0 <= begin <= end``.

    Returns
    -------
    list of NodeKey
        The minimal compact-range decomposition; for ``begin = 0`` one node per
        set bit of ``end``, largest first.
    """
    if not 0 <= begin <= end:
        raise InvalidInput(f"leaf range [{begin}, {end}) is not a range")
    keys: list[NodeKey] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        keys.append((level, begin >> level))
        begin += 1 << level
    return keys


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Root of an aligned range from its compact-range hashes (fold right to left)."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _range_hashes(ranges: Sequence[tuple[int, int]], reader: Reader) -> list[bytes]:
    """MTH of each aligned leaf range, reading every node needed in one call."""
    layouts = [subtree_keys(lo, hi) for lo, hi in ranges]
    nodes = _read(reader, [key for layout in layouts for key in layout])
    return [_fold([nodes[key] for key in layout]) for layout in layouts]


def _check_size(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidInput(f"tree size must be a non-negative integer, got {size!r}")


def root_at(size: int, read: Reader) -> bytes:
    """Root hash of the tree of the first ``size`` leaves.

    Parameters
    ----------
    size
        Tree size; the store may hold a larger tree.
    read
        Node reader.

    Returns
    -------
    bytes
        The RFC 6962 root; :data:`~deconflict.ledger.merkle.EMPTY_ROOT` for 0.
    """
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    return _range_hashes([(0, size)], read)[0]


def append_many_nodes(size: int, leaf_hashes: Iterable[bytes], read: Reader) -> NewNodes:
    """Nodes to store when appending leaves to a tree of ``size`` leaves.

    Parameters
    ----------
    size
        Current tree size (leaves already stored).
    leaf_hashes
        32-byte leaf hashes of the new entries, in order.
    read
        Node reader; at most ``popcount(size)`` nodes are read, in one call.

    Returns
    -------
    list of (NodeKey, bytes)
        Every newly completed subtree, leaves included, in creation order.
    """
    _check_size(size)
    new_leaves = [bytes(h) for h in leaf_hashes]
    if any(len(h) != HASH_SIZE for h in new_leaves):
        raise InvalidInput(f"every leaf hash must be {HASH_SIZE} bytes")
    if not new_leaves:
        return []
    border = subtree_keys(0, size)
    stored = _read(read, border)
    # Stack of complete subtrees on the right edge, levels strictly decreasing.
    stack: list[tuple[int, int, bytes]] = [(lvl, idx, stored[(lvl, idx)]) for lvl, idx in border]
    created: NewNodes = []
    for offset, leaf in enumerate(new_leaves):
        stack.append((0, size + offset, leaf))
        created.append(((0, size + offset), leaf))
        while len(stack) >= 2 and stack[-1][0] == stack[-2][0]:
            level, _, right = stack.pop()
            _, left_index, left = stack.pop()
            parent = (level + 1, left_index >> 1, node_hash(left, right))
            stack.append(parent)
            created.append(((parent[0], parent[1]), parent[2]))
    return created


def append_nodes(size: int, leaf_hash: bytes, read: Reader) -> NewNodes:
    """Nodes to store when appending one leaf hash to a tree of ``size`` leaves.

    See :func:`append_many_nodes`; the leaf itself is the first node returned.
    """
    return append_many_nodes(size, [leaf_hash], read)


def _split_point(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof_at(index: int, size: int, read: Reader) -> list[bytes]:
    """Inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

    Parameters
    ----------
    index
        0-based leaf index, ``index < size``.
    size
        Tree size the proof is for.
    read
        Node reader; O(log size) nodes are read, in one call.

    Returns
    -------
    list of bytes
        The RFC 9162 inclusion path, bottom-up (as
        :func:`deconflict.ledger.merkle.inclusion_proof`).

    Raises
    ------
    InvalidInput
        If ``index`` is not in ``range(size)``.
    """
    _check_size(size)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
        raise InvalidInput(f"leaf index {index!r} is outside a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:  # RFC 9162 PATH, unrolled top-down
        k = _split_point(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
    ranges.reverse()
    return _range_hashes(ranges, read)


def consistency_proof_at(old_size: int, new_size: int, read: Reader) -> list[bytes]:
    """Consistency proof between the trees of ``old_size`` and ``new_size`` leaves.

    Parameters
    ----------
    old_size, new_size
        ``0 <= old_size <= new_size``.
    read
        Node reader; O(log new_size) nodes are read, in one call.

    Returns
    -------
    list of bytes
        The RFC 9162 consistency path (as
        :func:`deconflict.ledger.merkle.consistency_proof`); empty when
        ``old_size`` is 0 or equals ``new_size``.

    Raises
    ------
    InvalidInput
        If the sizes are negative or ``old_size > new_size``.
    """
    _check_size(old_size)
    _check_size(new_size)
    if old_size > new_size:
        raise InvalidInput(f"old size {old_size} is larger than new size {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    lo, hi, complete = 0, new_size, True
    while old_size - lo != hi - lo:  # RFC 9162 SUBPROOF, unrolled top-down
        k = _split_point(hi - lo)
        if old_size - lo <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, complete = lo + k, False
    if not complete:
        ranges.append((lo, hi))
    ranges.reverse()
    return _range_hashes(ranges, read)


class InMemoryNodeStore:
    """A dict of node hashes that counts its reads; for tests and small tools.

    Attributes
    ----------
    nodes
        ``{(level, index): hash}`` of every stored complete subtree.
    size
        Number of leaves appended.
    read_calls, keys_read
        How many ``get_nodes`` calls were made, and how many keys they asked for.
    """

    def __init__(self) -> None:
        self.nodes: dict[NodeKey, bytes] = {}
        self.size = 0
        self.read_calls = 0
        self.keys_read = 0

    def get_nodes(self, keys: list[NodeKey]) -> dict[NodeKey, bytes]:
        """Return the stored hashes of ``keys`` (absent keys are left out)."""
        self.read_calls += 1
        self.keys_read += len(keys)
        return {key: self.nodes[key] for key in keys if key in self.nodes}

    def append(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append leaf hashes, storing every subtree they complete."""
        created = append_many_nodes(self.size, leaf_hashes, self)
        self.nodes.update(created)
        self.size += sum(1 for (level, _), _ in created if level == 0)

    def reset_counters(self) -> None:
        """Zero ``read_calls`` and ``keys_read``."""
        self.read_calls = 0
        self.keys_read = 0


class LevelHashes:
    """Every complete-subtree hash of a tree built leaf by leaf, 32 bytes a node in one buffer per level.

    What :meth:`deconflict.ledger.log.Ledger.verify` recomputes while it streams the entries:
    about 64 bytes a leaf (64 MB at a million entries), where a dict of nodes takes several
    hundred bytes a node. A :class:`NodeReader`.
    """

    def __init__(self) -> None:
        self.levels: list[bytearray] = []
        self.size = 0

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash, computing every subtree it completes."""
        if len(leaf_hash) != HASH_SIZE:
            raise InvalidInput(f"every leaf hash must be {HASH_SIZE} bytes")
        level, digest = 0, bytes(leaf_hash)
        while True:
            if level == len(self.levels):
                self.levels.append(bytearray())
            buffer = self.levels[level]
            buffer += digest
            if len(buffer) // HASH_SIZE % 2:
                break
            digest = node_hash(bytes(buffer[-2 * HASH_SIZE : -HASH_SIZE]), bytes(buffer[-HASH_SIZE:]))
            level += 1
        self.size += 1

    def get(self, key: NodeKey) -> bytes | None:
        """The hash of node ``key``, or None when the tree has no such complete subtree."""
        level, index = key
        if not 0 <= level < len(self.levels) or index < 0:
            return None
        found = bytes(self.levels[level][index * HASH_SIZE : (index + 1) * HASH_SIZE])
        return found or None

    def get_nodes(self, keys: list[NodeKey]) -> dict[NodeKey, bytes]:
        """The hashes of ``keys`` (absent keys are left out)."""
        found = {key: self.get(key) for key in keys}
        return {key: digest for key, digest in found.items() if digest is not None}

    def __iter__(self) -> Iterator[NodeKey]:
        """Every node, by level then index."""
        for level, buffer in enumerate(self.levels):
            for index in range(len(buffer) // HASH_SIZE):
                yield level, index

    def __len__(self) -> int:
        return sum(len(buffer) for buffer in self.levels) // HASH_SIZE
