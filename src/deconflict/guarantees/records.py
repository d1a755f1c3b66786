"""Guarantee records as log entries, and back: one body builder and one projection per entry kind.

Entry bodies (inside the RFC 8785 entry ``{"v", "index", "kind", "logged_at", "body"}``):

``movement_committed``
    ``{"movement_id", "commitment"}``: hex SHA-256(salt || canonical JSON of the movement's
    interchange row, :func:`movement_row`); route and window stay private until a bundle reveals
    them, as for sites.
``commitment``
    ``{"commitment_id", "party", "form", "made_at": span, "window": {"start", "end"|null},
    "deadline"|null, "reference", "text", "source_url", "recorded_by", "owners": [...],
    "sites": [{"site_id", "commitment", "committed_index"}],
    "movements": [{"movement_id", "commitment", "committed_index"}]}``
``commitment_acknowledged``
    ``{"acknowledgement_id", "commitment_id", "commitment_index", "party", "at": span, "reference", "text"}``
``deadline_missed``
    ``{"commitment_id", "commitment_index", "party", "deadline", "checked_at"}``
``alert``
    ``{"alert_id", "incident_id", "incident_index", "object": {"kind", "id", "committed_index"},
    "basis": {"kind", "id", "index"}, "notifications": [{"notification_id", "index"}],
    "hit_probability", "spatial_probability", "time_fraction", "distance_m", "threshold", "trigger"}``
``alert_acknowledged``
    ``{"alert_id", "alert_index", "by", "note"}``

Each ``project_<kind>(store, index, body)`` writes the index rows an entry stands for (the
write path calls it right after appending the entry, in the same transaction), so the tables
can be rebuilt from the log alone, one function per kind (:data:`PROJECTIONS`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from deconflict.errors import InvalidInput, NotFound
from deconflict.guarantees.model import (
    Alert,
    Commitment,
    CommitmentAcknowledgement,
    Movement,
    ObjectRef,
    Window,
)
from deconflict.guarantees.routes import parse_route, route_text
from deconflict.ids import content_id
from deconflict.ledger.entries import span_json
from deconflict.store.base import Store
from deconflict.times import TimeSpan, format_utc, parse_time

__all__ = [
    "GUARANTEE_ENTRY_KINDS",
    "MOVEMENT_COLUMNS",
    "PROJECTIONS",
    "alert_body",
    "alert_from_entry",
    "alert_key",
    "commitment_ack_body",
    "commitment_ack_from_body",
    "commitment_body",
    "commitment_from_body",
    "movement_from_row",
    "movement_row",
    "parse_window_end",
    "parse_window_start",
    "span_from_json",
]

#: Interchange columns of movements (CSV header; GeoJSON properties, the route being the geometry).
MOVEMENT_COLUMNS = (
    "id", "name", "kind", "owner", "organisation", "route", "width_m", "from", "until", "vehicles", "notes",
    "provenance",
)  # fmt: skip


def span_from_json(value: Mapping[str, str]) -> TimeSpan:
    """The inverse of :func:`~deconflict.ledger.entries.span_json`."""
    return TimeSpan(datetime.fromisoformat(value["start"]), datetime.fromisoformat(value["end"]), value["precision"])


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def parse_window_start(text: str, local: ZoneInfo, where: str = "from") -> datetime:
    """The start of a window: a date-time, or the start of a date, read in ``local``."""
    try:
        return parse_time(text, None, local).start
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where=where) from None


def parse_window_end(text: str, local: ZoneInfo, where: str = "until") -> datetime:
    """The end of a window: a date-time, or the end of a date (the whole day is in), read in ``local``."""
    try:
        return parse_time(text, None, local).end
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where=where) from None


# -- movements --------------------------------------------------------------------------------
def movement_row(movement: Movement) -> dict[str, str]:
    """The movement as an interchange row (all text; an export re-imports unchanged)."""
    window = movement.window
    return {
        "id": movement.id,
        "name": movement.name or "",
        "kind": movement.kind,
        "owner": movement.owner,
        "organisation": movement.organisation or "",
        "route": route_text(movement.route),
        "width_m": repr(movement.width_m),
        "from": format_utc(window.start),
        "until": format_utc(window.end) if window.end else "",
        "vehicles": movement.vehicles or "",
        "notes": movement.notes or "",
        "provenance": movement.provenance or "",
    }


def movement_from_row(
    row: Mapping[str, Any], local: ZoneInfo, *, default_id: Callable[[], str] | None = None
) -> Movement:
    """A :class:`Movement` from an interchange row (text or typed values); ``where`` names the column."""
    unknown = sorted(set(row) - set(MOVEMENT_COLUMNS) - {"geometry"})
    if unknown:
        raise InvalidInput(f"unknown column(s) {', '.join(unknown)}; expected {', '.join(MOVEMENT_COLUMNS)}")

    def value(name: str) -> Any:
        found = row.get(name)
        return None if found is None or (isinstance(found, str) and not found.strip()) else found

    for required in ("owner", "from", "until", "width_m"):
        if value(required) is None:
            raise InvalidInput(f"{required} is missing", where=required)
    route_value = value("route") if value("route") is not None else row.get("geometry")
    if route_value is None:
        raise InvalidInput("route is missing", where="route")
    start = parse_window_start(str(value("from")), local)
    end = parse_window_end(str(value("until")), local)
    movement_id = value("id") or (default_id() if default_id else None)
    if movement_id is None:
        route = parse_route(route_value)
        movement_id = content_id("mov", value("owner"), route, start.isoformat(), end.isoformat())
    width = value("width_m")
    try:
        width_m = float(width)
    except (TypeError, ValueError):
        raise InvalidInput(f"corridor width must be a number of metres, got {width!r}", where="width_m") from None
    return Movement(
        id=str(movement_id),
        owner=str(value("owner")),
        route=parse_route(route_value),
        width_m=width_m,
        window=Window(start, end),
        kind=str(value("kind") or "convoy"),
        name=value("name"),
        organisation=value("organisation"),
        vehicles=value("vehicles"),
        notes=value("notes"),
        provenance=value("provenance"),
    )


# -- commitments ------------------------------------------------------------------------------
def commitment_body(
    commitment: Commitment, sites: list[dict[str, Any]], movements: list[dict[str, Any]]
) -> dict[str, Any]:
    """The ``commitment`` entry body (``sites``/``movements``: the committed objects, in order)."""
    return {
        "commitment_id": commitment.id,
        "party": commitment.party,
        "form": commitment.form,
        "made_at": span_json(commitment.made_at),
        "window": commitment.window.to_json(),
        "deadline": None if commitment.deadline is None else format_utc(commitment.deadline),
        "reference": commitment.reference,
        "text": commitment.text,
        "source_url": commitment.source_url,
        "recorded_by": commitment.recorded_by,
        "owners": list(commitment.owners),
        "sites": sites,
        "movements": movements,
    }


def commitment_from_body(body: Mapping[str, Any]) -> Commitment:
    """The :class:`Commitment` a ``commitment`` entry records."""
    window = body["window"]
    return Commitment(
        id=body["commitment_id"],
        party=body["party"],
        made_at=span_from_json(body["made_at"]),
        window=Window(datetime.fromisoformat(window["start"]), _instant(window["end"])),
        site_ids=tuple(s["site_id"] for s in body["sites"]),
        movement_ids=tuple(m["movement_id"] for m in body["movements"]),
        owners=tuple(body["owners"]),
        form=body["form"],
        reference=body["reference"],
        text=body["text"],
        source_url=body["source_url"],
        deadline=_instant(body["deadline"]),
        recorded_by=body["recorded_by"],
    )


def commitment_ack_body(ack: CommitmentAcknowledgement, commitment_index: int) -> dict[str, Any]:
    """The ``commitment_acknowledged`` entry body."""
    return {
        "acknowledgement_id": ack.id,
        "commitment_id": ack.commitment_id,
        "commitment_index": commitment_index,
        "party": ack.party,
        "at": span_json(ack.at),
        "reference": ack.reference,
        "text": ack.text,
    }


def commitment_ack_from_body(body: Mapping[str, Any]) -> CommitmentAcknowledgement:
    """The acknowledgement a ``commitment_acknowledged`` entry records."""
    return CommitmentAcknowledgement(
        body["acknowledgement_id"], body["commitment_id"], body["party"], span_from_json(body["at"]),
        body["reference"], body["text"],
    )  # fmt: skip


# -- alerts -----------------------------------------------------------------------------------
def alert_key(incident_id: str, ref: ObjectRef, basis_kind: str, basis_id: str) -> str:
    """What an alert is about: one incident, one object, one basis (one alert for all notifications)."""
    basis = f"commitment:{basis_id}" if basis_kind == "commitment" else "notification"
    return f"{incident_id}|{ref.kind}:{ref.id}|{basis}"


def alert_id_for(key: str) -> str:
    """The id of the alert about ``key`` (the same whoever raises it, so it is raised once)."""
    return content_id("alr", key)


def alert_body(alert: Alert, object_index: int, notification_indices: Mapping[str, int]) -> dict[str, Any]:
    """The ``alert`` entry body."""
    return {
        "alert_id": alert.id,
        "incident_id": alert.incident_id,
        "incident_index": alert.incident_index,
        "object": {"kind": alert.object.kind, "id": alert.object.id, "committed_index": object_index},
        "basis": {"kind": alert.basis_kind, "id": alert.basis_id, "index": alert.basis_index},
        "notifications": [{"notification_id": n, "index": notification_indices[n]} for n in alert.notification_ids],
        "hit_probability": alert.hit_probability,
        "spatial_probability": alert.spatial_probability,
        "time_fraction": alert.time_fraction,
        "distance_m": alert.distance_m,
        "threshold": alert.threshold,
        "trigger": alert.trigger,
    }


def alert_from_entry(index: int, logged_at: str, body: Mapping[str, Any], owner: str) -> Alert:
    """The :class:`Alert` an ``alert`` entry records (``owner``: the object's owner)."""
    return Alert(
        id=body["alert_id"],
        incident_id=body["incident_id"],
        incident_index=body["incident_index"],
        object=ObjectRef(body["object"]["kind"], body["object"]["id"]),
        owner=owner,
        basis_kind=body["basis"]["kind"],
        basis_id=body["basis"]["id"],
        basis_index=body["basis"]["index"],
        hit_probability=float(body["hit_probability"]),
        spatial_probability=float(body["spatial_probability"]),
        time_fraction=float(body["time_fraction"]),
        distance_m=float(body["distance_m"]),
        threshold=float(body["threshold"]),
        trigger=body["trigger"],
        notification_ids=tuple(n["notification_id"] for n in body["notifications"]),
        log_index=index,
        logged_at=logged_at,
    )


# -- projections: entry -> index rows, one function per kind ------------------------------------
def object_owner(store: Store, ref: ObjectRef) -> str:
    """The owner of a site or movement; raises :class:`NotFound`."""
    if ref.kind == "site":
        return store.get_site(ref.id).owner
    found = store.select_rows("movements", {"id": ref.id})
    if not found:
        raise NotFound(f"no movement with id {ref.id!r}")
    return str(found[0]["owner"])


#: ``owner_of(ref, committed_index)``: the owner of a site or movement as of its commitment at that entry
#: (the writer asks the store for the current one, which is the same at write time; the state check
#: reads it from the committed record).
OwnerOf = Callable[[ObjectRef, int | None], str]
Rows = dict[str, list[dict[str, Any]]]


def movement_committed_rows(index: int, body: Mapping[str, Any], private: Any, owner_of: OwnerOf) -> Rows:
    """Rows of a ``movement_committed`` entry; ``private`` holds the record, salt, owner and window."""
    if private is None:
        raise ValueError("a movement's record and salt are not in the log: pass them")
    return {"movements": [{
        "id": body["movement_id"], "owner": private["owner"], "entry_idx": index, "start_at": private["start_at"],
        "end_at": private["end_at"], "salt": private["salt"], "commitment": body["commitment"],
        "record": private["record"],
    }]}  # fmt: skip


def commitment_rows(index: int, body: Mapping[str, Any], private: Any, owner_of: OwnerOf) -> Rows:
    """Rows of a ``commitment`` entry and the objects it covers."""
    rows = []
    for kind, items, key in (("site", body["sites"], "site_id"), ("movement", body["movements"], "movement_id")):
        for item in items:
            ref = ObjectRef(kind, item[key])
            rows.append({"commitment_id": body["commitment_id"], "object_kind": kind, "object_id": ref.id,
                         "owner": owner_of(ref, item.get("committed_index"))})  # fmt: skip
    return {
        "commitments": [{"id": body["commitment_id"], "party": body["party"], "entry_idx": index}],
        "commitment_objects": rows,
    }


def commitment_acknowledged_rows(index: int, body: Mapping[str, Any], private: Any, owner_of: OwnerOf) -> Rows:
    """Rows of a ``commitment_acknowledged`` entry."""
    return {"commitment_acknowledgements": [
        {"id": body["acknowledgement_id"], "commitment_id": body["commitment_id"], "entry_idx": index}
    ]}  # fmt: skip


def deadline_missed_rows(index: int, body: Mapping[str, Any], private: Any, owner_of: OwnerOf) -> Rows:
    """Rows of a ``deadline_missed`` entry."""
    return {"deadlines_missed": [{"commitment_id": body["commitment_id"], "entry_idx": index}]}


def alert_rows(index: int, body: Mapping[str, Any], private: Any, owner_of: OwnerOf) -> Rows:
    """Rows of an ``alert`` entry (its owner is the object's)."""
    ref = ObjectRef(body["object"]["kind"], body["object"]["id"])
    basis = body["basis"]
    return {"alerts": [{
        "id": body["alert_id"], "alert_key": alert_key(body["incident_id"], ref, basis["kind"], basis["id"]),
        "owner": owner_of(ref, body["object"].get("committed_index")), "object_kind": ref.kind, "object_id": ref.id,
        "incident_id": body["incident_id"], "commitment_id": basis["id"] if basis["kind"] == "commitment" else None,
        "entry_idx": index,
    }]}  # fmt: skip


def alert_acknowledged_rows(index: int, body: Mapping[str, Any], private: Any, owner_of: OwnerOf) -> Rows:
    """Rows of an ``alert_acknowledged`` entry."""
    return {"alert_acknowledgements": [{"alert_id": body["alert_id"], "entry_idx": index}]}


RowsOf = Callable[[int, Mapping[str, Any], Any, OwnerOf], Rows]
#: Entry kind -> the rows it stands for (written by :func:`append`, rebuilt by :mod:`deconflict.ledger.state`).
#: Alert channels and deliveries (the outbox) are operational, not log entries, and have none.
PROJECTIONS: dict[str, RowsOf] = {
    "movement_committed": movement_committed_rows,
    "commitment": commitment_rows,
    "commitment_acknowledged": commitment_acknowledged_rows,
    "deadline_missed": deadline_missed_rows,
    "alert": alert_rows,
    "alert_acknowledged": alert_acknowledged_rows,
}


def append(
    store: Store, ledger_append: Callable[..., Any], kind: str, body: Mapping[str, Any], private: Any = None
) -> int:
    """Append one entry and write its rows (inside the caller's transaction); return its index."""
    with store.transaction():
        (row,) = ledger_append([(kind, body)])
        rows = PROJECTIONS[kind](row.index, body, private, lambda ref, _index: object_owner(store, ref))
        for table, items in rows.items():
            store.insert_rows(table, items)
    return int(row.index)


def decode_body(data: bytes) -> dict[str, Any]:
    """The body of stored entry bytes (already verified canonical when written)."""
    value: dict[str, Any] = json.loads(data)["body"]
    return value


#: Table -> (entry kind, the body field naming the row's id, the row column holding it).
_INDEXED = {
    "movements": ("movement_committed", "movement_id", "id"),
    "commitments": ("commitment", "commitment_id", "id"),
    "commitment_acknowledgements": ("commitment_acknowledged", "acknowledgement_id", "id"),
    "deadlines_missed": ("deadline_missed", "commitment_id", "commitment_id"),
    "alerts": ("alert", "alert_id", "id"),
    "alert_acknowledgements": ("alert_acknowledged", "alert_id", "alert_id"),
}

#: The entry kinds :func:`verify_guarantees` reads.
GUARANTEE_ENTRY_KINDS = frozenset(kind for kind, _, _ in _INDEXED.values())


def verify_guarantees(store: Store, bodies: Mapping[int, Mapping[str, Any]]) -> int:
    """Check that every guarantee row indexes the entry it says, and each such entry has its row.

    Returns how many guarantee entries were checked. Raises
    :class:`~deconflict.errors.VerificationError` naming the first entry that disagrees.
    """
    from deconflict.errors import VerificationError
    from deconflict.ledger.entries import canonical_record, commitment

    indexed: set[int] = set()
    for table, (kind, field_name, column) in _INDEXED.items():
        for row in store.select_rows(table):
            index = int(row["entry_idx"])
            entry = bodies.get(index, {})
            if entry.get("kind") != kind or entry["body"].get(field_name) != row[column]:
                raise VerificationError(f"log entry {index}: the {table} record {row[column]!r} differs from the log")
            if table == "movements":
                if commitment(row["salt"], row["record"]) != entry["body"]["commitment"]:
                    raise VerificationError(f"log entry {index}: stored movement record no longer matches")
                stored = json.loads(row["record"])
                if canonical_record(stored) != bytes(row["record"]):
                    raise VerificationError(f"log entry {index}: stored movement record is not canonical")
            indexed.add(index)
    for index, entry in bodies.items():
        if entry["kind"] in {kind for kind, _, _ in _INDEXED.values()} and index not in indexed:
            raise VerificationError(f"log entry {index}: the {entry['kind']} it records is missing from the database")
    return len(indexed)
