"""Delivery: the outbox is written with the alert, transport is at-least-once, the delivery id makes it exactly-once.

Real receivers on 127.0.0.1: an HTTP server (webhook) and aiosmtpd (e-mail).
"""

from __future__ import annotations

import base64
import json

import pytest

import deconflict
from deconflict.errors import VerificationError
from deconflict.guarantees import verify_webhook
from deconflict.guarantees.delivery import attempts, deliver_due
from delivery_receivers import SmtpServer, WebhookReceiver
from guarantees.conftest import far_away, on_embassy


def _alert_ids(db: deconflict.Database) -> set[str]:
    return {a.alert.id for a in db.alerts.list()}


def test_webhook_gets_exactly_one_signed_message_per_alert(
    protected: deconflict.Database, webhook: WebhookReceiver
) -> None:
    db = protected
    db.channels.add_webhook("AZE", webhook.url)
    db.incidents.add_rows([on_embassy("hit-1"), on_embassy("hit-2", "2025-04-01T12:00"), far_away("miss")])
    alerts = _alert_ids(db)
    assert len(alerts) == 2
    run = deliver_due(db, timeout_s=5)
    assert len(run.delivered) == 2 and not run.failed
    assert deliver_due(db, timeout_s=5).delivered == []  # nothing is sent twice
    assert len(webhook.raw) == 2
    received = {
        verify_webhook(r.body, r.headers["x-deconflict-signature"], db.ledger.verifier_key)["alert"]["id"]
        for r in webhook.raw
    }
    assert received == alerts
    for request in webhook.raw:
        body = json.loads(request.body)
        assert request.headers["idempotency-key"] == body["delivery_id"]
        assert body["log"]["origin"] == db.ledger.origin
    for record in db.alerts.list():
        assert [d["status"] for d in record.deliveries] == ["delivered"]


def test_a_tampered_webhook_body_or_a_foreign_key_fails_verification(
    protected: deconflict.Database, webhook: WebhookReceiver
) -> None:
    db = protected
    db.channels.add_webhook("AZE", webhook.url)
    db.incidents.add_rows([on_embassy("hit-1")])
    deliver_due(db, timeout_s=5)
    (request,) = webhook.raw
    signature = request.headers["x-deconflict-signature"]
    with pytest.raises(VerificationError):
        verify_webhook(request.body.replace(b"hit-1", b"hit-9"), signature, db.ledger.verifier_key)
    from deconflict.ledger.note import generate_signer

    with pytest.raises(VerificationError):
        verify_webhook(request.body, signature, generate_signer(db.ledger.origin).vkey)
    forged = base64.b64encode(generate_signer(db.ledger.origin).sign(b"x")).decode()
    with pytest.raises(VerificationError):
        verify_webhook(request.body, forged, db.ledger.verifier_key)


def test_email_gets_exactly_one_message_per_alert_with_the_signed_body(
    protected: deconflict.Database, smtp: SmtpServer
) -> None:
    db = protected
    db.channels.add_email(
        "AZE",
        "security@embassy.example",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        sender="alerts@deconflict.example",
    )
    db.incidents.add_rows([on_embassy("hit-1"), on_embassy("hit-2", "2025-04-01T12:00")])
    assert len(deliver_due(db, timeout_s=5).delivered) == 2
    deliver_due(db, timeout_s=5)
    assert len(smtp.messages) == 2
    ids = set()
    for message in smtp.messages:
        assert message["To"] == "security@embassy.example"
        assert "possible breach" in message["Subject"]
        parts = {p.get_filename(): p.get_payload(decode=True) for p in message.walk() if p.get_filename()}
        alert = verify_webhook(parts["alert.json"], parts["alert.json.sig"].decode(), db.ledger.verifier_key)
        assert message["Message-ID"] == f"<{alert['delivery_id']}@deconflict>"
        ids.add(alert["alert"]["id"])
    assert ids == _alert_ids(db)


