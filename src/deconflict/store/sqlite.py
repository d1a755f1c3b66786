"""SQLite backend: one file, WAL journal, ``synchronous=FULL``, foreign keys, R*Tree indexes.

Durability: every write transaction is committed with ``synchronous=FULL`` in WAL mode,
so a commit that returned survives a process crash or power loss. Writers take the
write lock up front (``BEGIN IMMEDIATE``), so two processes never interleave writes.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Geod

from deconflict.errors import ConflictError, DeconflictError, InvalidInput, NotFound
from deconflict.model import Incident, Site, Source
from deconflict.names import normalize
from deconflict.store._sqlite_ledger import SQLiteLedgerMixin
from deconflict.store.base import ImportRecord, IncidentQuery, SiteQuery, Store
from deconflict.times import TimeSpan, format_utc

__all__ = ["SQLiteStore", "migrations"]

_GEOD = Geod(ellps="WGS84")
_METRES_PER_DEG_LAT_MIN = 110_574.0
_METRES_PER_DEG_LON_EQUATOR = 111_320.0


def migrations() -> list[tuple[int, str, str]]:
    """The forward migrations shipped with the package: ``(version, name, sql)`` in order."""
    found = []
    for entry in resources.files("deconflict.store.migrations").iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _now() -> str:
    return format_utc(datetime.now(UTC))


def bounding_boxes(lat: float, lon: float, within_m: float) -> list[tuple[float, float, float, float]]:
    """Lat/lon boxes ``(min_lat, max_lat, min_lon, max_lon)`` that surely contain the disk.

    Conservative (a box slightly larger than the geodesic disk); the exact test is done in
    metres afterwards. Splits at the antimeridian and opens to all longitudes near a pole.
    """
    dlat = within_m / _METRES_PER_DEG_LAT_MIN * 1.001 + 1e-9
    min_lat, max_lat = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    extreme = max(abs(min_lat), abs(max_lat))
    if extreme >= 89.0:
        return [(min_lat, max_lat, -180.0, 180.0)]
    metres_per_deg_lon = _METRES_PER_DEG_LON_EQUATOR * math.cos(math.radians(extreme))
    dlon = within_m / metres_per_deg_lon * 1.01 + 1e-9
    if dlon >= 180.0:
        return [(min_lat, max_lat, -180.0, 180.0)]
    west, east = lon - dlon, lon + dlon
    boxes = [(min_lat, max_lat, max(west, -180.0), min(east, 180.0))]
    if west < -180.0:
        boxes.append((min_lat, max_lat, west + 360.0, 180.0))
    if east > 180.0:
        boxes.append((min_lat, max_lat, -180.0, east - 360.0))
    return boxes


class SQLiteStore(SQLiteLedgerMixin, Store):
    """A deconflict database in one SQLite file.

    Parameters
    ----------
    path
        The database file.
    create
        Create the file and apply migrations; when False the file must exist.
    """

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        if not create and not self.path.exists():
            raise NotFound(f"no database at {self.path} (run 'deconflict init' or pass --db / set DECONFLICT_DB)")
        if create and self.path.parent and not self.path.parent.exists():
            raise NotFound(f"directory {self.path.parent} does not exist")
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA busy_timeout = 30000")
            if create:
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._check_header()
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(f"{self.path} is not a deconflict database: {exc}") from exc
        self._lock = threading.RLock()
        self._depth = 0
        if create or self.schema_version() < migrations()[-1][0]:
            self.migrate()

    def _check_header(self) -> None:
        self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

    # -- schema ---------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply the migrations not yet applied, each in its own transaction; return them."""
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in self._conn.execute("SELECT version FROM schema_migrations")}
        applied = []
        for version, name, sql in migrations():
            if version in done:
                continue
            with self.transaction():
                for statement in _split_sql(sql):
                    self._conn.execute(statement)
                self._conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, _now()))
            applied.append(version)
        return applied

    def schema_version(self) -> int:
        try:
            row = self._conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        except sqlite3.OperationalError:
            return 0
        return int(row[0] or 0)

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection (for the ledger and tests; use :meth:`transaction` to write)."""
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def close(self) -> None:
        self._conn.close()

    def _require_transaction(self) -> None:
        if not self._depth:
            raise DeconflictError("internal error: write outside a transaction")

    def _write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        self._require_transaction()
        return self._conn.execute(sql, params)

    # -- settings -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- imports --------------------------------------------------------------------------
    def record_import(self, record: ImportRecord) -> int:
        cursor = self._write(
            "INSERT INTO imports (target, filename, sha256, format, rows, imported_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.target,
                record.filename,
                record.sha256,
                record.format,
                record.rows,
                record.imported_at or _now(),
            ),
        )
        return int(cursor.lastrowid or 0)

    def list_imports(self) -> list[ImportRecord]:
        rows = self._conn.execute(
            "SELECT target, filename, sha256, format, rows, imported_at, id FROM imports ORDER BY id"
        ).fetchall()
        return [ImportRecord(*row) for row in rows]

    # -- sites ----------------------------------------------------------------------------
    def existing_site_ids(self, ids: Sequence[str]) -> set[str]:
        return self._existing("sites", ids)

    def _existing(self, table: str, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            found.update(row[0] for row in self._conn.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", chunk))
        return found

    def insert_sites(self, sites: Sequence[Site], city_ids: Sequence[int | None], import_id: int | None) -> None:
        now = _now()
        for site, city_id in zip(sites, city_ids, strict=True):
            try:
                cursor = self._write(
                    "INSERT INTO sites (id, name, kind, owner, lat, lon, radius_m, address, city, "
                    "city_geonameid, footprint_wkt, approximate, source, notes, import_id, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        site.id,
                        site.name,
                        site.kind,
                        site.owner,
                        site.lat,
                        site.lon,
                        site.radius_m,
                        site.address,
                        site.city,
                        city_id,
                        site.footprint_wkt,
                        int(site.approximate),
                        site.source,
                        site.notes,
                        import_id,
                        now,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise ConflictError(f"site id {site.id!r} already exists") from exc
            pk = cursor.lastrowid
            self._write(
                "INSERT INTO sites_rtree VALUES (?, ?, ?, ?, ?)",
                (pk, site.lat, site.lat, site.lon, site.lon),
            )
            names = {("", site.name), *site.names}
            self._conn.executemany(
                "INSERT OR IGNORE INTO site_names (site_pk, lang, name, norm) VALUES (?, ?, ?, ?)",
                [(pk, lang, name, normalize(name)) for lang, name in names],
            )

    def add_city_names(self, geonameid: int, keys: set[str]) -> None:
        self._conn.executemany(
            "INSERT OR IGNORE INTO city_names (geonameid, norm) VALUES (?, ?)",
            [(geonameid, key) for key in sorted(keys)],
        )

    _SITE_COLUMNS = (
        "s.pk, s.id, s.name, s.kind, s.owner, s.lat, s.lon, s.radius_m, s.address, s.city, "
        "s.footprint_wkt, s.approximate, s.source, s.notes"
    )

    def _sites_from_rows(self, rows: list[tuple[Any, ...]]) -> list[Site]:
        pks = [row[0] for row in rows]
        names: dict[int, list[tuple[str, str]]] = {}
        for start in range(0, len(pks), 500):
            chunk = pks[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for pk, lang, name in self._conn.execute(
                f"SELECT site_pk, lang, name FROM site_names WHERE site_pk IN ({marks}) AND lang != '' "
                "ORDER BY lang, name",
                chunk,
            ):
                names.setdefault(pk, []).append((lang, name))
        return [
            Site(
                id=row[1],
                name=row[2],
                kind=row[3],
                owner=row[4],
                lat=row[5],
                lon=row[6],
                radius_m=row[7],
                address=row[8],
                city=row[9],
                footprint_wkt=row[10],
                approximate=bool(row[11]),
                source=row[12],
                notes=row[13],
                names=tuple(names.get(row[0], ())),
            )
            for row in rows
        ]

    def get_site(self, site_id: str) -> Site:
        rows = self._conn.execute(f"SELECT {self._SITE_COLUMNS} FROM sites s WHERE s.id = ?", (site_id,)).fetchall()
        if not rows:
            raise NotFound(f"no site with id {site_id!r}")
        return self._sites_from_rows(rows)[0]

    def count_sites(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM sites").fetchone()[0])

    def list_sites(self, query: SiteQuery) -> list[tuple[Site, float | None]]:
        where: list[str] = []
        params: list[Any] = []
        if query.near is not None and query.within_m is not None:
            lat, lon = query.near
            boxes = bounding_boxes(lat, lon, query.within_m)
            where.append(
                "s.pk IN (SELECT pk FROM sites_rtree WHERE "
                + " OR ".join("(max_lat >= ? AND min_lat <= ? AND max_lon >= ? AND min_lon <= ?)" for _ in boxes)
                + ")"
            )
            for min_lat, max_lat, min_lon, max_lon in boxes:
                params += [min_lat, max_lat, min_lon, max_lon]
        if query.owner:
            where.append("s.owner = ?")
            params.append(query.owner.upper())
        if query.kind:
            where.append("s.kind = ?")
            params.append(query.kind)
        if query.ids is not None:
            where.append(f"s.id IN ({','.join('?' * len(query.ids))})")
            params += list(query.ids)
        if query.search:
            key = normalize(query.search)
            if not key:
                raise InvalidInput(f"search text {query.search!r} has no letters or digits")
            where.append(
                "(s.pk IN (SELECT site_pk FROM site_names WHERE norm LIKE ? ESCAPE '\\') "
                "OR s.city_geonameid IN (SELECT geonameid FROM city_names WHERE norm = ?))"
            )
            params += [
                "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",
                key,
            ]
        sql = f"SELECT {self._SITE_COLUMNS} FROM sites s"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY s.id"
        near_filter = query.near is not None and query.within_m is not None
        if not near_filter and query.limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [query.limit, query.offset]
        rows = self._conn.execute(sql, params).fetchall()
        distances: list[float | None] = [None] * len(rows)
        if query.near is not None and rows:
            lat, lon = query.near
            lats = np.fromiter((r[5] for r in rows), float, len(rows))
            lons = np.fromiter((r[6] for r in rows), float, len(rows))
            _, _, dist = _GEOD.inv(np.full(len(rows), lon), np.full(len(rows), lat), lons, lats)
            order = np.argsort(dist, kind="stable")
            if query.within_m is not None:
                order = order[dist[order] <= query.within_m]
            if near_filter and query.limit is not None:
                order = order[query.offset : query.offset + query.limit]
            rows = [rows[i] for i in order]
            distances = [float(dist[i]) for i in order]
        return list(zip(self._sites_from_rows(rows), distances, strict=True))

    # -- incidents ------------------------------------------------------------------------
    def existing_incident_ids(self, ids: Sequence[str]) -> set[str]:
        return self._existing("incidents", ids)

    def insert_incidents(
        self, incidents: Sequence[Incident], import_id: int | None, entry_index: int | None = None
    ) -> None:
        if not incidents:
            return
        self._require_transaction()
        first_pk = int(self._conn.execute("SELECT coalesce(max(pk), 0) FROM incidents").fetchone()[0]) + 1
        rows = [
            (first_pk + i, inc.id, format_utc(inc.time.start), format_utc(inc.time.end), inc.time.precision,
             inc.lat, inc.lon, inc.uncertainty_m, inc.uncertainty_model, inc.kind, inc.weapon,
             inc.confidence, inc.source.url, inc.source.sha256, inc.source.title, inc.notes,
             inc.provenance, inc.status, import_id, entry_index, None if entry_index is None else i)
            for i, inc in enumerate(incidents)
        ]  # fmt: skip
        try:
            self._conn.executemany(
                "INSERT INTO incidents (pk, id, time_start, time_end, time_precision, lat, lon, "
                "uncertainty_m, uncertainty_model, kind, weapon, confidence, source_url, "
                "source_sha256, source_title, notes, provenance, status, import_id, entry_idx, entry_pos) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"incident id already exists: {exc}") from exc
        self._conn.execute(
            "INSERT INTO incidents_rtree SELECT pk, lat, lat, lon, lon FROM incidents WHERE pk >= ?",
            (first_pk,),
        )

    _INCIDENT_COLUMNS = (
        "id, time_start, time_end, time_precision, lat, lon, uncertainty_m, uncertainty_model, kind, "
        "weapon, confidence, source_url, source_sha256, source_title, notes, provenance, status"
    )

    def _incident_from_row(self, row: tuple[Any, ...]) -> Incident:
        start = datetime.fromisoformat(row[1])
        end = datetime.fromisoformat(row[2])
        return Incident(
            id=row[0],
            time=TimeSpan(start, end, row[3]),
            lat=row[4],
            lon=row[5],
            uncertainty_m=row[6],
            uncertainty_model=row[7],
            kind=row[8],
            weapon=row[9],
            confidence=row[10],
            source=Source(url=row[11], sha256=row[12], title=row[13]),
            notes=row[14],
            provenance=row[15],
            status=row[16],
        )

    def get_incident(self, incident_id: str) -> Incident:
        row = self._conn.execute(
            f"SELECT {self._INCIDENT_COLUMNS} FROM incidents WHERE id = ?", (incident_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no incident with id {incident_id!r}")
        return self._incident_from_row(row)

    def set_incident_status(self, incident_id: str, status: str) -> None:
        cursor = self._write("UPDATE incidents SET status = ? WHERE id = ?", (status, incident_id))
        if cursor.rowcount == 0:
            raise NotFound(f"no incident with id {incident_id!r}")

    def count_incidents(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM incidents").fetchone()[0])

    def _incident_sql(self, query: IncidentQuery) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if query.near is not None and query.within_m is not None:
            boxes = bounding_boxes(query.near[0], query.near[1], query.within_m)
            where.append(
                "pk IN (SELECT pk FROM incidents_rtree WHERE "
                + " OR ".join("(max_lat >= ? AND min_lat <= ? AND max_lon >= ? AND min_lon <= ?)" for _ in boxes)
                + ")"
            )
            for box in boxes:
                params += list(box)
        if query.start:
            where.append("time_end >= ?")
            params.append(query.start)
        if query.end:
            where.append("time_start <= ?")
            params.append(query.end)
        if query.status:
            where.append("status = ?")
            params.append(query.status)
        if query.provenance:
            where.append("provenance = ?")
            params.append(query.provenance)
        sql = f"SELECT {self._INCIDENT_COLUMNS} FROM incidents"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY time_start, id"
        return sql, params

    def iter_incidents(self, query: IncidentQuery) -> Iterator[Incident]:
        sql, params = self._incident_sql(query)
        emitted = 0
        skipped = 0
        for row in self._conn.execute(sql, params):
            incident = self._incident_from_row(row)
            if query.near is not None and query.within_m is not None:
                _, _, dist = _GEOD.inv(query.near[1], query.near[0], incident.lon, incident.lat)
                if dist > query.within_m:
                    continue
            if skipped < query.offset:
                skipped += 1
                continue
            if query.limit is not None and emitted >= query.limit:
                return
            emitted += 1
            yield incident

    def list_incidents(self, query: IncidentQuery) -> list[Incident]:
        return list(self.iter_incidents(query))


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements (no semicolons inside our literals)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
