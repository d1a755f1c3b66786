"""The state the log's entries stand for: one projection per entry kind, applied in log order.

:func:`project` folds the decoded entries into an :class:`Expected` state: for each table the
rows the entries determine, keyed as :mod:`deconflict.ledger.state` reads the tables back, and
for each row the entry that says so. Sites' and movements' records are private (the log holds
salted commitments to them), so what the log determines of them is *which* commitment is in
force; the state check then reads the record from the store and proves it against that
commitment. Incident batches commit to their records through a Merkle root, so a batch is kept
as :class:`Batch` (count, root, which positions a later revision or merge superseded) and the
check hashes the stored records. Guarantee kinds have their projections beside their bodies in
:data:`deconflict.guarantees.records.PROJECTIONS`; they need the objects' owners, which the
state check supplies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CORE_PROJECTIONS", "Batch", "Expected", "project"]

Key = Any
Row = dict[str, Any]


@dataclass
class Batch:
    """An entry committing to incident records: how many, their root, and what the log says of them."""

    index: int
    kind: str
    count: int
    records_root: str
    first_id: str | None
    last_id: str | None
    source: Mapping[str, Any] | None
    #: Incident ids the log names for some positions (revisions and merges name every one).
    ids: dict[int, str] = field(default_factory=dict)
    #: Positions a later revision or merge superseded: position -> (incident id, superseding entry).
    superseded: dict[int, tuple[str, int]] = field(default_factory=dict)


@dataclass
class Expected:
    """What the log determines: rows per table (key -> row), and per row the entry that says so."""

    tables: dict[str, dict[Key, Row]] = field(default_factory=dict)
    entry_of: dict[tuple[str, Key], int] = field(default_factory=dict)
    #: site id -> entries of its commitments, oldest first (the last is in force).
    site_chains: dict[str, list[int]] = field(default_factory=dict)
    batches: dict[int, Batch] = field(default_factory=dict)
    #: incident id -> ``[(index, review body), ...]`` oldest first.
    reviews: dict[str, list[tuple[int, Mapping[str, Any]]]] = field(default_factory=dict)
    #: ``(index, kind, body)`` of guarantee entries, for their own projections.
    guarantees: list[tuple[int, str, Mapping[str, Any]]] = field(default_factory=list)

    def table(self, name: str) -> dict[Key, Row]:
        """The expected rows of ``name`` (created empty)."""
        return self.tables.setdefault(name, {})

    def put(self, table: str, key: Key, row: Row, index: int) -> None:
        """Set a row, recording the entry that says so."""
        self.table(table)[key] = row
        self.entry_of[(table, key)] = index

    def update(self, table: str, key: Key, values: Row, index: int) -> None:
        """Change fields of a row an earlier entry made (a correction of a record the log never had is
        kept as a row of its own, so that the check names it)."""
        rows = self.table(table)
        rows.setdefault(key, {}).update(values)
        self.entry_of[(table, key)] = index


Projection = Callable[[Expected, int, Mapping[str, Any]], None]


def _site_committed(state: Expected, index: int, body: Mapping[str, Any]) -> None:
    site_id = body["site_id"]
    state.site_chains.setdefault(site_id, []).append(index)
    state.put("site_commitments", (site_id, index), {"commitment": body["commitment"]}, index)
    if body.get("supersedes") is None:
        state.put("sites", site_id, {"withdrawn_idx": None}, index)
    else:
        state.update("sites", site_id, {}, index)


def _site_withdrawn(state: Expected, index: int, body: Mapping[str, Any]) -> None:
    state.update("sites", body["site_id"], {"withdrawn_idx": index}, index)


def _notification_fields(body: Mapping[str, Any]) -> Row:
    at = body["notified_at"]
    return {
        "sender": body.get("sender"), "recipient": body["recipient"], "notified_start": at["start"],
        "notified_end": at["end"], "precision": at["precision"], "channel": body.get("channel"),
        "reference": body.get("reference"), "text": body.get("text"),
    }  # fmt: skip


def _notification_links(state: Expected, index: int, body: Mapping[str, Any]) -> None:
    notification_id = body["notification_id"]
    site_ids = [s["site_id"] for s in body["sites"]]
    state.table("notification_sites").pop(notification_id, None)
    if site_ids:  # a notification of movements only has no rows here
        state.put("notification_sites", notification_id, {"site_ids": site_ids}, index)
    links = state.table("notification_movements")
    for key in [k for k in links if k[0] == notification_id]:
        del links[key]
    for movement in body.get("movements", []):
        state.put("notification_movements", (notification_id, movement["movement_id"]), {}, index)


def _notification(state: Expected, index: int, body: Mapping[str, Any]) -> None:
    row = {"entry_idx": index, "amended_idx": None, "withdrawn_idx": None, **_notification_fields(body)}
    state.put("notifications", body["notification_id"], row, index)
    _notification_links(state, index, body)


def _notification_amended(state: Expected, index: int, body: Mapping[str, Any]) -> None:
    state.update("notifications", body["notification_id"], {"amended_idx": index, **_notification_fields(body)}, index)
    _notification_links(state, index, body)


def _notification_withdrawn(state: Expected, index: int, body: Mapping[str, Any]) -> None:
    state.update("notifications", body["notification_id"], {"withdrawn_idx": index}, index)


def _acknowledgement(state: Expected, index: int, body: Mapping[str, Any]) -> None:
    at = body["at"]
    row = {
        "entry_idx": index, "withdrawn_idx": None, "notification_id": body["notification_id"],
        "recipient": body["recipient"], "at_start": at["start"], "at_end": at["end"], "precision": at["precision"],
        "reference": body.get("reference"), "text": body.get("text"),
    }  # fmt: skip
    state.put("acknowledgements", body["acknowledgement_id"], row, index)


def _acknowledgement_withdrawn(state: Expected, index: int, body: Mapping[str, Any]) -> None:
    state.update("acknowledgements", body["acknowledgement_id"], {"withdrawn_idx": index}, index)


def _batch(state: Expected, index: int, body: Mapping[str, Any], kind: str) -> None:
    batch = Batch(
        index, kind, int(body["count"]), body["records_root"], body.get("first_id"), body.get("last_id"),
        body.get("import"),
    )  # fmt: skip
    supersedes = body.get("supersedes") or []
    if kind == "incident_revision":
        batch.ids = {position: item["incident_id"] for position, item in enumerate(supersedes)}
    if kind == "incident_merge":
        batch.ids = {0: body["incident_id"]}
    state.batches[index] = batch
    for item in supersedes:
        earlier = state.batches.get(item["entry_index"])
        if earlier is not None:
            earlier.superseded[int(item["position"])] = (item["incident_id"], index)
        row = {"incident_id": item["incident_id"], "superseded_idx": index}
        state.put("incident_versions", (item["entry_index"], item["position"]), row, index)


def _review(state: Expected, index: int, body: Mapping[str, Any]) -> None:
    state.reviews.setdefault(body["incident_id"], []).append((index, body))


#: What each correction kind touches in the ``corrections`` table: (target, body field naming it).
_CORRECTED = {
    "site_amended": ("site", "site_id"),
    "site_withdrawn": ("site", "site_id"),
    "notification_amended": ("notification", "notification_id"),
    "notification_withdrawn": ("notification", "notification_id"),
    "acknowledgement_withdrawn": ("acknowledgement", "acknowledgement_id"),
}


def _corrections(state: Expected, index: int, kind: str, body: Mapping[str, Any]) -> None:
    reason = body.get("reason")
    if kind in _CORRECTED:
        target, name = _CORRECTED[kind]
        row = {"kind": kind, "supersedes_idx": body.get("supersedes"), "reason": reason}
        state.put("corrections", (index, target, body[name]), row, index)
    elif kind in ("incident_revision", "incident_merge"):
        for item in body.get("supersedes") or []:
            row = {"kind": kind, "supersedes_idx": item["entry_index"], "reason": reason}
            state.put("corrections", (index, "incident", item["incident_id"]), row, index)


#: Entry kind -> its projection onto the records' tables.
CORE_PROJECTIONS: dict[str, Projection] = {
    "site_committed": _site_committed,
    "site_amended": _site_committed,
    "site_withdrawn": _site_withdrawn,
    "notification": _notification,
    "notification_amended": _notification_amended,
    "notification_withdrawn": _notification_withdrawn,
    "acknowledgement": _acknowledgement,
    "acknowledgement_withdrawn": _acknowledgement_withdrawn,
    "incident": lambda state, index, body: _batch(state, index, body, "incident"),
    "incident_revision": lambda state, index, body: _batch(state, index, body, "incident_revision"),
    "incident_merge": lambda state, index, body: _batch(state, index, body, "incident_merge"),
    "review": _review,
    "evidence": lambda state, index, body: None,  # a document's digest; no table holds it
}


def project(entries: Iterable[tuple[int, str, Mapping[str, Any]]]) -> Expected:
    """Fold ``(index, kind, body)`` entries, in log order, into the state they stand for."""
    from deconflict.guarantees.records import PROJECTIONS

    state = Expected()
    for index, kind, body in entries:
        if kind in PROJECTIONS:
            state.guarantees.append((index, kind, body))
            continue
        CORE_PROJECTIONS[kind](state, index, body)
        _corrections(state, index, kind, body)
    return state
