"""RFC 6962 / RFC 9162 Merkle tree hashing and proofs, as pure functions.

The tree is the one of RFC 9162 section 2.1 with SHA-256: a leaf hashes as
``SHA-256(0x00 || data)``, an interior node as ``SHA-256(0x01 || left || right)``,
and the empty tree as ``SHA-256("")``. Leaf indexes are 0-based.

Proofs are lists of 32-byte hashes ordered from the leaf towards the root, as
the ``PATH`` and ``SUBPROOF`` functions of RFC 9162 sections 2.1.3.1 and 2.1.4.1
produce them. The verifiers are the algorithms of sections 2.1.3.2 and 2.1.4.2.
They return ``None`` and raise :class:`~deconflict.errors.VerificationError`
on any failure, following the edge policy of transparency-dev/merkle:

- an inclusion proof needs ``0 <= index < size`` and a 32-byte leaf hash;
- a consistency proof from size 0 is always rejected (even ``0 -> 0``): the
  empty tree is consistent with every tree, so such a "proof" proves nothing;
- equal sizes need an empty proof and equal roots (compared byte for byte);
- an old size greater than the new size is rejected.

These functions rebuild subtrees from the leaves they are given, which suits
tests, small trees and offline checks; :mod:`deconflict.ledger.tree` computes
the same values from stored subtree hashes with O(log n) reads.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from deconflict.errors import InvalidInput, VerificationError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_TREE_SIZE",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""Root hash of the tree with no leaves: SHA-256 of the empty string."""

MAX_TREE_SIZE = (1 << 64) - 1
"""Largest tree size accepted, as in checkpoints (unsigned 64-bit)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """Hash one leaf's data.

    Parameters
    ----------
    data
        The raw entry bytes.

    Returns
    -------
    bytes
        ``SHA-256(0x00 || data)``, 32 bytes.
    """
    return hashlib.sha256(_LEAF_PREFIX + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes into their parent.

    Parameters
    ----------
    left, right
        The hashes of the left and right subtrees.

    Returns
    -------
    bytes
        ``SHA-256(0x01 || left || right)``, 32 bytes.
    """
    return hashlib.sha256(_NODE_PREFIX + bytes(left) + bytes(right)).digest()


