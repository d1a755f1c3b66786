"""``db.movements``: humanitarian movements (routes, corridors, windows), each committed to the log.

A movement is registered like a site: its record (route, width, window, vehicles, ...) is
committed to the log with a salt (``movement_committed``), so the public log proves which route
was notified without revealing it; a notification names it (``db.notifications.notify(...,
movement_ids=...)``). Routes are operational security: only an admin and the movement's owner
see a movement (to anyone else it answers as a missing one).
"""

from __future__ import annotations

import builtins
import csv
import io
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deconflict.errors import ConflictError, InvalidInput, NotFound
from deconflict.guarantees import records
from deconflict.guarantees.model import Movement, Window
from deconflict.guarantees.routes import parse_route, route_geojson
from deconflict.ids import id_unavailable, new_id
from deconflict.ledger.entries import canonical_record, commitment
from deconflict.times import TimeSpan, format_utc

if TYPE_CHECKING:
    from deconflict.access import Principal
    from deconflict.db import Database, Logged

__all__ = ["MovementHit", "Movements", "movements_to_csv", "movements_to_geojson"]


def _local() -> Principal:
    from deconflict.access import Principal

    return Principal.local()


@dataclass(frozen=True)
class MovementHit:
    """An incident that may have hit a movement's corridor during its window."""

    movement_id: str
    incident_id: str
    incident_time: TimeSpan
    distance_m: float
    spatial_probability: float
    time_fraction: float
    provenance: str | None
    counted: bool

    @property
    def hit_probability(self) -> float:
        """Spatial probability times the share of the incident's time inside the window."""
        return self.spatial_probability * self.time_fraction

    def to_json(self) -> dict[str, Any]:
        """The JSON every door prints (``movements hits --json``, ``/api/v1/movements/{id}/hits``)."""
        return {
            "movement_id": self.movement_id,
            "incident_id": self.incident_id,
            "incident_time": self.incident_time.to_text(),
            "distance_m": self.distance_m,
            "spatial_probability": self.spatial_probability,
            "time_fraction": self.time_fraction,
            "hit_probability": self.hit_probability,
            "provenance": self.provenance,
            "counted": self.counted,
        }


def movement_json(movement: Movement, log_index: int | None = None) -> dict[str, Any]:
    """A movement as typed JSON (every door)."""
    return {
        "id": movement.id,
        "name": movement.name,
        "kind": movement.kind,
        "owner": movement.owner,
        "organisation": movement.organisation,
        "route": route_geojson(movement.route),
        "width_m": movement.width_m,
        "window": movement.window.to_json(),
        "vehicles": movement.vehicles,
        "notes": movement.notes,
        "provenance": movement.provenance,
        "synthetic": movement.synthetic,
        "log_index": log_index,
    }


