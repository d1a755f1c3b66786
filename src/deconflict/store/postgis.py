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
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg import conninfo

from deconflict.errors import ConflictError, InvalidInput, NotFound
from deconflict.geo import bounding_boxes
from deconflict.ids import id_unavailable
from deconflict.model import Incident, Site
from deconflict.names import normalize
from deconflict.store import _rows
from deconflict.store._common import NamedParams, incident_filters, site_filters, where_sql
from deconflict.store._postgis_ledger import PostGISLedgerMixin
from deconflict.store.base import ImportRecord, IncidentQuery, SiteQuery, Store

__all__ = ["LOG_LOCK_KEY", "PostGISStore", "migrations", "redact"]

_PAGE_ROWS = 2_000


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


LOG_LOCK_KEY = _advisory_key("deconflict/log-sequencer")
MIGRATION_LOCK_KEY = _advisory_key("deconflict/schema-migrations")


def migrations() -> list[tuple[int, str, str]]:
    """The PostgreSQL forward migrations: ``(version, name, sql)`` in order."""
    return _rows.read_migrations("deconflict.store.migrations_pg")


def redact(url: str) -> str:
    """``url`` without its password, for messages."""
    url = re.sub(r"^(postgres(?:ql)?://[^:/@?#]*):[^@/?#]*@", r"\1:***@", url)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


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
            if self._pending_migrations():
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
                    self._conn.execute(
                        "INSERT INTO schema_migrations VALUES (%s, %s, %s)", (version, name, _rows.now())
                    )
                applied.append(version)
        except psycopg.Error as exc:
            reason = _first_line(exc)
            if "extension" in reason:
                reason += " (a superuser can run CREATE EXTENSION postgis in this database first)"
            raise InvalidInput(f"cannot create the deconflict schema in {self.display}: {reason}") from None
        return applied

    def _pending_migrations(self) -> bool:
        """Whether a shipped migration is not applied (numbers merged from branches may leave gaps)."""
        row = self._conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        if row is None or not row[0]:
            return True
        done = {int(r[0]) for r in self._conn.execute("SELECT version FROM schema_migrations").fetchall()}
        return any(version not in done for version, _, _ in migrations())

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

    def _outermost_transaction(self) -> AbstractContextManager[Any]:
        return self._conn.transaction()

    def lock_log(self) -> None:
        """Take the log sequencer (an advisory lock held until this transaction ends)."""
        self._require_transaction()
        self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOG_LOCK_KEY,))

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
    def set_meta(self, key: str, value: str) -> None:
        self._write(
            "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- imports --------------------------------------------------------------------------
    def record_import(self, record: ImportRecord) -> int:
        row = self._write(
            _rows.insert_sql("imports", _rows.IMPORT_INSERT, "%s") + " RETURNING id", _rows.import_values(record)
        ).fetchone()
        return int(row[0]) if row else 0

    # -- sites ----------------------------------------------------------------------------
    def _existing(self, table: str, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        rows = self._conn.execute(f"SELECT id FROM {table} WHERE id = ANY(%s)", (list(ids),)).fetchall()
        return {str(row[0]) for row in rows}

    def insert_sites(self, sites: Sequence[Site], city_ids: Sequence[int | None], import_id: int | None) -> None:
        if not sites:
            return
        now = _rows.now()
        rows = [_rows.site_values(site, city_id, import_id, now) for site, city_id in zip(sites, city_ids, strict=True)]
        taken = self.existing_site_ids([site.id for site in sites])
        seen: set[str] = set()
        for site in sites:
            if site.id in taken or site.id in seen:
                raise id_unavailable("site", [site.id])
            seen.add(site.id)
        with self._refusing_duplicates(id_unavailable("site", [s.id for s in sites]).message):
            cursor = self._conn.cursor()
            cursor.executemany(
                _rows.insert_sql("sites", _rows.SITE_INSERT, "%s") + " RETURNING pk", rows, returning=True
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

    def change_marker(self) -> str:
        # The next transaction id moves with every write transaction of any session (reads assign none).
        row = self._conn.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text").fetchone()
        return f"postgresql:{row[0] if row else ''}"

    def spatial_index_problem(self) -> tuple[str, str] | None:
        # geog is generated from lat/lon; this catches a column whose generation was dropped and rewritten.
        for table in ("sites", "incidents"):
            row = self._conn.execute(
                f"SELECT id FROM {table} WHERE geog IS NULL OR ST_Y(geog::geometry) <> lat "
                "OR ST_X(geog::geometry) <> lon LIMIT 1"
            ).fetchone()
            if row is not None:
                return f"{table}.geog", str(row[0])
        return None

    def add_city_names(self, geonameid: int, keys: set[str]) -> None:
        self._require_transaction()
        self._conn.cursor().executemany(
            "INSERT INTO city_names (geonameid, norm) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            [(geonameid, key) for key in sorted(keys)],
        )

    def _site_names(self, pks: list[int]) -> dict[int, list[tuple[str, str]]]:
        names: dict[int, list[tuple[str, str]]] = {}
        if pks:
            for pk, lang, name in self._conn.execute(
                "SELECT site_pk, lang, name FROM site_names WHERE site_pk = ANY(%s) AND lang <> '' ORDER BY lang, name",
                (pks,),
            ):
                names.setdefault(pk, []).append((lang, name))
        return names

    def list_sites(self, query: SiteQuery) -> list[tuple[Site, float | None]]:
        where: list[str] = []
        params = NamedParams()
        columns = _rows.SITE_SELECT
        order = "s.id"
        if query.near is not None:
            point = f"ST_MakePoint({params.add('lon', query.near[1])}, {params.add('lat', query.near[0])})::geography"
            columns += f", ST_Distance(s.geog, {point}) AS distance_m"
            order = "distance_m, s.id"
            if query.within_m is not None:
                where.append(f"ST_DWithin(s.geog, {point}, {params.add('within_m', query.within_m)})")
        where += site_filters(query, params)
        sql = f"SELECT {columns} FROM sites s" + where_sql(where) + f" ORDER BY {order}"
        if query.limit is not None:
            sql += f" LIMIT {params.add('limit', query.limit)} OFFSET {params.add('offset', query.offset)}"
        rows = self._conn.execute(sql, params.values).fetchall()
        distances = [float(row[-1]) if query.near is not None else None for row in rows]
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
        rows = _rows.incident_values(incidents, import_id, entry_index, first_position)
        with self._refusing_duplicates("incident id already exists"):
            self._conn.cursor().executemany(_rows.insert_sql("incidents", _rows.INCIDENT_INSERT, "%s"), rows)

    def _incident_filters(self, query: IncidentQuery) -> tuple[list[str], dict[str, Any]]:
        where: list[str] = []
        params = NamedParams()
        if query.near is not None and query.within_m is not None:
            point = f"ST_MakePoint({params.add('lon', query.near[1])}, {params.add('lat', query.near[0])})::geography"
            where.append(f"ST_DWithin(geog, {point}, {params.add('within_m', query.within_m)})")
        if query.reaching is not None:
            lat, lon, reach_m = query.reaching
            envelopes = [
                f"reach_box && ST_MakeEnvelope({params.add(f'reach_w{k}', w)}, {params.add(f'reach_s{k}', s)}, "
                f"{params.add(f'reach_e{k}', e)}, {params.add(f'reach_n{k}', n)}, 4326)"
                for k, (s, n, w, e) in enumerate(bounding_boxes(lat, lon, reach_m))
            ]
            where.append("(" + " OR ".join(envelopes) + ")")
        where += incident_filters(query, params)
        return where, params.values

    def count_matching_incidents(self, query: IncidentQuery) -> int:
        params = NamedParams()
        sql = "SELECT count(*) FROM incidents" + where_sql(incident_filters(query, params))
        row = self._conn.execute(sql, params.values).fetchone()
        return int(row[0]) if row else 0

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
            sql = f"SELECT {_rows.INCIDENT_SELECT} FROM incidents" + where_sql(clauses)
            sql += " ORDER BY time_start, id LIMIT %(page)s OFFSET %(offset)s"
            rows = self._conn.execute(sql, page_params).fetchall()
            for row in rows:
                yield _rows.incident_from_row(row)
            if len(rows) < page:
                return
            offset = 0
            after = (rows[-1][1], rows[-1][0])
            if remaining is not None:
                remaining -= len(rows)
