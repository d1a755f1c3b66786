"""Nothing acknowledged is lost: SIGKILL mid-stream, and two processes appending at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import deconflict

WRITER = textwrap.dedent(
    """
    import sys
    import deconflict
    from deconflict.model import Notification
    from deconflict.times import parse_time

    db = deconflict.open(sys.argv[1])
    tag = sys.argv[2]
    for n in range(int(sys.argv[3])):
        db.notifications.notify(Notification(id=f"{tag}-{n}", site_ids=("s1",), recipient="RUS",
                                             notified_at=parse_time("2025-01-01")))
        print(f"{tag}-{n}", flush=True)   # reported as done only after the commit returned
    """
)


def _setup(tmp_path: Path) -> Path:
    path = tmp_path / "durable.db"
    with deconflict.init(path) as db:
        db.sites.add(deconflict.Site(id="s1", name="S", kind="embassy", owner="AZE", lat=50.4, lon=30.5))
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    return path


def test_sigkill_mid_stream_loses_no_acknowledged_append(tmp_path):
    path = _setup(tmp_path)
    process = subprocess.Popen([sys.executable, str(tmp_path / "writer.py"), str(path), "k", "100000"],
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    acknowledged = []
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        acknowledged.append(process.stdout.readline().strip())
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert len(acknowledged) >= 40
    with deconflict.open(path) as db:
        stored = {n.id for n, _ in db.notifications.list()}
        assert set(acknowledged) <= stored
        report = db.ledger.verify()
        assert report.size == 1 + len(stored)


def test_two_processes_appending_never_lose_or_duplicate_indices(tmp_path):
    path = _setup(tmp_path)
    writers = [
        subprocess.Popen([sys.executable, str(tmp_path / "writer.py"), str(path), tag, "60"], stdout=subprocess.PIPE)
        for tag in ("a", "b")
    ]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    with deconflict.open(path) as db:
        notifications = db.notifications.list()
        assert len(notifications) == 120
        indices = [index for _, index in notifications]
        assert sorted(indices) == list(range(1, 121))
        report = db.ledger.verify()
        assert report.size == 121 and report.notifications == 120
