"""SQLite backend: one file, WAL journal, ``synchronous=FULL``, foreign keys, R*Tree indexes.

Durability: every write transaction is committed with ``synchronous=FULL`` in WAL mode,
so a commit that returned survives a process crash or power loss. Writers take the
write lock up front (``BEGIN IMMEDIATE``), so two processes never interleave writes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from deconflict.errors import ConflictError, InvalidInput, NotFound, StorageError
from deconflict.geo import bounding_boxes, geodesic_distance_m
from deconflict.ids import id_unavailable
from deconflict.model import Incident, Site
from deconflict.names import normalize
from deconflict.store import _rows
from deconflict.store._common import QmarkParams, incident_filters, site_filters, where_sql
from deconflict.store._sqlite_ledger import SQLiteLedgerMixin
from deconflict.store.base import ImportRecord, IncidentQuery, SiteQuery, Store

__all__ = ["SQLiteStore", "migrations"]


def migrations() -> list[tuple[int, str, str]]:
    """The forward migrations shipped with the package: ``(version, name, sql)`` in order."""
    return _rows.read_migrations("deconflict.store.migrations")


def _chunks(values: Sequence[Any], size: int = 500) -> Iterator[list[Any]]:
    """``values`` in lists of at most ``size`` (SQLite limits the parameters of a statement)."""
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _rtree_filter(column: str, rtree: str, boxes: list[tuple[float, float, float, float]], params: QmarkParams) -> str:
    """``column IN (…)`` the R*Tree entries overlapping any of ``boxes``."""
    for min_lat, max_lat, min_lon, max_lon in boxes:
        params.values += [min_lat, max_lat, min_lon, max_lon]
    overlaps = " OR ".join("(max_lat >= ? AND min_lat <= ? AND max_lon >= ? AND min_lon <= ?)" for _ in boxes)
    return f"{column} IN (SELECT pk FROM {rtree} WHERE {overlaps})"


def _reach_boxes(incidents: Sequence[Incident]) -> Any:
    """Each incident's reach box (:func:`deconflict.relevance.incident_reach_boxes`), ``(n, 4)``."""
    from deconflict.relevance import incident_reach_boxes

    return incident_reach_boxes(
        [i.lat for i in incidents],
        [i.lon for i in incidents],
        [i.uncertainty_m for i in incidents],
        [i.uncertainty_model == "normal" for i in incidents],
    )


def _reach_box_corner(lat: float, lon: float, uncertainty_m: float, model: str, corner: int) -> float:
    """One bound (0 min_lat, 1 max_lat, 2 min_lon, 3 max_lon) of an incident's reach box."""
    from deconflict.relevance import incident_reach_boxes

    return float(incident_reach_boxes([lat], [lon], [uncertainty_m], [model == "normal"])[0, corner])


# SQLite's primary result codes that mean the storage, not the file's content, is at fault.
_FULL = {sqlite3.SQLITE_FULL}
_READONLY = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM}
_IO = {sqlite3.SQLITE_IOERR}


def storage_error(exc: sqlite3.Error, path: Path) -> StorageError | None:
    """The :class:`StorageError` for a full disk, read-only media or an I/O error; None for others."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in _IO and _no_space_left(path):
        primary = sqlite3.SQLITE_FULL  # e.g. the WAL index could not grow: the disk is full
    if primary in _FULL:
        return StorageError(f"the disk holding {path} is full; nothing was written (free space and run it again)")
    if primary in _READONLY:
        return StorageError(
            f"{path} is on read-only media or in a directory deconflict may not write; nothing was written "
            "(reading commands still work; copy it to writable storage to change it)"
        )
    if primary in _IO:
        return StorageError(f"the disk holding {path} failed to read or write ({exc}); nothing was written")
    return None


def _no_space_left(path: Path) -> bool:
    """Whether the file system holding ``path`` has no free block left."""
    try:
        return os.statvfs(path.parent if str(path.parent) else Path(".")).f_bavail == 0
    except OSError:
        return False


@contextmanager
def storage_errors(path: Path) -> Iterator[None]:
    """Turn SQLite's full-disk, read-only and I/O errors into one :class:`StorageError` naming ``path``."""
    try:
        yield
    except sqlite3.Error as exc:
        mapped = storage_error(exc, path)
        if mapped is None:
            raise
        raise mapped from exc