def movements_to_csv(movements: Sequence[Movement]) -> str:
    """Movements as CSV in the interchange columns."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=records.MOVEMENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for movement in movements:
        writer.writerow(records.movement_row(movement))
    return buffer.getvalue()


def movements_to_geojson(movements: Sequence[Movement]) -> str:
    """Movements as a GeoJSON FeatureCollection (LineString geometries, interchange properties)."""
    features = []
    for movement in movements:
        properties: dict[str, Any] = {k: v for k, v in records.movement_row(movement).items() if k != "route"}
        properties["width_m"] = movement.width_m
        features.append({"type": "Feature", "geometry": route_geojson(movement.route), "properties": properties})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1) + "\n"


class Movements:
    """The movements of a :class:`~deconflict.db.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- writing --------------------------------------------------------------------------------
    def create(
        self,
        *,
        owner: str,
        route: Any,
        width_m: float,
        start: str,
        until: str,
        kind: str = "convoy",
        name: str | None = None,
        organisation: str | None = None,
        vehicles: str | None = None,
        notes: str | None = None,
        provenance: str | None = None,
        id: str | None = None,
        principal: Principal | None = None,
    ) -> Logged[Movement]:
        """Register one movement: one ``movement_committed`` log entry.

        Parameters
        ----------
        owner
            The notifying state or organisation (ISO3 or user-assigned code such as ``XUN``).
        route
            GeoJSON LineString, WKT, ``"lat,lon; lat,lon"`` text, or ``(lat, lon)`` pairs.
        width_m
            Corridor width in metres (half of it each side of the route).
        start, until
            The window, read in the database's timezone (a date ``until`` includes that day).
        id
            Default: a new ``mov-`` id.

        Raises
        ------
        InvalidInput
            A route with fewer than two points or crossing itself, a width of zero, a window
            ending before it starts (``where`` names the parameter).
        PermissionDenied, ConflictError
            When the principal may not write for ``owner``; when the id exists.
        """
        local = self._db.timezone
        window = Window(records.parse_window_start(start, local), records.parse_window_end(until, local))
        movement = Movement(
            id=id or new_id("mov"), owner=owner, route=parse_route(route), width_m=width_m, window=window,
            kind=kind, name=name, organisation=organisation, vehicles=vehicles, notes=notes, provenance=provenance,
        )  # fmt: skip
        return self.add(movement, principal=principal)

    def add(self, movement: Movement, *, principal: Principal | None = None) -> Logged[Movement]:
        """Register a movement built by the caller: one log entry."""
        return self.add_many([movement], principal=principal)[0]

    def add_many(self, movements: Sequence[Movement], *, principal: Principal | None = None) -> list[Logged[Movement]]:
        """Register movements in one transaction, all or none; return each with its log index."""
        from deconflict.db import Logged

        caller = principal or _local()
        ids = [m.id for m in movements]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ConflictError(f"movement id(s) given twice: {', '.join(repeated)}")
        for movement in movements:
            caller.require_write(movement.owner)
            caller.require_width(movement.width_m)
        existing = {r["id"] for r in self._db.store.select_rows("movements", {"id": ids})}
        if existing:
            raise id_unavailable("movement", existing)
        done = []
        with self._db.store.transaction():
            for movement in movements:
                record = canonical_record(records.movement_row(movement))
                salt = secrets.token_bytes(32)
                body = {"movement_id": movement.id, "commitment": commitment(salt, record)}
                window = movement.window
                private = {"owner": movement.owner, "start_at": format_utc(window.start), "salt": salt,
                           "end_at": format_utc(window.end or window.start), "record": record}  # fmt: skip
                index = records.append(self._db.store, self._db.ledger.append, "movement_committed", body, private)
                done.append(Logged(movement, index))
        return done

    def import_file(self, path: str | Path, *, principal: Principal | None = None) -> list[Logged[Movement]]:
        """Import movements from CSV (route as ``lat,lon; ...``) or GeoJSON (LineString features); all or none.

        Raises
        ------
        InvalidInput
            Naming the file, the row (as a spreadsheet numbers it: the header is row 1, or the
            feature number) and the field.
        """
        target = Path(path)
        try:
            text = target.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise NotFound("file does not exist", where=str(path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read it: {exc}", where=str(path)) from None
        rows: list[tuple[str, Mapping[str, Any]]] = []
        if text.lstrip().startswith("{"):
            try:
                document = json.loads(text)
                features = document["features"] if document.get("type") == "FeatureCollection" else [document]
            except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as exc:
                raise InvalidInput(f"not a GeoJSON FeatureCollection: {exc}", where=str(path)) from None
            for number, feature in enumerate(features, start=1):
                if not isinstance(feature, dict):
                    raise InvalidInput("not a GeoJSON Feature", where=f"{path}, feature {number}")
                row = dict(feature.get("properties") or {})
                row["geometry"] = feature.get("geometry")
                rows.append((f"{path}, feature {number}", row))
        else:
            reader = csv.DictReader(io.StringIO(text))
            for number, row in enumerate(reader, start=2):
                rows.append((f"{path}, row {number}", {k: v for k, v in row.items() if k is not None}))
        if not rows:
            raise InvalidInput("the file holds no movements", where=str(path))
        built = []
        for where, fields in rows:
            try:
                built.append(records.movement_from_row(fields, self._db.timezone))
            except InvalidInput as exc:
                field = f", field '{exc.where}'" if exc.where else ""
                raise InvalidInput(exc.message, where=f"{where}{field}") from None
        try:
            return self.add_many(built, principal=principal)
        except ConflictError as exc:
            raise ConflictError(exc.message, where=str(path)) from None

    # -- reading --------------------------------------------------------------------------------
    def _from_row(self, row: Mapping[str, Any]) -> Movement:
        return records.movement_from_row(json.loads(row["record"]), self._db.timezone)

    def get(self, movement_id: str, *, principal: Principal | None = None) -> Movement:
        """The movement ``movement_id``; :class:`NotFound` when unknown or not the caller's."""
        caller = principal or _local()
        caller.require_registry()
        found = self._db.store.select_rows("movements", {"id": movement_id})
        if not found or not (caller.is_admin or found[0]["owner"] in caller.owners):
            raise NotFound(f"no movement with id {movement_id!r}")
        return self._from_row(found[0])

    def log_index(self, movement_id: str) -> int:
        """The index of the entry committing to the movement; raises :class:`NotFound`."""
        found = self._db.store.select_rows("movements", {"id": movement_id})
        if not found:
            raise NotFound(f"no movement with id {movement_id!r}")
        return int(found[0]["entry_idx"])

    def list(self, *, owner: str | None = None, principal: Principal | None = None) -> builtins.list[Movement]:
        """Movements the caller may see (of one owner, or all), in log order."""
        caller = principal or _local()
        caller.require_registry()
        where: dict[str, Any] = {}
        if owner is not None:
            where["owner"] = owner.strip().upper()
        rows = self._db.store.select_rows("movements", where, ("entry_idx",))
        return [self._from_row(r) for r in rows if caller.is_admin or r["owner"] in caller.owners]

    def export(self, format: str = "csv", *, principal: Principal | None = None) -> str:
        """The movements the caller may see as CSV or GeoJSON (re-imports unchanged)."""
        movements = self.list(principal=principal)
        if format == "csv":
            return movements_to_csv(movements)
        if format == "geojson":
            return movements_to_geojson(movements)
        raise InvalidInput(f"unknown export format {format!r}; expected csv or geojson", where="format")

    def hits(self, movement_id: str, *, principal: Principal | None = None) -> builtins.list[MovementHit]:
        """Incidents that may have hit the movement's corridor in its window, most probable first.

        A movement has no history for background statistics, so what is reported is each
        hit's probability (spatial x the share of the incident's time inside the window).
        """
        from deconflict.guarantees.exposure import movement_exposures
        from deconflict.relevance import incidents_concerning_movement

        movement = self.get(movement_id, principal=principal)
        cap = (principal or _local()).corridor_cap_m
        incidents = incidents_concerning_movement(self._db.store, movement, reach_cap_m=cap)
        found = [
            MovementHit(
                movement.id, e.incident.id, e.incident.time, e.distance_m, e.spatial_probability,
                movement.window.fraction_of(e.incident.time), e.incident.provenance, e.incident.counted,
            )
            for e in movement_exposures(movement, incidents)
        ]  # fmt: skip
        found.sort(key=lambda h: (-h.hit_probability, h.incident_id))
        return found

    def summary(self, *, principal: Principal | None = None) -> builtins.list[dict[str, Any]]:
        """Per organisation: movements, possible hits, the largest hit probability, alerts raised."""
        rows: dict[str, dict[str, Any]] = {}
        alerts = self._db.alerts.list(principal=principal, object_kind="movement")
        for movement in self.list(principal=principal):
            organisation = movement.organisation or movement.owner
            row = rows.setdefault(organisation, {"organisation": organisation, "owner": movement.owner,
                                                 "movements": 0, "possible_hits": 0, "max_hit_probability": 0.0,
                                                 "alerts": 0, "synthetic": False})  # fmt: skip
            hits = self.hits(movement.id, principal=principal)
            row["movements"] += 1
            row["possible_hits"] += sum(1 for h in hits if h.hit_probability > 0)
            row["max_hit_probability"] = max([row["max_hit_probability"], *(h.hit_probability for h in hits)])
            row["alerts"] += sum(1 for a in alerts if a.alert.object.id == movement.id)
            row["synthetic"] = row["synthetic"] or movement.synthetic
        return sorted(rows.values(), key=lambda r: r["organisation"])
