"""The tables are a function of the log: rebuild the state from the entries, compare, name the first difference.

Every table a listing, analysis, report or bundle reads (sites and their names, site commitments,
notifications with their sites and movements, acknowledgements, incidents with their review
status and import, superseded incident versions, corrections, movements, commitments and the
objects they cover, commitment acknowledgements, missed deadlines, alerts and their
acknowledgements, and the spatial index) is rebuilt by :func:`deconflict.ledger.projections.project`
and compared with what the store holds, as canonical rows. Private records (a site's or a
movement's, incident records) are not in the log: they are proved against the commitments and
Merkle roots the entries hold.

Not compared, because they are not log entries: claims read from reports (waiting for a person's
review; a confirmed claim becomes a notification, which is), API tokens, alert channels and
deliveries (the outbox: operational state), city names (a search index built from GeoNames),
imports that no incident names (site and claim imports; the log commits to the records
themselves), settings (``meta``). Checkpoints, RFC 3161 timestamps and witness cosignatures are
evidence *about* the log, verified by :meth:`deconflict.ledger.log.Ledger.verify` on their own;
``witness_peers`` (the size each witness last acknowledged) is operational.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from deconflict.errors import InvalidInput, VerificationError
from deconflict.export import incident_row, site_row
from deconflict.ledger import merkle
from deconflict.ledger.entries import canonical_record, commitment, decode_entry
from deconflict.ledger.projections import Batch, Expected, project
from deconflict.names import normalize
from deconflict.store.base import SiteQuery, Store

__all__ = ["StateDifference", "StateReport", "check_state", "verify_state"]


@dataclass(frozen=True, slots=True)
class StateDifference:
    """The first place where a table disagrees with the log."""

    table: str
    key: str
    field: str
    database: Any
    log: Any
    entry: int | None = None

    @property
    def message(self) -> str:
        """One line naming the table, the row, the field and both values."""
        where = f"log entry {self.entry}: " if self.entry is not None else ""
        return (
            f"{where}table {self.table}, row {self.key}, {self.field}: the database has {_shown(self.database)}, "
            f"the log {_shown(self.log)}"
        )


@dataclass(frozen=True, slots=True)
class StateReport:
    """How many rows of each table were found equal to the log's state."""

    rows: Mapping[str, int]

    @property
    def total(self) -> int:
        """Rows compared in all tables."""
        return sum(self.rows.values())


_ABSENT = "(no row)"


class _Absent:
    def __repr__(self) -> str:
        return _ABSENT


ABSENT: Any = _Absent()


def _shown(value: Any) -> str:
    if value is ABSENT:
        return _ABSENT
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Found(Exception):
    def __init__(self, difference: StateDifference) -> None:
        self.difference = difference


def _differ(table: str, key: Any, field: str, database: Any, log: Any, entry: int | None) -> NoReturn:
    raise _Found(StateDifference(table, _key_text(key), field, database, log, entry))


def _key_text(key: Any) -> str:
    if isinstance(key, tuple):
        return "(" + ", ".join(repr(k) for k in key) + ")"
    return repr(key)


def _compare_rows(
    table: str, expected: Mapping[Any, Mapping[str, Any]], stored: Mapping[Any, Mapping[str, Any]], state: Expected
) -> int:
    """Raise :class:`_Found` at the first key or field that differs; return the rows compared."""
    for key in sorted(set(expected) | set(stored), key=_key_text):
        entry = state.entry_of.get((table, key))
        if key not in stored:
            _differ(table, key, "row", ABSENT, "a row", entry)
        if key not in expected:
            _differ(table, key, "row", "a row", ABSENT, entry)
        want, have = expected[key], stored[key]
        for name, value in want.items():
            if _normal(have.get(name, ABSENT)) != _normal(value):
                _differ(table, key, name, have.get(name, ABSENT), value, entry)
    return len(expected)


def _normal(value: Any) -> Any:
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _keyed(rows: list[dict[str, Any]], *columns: str) -> dict[Any, dict[str, Any]]:
    if len(columns) == 1:
        return {row[columns[0]]: row for row in rows}
    return {tuple(row[c] for c in columns): row for row in rows}