def test_a_failing_receiver_is_retried_with_backoff_and_every_failure_is_recorded(
    protected: deconflict.Database,
) -> None:
    db = protected
    receiver = WebhookReceiver(mode="fail").start()
    try:
        db.channels.add_webhook("AZE", receiver.url)
        db.incidents.add_rows([on_embassy("hit-1")])
        first = deliver_due(db, timeout_s=5, retry_base_s=0.0)
        assert first.delivered == [] and "HTTP 503" in first.failed[0][1]
        second = deliver_due(db, timeout_s=5, retry_base_s=0.0)
        assert len(second.failed) == 1
        (record,) = db.alerts.list()
        (delivery,) = record.deliveries
        assert delivery["status"] == "pending" and delivery["attempts"] == 2 and "503" in delivery["last_error"]
        log = attempts(db, delivery["id"])
        assert [a["outcome"] for a in log] == ["failed", "failed"] and all("503" in a["error"] for a in log)
        # Backoff: with a real base the next attempt waits, and an early run sends nothing.
        deliver_due(db, timeout_s=5, retry_base_s=3600.0)
        assert deliver_due(db, timeout_s=5, retry_base_s=3600.0).failed == []
        assert len(receiver.raw) == 3
        receiver.mode = "ok"
        # The row is due only after its backoff: make it due now.
        with db.store.transaction():
            db.store.update_rows("alert_deliveries", {"id": delivery["id"]}, {"next_attempt_at": 0.0})
        assert deliver_due(db, timeout_s=5).delivered == [delivery["id"]]
        assert len(receiver.processed) == 1
        assert [a["outcome"] for a in attempts(db, delivery["id"])] == ["failed", "failed", "failed", "delivered"]
    finally:
        receiver.stop()


def test_nothing_is_lost_while_the_receiver_is_down_and_it_is_delivered_when_back(
    protected: deconflict.Database,
) -> None:
    db = protected
    down = WebhookReceiver()
    port = down.start().port
    down.stop()  # nothing listens on the port now
    db.channels.add_webhook("AZE", f"http://127.0.0.1:{port}/hook")
    result = db.incidents.add_rows([on_embassy("hit-1"), on_embassy("hit-2", "2025-04-01T12:00")])
    assert result.added == 2  # the import is not blocked by the receiver
    run = deliver_due(db, timeout_s=2, retry_base_s=0.0)
    assert len(run.failed) == 2 and all("refused" in error.lower() for _, error in run.failed)
    assert len(_alert_ids(db)) == 2
    back = WebhookReceiver(port=port).start()
    try:
        assert len(deliver_due(db, timeout_s=5, retry_base_s=0.0).delivered) == 2
        assert {json.loads(r.body)["alert"]["id"] for r in back.processed.values()} == _alert_ids(db)
        for record in db.alerts.list():
            (delivery,) = record.deliveries
            assert delivery["status"] == "delivered" and delivery["attempts"] == 2 and delivery["delivered_at"]
    finally:
        back.stop()


def test_an_alert_without_a_channel_stays_in_the_inbox_and_a_removed_channel_gets_nothing(
    protected: deconflict.Database, webhook: WebhookReceiver
) -> None:
    db = protected
    channel = db.channels.add_webhook("AZE", webhook.url)
    db.channels.remove(channel.id)
    db.incidents.add_rows([on_embassy("hit-1")])
    assert len(db.alerts.list()) == 1 and db.alerts.list()[0].deliveries == []
    assert deliver_due(db).delivered == [] and webhook.raw == []


def test_two_dispatchers_never_send_one_delivery_twice(
    db_path: object, tmp_path: object, webhook: WebhookReceiver
) -> None:
    import threading

    first = deconflict.open(db_path)  # type: ignore[arg-type]
    second = deconflict.open(db_path)  # type: ignore[arg-type]
    try:
        first.sites.create(name="Embassy", kind="embassy", owner="AZE", lat=50.45, lon=30.52, id="emb")
        first.notifications.notify(["emb"], to="RUS", at="2025-01-01")
        first.channels.add_webhook("AZE", webhook.url)
        first.incidents.add_rows([on_embassy(f"hit-{k}", f"2025-03-{k + 1:02d}T12:00") for k in range(12)])
        runs = []
        threads = [
            threading.Thread(target=lambda h=h: runs.append(deliver_due(h, timeout_s=5, claimant=str(id(h)))))
            for h in (first, second)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        delivered = [d for run in runs for d in run.delivered]
        assert len(delivered) == 12 == len(set(delivered))
        assert len(webhook.raw) == 12
    finally:
        first.close()
        second.close()


def test_the_server_relays_the_outbox_when_asked_to(protected: deconflict.Database, webhook: WebhookReceiver) -> None:
    import time

    from fastapi.testclient import TestClient

    from deconflict.api import create_app

    db = protected
    db.channels.add_webhook("AZE", webhook.url)
    db.incidents.add_rows([on_embassy("hit-1")])
    with TestClient(create_app(db.location, deliver_alerts_every_s=0.2)):
        deadline = time.monotonic() + 30
        while not webhook.processed and time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(webhook.processed) == 1
    assert db.alerts.list()[0].deliveries[0]["status"] == "delivered"