def _writable(path: Path) -> bool:
    """Whether ``path`` and its directory (for the WAL and shared-memory files) can be written."""
    return os.access(path, os.W_OK) and os.access(path.parent if str(path.parent) else Path("."), os.W_OK)


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
        # On read-only media (or a file deconflict may not write) the database is opened read-only,
        # so reading commands such as 'log verify' work; a write then fails with a StorageError.
        self.read_only = not create and not _writable(self.path)
        try:
            self._conn = self._connect(create)
        except sqlite3.DatabaseError as exc:
            mapped = storage_error(exc, self.path)
            if mapped is not None:
                raise mapped from exc
            raise InvalidInput(f"{self.path} is not a deconflict database: {exc}") from exc
        self._lock = threading.RLock()
        self._depth = 0
        if create or self._pending_migrations():
            if self.read_only:
                raise StorageError(
                    f"{self.path} needs a schema migration but is read-only; open it once on writable storage"
                )
            with storage_errors(self.path):
                self.migrate()

    def _connect(self, create: bool) -> sqlite3.Connection:
        """Connect (read-only on read-only media: ``mode=ro``, else ``immutable=1`` without a WAL index)."""
        if not self.read_only:
            return self._configure(
                sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0), create
            )
        uri = self.path.resolve().as_uri()
        try:
            return self._configure(
                sqlite3.connect(
                    f"{uri}?mode=ro", uri=True, isolation_level=None, check_same_thread=False, timeout=30.0
                ),
                False,
            )
        except sqlite3.OperationalError:
            # A WAL database whose -shm file cannot be created on the read-only media: read the file
            # as it is (a closed database was checkpointed, so the file holds every commit).
            return self._configure(
                sqlite3.connect(
                    f"{uri}?immutable=1", uri=True, isolation_level=None, check_same_thread=False, timeout=30.0
                ),
                False,
            )

    def _configure(self, conn: sqlite3.Connection, create: bool) -> sqlite3.Connection:
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 30000")
            if create:
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            # The reach box of one incident, for migrations that rebuild the R*Tree in SQL.
            conn.create_function("deconflict_reach_box", 5, _reach_box_corner, deterministic=True)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

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
                self._conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, _rows.now()))
            applied.append(version)
        return applied

    def _pending_migrations(self) -> bool:
        """Whether a shipped migration is not applied (numbers merged from branches may leave gaps)."""
        try:
            done = {int(row[0]) for row in self._conn.execute("SELECT version FROM schema_migrations")}
        except sqlite3.OperationalError:
            return True
        return any(version not in done for version, _, _ in migrations())

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
    def _outermost_transaction(self) -> Iterator[None]:
        with storage_errors(self.path):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self._conn.in_transaction:  # SQLite may have rolled back itself (a full disk)
                    self._conn.execute("ROLLBACK")
                raise
            else:
                try:
                    self._conn.execute("COMMIT")
                except sqlite3.Error:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise

    def _write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        self._require_transaction()
        return self._conn.execute(sql, params)

    # -- settings -------------------------------------------------------------------------
    def set_meta(self, key: str, value: str) -> None:
        self._write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- imports --------------------------------------------------------------------------
    def record_import(self, record: ImportRecord) -> int:
        cursor = self._write(_rows.insert_sql("imports", _rows.IMPORT_INSERT, "?"), _rows.import_values(record))
        return int(cursor.lastrowid or 0)

    # -- sites ----------------------------------------------------------------------------
    def _existing(self, table: str, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            found.update(row[0] for row in self._conn.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", chunk))
        return found

    def insert_sites(self, sites: Sequence[Site], city_ids: Sequence[int | None], import_id: int | None) -> None:
        now = _rows.now()
        for site, city_id in zip(sites, city_ids, strict=True):
            with self._refusing_duplicates(id_unavailable("site", [site.id]).message):
                cursor = self._write(
                    _rows.insert_sql("sites", _rows.SITE_INSERT, "?"), _rows.site_values(site, city_id, import_id, now)
                )
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

    def _site_moved(self, pk: int, site: Site) -> None:
        self._conn.execute(
            "UPDATE sites_rtree SET min_lat = ?, max_lat = ?, min_lon = ?, max_lon = ? WHERE pk = ?",
            (site.lat, site.lat, site.lon, site.lon, pk),
        )

    def _incidents_removed(self, ids: Sequence[str]) -> None:
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            self._conn.execute(
                f"DELETE FROM incidents_rtree WHERE pk IN (SELECT pk FROM incidents WHERE id IN ({marks}))", chunk
            )

    def change_marker(self) -> str:
        row = self._conn.execute("PRAGMA data_version").fetchone()
        return f"sqlite:{row[0] if row else ''}"

    def spatial_index_problem(self) -> tuple[str, str] | None:
        # The R*Tree keeps 32-bit boxes rounded outwards: a site's box holds its point and is a hair
        # wide; an incident's box holds its reach box (relevance.incident_reach_boxes), a hair wider.
        row = self._conn.execute(
            "SELECT t.id FROM sites t LEFT JOIN sites_rtree r ON r.pk = t.pk WHERE r.pk IS NULL "
            "OR r.min_lat > t.lat OR r.max_lat < t.lat OR r.min_lon > t.lon OR r.max_lon < t.lon "
            "OR r.max_lat - r.min_lat > 1e-4 OR r.max_lon - r.min_lon > 1e-4 "
            "UNION ALL SELECT 'pk ' || pk FROM sites_rtree WHERE pk NOT IN (SELECT pk FROM sites) LIMIT 1"
        ).fetchone()
        if row is not None:
            return "sites_rtree", str(row[0])
        row = self._conn.execute(
            "SELECT 'pk ' || pk FROM incidents_rtree WHERE pk NOT IN (SELECT pk FROM incidents) LIMIT 1"
        ).fetchone()
        if row is not None:
            return "incidents_rtree", str(row[0])
        return self._reach_box_problem()

    def _reach_box_problem(self, chunk: int = 100_000) -> tuple[str, str] | None:
        """The first incident whose R*Tree box is missing or is not its reach box (vectorised, in chunks)."""
        from deconflict.relevance import incident_reach_boxes

        last = -1
        while True:
            rows = self._conn.execute(
                "SELECT t.pk, t.id, t.lat, t.lon, t.uncertainty_m, t.uncertainty_model = 'normal', "
                "r.min_lat, r.max_lat, r.min_lon, r.max_lon FROM incidents t LEFT JOIN incidents_rtree r "
                "ON r.pk = t.pk WHERE t.pk > ? ORDER BY t.pk LIMIT ?",
                (last, chunk),
            ).fetchall()
            if not rows:
                return None
            last = rows[-1][0]
            stored = np.array([r[6:] for r in rows], dtype=float)
            missing = np.isnan(stored).any(axis=1)
            boxes = incident_reach_boxes(
                [r[2] for r in rows], [r[3] for r in rows], [r[4] for r in rows], [bool(r[5]) for r in rows]
            )
            with np.errstate(invalid="ignore"):
                holds = (stored[:, [0, 2]] <= boxes[:, [0, 2]]).all(axis=1) & (
                    stored[:, [1, 3]] >= boxes[:, [1, 3]]
                ).all(axis=1)
                tight = (np.abs(stored - boxes) <= 1e-4).all(axis=1)
            bad = np.flatnonzero(missing | ~holds | ~tight)
            if bad.size:
                return "incidents_rtree", str(rows[int(bad[0])][1])

    def add_city_names(self, geonameid: int, keys: set[str]) -> None:
        self._conn.executemany(
            "INSERT OR IGNORE INTO city_names (geonameid, norm) VALUES (?, ?)",
            [(geonameid, key) for key in sorted(keys)],
        )

    def _site_names(self, pks: list[int]) -> dict[int, list[tuple[str, str]]]:
        names: dict[int, list[tuple[str, str]]] = {}
        for chunk in _chunks(pks):
            marks = ",".join("?" * len(chunk))
            for pk, lang, name in self._conn.execute(
                f"SELECT site_pk, lang, name FROM site_names WHERE site_pk IN ({marks}) AND lang != '' "
                "ORDER BY lang, name",
                chunk,
            ):
                names.setdefault(pk, []).append((lang, name))
        return names

    def list_sites(self, query: SiteQuery) -> list[tuple[Site, float | None]]:
        where: list[str] = []
        params = QmarkParams()
        near_filter = query.near is not None and query.within_m is not None
        if query.near is not None and query.within_m is not None:
            lat, lon = query.near
            where.append(_rtree_filter("s.pk", "sites_rtree", bounding_boxes(lat, lon, query.within_m), params))
        where += site_filters(query, params)
        sql = f"SELECT {_rows.SITE_SELECT} FROM sites s" + where_sql(where) + " ORDER BY s.id"
        if not near_filter and query.limit is not None:
            sql += f" LIMIT {params.add('limit', query.limit)} OFFSET {params.add('offset', query.offset)}"
        rows = self._conn.execute(sql, params.values).fetchall()
        distances: list[float | None] = [None] * len(rows)
        if query.near is not None and rows:
            lat, lon = query.near
            lats = np.fromiter((r[5] for r in rows), float, len(rows))
            lons = np.fromiter((r[6] for r in rows), float, len(rows))
            dist = geodesic_distance_m(lon, lat, lons, lats)
            order = np.argsort(dist, kind="stable")
            if query.within_m is not None:
                order = order[dist[order] <= query.within_m]
            if near_filter and query.limit is not None:
                order = order[query.offset : query.offset + query.limit]
            rows = [rows[i] for i in order]
            distances = [float(dist[i]) for i in order]
        return list(zip(self._sites_from_rows(rows), distances, strict=True))

    # -- incidents ------------------------------------------------------------------------
    def insert_incidents(
        self,
        incidents: Sequence[Incident],
        import_id: int | None,
        entry_index: int | None = None,
        first_position: int = 0,
    ) -> None:
        if not incidents:
            return
        self._require_transaction()
        first_pk = int(self._conn.execute("SELECT coalesce(max(pk), 0) FROM incidents").fetchone()[0]) + 1
        rows = [
            (first_pk + i, *row)
            for i, row in enumerate(_rows.incident_values(incidents, import_id, entry_index, first_position))
        ]
        # A large batch rewrites many index and R*Tree pages: a bigger page cache for its duration
        # (at most 64 MiB, restored after) keeps them from being spilled and re-read.
        cache_kib = -int(self._conn.execute("PRAGMA cache_size").fetchone()[0])
        wanted_kib = min(65_536, len(incidents) // 3)
        if cache_kib > 0 and wanted_kib > cache_kib:
            self._conn.execute(f"PRAGMA cache_size = {-wanted_kib}")
        try:
            try:
                self._conn.executemany(_rows.insert_sql("incidents", ("pk", *_rows.INCIDENT_INSERT), "?"), rows)
            except sqlite3.IntegrityError as exc:
                raise ConflictError(f"incident id already exists: {exc}") from exc
            # Each incident's reach box, so a site finds the incidents whose reach overlaps its own
            # (:func:`deconflict.relevance.incidents_concerning`); a point query still finds the point.
            boxes = _reach_boxes(incidents)
            self._conn.executemany(
                "INSERT INTO incidents_rtree VALUES (?, ?, ?, ?, ?)",
                [(first_pk + i, *box) for i, box in enumerate(boxes.tolist())],
            )
        finally:
            if cache_kib > 0 and wanted_kib > cache_kib:
                self._conn.execute(f"PRAGMA cache_size = {-cache_kib}")

    def _incident_sql(self, query: IncidentQuery) -> tuple[str, list[Any]]:
        where: list[str] = []
        params = QmarkParams()
        if query.near is not None and query.within_m is not None:
            boxes = bounding_boxes(query.near[0], query.near[1], query.within_m)
            where.append(_rtree_filter("pk", "incidents_rtree", boxes, params))
        if query.reaching is not None:
            lat, lon, reach_m = query.reaching
            where.append(_rtree_filter("pk", "incidents_rtree", bounding_boxes(lat, lon, reach_m), params))
        where += incident_filters(query, params)
        sql = f"SELECT {_rows.INCIDENT_SELECT} FROM incidents" + where_sql(where) + " ORDER BY time_start, id"
        return sql, params.values

    def count_matching_incidents(self, query: IncidentQuery) -> int:
        params = QmarkParams()
        sql = "SELECT count(*) FROM incidents" + where_sql(incident_filters(query, params))
        return int(self._conn.execute(sql, params.values).fetchone()[0])

    def iter_incidents(self, query: IncidentQuery) -> Iterator[Incident]:
        sql, params = self._incident_sql(query)
        emitted = 0
        skipped = 0
        for row in self._conn.execute(sql, params):
            incident = _rows.incident_from_row(row)
            if query.near is not None and query.within_m is not None:
                dist = float(geodesic_distance_m(query.near[1], query.near[0], incident.lon, incident.lat))
                if dist > query.within_m:
                    continue
            if skipped < query.offset:
                skipped += 1
                continue
            if query.limit is not None and emitted >= query.limit:
                return
            emitted += 1
            yield incident


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements (no semicolons inside our literals)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
