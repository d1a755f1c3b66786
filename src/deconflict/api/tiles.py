"""The log as C2SP tlog-tiles (c2sp.org/tlog-tiles): Merkle tiles and entry bundles.

A tile at level ``L``, index ``N`` holds up to 256 consecutive hashes of tree level ``8 * L``:
hash ``i`` is the root of leaves ``[(N*256 + i) * 256**L, (N*256 + i + 1) * 256**L)``, which
is exactly the stored complete-subtree node ``(8 * L, N*256 + i)`` of
:mod:`deconflict.ledger.tree`, so a tile is one batched node read. Paths encode ``N`` as
3-digit groups, all but the last prefixed with ``x`` (``1234067`` → ``x001/x234/067``); a
partial tile of width ``W`` (1-255) is ``<N>.p/<W>``. An entry bundle holds the entries of a
level-0 tile, each prefixed by its length as a big-endian uint16.

Partial tiles are served for every width up to the current tree (their content never
changes once the log holds that many entries), so a client can read any checkpoint's tree.
"""

from __future__ import annotations

import re
import struct

from deconflict.errors import InvalidInput, NotFound
from deconflict.ledger.log import Ledger

__all__ = ["TILE_HEIGHT", "TILE_WIDTH", "encode_index", "entry_bundle", "parse_tile_path", "tile_hashes"]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
_GROUP = re.compile(r"^x\d{3}$")
_LAST = re.compile(r"^\d{3}$")
_WIDTH = re.compile(r"^[1-9]\d{0,2}$")


def encode_index(index: int) -> str:
    """The path encoding of a tile index: ``1234067`` → ``x001/x234/067``."""
    if index < 0:
        raise InvalidInput(f"tile index {index} is negative")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def parse_tile_path(path: str) -> tuple[int, int]:
    """``<N>[.p/<W>]`` → ``(index, width)``; width 256 for a full tile.

    Raises
    ------
    InvalidInput
        For anything that is not the canonical encoding (leading zero groups, bad widths).
    """
    where = "path"
    width = TILE_WIDTH
    if ".p/" in path:
        path, _, width_text = path.partition(".p/")
        if not _WIDTH.match(width_text) or not 1 <= int(width_text) < TILE_WIDTH:
            raise InvalidInput(
                f"partial tile width must be 1-255 without leading zeros, got {width_text!r}", where=where
            )
        width = int(width_text)
    parts = path.split("/")
    if not _LAST.match(parts[-1]) or not all(_GROUP.match(p) for p in parts[:-1]):
        raise InvalidInput(f"tile index {path!r} is not encoded as x001/x234/067", where=where)
    index = int("".join(p.lstrip("x") for p in parts))
    if encode_index(index) != path:
        raise InvalidInput(f"tile index {path!r} is not in canonical form ({encode_index(index)})", where=where)
    return index, width


def _check_available(level: int, index: int, width: int, size: int) -> None:
    hashes_at_level = size >> (TILE_HEIGHT * level)
    if index * TILE_WIDTH + width > hashes_at_level:
        raise NotFound(f"tile {level}/{encode_index(index)} of width {width} is beyond the tree of size {size}")


def tile_hashes(ledger: Ledger, level: int, index: int, width: int) -> bytes:
    """The concatenated hashes of a tile (``32 * width`` bytes).

    Raises
    ------
    InvalidInput
        For a level outside 0-63.
    NotFound
        When the log does not yet hold the tile at that width.
    """
    if not 0 <= level <= 63:
        raise InvalidInput(f"tile level must be 0-63, got {level}", where="path")
    _check_available(level, index, width, ledger.size)
    first = index * TILE_WIDTH
    keys = [(TILE_HEIGHT * level, first + i) for i in range(width)]
    nodes = ledger.store.log_get_nodes(keys)
    missing = [key for key in keys if key not in nodes]
    if missing:
        raise NotFound(f"stored tree node {missing[0]} is missing")
    return b"".join(nodes[key] for key in keys)


def entry_bundle(ledger: Ledger, index: int, width: int) -> bytes:
    """The entries of level-0 tile ``index``, each prefixed with its big-endian uint16 length.

    Raises
    ------
    NotFound
        When the log does not yet hold that many entries.
    """
    _check_available(0, index, width, ledger.size)
    first = index * TILE_WIDTH
    rows = ledger.entries(first, first + width)
    parts = []
    for row in rows:
        if len(row.data) > 0xFFFF:  # pragma: no cover - entries are small JSON objects
            raise InvalidInput(f"log entry {row.index} is larger than a tlog-tiles bundle entry can be")
        parts.append(struct.pack(">H", len(row.data)) + row.data)
    return b"".join(parts)
