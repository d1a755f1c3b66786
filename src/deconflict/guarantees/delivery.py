"""Delivering alerts: a transactional outbox, at-least-once transport, an idempotency key.

The guarantee, exactly:

1. **Nothing is lost.** An alert and one outbox row per channel of its owner are written in the
   transaction that raised the alert (the incident write itself). If that commits, the alert and
   the obligation to deliver it are on disk; if it does not, neither is.
2. **At-least-once transport.** A dispatcher (``deconflict monitor``, or the server) claims due
   rows with a lease, records the attempt (outcome ``sending``) and commits, sends *outside* any
   transaction, then records the outcome. A failure is recorded (error, attempt, time) and the
   row is retried with exponential backoff, for as long as it takes: a receiver that is down for
   a day gets its alerts when it is back. A dispatcher killed mid-send leaves the lease to expire
   and the attempt ``sending``; the next dispatcher marks that attempt *interrupted* and sends
   again.
3. **Exactly-once processing with the idempotency key.** Every message carries its delivery id
   (``Idempotency-Key`` and ``X-Deconflict-Delivery`` headers, ``delivery_id`` in the body, the
   e-mail's ``Message-ID``). It is derived from the alert and the channel, so every redelivery of
   one alert to one channel carries the same id and the same body bytes: a receiver that keeps
   the ids it processed (and answers 2xx to a repeat) processes each alert exactly once. A
   crash between a receiver's 2xx and our commit can only cause such a repeat, never a loss.

Webhooks are ``POST``\\ s of RFC 8785 JSON signed with the log's Ed25519 key over
``b"deconflict-alert-webhook/v1\\n" + body`` (:func:`verify_webhook` checks one; the prefix keeps
the signature from ever verifying as anything else the log's key signs: a signed note's text
ends with a newline and a JSON body does not). E-mails (SMTP, :mod:`smtplib`) carry the same
body and signature as attachments.
"""

from __future__ import annotations

import base64
import http.client
import os
import smtplib
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from deconflict.errors import DeconflictError, VerificationError
from deconflict.guarantees.channels import Channel
from deconflict.ids import content_id
from deconflict.ledger.entries import canonical_json
from deconflict.ledger.note import parse_verifier_key

if TYPE_CHECKING:
    from deconflict.db import Database

__all__ = [
    "PAYLOAD_FORMAT",
    "SIGNATURE_CONTEXT",
    "DeliveryRun",
    "deliver_due",
    "delivery_json",
    "enqueue",
    "payload",
    "verify_webhook",
]

PAYLOAD_FORMAT = "deconflict-alert/1"
SIGNATURE_CONTEXT = b"deconflict-alert-webhook/v1\n"
#: First retry after this many seconds, doubling each time, at most :data:`RETRY_CAP_S`.
RETRY_BASE_S = 30.0
RETRY_CAP_S = 3600.0
DEFAULT_TIMEOUT_S = 10.0
INTERRUPTED = (
    "interrupted: the sender stopped before recording the outcome "
    "(the receiver may have it; resent with the same delivery id)"
)


def delivery_id_for(alert_id: str, channel_id: str) -> str:
    """The idempotency key of one alert on one channel: the same on every attempt."""
    return content_id("dlv", alert_id, channel_id)


