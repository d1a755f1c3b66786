"""PostgreSQL + PostGIS backend: many users on one server, the same behaviour as SQLite.

Every method has the semantics of :class:`~deconflict.store.sqlite.SQLiteStore` (same
results, same order, same exceptions); only the machinery differs:

* Points are ``geography(Point, 4326)`` columns generated from ``lat``/``lon`` with a GiST
  index; near-queries are ``ST_DWithin`` and ``ST_Distance`` on the WGS84 spheroid, which
  agree with pyproj's geodesic distances (the SQLite backend) to well under a millimetre.
* One psycopg connection per store, in autocommit mode for reads; :meth:`transaction`
  wraps writes in ``BEGIN ISOLATION LEVEL READ COMMITTED ... COMMIT`` with
  ``synchronous_commit = on``, so a commit that returned is on the server's disk.
* The log has one sequencer: :meth:`lock_log` takes a transaction-scoped advisory lock
  before the ledger reads the log size, so concurrent appenders (threads, processes or
  machines) queue up and never compute the same index.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import psycopg
from psycopg import conninfo

from deconflict.errors import ConflictError, DeconflictError, InvalidInput, NotFound
from deconflict.model import Incident, Site, Source
from deconflict.names import normalize
from deconflict.store._postgis_ledger import PostGISLedgerMixin
from deconflict.store.base import ImportRecord, IncidentQuery, SiteQuery, Store
from deconflict.times import TimeSpan, format_utc

__all__ = ["LOG_LOCK_KEY", "PostGISStore", "migrations", "redact"]

_PAGE_ROWS = 2_000


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


LOG_LOCK_KEY = _advisory_key("deconflict/log-sequencer")
MIGRATION_LOCK_KEY = _advisory_key("deconflict/schema-migrations")


def migrations() -> list[tuple[int, str, str]]:
    """The PostgreSQL forward migrations: ``(version, name, sql)`` in order."""
    found = []
    for entry in resources.files("deconflict.store.migrations_pg").iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def redact(url: str) -> str:
    """``url`` without its password, for messages."""
    url = re.sub(r"^(postgres(?:ql)?://[^:/@?#]*):[^@/?#]*@", r"\1:***@", url)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _now() -> str:
    return format_utc(datetime.now(UTC))


def _like_pattern(key: str) -> str:
    return "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class PostGISStore(PostGISLedgerMixin, Store):
    """A deconflict database in PostgreSQL with the PostGIS extension.

    Parameters
    ----------
    url
        A libpq connection URL, ``postgresql://user[:password]@host[:port]/database``.
    create
        Apply the migrations to an empty database (creating the ``postgis`` extension);
        when False the database must already hold a deconflict schema.

    Raises
    ------
    InvalidInput
        If the URL is malformed, the server is unreachable, or the schema cannot be created.
    NotFound
        If ``create`` is False and the database has no deconflict schema.
    ConflictError
        If ``create`` is True and the database already holds a deconflict schema.
    """

    def __init__(self, url: str, *, create: bool = False) -> None:
        # The location is shown to users (``deconflict init`` prints it): never the password.
        self.location = redact(url)
        self.display = self.location
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = self._connect(url)
        try:
            version = self.schema_version()
            if create and version:
                raise ConflictError(f"a database already exists at {self.display}")
            if not create and not version:
                raise NotFound(
                    f"no deconflict database at {self.display} (run 'deconflict init' or pass --db / set DECONFLICT_DB)"
                )
            if version < migrations()[-1][0]:
                self.migrate()
        except BaseException:
            self._conn.close()
            raise

    def _connect(self, url: str) -> psycopg.Connection[tuple[Any, ...]]:
        try:
            params = conninfo.conninfo_to_dict(url)
            extra: dict[str, Any] = {"application_name": "deconflict"}
            if "connect_timeout" not in params:
                extra["connect_timeout"] = 10
            conn = psycopg.connect(url, autocommit=True, **extra)
            conn.execute("SET synchronous_commit = on")
        except psycopg.Error as exc:
            raise InvalidInput(f"cannot connect to {self.display}: {_first_line(exc)}") from None
        conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        return conn

    # -- schema ---------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply the migrations not yet applied, each in its own transaction; return them.

        Concurrent callers serialise on an advisory lock, so each migration runs once.
        """
        applied = []
        try:
            with self.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
                self._conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
            for version, name, sql in migrations():
                with self.transaction():
                    self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
                    done = self._conn.execute("SELECT 1 FROM schema_migrations WHERE version = %s", (version,))
                    if done.fetchone() is not None:
                        continue
                    self._conn.execute(sql.encode("utf-8"))
                    self._conn.execute("INSERT INTO schema_migrations VALUES (%s, %s, %s)", (version, name, _now()))
                applied.append(version)
        except psycopg.Error as exc:
            reason = _first_line(exc)
            if "extension" in reason:
                reason += " (a superuser can run CREATE EXTENSION postgis in this database first)"
            raise InvalidInput(f"cannot create the deconflict schema in {self.display}: {reason}") from None
        return applied

    def schema_version(self) -> int:
        row = self._conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        if row is None or not row[0]:
            return 0
        found = self._conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(found[0] or 0) if found else 0

    @property
    def connection(self) -> psycopg.Connection[tuple[Any, ...]]:
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
            self._depth = 1
            try:
                with self._conn.transaction():
                    yield
            finally:
                self._depth = 0

    def close(self) -> None:
        self._conn.close()

    def lock_log(self) -> None:
        """Take the log sequencer (an advisory lock held until this transaction ends)."""
        self._require_transaction()
        self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOG_LOCK_KEY,))

    def _require_transaction(self) -> None:
        if not self._depth:
            raise DeconflictError("internal error: write outside a transaction")

    def _write(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        self._require_transaction()
        return self._conn.execute(sql, params)

    @contextmanager
    def _refusing_duplicates(self, message: str) -> Iterator[None]:
        """Run a write in a savepoint and turn an integrity violation into :class:`ConflictError`.

        The savepoint keeps the surrounding transaction usable after the refusal, as in SQLite.
        """
        self._require_transaction()
        try:
            with self._conn.transaction():
                yield
        except psycopg.errors.IntegrityError as exc:
            raise ConflictError(f"{message}: {_first_line(exc)}") from exc

    # -- settings -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._write(
            "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- imports --------------------------------------------------------------------------
    def record_import(self, record: ImportRecord) -> int:
        row = self._write(
            "INSERT INTO imports (target, filename, sha256, format, rows, imported_at) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (record.target, record.filename, record.sha256, record.format, record.rows, record.imported_at or _now()),
        ).fetchone()
        return int(row[0]) if row else 0

    def list_imports(self) -> list[ImportRecord]:
        rows = self._conn.execute(
            "SELECT target, filename, sha256, format, rows, imported_at, id FROM imports ORDER BY id"
        ).fetchall()
        return [ImportRecord(*row) for row in rows]

    # -- sites ----------------------------------------------------------------------------
    def existing_site_ids(self, ids: Sequence[str]) -> set[str]:
        return self._existing("sites", ids)

    def _existing(self, table: str, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        rows = self._conn.execute(f"SELECT id FROM {table} WHERE id = ANY(%s)", (list(ids),)).fetchall()
        return {str(row[0]) for row in rows}

    def insert_sites(self, sites: Sequence[Site], city_ids: Sequence[int | None], import_id: int | None) -> None:
        if not sites:
            return
        now = _now()
        rows = [
            (site.id, site.name, site.kind, site.owner, site.lat, site.lon, site.radius_m, site.address, site.city,
             city_id, site.footprint_wkt, site.approximate, site.source, site.notes, import_id, now)
            for site, city_id in zip(sites, city_ids, strict=True)
        ]  # fmt: skip
        taken = self.existing_site_ids([site.id for site in sites])
        seen: set[str] = set()
        for site in sites:
            if site.id in taken or site.id in seen:
                raise ConflictError(f"site id {site.id!r} already exists")
            seen.add(site.id)
        with self._refusing_duplicates("site id already exists (concurrent insert?)"):
            cursor = self._conn.cursor()
            cursor.executemany(
                "INSERT INTO sites (id, name, kind, owner, lat, lon, radius_m, address, city, city_geonameid, "
                "footprint_wkt, approximate, source, notes, import_id, created_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING pk",
                rows,
                returning=True,
            )
            pks = []
            while True:
                row = cursor.fetchone()
                pks.append(int(row[0]) if row else 0)
                if not cursor.nextset():
                    break
            names = [
                (pk, lang, name, normalize(name))
                for pk, site in zip(pks, sites, strict=True)
                for lang, name in sorted({("", site.name), *site.names})
            ]
            cursor.executemany(
                "INSERT INTO site_names (site_pk, lang, name, norm) VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                names,
            )

    def add_city_names(self, geonameid: int, keys: set[str]) -> None:
        self._require_transaction()
        self._conn.cursor().executemany(
            "INSERT INTO city_names (geonameid, norm) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            [(geonameid, key) for key in sorted(keys)],
        )

    _SITE_COLUMNS = (
        "s.pk, s.id, s.name, s.kind, s.owner, s.lat, s.lon, s.radius_m, s.address, s.city, "
        "s.footprint_wkt, s.approximate, s.source, s.notes"
    )

    def _sites_from_rows(self, rows: Sequence[tuple[Any, ...]]) -> list[Site]:
        names: dict[int, list[tuple[str, str]]] = {}
        if rows:
            for pk, lang, name in self._conn.execute(
                "SELECT site_pk, lang, name FROM site_names WHERE site_pk = ANY(%s) AND lang <> '' ORDER BY lang, name",
                ([row[0] for row in rows],),
            ):
                names.setdefault(pk, []).append((lang, name))
        return [
            Site(
                id=row[1], name=row[2], kind=row[3], owner=row[4], lat=row[5], lon=row[6], radius_m=row[7],
                address=row[8], city=row[9], footprint_wkt=row[10], approximate=bool(row[11]), source=row[12],
                notes=row[13], names=tuple(names.get(row[0], ())),
            )
            for row in rows
        ]  # fmt: skip

    def get_site(self, site_id: str) -> Site:
        rows = self._conn.execute(f"SELECT {self._SITE_COLUMNS} FROM sites s WHERE s.id = %s", (site_id,)).fetchall()
        if not rows:
            raise NotFound(f"no site with id {site_id!r}")
        return self._sites_from_rows(rows)[0]

    def count_sites(self) -> int:
        row = self._conn.execute("SELECT count(*) FROM sites").fetchone()
        return int(row[0]) if row else 0

    def list_sites(self, query: SiteQuery) -> list[tuple[Site, float | None]]:
        where: list[str] = []
        params: dict[str, Any] = {}
        columns = self._SITE_COLUMNS
        order = "s.id"
        if query.near is not None:
            params["lat"], params["lon"] = query.near
            columns += ", ST_Distance(s.geog, ST_MakePoint(%(lon)s, %(lat)s)::geography) AS distance_m"
            order = "distance_m, s.id"
            if query.within_m is not None:
                where.append("ST_DWithin(s.geog, ST_MakePoint(%(lon)s, %(lat)s)::geography, %(within_m)s)")
                params["within_m"] = query.within_m
        if query.owner:
            where.append("s.owner = %(owner)s")
            params["owner"] = query.owner.upper()
        if query.kind:
            where.append("s.kind = %(kind)s")
            params["kind"] = query.kind
        if query.ids is not None:
            where.append("s.id = ANY(%(ids)s)")
            params["ids"] = list(query.ids)
        if query.search:
            key = normalize(query.search)
            if not key:
                raise InvalidInput(f"search text {query.search!r} has no letters or digits")
            where.append(
                "(s.pk IN (SELECT site_pk FROM site_names WHERE norm LIKE %(pattern)s ESCAPE '\\') "
                "OR s.city_geonameid IN (SELECT geonameid FROM city_names WHERE norm = %(key)s))"
            )
            params["pattern"], params["key"] = _like_pattern(key), key
        sql = f"SELECT {columns} FROM sites s"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order}"
        if query.limit is not None:
            sql += " LIMIT %(limit)s OFFSET %(offset)s"
            params["limit"], params["offset"] = query.limit, query.offset
        rows = self._conn.execute(sql, params).fetchall()
        distances = [float(row[-1]) if query.near is not None else None for row in rows]
        return list(zip(self._sites_from_rows(rows), distances, strict=True))

    # -- incidents ------------------------------------------------------------------------
    def existing_incident_ids(self, ids: Sequence[str]) -> set[str]:
        return self._existing("incidents", ids)

    def insert_incidents(
        self, incidents: Sequence[Incident], import_id: int | None, entry_index: int | None = None
    ) -> None:
        if not incidents:
            return
        rows = [
            (inc.id, format_utc(inc.time.start), format_utc(inc.time.end), inc.time.precision, inc.lat, inc.lon,
             inc.uncertainty_m, inc.uncertainty_model, inc.kind, inc.weapon, inc.confidence, inc.source.url,
             inc.source.sha256, inc.source.title, inc.notes, inc.provenance, inc.status, import_id, entry_index,
             None if entry_index is None else i)
            for i, inc in enumerate(incidents)
        ]  # fmt: skip
        with self._refusing_duplicates("incident id already exists"):
            self._conn.cursor().executemany(
                "INSERT INTO incidents (id, time_start, time_end, time_precision, lat, lon, uncertainty_m, "
                "uncertainty_model, kind, weapon, confidence, source_url, source_sha256, source_title, notes, "
                "provenance, status, import_id, entry_idx, entry_pos) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )

    _INCIDENT_COLUMNS = (
        "id, time_start, time_end, time_precision, lat, lon, uncertainty_m, uncertainty_model, kind, "
        "weapon, confidence, source_url, source_sha256, source_title, notes, provenance, status"
    )

    def _incident_from_row(self, row: tuple[Any, ...]) -> Incident:
        return Incident(
            id=row[0], time=TimeSpan(datetime.fromisoformat(row[1]), datetime.fromisoformat(row[2]), row[3]),
            lat=row[4], lon=row[5], uncertainty_m=row[6], uncertainty_model=row[7], kind=row[8], weapon=row[9],
            confidence=row[10], source=Source(url=row[11], sha256=row[12], title=row[13]), notes=row[14],
            provenance=row[15], status=row[16],
        )  # fmt: skip

    def get_incident(self, incident_id: str) -> Incident:
        row = self._conn.execute(
            f"SELECT {self._INCIDENT_COLUMNS} FROM incidents WHERE id = %s", (incident_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no incident with id {incident_id!r}")
        return self._incident_from_row(row)

    def set_incident_status(self, incident_id: str, status: str) -> None:
        cursor = self._write("UPDATE incidents SET status = %s WHERE id = %s", (status, incident_id))
        if cursor.rowcount == 0:
            raise NotFound(f"no incident with id {incident_id!r}")

    def count_incidents(self) -> int:
        row = self._conn.execute("SELECT count(*) FROM incidents").fetchone()
        return int(row[0]) if row else 0

    def _incident_filters(self, query: IncidentQuery) -> tuple[list[str], dict[str, Any]]:
        where: list[str] = []
        params: dict[str, Any] = {}
        if query.near is not None and query.within_m is not None:
            where.append("ST_DWithin(geog, ST_MakePoint(%(lon)s, %(lat)s)::geography, %(within_m)s)")
            params.update(lat=query.near[0], lon=query.near[1], within_m=query.within_m)
        if query.start:
            where.append("time_end >= %(start)s")
            params["start"] = query.start
        if query.end:
            where.append("time_start <= %(end)s")
            params["end"] = query.end
        if query.status:
            where.append("status = %(status)s")
            params["status"] = query.status
        if query.provenance:
            where.append("provenance = %(provenance)s")
            params["provenance"] = query.provenance
        return where, params

    def iter_incidents(self, query: IncidentQuery) -> Iterator[Incident]:
        """Stream incidents in pages (keyset on ``(time_start, id)``), never all in memory."""
        where, params = self._incident_filters(query)
        remaining = query.limit
        offset = query.offset
        after: tuple[str, str] | None = None
        while remaining is None or remaining > 0:
            page = _PAGE_ROWS if remaining is None else min(_PAGE_ROWS, remaining)
            clauses = list(where)
            page_params = dict(params, page=page, offset=offset)
            if after is not None:
                clauses.append("(time_start, id) > (%(after_time)s, %(after_id)s)")
                page_params.update(after_time=after[0], after_id=after[1])
            sql = f"SELECT {self._INCIDENT_COLUMNS} FROM incidents"
            if clauses:
                sql += " WHERE " + " AND ".join(clauses)
            sql += " ORDER BY time_start, id LIMIT %(page)s OFFSET %(offset)s"
            rows = self._conn.execute(sql, page_params).fetchall()
            for row in rows:
                yield self._incident_from_row(row)
            if len(rows) < page:
                return
            offset = 0
            after = (rows[-1][1], rows[-1][0])
            if remaining is not None:
                remaining -= len(rows)

    def list_incidents(self, query: IncidentQuery) -> list[Incident]:
        return list(self.iter_incidents(query))
