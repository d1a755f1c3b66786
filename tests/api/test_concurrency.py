"""Many clients appending at once through a real server: one sequencer, nothing lost, nothing doubled.

The server runs in a subprocess on 127.0.0.1 (``deconflict serve``); clients are httpx
AsyncClients. After the appends the log verifies and its indices are 0..n-1 without gaps or
duplicates; after ``kill -9`` and a restart, every notification acknowledged with 2xx is there.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx
import pytest

import deconflict
from api.api_helpers import Fixture, LiveServer

CLIENTS = 24
PER_CLIENT = 5


async def append_notifications(url: str, token: str, clients: int, per_client: int, tag: str) -> dict[str, int]:
    """Notifications appended concurrently: ``{notification_id: log_index}`` of those acknowledged 2xx."""
    acknowledged: dict[str, int] = {}

    async def one_client(n: int) -> None:
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            for k in range(per_client):
                body = {"id": f"{tag}-{n}-{k}", "site_ids": ["aze-embassy"], "recipient": "RUS",
                        "notified_at": f"2025-12-{1 + k:02d}T10:00Z"}  # fmt: skip
                try:
                    response = await http.post("/api/v1/notifications", json=body)
                except httpx.TransportError:
                    return  # the server was killed: this one was never acknowledged
                if response.status_code == 201:
                    acknowledged[body["id"]] = response.json()["log_index"]

    await asyncio.gather(*(one_client(n) for n in range(clients)))
    return acknowledged


@pytest.mark.slow
def test_concurrent_appends_get_distinct_contiguous_indices_and_the_log_verifies(
    live_server: LiveServer, fresh: Fixture
) -> None:
    start = httpx.get(f"{live_server.url}/api/v1/log").json()["size"]
    acknowledged = asyncio.run(append_notifications(live_server.url, fresh.tokens["aze"], CLIENTS, PER_CLIENT, "c"))
    assert len(acknowledged) == CLIENTS * PER_CLIENT
    assert sorted(acknowledged.values()) == list(range(start, start + CLIENTS * PER_CLIENT))
    live_server.stop()
    with deconflict.open(fresh.path, key_file=fresh.key_file) as db:
        report = db.ledger.verify()
        assert report.size == start + CLIENTS * PER_CLIENT
        stored = {n.id: index for n, index in db.notifications.list()}
    assert all(stored[nid] == index for nid, index in acknowledged.items())


@pytest.mark.slow
def test_kill_9_loses_nothing_that_was_acknowledged(make_server: Callable[[], LiveServer], fresh: Fixture) -> None:
    server = make_server()
    acknowledged: dict[str, int] = {}

    def run() -> None:
        acknowledged.update(asyncio.run(append_notifications(server.url, fresh.tokens["aze"], CLIENTS, 40, "k")))

    appender = threading.Thread(target=run)
    appender.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # kill in the middle of the appends
        size = httpx.get(f"{server.url}/api/v1/log").json()["size"]
        if size >= 11 + 60:
            break
        time.sleep(0.05)
    server.kill()
    appender.join(timeout=60)
    assert 0 < len(acknowledged) < CLIENTS * 40, "the kill should land mid-way"
    restarted = make_server()
    listed = httpx.get(f"{restarted.url}/api/v1/notifications?limit=1000",
                       headers={"Authorization": f"Bearer {fresh.tokens['aze']}"}).json()["items"]  # fmt: skip
    present = {n["id"]: n["log_index"] for n in listed}
    assert all(present.get(nid) == index for nid, index in acknowledged.items())
    restarted.stop()
    with deconflict.open(fresh.path, key_file=fresh.key_file) as db:
        report = db.ledger.verify()
    indices = sorted(present.values())
    assert indices == list(range(indices[0], indices[0] + len(indices)))  # no gaps, no duplicates
    assert report.size == indices[-1] + 1
