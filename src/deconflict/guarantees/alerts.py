"""``db.alerts``: possible breaches, as logged, scoped to the owner of the object they concern.

An owner sees the alerts on its own sites and movements, an admin all of them; nobody else any
(an alert says where a strike landed near a protected object). Each alert is an ``alert`` log
entry; acknowledging one is an ``alert_acknowledged`` entry. Raising them is
:mod:`deconflict.guarantees.breach`'s job; delivering them, :mod:`deconflict.guarantees.delivery`'s.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deconflict.errors import InvalidInput, NotFound
from deconflict.guarantees import records
from deconflict.guarantees.model import Alert
from deconflict.model import Incident
from deconflict.options import DEFAULT_ALERT_THRESHOLD

if TYPE_CHECKING:
    from deconflict.access import Principal
    from deconflict.db import Database, Logged

__all__ = ["AlertRecord", "Alerts"]


def _local() -> Principal:
    from deconflict.access import Principal

    return Principal.local()


@dataclass(frozen=True)
class AlertRecord:
    """An alert with what a reader needs beside it: the incident, acknowledgement, deliveries, labels."""

    alert: Alert
    incident: Incident | None
    object_label: str
    acknowledged: dict[str, Any] | None
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON every door prints (``alerts list --json``, ``/api/v1/alerts``, the webhook body)."""
        data = self.alert.to_json()
        incident = self.incident
        data.update(
            object_label=self.object_label,
            incident_time=None if incident is None else incident.time.to_text(),
            incident_provenance=None if incident is None else incident.provenance,
            incident_confidence=None if incident is None else incident.confidence,
            acknowledged=self.acknowledged,
            deliveries=self.deliveries,
            labels=self.labels,
        )
        return data


def _labels(incident: Incident | None, synthetic_object: bool) -> list[str]:
    labels = []
    if incident is not None and (incident.provenance or "").lower() == "synthetic":
        labels.append("SYNTHETIC incident: simulated, not a real strike")
    if synthetic_object:
        labels.append("SYNTHETIC movement: simulated, not a real movement")
    labels.append("possible breach: a hit probability, not a finding of intent")
    return labels


