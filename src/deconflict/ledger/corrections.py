"""Corrections as log entries: amendments, withdrawals, incident revisions and merges.

The log is append-only, so a correction never edits an entry: it is a new entry that names the
entry of the version it supersedes and the reason. The store's tables then hold the effective
state (what every listing, analysis, report and bundle uses), and every earlier version stays
provable: a site's earlier records in its earlier salted commitments, a notification's earlier
fields in its earlier entries, an incident's earlier record in ``incident_versions`` with the
bytes its batch entry commits to. Kinds and bodies (see also :mod:`deconflict.ledger.entries`):

``site_amended``
    ``{"site_id", "commitment", "supersedes", "reason"}``: a new salted commitment to the
    amended record; ``supersedes`` is the entry of the commitment it replaces.
``site_withdrawn``
    ``{"site_id", "supersedes", "reason"}``.
``notification_amended``
    the fields of a ``notification`` entry as amended, plus ``"supersedes"`` and ``"reason"``.
``notification_withdrawn``, ``acknowledgement_withdrawn``
    ``{"notification_id" | "acknowledgement_id", "supersedes", "reason"}`` (an acknowledgement's
    withdrawal also names its ``notification_id``).
``incident_revision``
    a batch like ``incident`` (``count``, ``records_root``, ``first_id``, ``last_id``, ``import``)
    whose records replace earlier versions: ``"supersedes"`` lists, in the batch's order,
    ``{"incident_id", "entry_index", "position"}`` of each version replaced; plus ``"reason"``.
``incident_merge``
    a batch of one record, ``{"incident_id", "count": 1, "records_root", "merged": [ids],
    "supersedes": [...], "reason"}``: several reports of one strike recorded as one incident.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from deconflict.errors import ConflictError, InvalidInput, NotFound
from deconflict.export import incident_row, site_row
from deconflict.ledger import merkle
from deconflict.ledger.batches import batch_tree
from deconflict.ledger.entries import canonical_record, commitment, span_json
from deconflict.model import Incident, Notification, Site
from deconflict.store.base import CorrectionRow, ImportRecord, IncidentVersion, LogEntryRow, SiteCommitment

if TYPE_CHECKING:
    from deconflict.ledger.log import Ledger

__all__ = [
    "BATCH_KINDS",
    "CORRECTION_KINDS",
    "amend_notification",
    "amend_site",
    "batch_records",
    "committed_record",
    "merge_incidents",
    "notification_body",
    "revise_incidents",
    "withdraw_acknowledgement",
    "withdraw_notification",
    "withdraw_site",
]

#: Entry kinds that commit to a batch of incident records (``count`` + ``records_root``).
BATCH_KINDS = ("incident", "incident_revision", "incident_merge")
#: Entry kinds that correct an earlier record.
CORRECTION_KINDS = (
    "site_amended",
    "site_withdrawn",
    "notification_amended",
    "notification_withdrawn",
    "acknowledgement_withdrawn",
    "incident_revision",
    "incident_merge",
)

Reviews = Mapping[str, list[tuple[int, dict[str, Any]]]]


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("a correction needs a reason (it is logged with it)", where="reason")
    return text


def _correction(row: LogEntryRow, target: str, target_id: str, supersedes: int | None, reason: str) -> CorrectionRow:
    return CorrectionRow(row.index, row.kind, target, target_id, supersedes, reason)


# -- sites ------------------------------------------------------------------------------------------
def amend_site(ledger: Ledger, site: Site, city_id: int | None, reason: str) -> SiteCommitment:
    """Log a new salted commitment to ``site`` (same id) superseding its latest one; apply it."""
    reason = _reason(reason)
    store = ledger.store
    if store.site_withdrawn(site.id) is not None:
        raise ConflictError(f"site {site.id!r} was withdrawn; a withdrawn site is not amended")
    previous = store.site_commitments(site.id)
    if not previous:
        raise NotFound(f"site {site.id!r} has no commitment in the log")
    salt = secrets.token_bytes(32)
    record = canonical_record(site_row(site))
    if record == previous[-1].record:
        raise InvalidInput("the amendment changes nothing", where="site")
    digest = commitment(salt, record)
    supersedes = previous[-1].entry_index
    body = {"site_id": site.id, "commitment": digest, "supersedes": supersedes, "reason": reason}
    with store.transaction():
        (row,) = ledger.append([("site_amended", body)])
        item = SiteCommitment(site.id, row.index, salt, digest, record)
        store.save_site_commitment(item)
        store.update_site(site, city_id)
        store.insert_corrections([_correction(row, "site", site.id, supersedes, reason)])
    return item


def withdraw_site(ledger: Ledger, site_id: str, reason: str) -> LogEntryRow:
    """Log that a site is withdrawn from the registry (it stays in the log and in its history)."""
    reason = _reason(reason)
    store = ledger.store
    if store.site_withdrawn(site_id) is not None:
        raise ConflictError(f"site {site_id!r} is already withdrawn")
    previous = store.site_commitments(site_id)
    supersedes = previous[-1].entry_index if previous else None
    with store.transaction():
        (row,) = ledger.append([("site_withdrawn", {"site_id": site_id, "supersedes": supersedes, "reason": reason})])
        store.set_site_withdrawn(site_id, row.index)
        store.insert_corrections([_correction(row, "site", site_id, supersedes, reason)])
    return row


# -- notifications ----------------------------------------------------------------------------------
def notification_body(ledger: Ledger, notification: Notification) -> dict[str, Any]:
    """The body of a ``notification`` entry: its fields and each site's (and movement's) latest commitment."""
    sites = []
    for site_id in notification.site_ids:
        ledger.store.get_site(site_id)
        commitments = ledger.store.site_commitments(site_id)
        if not commitments:
            raise NotFound(f"site {site_id!r} has no commitment in the log")
        latest = commitments[-1]
        sites.append({"site_id": site_id, "commitment": latest.commitment, "committed_index": latest.entry_index})
    movements = []
    for movement_id in sorted(notification.movement_ids):
        found = ledger.store.select_rows("movements", {"id": movement_id})
        if not found:
            raise NotFound(f"no movement with id {movement_id!r}")
        movement = found[0]
        movements.append(
            {"movement_id": movement_id, "commitment": movement["commitment"], "committed_index": movement["entry_idx"]}
        )
    body: dict[str, Any] = {
        "notification_id": notification.id,
        "sender": notification.sender,
        "recipient": notification.recipient,
        "notified_at": span_json(notification.notified_at),
        "channel": notification.channel,
        "reference": notification.reference,
        "text": notification.text,
        "sites": sites,
    }
    if movements:  # only then: entries of notifications without movements keep their bytes
        body["movements"] = movements
    return body


def amend_notification(ledger: Ledger, notification: Notification, reason: str) -> LogEntryRow:
    """Log ``notification`` (same id) as the amended version of the one in force; apply it."""
    reason = _reason(reason)
    store = ledger.store
    entry, amended, withdrawn = store.notification_state(notification.id)
    if withdrawn is not None:
        raise ConflictError(f"notification {notification.id!r} was withdrawn; a withdrawn notification is not amended")
    supersedes = entry if amended is None else amended
    body = notification_body(ledger, notification)
    current = ledger.entry(supersedes)
    from deconflict.ledger.entries import decode_entry

    before = {k: v for k, v in decode_entry(current.data)["body"].items() if k not in ("supersedes", "reason")}
    if before == body:
        raise InvalidInput("the amendment changes nothing", where="notification")
    body.update(supersedes=supersedes, reason=reason)
    with store.transaction():
        (row,) = ledger.append([("notification_amended", body)])
        store.update_notification(notification, row.index)
        store.insert_corrections([_correction(row, "notification", notification.id, supersedes, reason)])
    return row


def withdraw_notification(ledger: Ledger, notification_id: str, reason: str) -> LogEntryRow:
    """Log that a notification is withdrawn (recorded in error); its acknowledgements go out of force with it."""
    reason = _reason(reason)
    store = ledger.store
    entry, amended, withdrawn = store.notification_state(notification_id)
    if withdrawn is not None:
        raise ConflictError(f"notification {notification_id!r} is already withdrawn")
    supersedes = entry if amended is None else amended
    body = {"notification_id": notification_id, "supersedes": supersedes, "reason": reason}
    with store.transaction():
        (row,) = ledger.append([("notification_withdrawn", body)])
        store.set_notification_withdrawn(notification_id, row.index)
        store.insert_corrections([_correction(row, "notification", notification_id, supersedes, reason)])
    return row


def withdraw_acknowledgement(ledger: Ledger, acknowledgement_id: str, reason: str) -> LogEntryRow:
    """Log that an acknowledgement is withdrawn (recorded in error)."""
    reason = _reason(reason)
    store = ledger.store
    acknowledgement, entry, withdrawn = store.acknowledgement_state(acknowledgement_id)
    if withdrawn is not None:
        raise ConflictError(f"acknowledgement {acknowledgement_id!r} is already withdrawn")
    body = {
        "acknowledgement_id": acknowledgement_id,
        "notification_id": acknowledgement.notification_id,
        "supersedes": entry,
        "reason": reason,
    }
    with store.transaction():
        (row,) = ledger.append([("acknowledgement_withdrawn", body)])
        store.set_acknowledgement_withdrawn(acknowledgement_id, row.index)
        store.insert_corrections([_correction(row, "acknowledgement", acknowledgement_id, entry, reason)])
    return row


# -- incidents --------------------------------------------------------------------------------------
def committed_record(incident: Incident, entry_index: int, reviews: Reviews) -> bytes:
    """The record of ``incident`` as its entry ``entry_index`` committed it: with the status it had
    before the first review logged after that entry."""
    row = incident_row(incident)
    later = [body for index, body in reviews.get(incident.id, ()) if index > entry_index]
    if later:
        row["status"] = later[0]["previous_status"]
    return canonical_record(row)


def batch_records(
    ledger: Ledger, entry_index: int, reviews: Reviews, start: int = 0, end: int | None = None
) -> list[bytes]:
    """Every record a batch entry commits to (at positions ``start <= p < end``), in order: versions
    in force and superseded ones."""
    store = ledger.store
    current = [committed_record(i, entry_index, reviews) for i in store.incidents_in_entry(entry_index, start, end)]
    span = (start, end if end is not None else 1 << 62)
    archived = {v.position: v.record for v in store.incident_versions(entry_index=entry_index, positions=span)}
    if not archived:
        return current
    remaining = iter(current)
    return [
        archived[p] if p in archived else next(remaining) for p in range(start, start + len(current) + len(archived))
    ]


def _superseded(ledger: Ledger, incident: Incident, reviews: Reviews, by_index: int) -> IncidentVersion:
    where = ledger.store.incident_entry(incident.id)
    if where is None:
        raise NotFound(f"incident {incident.id!r} has no entry in the log")
    entry, position = where
    return IncidentVersion(
        incident.id, entry, position, committed_record(incident, entry, reviews), incident.status, by_index
    )


def revise_incidents(
    ledger: Ledger, revised: Sequence[Incident], source: ImportRecord | None, import_id: int | None, reason: str
) -> LogEntryRow:
    """Log new versions of stored incidents (same ids) as one revision batch; the old ones stay provable."""
    reason = _reason(reason)
    store = ledger.store
    olds = [store.get_incident(incident.id) for incident in revised]
    reviews = ledger.reviews()
    records = [canonical_record(incident_row(i)) for i in revised]
    records_root, nodes = batch_tree(records)
    wheres = [store.incident_entry(old.id) for old in olds]
    if any(where is None for where in wheres):
        raise NotFound("an incident to revise has no entry in the log")
    body = {
        "count": len(records),
        "records_root": records_root.hex(),
        "first_id": revised[0].id,
        "last_id": revised[-1].id,
        "import": None if source is None else {"filename": source.filename, "sha256": source.sha256,
                                                 "format": source.format},
        "supersedes": [{"incident_id": old.id, "entry_index": w[0], "position": w[1]}
                       for old, w in zip(olds, wheres, strict=True) if w is not None],
        "reason": reason,
    }  # fmt: skip
    with store.transaction():
        (row,) = ledger.append([("incident_revision", body)])
        store.save_batch_nodes(row.index, nodes)
        store.archive_incidents([_superseded(ledger, old, reviews, row.index) for old in olds])
        store.insert_incidents(revised, import_id, row.index)
        store.insert_corrections(
            [_correction(row, "incident", old.id, w[0], reason) for old, w in zip(olds, wheres, strict=True) if w]
        )
    return row


def merge_incidents(ledger: Ledger, merged: Incident, members: Sequence[Incident], reason: str) -> LogEntryRow:
    """Log ``merged`` as the one incident that the reports ``members`` describe; they leave the effective state."""
    reason = _reason(reason)
    store = ledger.store
    reviews = ledger.reviews()
    wheres = [store.incident_entry(m.id) for m in members]
    if any(where is None for where in wheres):
        raise NotFound("an incident to merge has no entry in the log")
    record = canonical_record(incident_row(merged))
    body = {
        "incident_id": merged.id,
        "merged": [m.id for m in members],
        "count": 1,
        "records_root": merkle.root_hash([record]).hex(),
        "supersedes": [{"incident_id": m.id, "entry_index": w[0], "position": w[1]}
                       for m, w in zip(members, wheres, strict=True) if w is not None],
        "reason": reason,
    }  # fmt: skip
    with store.transaction():
        (row,) = ledger.append([("incident_merge", body)])
        store.archive_incidents([_superseded(ledger, m, reviews, row.index) for m in members])
        store.insert_incidents([merged], None, row.index)
        store.insert_corrections(
            [_correction(row, "incident", m.id, w[0], reason) for m, w in zip(members, wheres, strict=True) if w]
        )
    return row
