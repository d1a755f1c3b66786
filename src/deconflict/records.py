"""The history of a record: every version the log holds, with what superseded it and why.

A record (site, notification, acknowledgement, incident) is corrected by new log entries
(:mod:`deconflict.ledger.corrections`); the store keeps the effective state. This module reads
the chain back: :func:`site_history`, :func:`notification_history`,
:func:`acknowledgement_history`, :func:`incident_history`, and :func:`correction_labels`, the
notes every analysis and report carries when what it rests on was corrected.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from deconflict.errors import NotFound
from deconflict.ledger.entries import decode_entry, span_json
from deconflict.model import Acknowledgement, Incident, Notification
from deconflict.store.base import CorrectionRow
from deconflict.times import format_span

if TYPE_CHECKING:
    from deconflict.db import Database

__all__ = [
    "HistoryEvent",
    "NotificationRecord",
    "RecordHistory",
    "acknowledgement_history",
    "correction_labels",
    "duplicate_labels",
    "incident_history",
    "notification_history",
    "notification_record",
    "notifications_to_csv",
    "record_labels",
    "site_history",
]

_ACTIONS = {
    "site_committed": "recorded",
    "notification": "recorded",
    "acknowledgement": "recorded",
    "incident": "recorded",
    "site_amended": "amended",
    "notification_amended": "amended",
    "site_withdrawn": "withdrawn",
    "notification_withdrawn": "withdrawn",
    "acknowledgement_withdrawn": "withdrawn",
    "incident_revision": "revised",
    "incident_merge": "merged",
}


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One version of a record, or the entry that ended it.

    Attributes
    ----------
    index, kind, logged_at
        The log entry (its index, kind and the log's time).
    action
        ``recorded``, ``amended``, ``withdrawn``, ``revised`` or ``merged``.
    reason
        Why (for a correction).
    record
        The record's fields in this version (None for a withdrawal).
    supersedes
        The entry of the version this one replaced.
    """

    index: int
    kind: str
    logged_at: str
    action: str
    reason: str | None = None
    record: dict[str, Any] | None = None
    supersedes: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The event as JSON."""
        return {
            "log_index": self.index,
            "kind": self.kind,
            "logged_at": self.logged_at,
            "action": self.action,
            "reason": self.reason,
            "supersedes": self.supersedes,
            "record": self.record,
        }


@dataclass(frozen=True, slots=True)
class RecordHistory:
    """A record's chain of versions, oldest first, and its state now.

    ``state`` is ``in force``, ``amended`` (in force, corrected), ``withdrawn`` or
    ``merged into <id>``.
    """

    target: str
    id: str
    state: str
    events: list[HistoryEvent] = field(default_factory=list)

    @property
    def corrected(self) -> bool:
        """Whether any correction touched the record."""
        return any(event.action != "recorded" for event in self.events)

    def to_json(self) -> dict[str, Any]:
        """The history as JSON (``--history --json`` and the API)."""
        return {"target": self.target, "id": self.id, "state": self.state,
                "events": [event.to_json() for event in self.events]}  # fmt: skip


def _entry(db: Database, index: int) -> dict[str, Any]:
    return decode_entry(db.ledger.entry(index).data)


def _event(db: Database, index: int, record: dict[str, Any] | None = None) -> HistoryEvent:
    entry = _entry(db, index)
    body = entry["body"]
    return HistoryEvent(
        index=index,
        kind=entry["kind"],
        logged_at=entry["logged_at"],
        action=_ACTIONS.get(entry["kind"], entry["kind"]),
        reason=body.get("reason"),
        record=record,
        supersedes=body.get("supersedes") if isinstance(body.get("supersedes"), int) else None,
    )


def _state(events: list[HistoryEvent]) -> str:
    if any(e.action == "withdrawn" for e in events):
        return "withdrawn"
    return "amended" if any(e.action != "recorded" for e in events) else "in force"


def site_history(db: Database, site_id: str, *, exact: bool = True) -> RecordHistory:
    """Every committed version of a site (its record as each commitment holds it) and its withdrawal.

    ``exact=False`` leaves the coordinates and footprint out of the records (a coarse view).
    """
    store = db.store
    store.get_site(site_id)
    events = []
    for item in store.site_commitments(site_id):
        record = json.loads(item.record)
        if not exact:
            record = {k: v for k, v in record.items() if k not in ("lat", "lon", "footprint_wkt")}
        events.append(_event(db, item.entry_index, record))
    withdrawn = store.site_withdrawn(site_id)
    if withdrawn is not None:
        events.append(_event(db, withdrawn))
    return RecordHistory("site", site_id, _state(events), events)


def notification_history(db: Database, notification_id: str) -> RecordHistory:
    """The notification as first logged, each amendment (with its fields) and its withdrawal."""
    entry, _, _ = db.store.notification_state(notification_id)
    indices = [entry] + [c.entry_index for c in db.store.list_corrections("notification", notification_id)]
    events = []
    for index in indices:
        body = _entry(db, index)["body"]
        fields = {k: v for k, v in body.items() if k not in ("supersedes", "reason")}
        record = fields if "recipient" in body else None
        events.append(_event(db, index, record))
    return RecordHistory("notification", notification_id, _state(events), events)


def acknowledgement_history(db: Database, acknowledgement_id: str) -> RecordHistory:
    """The acknowledgement as logged and its withdrawal."""
    _, entry, _ = db.store.acknowledgement_state(acknowledgement_id)
    indices = [entry] + [c.entry_index for c in db.store.list_corrections("acknowledgement", acknowledgement_id)]
    events = []
    for index in indices:
        body = _entry(db, index)["body"]
        events.append(_event(db, index, body if "recipient" in body else None))
    return RecordHistory("acknowledgement", acknowledgement_id, _state(events), events)


def incident_history(db: Database, incident_id: str) -> RecordHistory:
    """Every version of an incident: superseded ones (as their entries commit to them) and the one in force.

    A report merged into another incident ends with the merge entry; its state is ``merged into <id>``.
    """
    store = db.store
    versions = store.incident_versions(incident_id=incident_id)
    current = store.incident_entry(incident_id)
    try:
        store.get_incident(incident_id)
        in_force = True
    except NotFound:
        in_force = False
    if not versions and not in_force:
        raise NotFound(f"no incident with id {incident_id!r}")
    events = [_event(db, v.entry_index, json.loads(v.record)) for v in versions]
    state = "in force"
    if in_force and current is not None:
        from deconflict.export import incident_row

        events.append(_event(db, current[0], incident_row(store.get_incident(incident_id))))
        if versions:
            state = "revised"
    elif versions:
        last = _entry(db, versions[-1].superseded_index)
        events.append(_event(db, versions[-1].superseded_index))
        state = f"merged into {last['body'].get('incident_id')}" if last["kind"] == "incident_merge" else "superseded"
    return RecordHistory("incident", incident_id, state, events)


def correction_labels(db: Database) -> list[str]:
    """What an analysis or report must say about corrected records it rests on.

    One line per amended or withdrawn notification and amended site (with the reason), and a
    count of revised and merged incidents.
    """
    labels: list[str] = []
    incidents: dict[str, set[str]] = {}
    merges: set[int] = set()
    for row in db.store.list_corrections():
        if row.target == "incident":
            incidents.setdefault(row.kind, set()).add(row.target_id)
            if row.kind == "incident_merge":
                merges.add(row.entry_index)
            continue
        verb = _ACTIONS.get(row.kind, row.kind)
        what = f"{row.target.upper()} {row.target_id} {verb.upper()}"
        labels.append(f"{what} at log entry {row.entry_index}: {row.reason}")
    merged = incidents.get("incident_merge", set())
    revised = incidents.get("incident_revision", set())
    if revised:
        labels.append(f"{len(revised)} incident(s) revised by later reports; the latest version of each is used")
    if merged:
        labels.append(
            f"{len(merged)} duplicate reports merged into {len(merges)} incident(s): each merged strike counts once"
        )
    return labels


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """A notification as in force, with what is known about it (``notifications show``).

    Attributes
    ----------
    notification, log_index
        The notification as in force and the entry that says so (its latest amendment, else its own).
    original_index
        The notification's first entry.
    state
        ``in force``, ``amended`` or ``withdrawn``.
    corrections
        Its amendments and withdrawal, oldest first, with their reasons.
    acknowledgements
        Its acknowledgements in force, with their log index.
    timezone
        The database's timezone, in which its time is shown.
    """

    notification: Notification
    log_index: int
    original_index: int
    state: str
    corrections: list[CorrectionRow]
    acknowledgements: list[tuple[Acknowledgement, int]]
    timezone: ZoneInfo

    def to_json(self) -> dict[str, Any]:
        """The JSON of ``notifications list|show --json``, the export and the API."""
        n = self.notification
        return {
            "id": n.id,
            "site_ids": list(n.site_ids),
            "sender": n.sender,
            "recipient": n.recipient,
            "notified_at": span_json(n.notified_at),
            "notified_at_text": format_span(n.notified_at, self.timezone),
            "channel": n.channel,
            "reference": n.reference,
            "text": n.text,
            "state": self.state,
            "log_index": self.log_index,
            "original_log_index": self.original_index,
            "corrections": [
                {"log_index": c.entry_index, "kind": c.kind, "supersedes": c.supersedes_index, "reason": c.reason}
                for c in self.corrections
            ],
            "acknowledgements": [
                {"id": a.id, "by": a.recipient, "at": span_json(a.at), "at_text": format_span(a.at, self.timezone),
                 "reference": a.reference, "log_index": index}
                for a, index in self.acknowledgements
            ],
        }  # fmt: skip


def notification_record(db: Database, notification: Notification, log_index: int) -> NotificationRecord:
    """The :class:`NotificationRecord` of a notification listed with ``log_index``."""
    entry, _, withdrawn = db.store.notification_state(notification.id)
    corrections = db.store.list_corrections("notification", notification.id)
    state = "withdrawn" if withdrawn is not None else ("amended" if corrections else "in force")
    return NotificationRecord(
        notification,
        log_index,
        entry,
        state,
        corrections,
        db.store.list_acknowledgements(notification.id),
        db.timezone,
    )


NOTIFICATION_CSV_COLUMNS = (
    "id", "site_ids", "sender", "recipient", "notified_at", "notified_start", "notified_end", "precision",
    "channel", "reference", "text", "state", "log_index", "original_log_index", "acknowledged_by", "reason",
)  # fmt: skip


def notifications_to_csv(records: Sequence[NotificationRecord], timezone: ZoneInfo) -> str:
    """CSV of notifications: one row each, times as shown (``notified_at``) and as stored (UTC ends)."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=NOTIFICATION_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        data = record.to_json()
        writer.writerow({
            "id": data["id"], "site_ids": " ".join(data["site_ids"]), "sender": data["sender"] or "",
            "recipient": data["recipient"], "notified_at": format_span(record.notification.notified_at, timezone),
            "notified_start": data["notified_at"]["start"], "notified_end": data["notified_at"]["end"],
            "precision": data["notified_at"]["precision"], "channel": data["channel"] or "",
            "reference": data["reference"] or "", "text": data["text"] or "", "state": data["state"],
            "log_index": data["log_index"], "original_log_index": data["original_log_index"],
            "acknowledged_by": " ".join(sorted({a["by"] for a in data["acknowledgements"]})),
            "reason": "; ".join(c["reason"] or "" for c in data["corrections"]),
        })  # fmt: skip
    return buffer.getvalue()


def duplicate_labels(db: Database, incidents: Sequence[Incident] | None = None) -> list[str]:
    """A warning when incidents in force look like duplicate reports of one strike (they would count twice)."""
    from deconflict.duplicates import find_duplicates

    groups = find_duplicates(db.incidents.list() if incidents is None else incidents, db.store.incident_batches())
    if not groups:
        return []
    reports = sum(len(g.incident_ids) for g in groups)
    return [
        f"LIKELY DUPLICATES: {len(groups)} group(s) of {reports} reports may be one strike each and would count "
        "more than once; review them with 'deconflict incidents duplicates' and merge them"
    ]


def record_labels(db: Database, incidents: Sequence[Incident] | None = None) -> list[str]:
    """What an analysis or report says about the record it rests on: corrections, and likely duplicates left."""
    return correction_labels(db) + duplicate_labels(db, incidents)
