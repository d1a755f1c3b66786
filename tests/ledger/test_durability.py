"""Nothing acknowledged is lost: SIGKILL mid-stream, and many processes appending at once.

Every test runs on SQLite and on PostgreSQL + PostGIS (the ``backend`` fixture).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import deconflict
from deconflict.model import Notification
from deconflict.times import parse_time

WRITER = textwrap.dedent(
    """
    import sys
    import deconflict
    from deconflict.model import Notification
    from deconflict.times import parse_time

    db = deconflict.open(sys.argv[1])
    tag = sys.argv[2]
    for n in range(int(sys.argv[3])):
        db.notifications.notify(["s1"], to="RUS", at="2025-01-01", id=f"{tag}-{n}")
        print(f"{tag}-{n}", flush=True)   # reported as done only after the commit returned
    """
)


def _setup(tmp_path: Path, location: Path | str) -> str:
    """Initialise the database (a SQLite file or a PostgreSQL URL) with one site; write the writer script."""
    with deconflict.init(location, key_file=tmp_path / "durable.key") as db:
        db.sites.add(deconflict.Site(id="s1", name="S", kind="embassy", owner="AZE", lat=50.4, lon=30.5))
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    return str(location)


@pytest.fixture
def durable(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> str:
    """A database on each backend, ready for the writer script."""
    location = request.getfixturevalue("postgres_url") if backend == "postgis" else tmp_path / "durable.db"
    return _setup(tmp_path, location)


def _writers(tmp_path: Path, location: str, tags: str, count: int) -> list[subprocess.Popen[bytes]]:
    script = str(tmp_path / "writer.py")
    return [
        subprocess.Popen([sys.executable, script, location, tag, str(count)], stdout=subprocess.PIPE) for tag in tags
    ]


def test_sigkill_mid_stream_loses_no_acknowledged_append(tmp_path, durable):
    process = subprocess.Popen([sys.executable, str(tmp_path / "writer.py"), durable, "k", "100000"],
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    acknowledged = []
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        acknowledged.append(process.stdout.readline().strip())
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert len(acknowledged) >= 40
    with deconflict.open(durable) as db:
        stored = {n.id for n, _ in db.notifications.list()}
        assert set(acknowledged) <= stored
        report = db.ledger.verify()
        assert report.size == 1 + len(stored)


def test_two_processes_appending_never_lose_or_duplicate_indices(tmp_path, durable):
    for writer in _writers(tmp_path, durable, "ab", 60):
        assert writer.wait(timeout=120) == 0
    with deconflict.open(durable) as db:
        notifications = db.notifications.list()
        assert len(notifications) == 120
        indices = [index for _, index in notifications]
        assert sorted(indices) == list(range(1, 121))
        report = db.ledger.verify()
        assert report.size == 121 and report.notifications == 120


def test_many_clients_appending_at_once_get_one_gapless_sequence(tmp_path, durable):
    """Six processes, each its own connection, append at once: one sequencer, every index once."""
    writers = _writers(tmp_path, durable, "abcdef", 25)
    outputs = [writer.communicate(timeout=120)[0].decode().split() for writer in writers]
    assert [writer.returncode for writer in writers] == [0] * 6
    with deconflict.open(durable) as db:
        by_id = {n.id: index for n, index in db.notifications.list()}
        assert sorted(by_id.values()) == list(range(1, 151))
        for tag, acknowledged in zip("abcdef", outputs, strict=True):
            assert acknowledged == [f"{tag}-{n}" for n in range(25)]
            mine = [by_id[name] for name in acknowledged]
            assert mine == sorted(mine)  # one client's appends keep their order in the log
        db.ledger.sign_checkpoint()
        report = db.ledger.verify()
        assert (report.size, report.notifications, report.checkpoints) == (151, 150, 1)


def test_an_appender_waits_for_the_sequencer_and_takes_the_next_index(durable):
    """While one transaction holds the log, a second appender blocks, then gets the next index."""
    site = ("s1",)
    first, second = deconflict.open(durable), deconflict.open(durable)
    done: list[int] = []
    try:
        with first.store.transaction():
            held = first.notifications.record(_notification("held", site))
            thread = threading.Thread(
                target=lambda: done.append(second.notifications.record(_notification("next", site)))
            )
            thread.start()
            thread.join(timeout=0.5)
            assert thread.is_alive() and not done  # blocked behind the open transaction
        thread.join(timeout=30)
        assert done == [held + 1]
        second.ledger.verify()
    finally:
        first.close()
        second.close()


def _notification(notification_id: str, site_ids: tuple[str, ...]) -> Notification:
    return Notification(id=notification_id, site_ids=site_ids, recipient="RUS", notified_at=parse_time("2025-01-01"))