class Alerts:
    """The alerts of a :class:`~deconflict.db.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def threshold(self) -> float:
        """The hit probability at or above which alerts are raised (the database's, else 0.05)."""
        stored = self._db.store.get_meta("alert_threshold")
        return float(stored) if stored else DEFAULT_ALERT_THRESHOLD

    def set_threshold(self, value: float, *, principal: Principal | None = None) -> float:
        """Set the database's alert threshold (in (0, 1]); applies to the writes that follow."""
        (principal or _local()).require_admin("setting the alert threshold")
        try:
            threshold = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"must be a probability, got {value!r}", where="threshold") from None
        if not math.isfinite(threshold) or not 0 < threshold <= 1:
            raise InvalidInput(f"must be more than 0 and at most 1, got {threshold:g}", where="threshold")
        with self._db.store.transaction():
            self._db.store.set_meta("alert_threshold", repr(threshold))
        return threshold

    # -- reading --------------------------------------------------------------------------------
    def list(
        self,
        *,
        principal: Principal | None = None,
        owner: str | None = None,
        object_kind: str | None = None,
        object_id: str | None = None,
        commitment_id: str | None = None,
        unacknowledged: bool = False,
    ) -> builtins.list[AlertRecord]:
        """Alerts the caller may see, newest first, filtered by owner, object, commitment or state."""
        caller = principal or _local()
        caller.require_registry()
        where: dict[str, Any] = {}
        if owner is not None:
            where["owner"] = owner.strip().upper()
        if object_kind is not None:
            where["object_kind"] = object_kind
        if object_id is not None:
            where["object_id"] = object_id
        if commitment_id is not None:
            where["commitment_id"] = commitment_id
        if not caller.is_admin:
            allowed = sorted(caller.owners)
            if "owner" in where and where["owner"] not in allowed:
                return []
            where.setdefault("owner", allowed)
        rows = self._db.store.select_rows("alerts", where, ("entry_idx",))
        return self._records(rows, unacknowledged)[::-1]

    def _records(self, rows: builtins.list[dict[str, Any]], unacknowledged: bool) -> builtins.list[AlertRecord]:
        store = self._db.store
        ids = [r["id"] for r in rows]
        acks = {
            r["alert_id"]: int(r["entry_idx"]) for r in store.select_rows("alert_acknowledgements", {"alert_id": ids})
        }
        if unacknowledged:
            rows = [r for r in rows if r["id"] not in acks]
        deliveries: dict[str, builtins.list[dict[str, Any]]] = {}
        for row in store.select_rows("alert_deliveries", {"alert_id": ids}, ("created_at", "id")):
            deliveries.setdefault(row["alert_id"], []).append(_delivery_json(row))
        entries = store.log_entries_at([int(r["entry_idx"]) for r in rows] + list(acks.values()))
        movements: dict[str, Any] = {}
        found = []
        for row in rows:
            entry = entries[int(row["entry_idx"])]
            alert = records.alert_from_entry(
                entry.index, entry.logged_at, records.decode_body(entry.data), row["owner"]
            )
            try:
                incident: Incident | None = self._db.incidents.get(alert.incident_id)
            except NotFound:
                incident = None
            synthetic = False
            if alert.object.kind == "site":
                label = self._db.sites.get(alert.object.id).name
            else:
                if alert.object.id not in movements:
                    movements[alert.object.id] = self._db.movements.get(alert.object.id)
                movement = movements[alert.object.id]
                label, synthetic = movement.label, movement.synthetic
            acknowledged = None
            if alert.id in acks:
                ack_entry = entries[acks[alert.id]]
                body = records.decode_body(ack_entry.data)
                acknowledged = {"by": body["by"], "note": body["note"], "log_index": ack_entry.index,
                                "at": ack_entry.logged_at}  # fmt: skip
            found.append(AlertRecord(alert, incident, label, acknowledged, deliveries.get(alert.id, []),
                                     _labels(incident, synthetic)))  # fmt: skip
        return found

    def get(self, alert_id: str, *, principal: Principal | None = None) -> AlertRecord:
        """One alert; :class:`NotFound` when unknown or not the caller's."""
        caller = principal or _local()
        caller.require_registry()
        rows = self._db.store.select_rows("alerts", {"id": alert_id})
        if not rows or not (caller.is_admin or rows[0]["owner"] in caller.owners):
            raise NotFound(f"no alert with id {alert_id!r}")
        return self._records(rows, False)[0]

    def acknowledge(
        self, alert_id: str, *, note: str | None = None, principal: Principal | None = None
    ) -> Logged[AlertRecord]:
        """The owner (or an admin) has seen the alert: one ``alert_acknowledged`` entry.

        Raises
        ------
        NotFound, ConflictError
            For an unknown alert (or another owner's); for one acknowledged already.
        """
        from deconflict.db import Logged
        from deconflict.errors import ConflictError

        caller = principal or _local()
        record = self.get(alert_id, principal=caller)
        caller.require_write(record.alert.owner)
        if record.acknowledged is not None:
            raise ConflictError(f"alert {alert_id!r} was acknowledged already (log entry "
                                f"{record.acknowledged['log_index']})")  # fmt: skip
        by = caller.name or ("admin" if caller.is_admin else ",".join(sorted(caller.owners)))
        body: Mapping[str, Any] = {"alert_id": alert_id, "alert_index": record.alert.log_index, "by": by,
                                   "note": (note or "").strip() or None}  # fmt: skip
        index = records.append(self._db.store, self._db.ledger.append, "alert_acknowledged", body)
        return Logged(self.get(alert_id, principal=caller), index)


def _delivery_json(row: Mapping[str, Any]) -> dict[str, Any]:
    from deconflict.guarantees.delivery import delivery_json

    return delivery_json(row)