# -- the checks, table by table -------------------------------------------------------------------
def _sites(store: Store, state: Expected, counts: dict[str, int]) -> dict[tuple[str, int], bytes]:
    """Site commitments, sites and their names; returns the proven record of each commitment."""
    stored_commitments = _keyed(store.state_rows("site_commitments"), "site_id", "entry_idx")
    expected = state.table("site_commitments")
    records: dict[tuple[str, int], bytes] = {}
    for key, row in stored_commitments.items():
        if key in expected and commitment(row["salt"], row["record"]) != row["commitment"]:
            _differ("site_commitments", key, "salt+record", "a record not matching its commitment",
                    f"commitment {row['commitment']}", key[1])  # fmt: skip
        records[key] = row["record"]
    counts["site_commitments"] = _compare_rows("site_commitments", expected, stored_commitments, state)

    stored_sites = _keyed(store.state_rows("sites"), "id")
    counts["sites"] = _compare_rows("sites", state.table("sites"), stored_sites, state)
    sites = {site.id: site for site, _ in store.list_sites(SiteQuery(include_withdrawn=True))}
    names: dict[Any, dict[str, Any]] = {}
    for site_id, chain in state.site_chains.items():
        latest = chain[-1]
        logged = json.loads(records[(site_id, latest)])
        found = site_row(sites[site_id])
        for name in sorted(set(logged) | set(found)):
            if found.get(name, ABSENT) != logged.get(name, ABSENT):
                _differ("sites", site_id, name, found.get(name, ABSENT), logged.get(name, ABSENT), latest)
        site = sites[site_id]
        for lang, name in {("", site.name), *site.names}:
            names[(site_id, lang, name)] = {"norm": normalize(name)}
            state.entry_of[("site_names", (site_id, lang, name))] = latest
    stored_names = _keyed(store.state_rows("site_names"), "site_id", "lang", "name")
    counts["site_names"] = _compare_rows("site_names", names, stored_names, state)
    return records


def _notifications(store: Store, state: Expected, counts: dict[str, int]) -> None:
    counts["notifications"] = _compare_rows(
        "notifications", state.table("notifications"), _keyed(store.state_rows("notifications"), "id"), state
    )
    sites: dict[Any, dict[str, Any]] = {}
    for row in store.state_rows("notification_sites"):
        sites.setdefault(row["notification_id"], {"site_ids": []})["site_ids"].append(row["site_id"])
    counts["notification_sites"] = _compare_rows("notification_sites", state.table("notification_sites"), sites, state)
    movements = _keyed(store.state_rows("notification_movements"), "notification_id", "movement_id")
    counts["notification_movements"] = _compare_rows(
        "notification_movements", state.table("notification_movements"), movements, state
    )
    counts["acknowledgements"] = _compare_rows(
        "acknowledgements", state.table("acknowledgements"), _keyed(store.state_rows("acknowledgements"), "id"), state
    )


def _status_before(state: Expected, incident_id: str, after: int, before: int | None, committed: str) -> str:
    """The review status of an incident version committed at ``after`` (and superseded at ``before``)."""
    status = committed
    for index, body in state.reviews.get(incident_id, ()):
        if index > after and (before is None or index < before):
            status = body["status"]
    return status


def _first_review_before(state: Expected, incident_id: str, after: int) -> str | None:
    later = [body for index, body in state.reviews.get(incident_id, ()) if index > after]
    return None if not later else str(later[0]["previous_status"])


