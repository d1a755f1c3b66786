"""Issue 12, item 8: no entry too large for a tlog-tiles entry bundle enters the log.

A 70 KB notification text used to make the entry bundle of its tile answer 400 forever; now
every door refuses it (and writes nothing), and every tile of the log is served.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import deconflict
from api.api_helpers import Fixture, auth
from deconflict.api.tiles import TILE_HEIGHT, TILE_WIDTH, encode_index
from deconflict.cli import app
from deconflict.errors import InvalidInput
from deconflict.limits import MAX_ENTRY_BYTES

LONG_TEXT = "x" * 70_000


def test_the_library_refuses_an_entry_over_the_limit_and_writes_nothing(fresh: Fixture) -> None:
    with deconflict.open(fresh.path, key_file=fresh.key_file) as db:
        size, notifications = db.ledger.size, len(db.notifications.list())
        with pytest.raises(InvalidInput, match=f"at most {MAX_ENTRY_BYTES:,}"):
            db.notifications.notify(["aze-embassy"], to="RUS", at="2025-11-20", text=LONG_TEXT)
        assert db.ledger.size == size and len(db.notifications.list()) == notifications
        db.ledger.verify()


def test_the_cli_refuses_a_notification_text_too_long_for_the_log(fresh: Fixture) -> None:
    args = ["--db", str(fresh.path), "--key-file", str(fresh.key_file), "notify", "aze-embassy", "--to", "RUS"]
    result = CliRunner().invoke(app, [*args, "--at", "2025-11-20", "--text", LONG_TEXT])
    assert result.exit_code == 2 and f"at most {MAX_ENTRY_BYTES:,}" in result.stderr, result.output


def test_the_api_refuses_a_notification_text_over_its_limit(fresh_client: TestClient, fresh: Fixture) -> None:
    body = {"site_ids": ["aze-embassy"], "recipient": "RUS", "notified_at": "2025-11-20", "text": LONG_TEXT}
    response = fresh_client.post("/api/v1/notifications", headers=auth(fresh.tokens, "aze"), json=body)
    assert response.status_code in (400, 413, 422), response.text[:300]


def test_every_tile_and_entry_bundle_of_the_log_is_served(fresh_client: TestClient, fresh: Fixture) -> None:
    with deconflict.open(fresh.path, key_file=fresh.key_file) as db:
        for n in range(3):  # the longest text a notification may carry, several times
            db.notifications.notify(["aze-embassy"], to="RUS", at="2025-11-20", text="é" * 4000, id=f"long-{n}")
        size = db.ledger.size
    paths = []
    level = 0
    while size >> (TILE_HEIGHT * level):
        hashes = size >> (TILE_HEIGHT * level)
        for index in range((hashes + TILE_WIDTH - 1) // TILE_WIDTH):
            width = min(TILE_WIDTH, hashes - index * TILE_WIDTH)
            for w in range(1, width + 1) if width < TILE_WIDTH else [TILE_WIDTH]:
                suffix = "" if w == TILE_WIDTH else f".p/{w}"
                paths.append(f"/api/v1/log/tile/{level}/{encode_index(index)}{suffix}")
                if level == 0:
                    paths.append(f"/api/v1/log/tile/entries/{encode_index(index)}{suffix}")
        level += 1
    assert paths
    failed = [(p, r.status_code) for p in paths if (r := fresh_client.get(p)).status_code != 200]
    assert failed == []
