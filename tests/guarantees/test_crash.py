"""A kill -9 of ``deconflict monitor`` in the middle of a delivery loses nothing and processes nothing twice.

The receiver holds the request (it has the alert, the sender has no answer yet) while the test
kills the monitor process with SIGKILL: the crash between "sent" and "recorded as sent". After a
restart the alert is still there, it is sent again with the same delivery id and the same body,
and the receiver, deduplicating by that id, processes it exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import deconflict
from deconflict.guarantees.delivery import INTERRUPTED, attempts
from delivery_receivers import WebhookReceiver
from guarantees.conftest import EMBASSY, on_embassy


def _monitor(db_path: object, key_file: Path, *extra: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-c",
        "from deconflict.cli import main; main()",
        "--db",
        str(db_path),
        "--key-file",
        str(key_file),
        "monitor",
        "--timeout",
        "1",
        *extra,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def test_kill_9_mid_delivery_then_restart_delivers_exactly_once(db_path: object, tmp_path: Path) -> None:
    key_file = tmp_path / "test.db.key"
    receiver = WebhookReceiver(mode="hold").start()
    try:
        with deconflict.open(db_path) as db:  # type: ignore[arg-type]
            db.sites.create(**EMBASSY)  # type: ignore[arg-type]
            db.notifications.notify(["emb"], to="RUS", at="2025-01-01")
            db.channels.add_webhook("AZE", receiver.url)
            db.incidents.add_rows([on_embassy("hit-1")])
            (alert_id,) = [a.alert.id for a in db.alerts.list()]

        process = _monitor(db_path, key_file)
        assert receiver.arrived.wait(60), process.communicate(timeout=5)
        os.kill(process.pid, signal.SIGKILL)  # the receiver has it; the monitor never recorded the answer
        process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL

        with deconflict.open(db_path) as db:  # type: ignore[arg-type]
            (record,) = db.alerts.list()
            assert record.alert.id == alert_id  # the alert survived the crash
            (delivery,) = record.deliveries
            assert delivery["status"] == "pending" and delivery["attempts"] == 1
            assert [a["outcome"] for a in attempts(db, delivery["id"])] == ["sending"]
            lease = db.store.select_rows("alert_deliveries", {"id": delivery["id"]})[0]["lease_until"]
        receiver.mode = "ok"
        receiver.release.set()  # the held request ends without an answer
        time.sleep(max(0.0, lease - time.time()) + 0.2)  # the dead sender's lease runs out

        restarted = _monitor(db_path, key_file, "--json")
        stdout, stderr = restarted.communicate(timeout=120)
        assert restarted.returncode == 0, stderr.decode()
        assert json.loads(stdout)["delivered"] == [delivery["id"]]

        assert len(receiver.raw) == 2  # at-least-once transport: it arrived twice ...
        assert {r.headers["idempotency-key"] for r in receiver.raw} == {delivery["id"]}
        assert receiver.raw[0].body == receiver.raw[1].body  # ... byte for byte the same, same key
        assert list(receiver.processed) == [delivery["id"]]  # ... and was processed exactly once
        with deconflict.open(db_path) as db:  # type: ignore[arg-type]
            (record,) = db.alerts.list()
            assert record.deliveries[0]["status"] == "delivered" and record.deliveries[0]["attempts"] == 2
            log = attempts(db, delivery["id"])
            assert [(a["outcome"], a["error"]) for a in log] == [("failed", INTERRUPTED), ("delivered", None)]
            # a third monitor run sends nothing
            restarted = _monitor(db_path, key_file, "--json")
            stdout, _ = restarted.communicate(timeout=120)
            assert json.loads(stdout)["delivered"] == [] and len(receiver.raw) == 2
            db.ledger.verify()
    finally:
        receiver.stop()


def test_kill_9_of_a_watching_monitor_after_an_import_loses_no_alert(db_path: object, tmp_path: Path) -> None:
    key_file = tmp_path / "test.db.key"
    drop = tmp_path / "drop"
    drop.mkdir()
    receiver = WebhookReceiver(mode="hold").start()
    try:
        with deconflict.open(db_path) as db:  # type: ignore[arg-type]
            db.sites.create(**EMBASSY)  # type: ignore[arg-type]
            db.notifications.notify(["emb"], to="RUS", at="2025-01-01")
            db.channels.add_webhook("AZE", receiver.url)
        (drop / "reports.csv").write_text("id,time,lat,lon,uncertainty_m\nhit-1,2025-03-01T12:00,50.45,30.52,0\n")
        process = _monitor(db_path, key_file, "--watch", str(drop), "--interval", "0.2")
        assert receiver.arrived.wait(60)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        assert (drop / "imported" / "reports.csv").exists()
        receiver.mode = "ok"
        receiver.release.set()
        with deconflict.open(db_path) as db:  # type: ignore[arg-type]
            lease = db.store.select_rows("alert_deliveries")[0]["lease_until"]
        time.sleep(max(0.0, lease - time.time()) + 0.2)
        restarted = _monitor(db_path, key_file, "--json")
        restarted.communicate(timeout=120)
        assert len(receiver.processed) == 1 and len(receiver.raw) == 2
        with deconflict.open(db_path) as db:  # type: ignore[arg-type]
            assert db.incidents.count() == 1 and len(db.alerts.list()) == 1
            assert db.alerts.list()[0].deliveries[0]["status"] == "delivered"
    finally:
        receiver.stop()
