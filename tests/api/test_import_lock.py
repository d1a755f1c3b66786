"""Issue 12, item 6: a server parses an upload outside its write lock.

Another owner's notification, sent while a large import is being parsed, is written before the
import (it used to wait for the whole import: 43 s behind a 350 KB upload).
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import deconflict
from api.api_helpers import Fixture, auth
from deconflict.api import create_app


def _incidents_csv(rows: int) -> bytes:
    rng = np.random.default_rng(3)
    lines = ["id,time,lat,lon,uncertainty_m,kind"]
    for n in range(rows):
        lat, lon = 50.45 + rng.normal(0, 0.02), 30.51 + rng.normal(0, 0.03)
        lines.append(f"lock-{n},2025-{1 + n % 11:02d}-{1 + n % 27:02d},{lat:.5f},{lon:.5f},100,missile")
    lines.insert(2, "")  # a blank row: the file is read row by row, the slower and thorough way
    return ("\n".join(lines) + "\n").encode()


def _wait_for_the_upload_on_disk(before: set[Path], size: int) -> None:
    """Until the server has written the upload to its temporary file (just before it parses it)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for directory in set(Path(tempfile.gettempdir()).glob("deconflict-upload-*")) - before:
            if any(f.stat().st_size == size for f in directory.iterdir() if f.is_file()):
                return
        time.sleep(0.01)
    raise AssertionError("the server never received the upload")


@pytest.mark.slow
def test_a_notification_during_an_import_is_not_held_behind_its_parsing(fresh: Fixture) -> None:
    body = _incidents_csv(120_000)
    tokens = fresh.tokens
    client = TestClient(create_app(fresh.path, key_file=fresh.key_file, max_body_bytes=len(body) + 1))
    notified: list[int] = []
    statuses: dict[str, int] = {}

    def upload() -> None:
        response = client.post(
            "/api/v1/incidents/import", params={"force": "true", "filename": "big.csv"},
            content=body, headers=auth(tokens, "admin"),
        )  # fmt: skip
        statuses["import"] = response.status_code

    importer = threading.Thread(target=upload)
    before = set(Path(tempfile.gettempdir()).glob("deconflict-upload-*"))
    with client:
        importer.start()
        _wait_for_the_upload_on_disk(before, len(body))  # the server now reads and parses it
        time.sleep(0.2)
        note = {"site_ids": ["hrv-embassy"], "recipient": "RUS", "notified_at": "2025-11-20T10:00Z"}
        response = client.post("/api/v1/notifications", json=note, headers=auth(tokens, "hrv"))
        statuses["notification"] = response.status_code
        notified.append(response.json()["log_index"])
        importer.join(timeout=600)
    assert statuses == {"import": 201, "notification": 201}
    # The log orders the writes: the notification was written while the upload was parsed, so
    # before the import's entries (it used to wait for the whole import behind the lock).
    with deconflict.open(fresh.path, key_file=fresh.key_file) as db:
        imported = [row.index for row in db.ledger.entries(0, db.ledger.size) if row.kind == "incident"]
    assert notified[0] < max(imported)