def _split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_root(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH of the leaf hashes ``hashes[lo:hi]`` (``hi > lo``)."""
    if hi - lo == 1:
        return hashes[lo]
    k = _split_point(hi - lo)
    return node_hash(_subtree_root(hashes, lo, lo + k), _subtree_root(hashes, lo + k, hi))


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """Root hash (MTH) of the tree over ``leaves``.

    Parameters
    ----------
    leaves
        Raw leaf data, in log order.

    Returns
    -------
    bytes
        The 32-byte root; :data:`EMPTY_ROOT` for no leaves.
    """
    if not leaves:
        return EMPTY_ROOT
    hashes = [leaf_hash(data) for data in leaves]
    return _subtree_root(hashes, 0, len(hashes))


def _path(index: int, hashes: Sequence[bytes], lo: int, hi: int) -> list[bytes]:
    """RFC 9162 ``PATH(index, D[lo:hi])``, bottom-up."""
    if hi - lo == 1:
        return []
    k = _split_point(hi - lo)
    if index < k:
        return [*_path(index, hashes, lo, lo + k), _subtree_root(hashes, lo + k, hi)]
    return [*_path(index - k, hashes, lo + k, hi), _subtree_root(hashes, lo, lo + k)]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Audit path proving that leaf ``index`` is in the tree over ``leaves``.

    Parameters
    ----------
    leaves
        Raw leaf data of the whole tree the proof is for.
    index
        0-based index of the leaf to prove.

    Returns
    -------
    list of bytes
        The RFC 9162 inclusion path, sibling hashes from the leaf up.

    Raises
    ------
    InvalidInput
        If ``index`` is not in ``range(len(leaves))``.
    """
    size = len(leaves)
    if not 0 <= index < size:
        raise InvalidInput(f"leaf index {index} is outside a tree of size {size}")
    hashes = [leaf_hash(data) for data in leaves]
    return _path(index, hashes, 0, size)


def _subproof(old_size: int, hashes: Sequence[bytes], lo: int, hi: int, complete: bool) -> list[bytes]:
    """RFC 9162 ``SUBPROOF(old_size, D[lo:hi], complete)``, bottom-up."""
    n = hi - lo
    if old_size == n:
        return [] if complete else [_subtree_root(hashes, lo, hi)]
    k = _split_point(n)
    if old_size <= k:
        right = _subtree_root(hashes, lo + k, hi)
        return [*_subproof(old_size, hashes, lo, lo + k, complete), right]
    left = _subtree_root(hashes, lo, lo + k)
    return [*_subproof(old_size - k, hashes, lo + k, hi, False), left]


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """Proof that the tree of the first ``old_size`` leaves is a prefix of ``leaves``.

    Parameters
    ----------
    leaves
        Raw leaf data of the newer tree.
    old_size
        Size of the older tree, ``0 <= old_size <= len(leaves)``.

    Returns
    -------
    list of bytes
        The RFC 9162 consistency path; empty when ``old_size`` is 0 or equals
        ``len(leaves)`` (note that :func:`verify_consistency` rejects size 0).

    Raises
    ------
    InvalidInput
        If ``old_size`` is negative or larger than the tree.
    """
    size = len(leaves)
    if not 0 <= old_size <= size:
        raise InvalidInput(f"old size {old_size} is outside 0..{size}, the size of the tree")
    if old_size in (0, size):
        return []
    hashes = [leaf_hash(data) for data in leaves]
    return _subproof(old_size, hashes, 0, size, True)


def _check_size(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise VerificationError(f"{name} must be an integer, got {type(value).__name__}")
    if not 0 <= value <= MAX_TREE_SIZE:
        raise VerificationError(f"{name} {value} is outside 0..2^64-1")


def _check_hashes(proof: Sequence[bytes]) -> None:
    for position, element in enumerate(proof):
        if not isinstance(element, bytes | bytearray) or len(element) != HASH_SIZE:
            raise VerificationError(f"proof element {position} is not a {HASH_SIZE}-byte hash")


def _same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(bytes(a), bytes(b))


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check an inclusion proof (RFC 9162 section 2.1.3.2).

    Parameters
    ----------
    leaf_hash
        The 32-byte leaf hash (``leaf_hash(data)``, not the data).
    index
        0-based index of the leaf.
    size
        Size of the tree whose root is ``root``.
    proof
        The inclusion path, bottom-up.
    root
        The trusted root hash of the tree of ``size`` leaves.

    Returns
    -------
    None
        When the proof shows the leaf at ``index`` in that tree.

    Raises
    ------
    VerificationError
        If the index is outside the tree, a hash has the wrong length, the
        proof has the wrong number of hashes, or it leads to another root.
    """
    _check_size("leaf index", index)
    _check_size("tree size", size)
    if index >= size:
        raise VerificationError(f"leaf index {index} is outside a tree of size {size}")
    if not isinstance(leaf_hash, bytes | bytearray) or len(leaf_hash) != HASH_SIZE:
        raise VerificationError(f"the leaf hash is not a {HASH_SIZE}-byte hash")
    _check_hashes(proof)
    fn, sn = index, size - 1
    computed = bytes(leaf_hash)
    for sibling in proof:
        if sn == 0:
            raise VerificationError(
                f"inclusion proof has {len(proof)} hashes, too many for leaf {index} in a tree of size {size}"
            )
        if fn & 1 or fn == sn:
            computed = node_hash(sibling, computed)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            computed = node_hash(computed, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerificationError(
            f"inclusion proof has {len(proof)} hashes, too few for leaf {index} in a tree of size {size}"
        )
    if not _same(computed, root):
        raise VerificationError(
            f"inclusion proof for leaf {index} does not lead to the root of the tree of size {size}"
        )


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check a consistency proof (RFC 9162 section 2.1.4.2).

    Parameters
    ----------
    old_size, new_size
        Sizes of the older and the newer tree.
    old_root, new_root
        Their trusted root hashes.
    proof
        The consistency path, as :func:`consistency_proof` returns it.

    Returns
    -------
    None
        When the older tree is a prefix of the newer one.

    Raises
    ------
    VerificationError
        If ``old_size`` is 0 or exceeds ``new_size``, equal sizes come with a
        proof or with different roots, a hash has the wrong length, the proof
        has the wrong number of hashes, or it leads to other roots.
    """
    _check_size("old size", old_size)
    _check_size("new size", new_size)
    if old_size == 0:
        raise VerificationError(
            "a consistency proof from the empty tree (old size 0) proves nothing; "
            "trust the new tree only through its own signature"
        )
    if old_size > new_size:
        raise VerificationError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        if proof:
            raise VerificationError("trees of equal size need an empty consistency proof")
        if not _same(old_root, new_root):
            raise VerificationError(f"two different roots for the same tree size {old_size}")
        return
    if not proof:
        raise VerificationError(f"empty consistency proof for sizes {old_size} -> {new_size}")
    _check_hashes(proof)
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a node of the new tree
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old_computed = new_computed = bytes(path[0])
    for element in path[1:]:
        if sn == 0:
            raise VerificationError(f"consistency proof has too many hashes for sizes {old_size} -> {new_size}")
        if fn & 1 or fn == sn:
            old_computed = node_hash(element, old_computed)
            new_computed = node_hash(element, new_computed)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            new_computed = node_hash(new_computed, element)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerificationError(f"consistency proof has too few hashes for sizes {old_size} -> {new_size}")
    if not _same(old_computed, old_root):
        raise VerificationError(f"consistency proof does not lead to the old root (size {old_size})")
    if not _same(new_computed, new_root):
        raise VerificationError(f"consistency proof does not lead to the new root (size {new_size})")