def _incidents(store: Store, state: Expected, counts: dict[str, int]) -> None:
    rows = store.state_rows("incidents")
    versions = _keyed(store.state_rows("incident_versions"), "entry_idx", "entry_pos")
    for row in rows:
        batch = state.batches.get(row["entry_idx"]) if row["entry_idx"] is not None else None
        if batch is None:
            _differ("incidents", row["id"], "entry_idx", row["entry_idx"], "a batch entry committing to it", None)
        position = row["entry_pos"]
        if position is None or not 0 <= position < batch.count or position in batch.superseded:
            what = "superseded" if position in batch.superseded else f"not a position of the {batch.count} records"
            _differ("incidents", row["id"], "entry_pos", position, what, batch.index)
        source = None
        if row["import_id"] is not None:
            source = {
                "filename": row["import_filename"],
                "sha256": row["import_sha256"],
                "format": row["import_format"],
            }
        if source != batch.source:
            _differ("incidents", row["id"], "import", source, batch.source, batch.index)
    by_entry: dict[int, dict[int, dict[str, Any]]] = {}
    for row in rows:
        by_entry.setdefault(row["entry_idx"], {})[row["entry_pos"]] = row
    for index in sorted(state.batches):
        _batch(store, state, state.batches[index], by_entry.get(index, {}), versions)
    counts["incidents"] = len(rows)
    counts["incident_versions"] = _compare_rows("incident_versions", state.table("incident_versions"), versions, state)


def _batch(
    store: Store,
    state: Expected,
    batch: Batch,
    stored: Mapping[int, Mapping[str, Any]],
    versions: Mapping[Any, Mapping[str, Any]],
) -> None:
    """One batch: every position in force is stored, named as the log names it, and the records hash to its root."""
    for position in range(batch.count):
        key = (batch.index, position)
        if position in batch.superseded:
            if key not in versions:
                _differ("incident_versions", key, "row", ABSENT, "a superseded version", batch.superseded[position][1])
            continue
        if position not in stored:
            _differ("incidents", f"at position {position} of entry {batch.index}", "row", ABSENT, "a row", batch.index)
        found = stored[position]["id"]
        logged = batch.ids.get(position) or {0: batch.first_id, batch.count - 1: batch.last_id}.get(position)
        if logged is not None and found != logged:
            _differ("incidents", f"at position {position} of entry {batch.index}", "id", found, logged, batch.index)
    incidents = store.incidents_in_entry(batch.index)
    in_force = batch.count - len(batch.superseded)
    if len(incidents) != in_force:
        _differ("incidents", f"of entry {batch.index}", "rows", len(incidents), in_force, batch.index)
    current = iter(incidents)
    records = []
    for position in range(batch.count):
        if position in batch.superseded:
            version = versions[(batch.index, position)]
            records.append(bytes(version["record"]))
            committed = json.loads(version["record"]).get("status", "")
            state.table("incident_versions")[(batch.index, position)]["status"] = _status_before(
                state, version["incident_id"], batch.index, batch.superseded[position][1], committed
            )
            continue
        incident = next(current)
        row = incident_row(incident)
        first = _first_review_before(state, incident.id, batch.index)
        if first is not None:
            logged = _status_before(state, incident.id, batch.index, None, incident.status)
            if incident.status != logged:
                _differ("incidents", incident.id, "status", incident.status, logged, batch.index)
            row["status"] = first
        records.append(canonical_record(row))
    if merkle.root_hash(records).hex() != batch.records_root:
        _differ("incidents", f"of entry {batch.index}", "records", "records of another root",
                f"{batch.count} records with root {batch.records_root[:16]}…", batch.index)  # fmt: skip


def _corrections(store: Store, state: Expected, counts: dict[str, int]) -> None:
    stored = _keyed(store.state_rows("corrections"), "entry_idx", "target", "target_id")
    counts["corrections"] = _compare_rows("corrections", state.table("corrections"), stored, state)