def enqueue(db: Database, alert_id: str, owner: str) -> list[str]:
    """Write an outbox row per active channel of ``owner`` (inside the alert's transaction)."""
    now = time.time()
    rows: list[dict[str, Any]] = [
        {"id": delivery_id_for(alert_id, channel.id), "alert_id": alert_id, "channel_id": channel.id,
         "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now, "lease_until": None,
         "claimed_by": None, "last_error": None, "delivered_at": None}
        for channel in db.channels.active_for(owner)
    ]  # fmt: skip
    db.store.insert_rows("alert_deliveries", rows)
    return [r["id"] for r in rows]


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(float(epoch), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def delivery_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """An outbox row as JSON (times ISO 8601 UTC)."""
    return {
        "id": row["id"], "channel_id": row["channel_id"], "status": row["status"], "attempts": int(row["attempts"]),
        "created_at": _iso(row["created_at"]), "next_attempt_at": None if row["status"] == "delivered"
        else _iso(row["next_attempt_at"]), "last_error": row["last_error"], "delivered_at": _iso(row["delivered_at"]),
    }  # fmt: skip


def payload(db: Database, alert_id: str, delivery_id: str) -> bytes:
    """The exact body sent for one delivery (the same bytes on every attempt)."""
    record = db.alerts.get(alert_id)
    alert = record.to_json()
    alert.pop("deliveries", None)  # changes between attempts; the body must not
    alert.pop("acknowledged", None)
    return canonical_json({
        "format": PAYLOAD_FORMAT, "delivery_id": delivery_id, "alert": alert,
        "log": {"origin": db.ledger.origin, "alert_index": record.alert.log_index,
                "verifier_key": db.ledger.verifier_key},
    })  # fmt: skip


def sign(db: Database, body: bytes) -> str:
    """Base64 Ed25519 signature of a webhook body with the log's key."""
    return base64.b64encode(db.ledger.signer().sign(SIGNATURE_CONTEXT + body)).decode()


def verify_webhook(body: bytes, signature: str, verifier_key: str) -> dict[str, Any]:
    """Check a received alert against the log's key; return the parsed body or raise.

    Parameters
    ----------
    body
        The request body, byte for byte.
    signature
        The ``X-Deconflict-Signature`` header (base64).
    verifier_key
        The log's verifier key, obtained from its operator through a channel you trust.

    Raises
    ------
    VerificationError
        When the signature does not verify, or the body is not an alert of this format.
    """
    import json

    verifier = parse_verifier_key(verifier_key)
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except ValueError:
        raise VerificationError("the signature is not base64") from None
    if not verifier.verify(SIGNATURE_CONTEXT + body, raw):
        raise VerificationError("the signature does not verify with this log's key")
    document: dict[str, Any] = json.loads(body)
    if document.get("format") != PAYLOAD_FORMAT:
        raise VerificationError(f"not a {PAYLOAD_FORMAT} body")
    return document


# -- transports ---------------------------------------------------------------------------------
class DeliveryFailed(Exception):
    """A send that did not reach (or was refused by) the receiver."""


def _post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> str:
    """POST ``body``; return the status line on 2xx, raise :class:`DeliveryFailed` otherwise (no redirects)."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=timeout,
                                                 context=ssl.create_default_context())  # fmt: skip
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=dict(headers))
        response = connection.getresponse()
        response.read(65_536)
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        raise DeliveryFailed(f"HTTP {response.status} {response.reason}")
    return f"HTTP {response.status}"


def _send_webhook(db: Database, channel: Channel, delivery_id: str, attempt: int, body: bytes, timeout: float) -> str:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "deconflict-alerts",
        "Idempotency-Key": delivery_id,
        "X-Deconflict-Delivery": delivery_id,
        "X-Deconflict-Attempt": str(attempt),
        "X-Deconflict-Signature": sign(db, body),
        "X-Deconflict-Log-Key": db.ledger.verifier_key,
    }
    return _post(channel.target, body, headers, timeout)


def _send_email(db: Database, channel: Channel, delivery_id: str, attempt: int, body: bytes, timeout: float) -> str:
    import json

    options = channel.options
    alert = json.loads(body)["alert"]
    message = EmailMessage()
    labels = "; ".join(alert.get("labels", []))
    message["Subject"] = (
        f"[deconflict] possible breach: {alert['object_kind']} {alert['object_label']} "
        f"(P(hit) {alert['hit_probability']:.2f})"
    )
    message["From"] = options["sender"]
    message["To"] = channel.target
    message["Message-ID"] = f"<{delivery_id}@deconflict>"
    message["X-Deconflict-Delivery"] = delivery_id
    message["X-Deconflict-Attempt"] = str(attempt)
    message.set_content(
        f"Alert {alert['id']} (log entry {alert['log_index']}, raised {alert['raised_at']}):\n"
        f"incident {alert['incident_id']} ({alert['incident_time']}) may have hit {alert['object_kind']} "
        f"{alert['object_id']} ({alert['object_label']}) with probability {alert['hit_probability']:.3f} "
        f"(spatial {alert['spatial_probability']:.3f} x time {alert['time_fraction']:.3f}), "
        f"distance {alert['distance_m']:.0f} m,\nwhile {alert['basis']['kind']} {alert['basis']['id']} covered it.\n"
        f"{labels}\n\nalert.json is the signed record; alert.json.sig its Ed25519 signature with the log's key "
        f"over 'deconflict-alert-webhook/v1\\n' + alert.json (deconflict.guarantees.verify_webhook checks it).\n"
        f"Delivery {delivery_id} (the same id on every redelivery).\n"
    )
    message.add_attachment(body, maintype="application", subtype="json", filename="alert.json")
    message.add_attachment(sign(db, body).encode(), maintype="text", subtype="plain", filename="alert.json.sig")
    try:
        with smtplib.SMTP(options["smtp_host"], int(options["smtp_port"]), timeout=timeout) as smtp:
            if options.get("starttls"):
                smtp.starttls(context=ssl.create_default_context())
            if options.get("username"):
                password = os.environ.get(options.get("password_env") or "", "")
                smtp.login(options["username"], password)
            refused = smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
    if refused:
        raise DeliveryFailed(f"recipients refused: {refused}")
    return "SMTP accepted"


_TRANSPORTS = {"webhook": _send_webhook, "email": _send_email}


# -- the dispatcher -------------------------------------------------------------------------------
@dataclass
class DeliveryRun:
    """What one :func:`deliver_due` call did."""

    delivered: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``{"delivered": [ids], "failed": [{"id", "error"}]}``."""
        return {"delivered": self.delivered, "failed": [{"id": i, "error": e} for i, e in self.failed]}


def backoff_s(attempt: int, base_s: float = RETRY_BASE_S, cap_s: float = RETRY_CAP_S) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...): base x 2^(attempt-1), capped."""
    return float(min(cap_s, base_s * 2.0 ** max(0, attempt - 1)))


def deliver_due(
    db: Database,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    retry_base_s: float = RETRY_BASE_S,
    retry_cap_s: float = RETRY_CAP_S,
    limit: int = 100,
    claimant: str | None = None,
) -> DeliveryRun:
    """Send every outbox row that is due, once each; record each outcome (see the module docstring)."""
    run = DeliveryRun()
    store = db.store
    name = claimant or f"{socket.gethostname()}:{os.getpid()}"
    now = time.time()
    lease_s = 2.0 * timeout_s + 5.0  # longer than one send can take; a crashed sender's lease runs out
    for row in store.claim_deliveries(now, now + lease_s, name, limit):
        delivery_id, attempt = row["id"], int(row["attempts"])
        channel = db.channels.require(row["channel_id"])
        with store.transaction():
            store.update_rows("alert_delivery_attempts", {"delivery_id": delivery_id, "outcome": "sending"},
                              {"outcome": "failed", "error": INTERRUPTED})  # fmt: skip
            store.insert_rows("alert_delivery_attempts", [{
                "delivery_id": delivery_id, "attempt": attempt, "started_at": time.time(), "finished_at": None,
                "outcome": "sending", "error": None, "claimed_by": name,
            }])  # fmt: skip
        try:
            body = payload(db, row["alert_id"], delivery_id)
            _TRANSPORTS[channel.kind](db, channel, delivery_id, attempt, body, timeout_s)
        except (DeliveryFailed, DeconflictError, OSError) as exc:
            error = exc.message if isinstance(exc, DeconflictError) else str(exc)
            finished = time.time()
            with store.transaction():
                store.update_rows("alert_delivery_attempts", {"delivery_id": delivery_id, "attempt": attempt},
                                  {"outcome": "failed", "error": error, "finished_at": finished})  # fmt: skip
                store.update_rows("alert_deliveries", {"id": delivery_id}, {
                    "last_error": error, "lease_until": None,
                    "next_attempt_at": finished + backoff_s(attempt, retry_base_s, retry_cap_s),
                })  # fmt: skip
            run.failed.append((delivery_id, error))
            continue
        finished = time.time()
        with store.transaction():
            store.update_rows("alert_delivery_attempts", {"delivery_id": delivery_id, "attempt": attempt},
                              {"outcome": "delivered", "finished_at": finished})  # fmt: skip
            store.update_rows("alert_deliveries", {"id": delivery_id},
                              {"status": "delivered", "delivered_at": finished, "lease_until": None,
                               "last_error": None})  # fmt: skip
        run.delivered.append(delivery_id)
    return run


def attempts(db: Database, delivery_id: str) -> list[dict[str, Any]]:
    """Every recorded attempt of one delivery, in order (times ISO 8601 UTC)."""
    rows = db.store.select_rows("alert_delivery_attempts", {"delivery_id": delivery_id}, ("attempt",))
    return [{"attempt": int(r["attempt"]), "started_at": _iso(r["started_at"]), "finished_at": _iso(r["finished_at"]),
             "outcome": r["outcome"], "error": r["error"], "claimed_by": r["claimed_by"]} for r in rows]  # fmt: skip
