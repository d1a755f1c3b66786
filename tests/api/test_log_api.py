"""The public log over HTTP: JSON proofs and C2SP tlog-tiles, checked against our Merkle functions."""

from __future__ import annotations

import base64
import struct

import pytest
from fastapi.testclient import TestClient

import deconflict
from api.api_helpers import Fixture
from deconflict.api import create_app
from deconflict.api.tiles import encode_index, parse_tile_path
from deconflict.errors import InvalidInput
from deconflict.ledger import merkle
from deconflict.ledger.checkpoint import verify_checkpoint
from deconflict.model import Site


@pytest.mark.parametrize(
    ("index", "path"), [(0, "000"), (5, "005"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")]
)
def test_tile_index_encoding_follows_tlog_tiles(index: int, path: str) -> None:
    assert encode_index(index) == path
    assert parse_tile_path(path) == (index, 256)
    assert parse_tile_path(f"{path}.p/7") == (index, 7)


@pytest.mark.parametrize("path", ["5", "x000/005", "001/002", "000.p/0", "000.p/256", "000.p/07", "abc", "x001"])
def test_non_canonical_tile_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidInput):
        parse_tile_path(path)


def bundle_entries(data: bytes) -> list[bytes]:
    entries, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack(">H", data[offset : offset + 2])
        entries.append(data[offset + 2 : offset + 2 + length])
        offset += 2 + length
    return entries


@pytest.fixture
def big_log(fresh: Fixture) -> TestClient:
    """The test database grown past 256 entries (311), so level-1 tiles exist."""
    with deconflict.open(fresh.path, key_file=fresh.key_file) as db:
        db.sites.add_many([Site(id=f"bulk-{n}", name=f"Site {n}", kind="other", owner="POL", lat=52.0 + n / 1e4,
                                lon=21.0) for n in range(300)])  # fmt: skip
    return TestClient(create_app(fresh.path, key_file=fresh.key_file))


def test_tiles_and_entry_bundles_rebuild_the_checkpointed_tree(big_log: TestClient, fresh: Fixture) -> None:
    info = big_log.get("/api/v1/log").json()
    size = info["size"]
    assert size == 311
    note = big_log.get("/api/v1/log/checkpoint")
    assert note.headers["content-type"].startswith("text/plain")
    checkpoint = verify_checkpoint(note.text, info["verifier_key"])
    assert checkpoint.size == size
    full = big_log.get("/api/v1/log/tile/entries/000")
    partial = big_log.get(f"/api/v1/log/tile/entries/001.p/{size - 256}")
    assert full.headers["content-type"] == "application/octet-stream"
    entries = bundle_entries(full.content) + bundle_entries(partial.content)
    assert len(entries) == size
    assert merkle.root_hash(entries) == checkpoint.root_hash
    level0 = (
        big_log.get("/api/v1/log/tile/0/000").content + big_log.get(f"/api/v1/log/tile/0/001.p/{size - 256}").content
    )
    assert level0 == b"".join(merkle.leaf_hash(e) for e in entries)
    level1 = big_log.get("/api/v1/log/tile/1/000.p/1").content
    assert level1 == merkle.root_hash(entries[:256])
    # the root as a tlog client folds it: the full level-1 hash, then the partial level-0 tile
    right = merkle.root_hash(entries[256:])
    assert merkle.node_hash(level1, right) == checkpoint.root_hash


def test_tiles_beyond_the_tree_are_404_and_full_tiles_are_immutable(big_log: TestClient) -> None:
    assert big_log.get("/api/v1/log/tile/0/001").status_code == 404
    assert big_log.get("/api/v1/log/tile/0/002.p/1").status_code == 404
    assert big_log.get("/api/v1/log/tile/1/000").status_code == 404
    assert big_log.get("/api/v1/log/tile/0/x000/001").status_code == 400
    assert "immutable" in big_log.get("/api/v1/log/tile/0/000").headers["cache-control"]


def test_inclusion_and_consistency_proofs_verify_with_our_merkle_functions(client: TestClient) -> None:
    size = client.get("/api/v1/log").json()["size"]
    for index in range(size):
        proof = client.get(f"/api/v1/log/proof/inclusion?index={index}").json()
        merkle.verify_inclusion(
            base64.b64decode(proof["leaf_hash"]), index, size, [base64.b64decode(h) for h in proof["proof"]],
            base64.b64decode(proof["root_hash"]),
        )  # fmt: skip
    for old in range(1, size + 1):
        proof = client.get(f"/api/v1/log/proof/consistency?old_size={old}").json()
        merkle.verify_consistency(old, size, base64.b64decode(proof["old_root"]), base64.b64decode(proof["new_root"]),
                                  [base64.b64decode(h) for h in proof["proof"]])  # fmt: skip


def test_entries_are_served_with_their_exact_bytes_and_paginated(client: TestClient) -> None:
    page = client.get("/api/v1/log/entries?start=2&limit=3").json()
    assert [e["index"] for e in page["items"]] == [2, 3, 4]
    assert page["next_offset"] == 5
    for item in page["items"]:
        data = base64.b64decode(item["data_b64"])
        assert base64.b64encode(merkle.leaf_hash(data)).decode() == item["leaf_hash"]
        assert item["entry"]["index"] == item["index"]
    assert client.get("/api/v1/log/proof/inclusion?index=999").status_code == 400