def _guarantees(
    store: Store, state: Expected, counts: dict[str, int], site_records: Mapping[tuple[str, int], bytes]
) -> None:
    from deconflict.guarantees.model import ObjectRef
    from deconflict.guarantees.records import PROJECTIONS

    stored_movements = _keyed(store.state_rows("movements"), "id")
    movement_owner: dict[str, str] = {}

    def owner_of(ref: ObjectRef, committed_index: int | None) -> str:
        if ref.kind == "site":
            chain = state.site_chains.get(ref.id, [])
            index = committed_index if committed_index is not None else (chain[-1] if chain else None)
            record = site_records.get((ref.id, index)) if index is not None else None
            return str(json.loads(record)["owner"]) if record is not None else _ABSENT
        return movement_owner.get(ref.id, _ABSENT)

    expected: dict[str, dict[Any, dict[str, Any]]] = {}
    keys = {"commitment_objects": ("commitment_id", "object_kind", "object_id"), "deadlines_missed": ("commitment_id",),
            "alert_acknowledgements": ("alert_id",)}  # fmt: skip
    for index, kind, body in state.guarantees:
        private = None
        if kind == "movement_committed":
            row = stored_movements.get(body["movement_id"])
            if row is None:
                _differ("movements", body["movement_id"], "row", ABSENT, "a row", index)
            if commitment(row["salt"], row["record"]) != body["commitment"]:
                _differ("movements", body["movement_id"], "salt+record", "a record not matching its commitment",
                        f"commitment {body['commitment']}", index)  # fmt: skip
            record = json.loads(row["record"])
            window = {"start_at": record["from"], "end_at": record["until"] or record["from"]}
            private = {"owner": record["owner"], **window, "salt": row["salt"], "record": row["record"]}
            movement_owner[body["movement_id"]] = record["owner"]
        for table, items in PROJECTIONS[kind](index, body, private, owner_of).items():
            for item in items:
                key = tuple(item[c] for c in keys.get(table, ("id",)))
                key = key[0] if len(key) == 1 else key
                expected.setdefault(table, {})[key] = item
                state.entry_of[(table, key)] = index
    for table in ("movements", "commitments", "commitment_objects", "commitment_acknowledgements",
                  "deadlines_missed", "alerts", "alert_acknowledgements"):  # fmt: skip
        stored = _keyed(store.state_rows(table), *keys.get(table, ("id",)))
        counts[table] = _compare_rows(table, expected.get(table, {}), stored, state)


def _spatial(store: Store, counts: dict[str, int]) -> None:
    problem = store.spatial_index_problem()
    if problem is not None:
        table, key = problem
        _differ(
            table,
            key,
            "spatial index",
            "missing or elsewhere",
            "the point (a site) or reach box (an incident) of its row",
            None,
        )


# -- entry points -------------------------------------------------------------------------------------
def _entries(bodies: Mapping[int, Mapping[str, Any]]) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
    for index in sorted(bodies):
        decoded = bodies[index]
        yield index, decoded["kind"], decoded["body"]


def verify_state(store: Store, bodies: Mapping[int, Mapping[str, Any]]) -> StateReport:
    """Compare every table the log determines with the state rebuilt from ``bodies`` (index -> decoded entry).

    Returns how many rows of each table matched. Raises
    :class:`~deconflict.errors.VerificationError` naming the first difference (table, row, field,
    both values, and the log entry that says otherwise); the difference is its ``difference``.
    """
    state = project(_entries(bodies))
    counts: dict[str, int] = {}
    try:
        site_records = _sites(store, state, counts)
        _notifications(store, state, counts)
        _incidents(store, state, counts)
        _corrections(store, state, counts)
        _guarantees(store, state, counts, site_records)
        _spatial(store, counts)
    except _Found as found:
        error = VerificationError(f"the database differs from its log: {found.difference.message}")
        error.difference = found.difference  # type: ignore[attr-defined]
        raise error from None
    return StateReport(counts)


def check_state(store: Store) -> StateReport:
    """:func:`verify_state` against the stored entries (decoded here; the tree and signatures are
    :meth:`~deconflict.ledger.log.Ledger.verify`'s to check)."""
    bodies: dict[int, dict[str, Any]] = {}
    for row in store.log_iter_entries():
        try:
            bodies[row.index] = decode_entry(row.data)
        except InvalidInput as exc:  # a damaged entry is a failed verification, named
            raise VerificationError(f"log entry {row.index} cannot be read: {exc.message}") from None
    return verify_state(store, bodies)
