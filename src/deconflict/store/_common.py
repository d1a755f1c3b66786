"""What the SQLite and PostGIS backends share: query building and the reads that differ only
in the placeholder style (``?`` in SQLite, ``%s`` / ``%(name)s`` in psycopg).

SQL that really differs between the engines (spatial filters, paging, bulk inserts, error
handling) stays in :mod:`deconflict.store.sqlite` / :mod:`deconflict.store.postgis` and
their ledger halves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from deconflict.errors import ConflictError, DeconflictError, InvalidInput, NotFound
from deconflict.ids import id_unavailable
from deconflict.model import Claim, Incident, Notification, Site
from deconflict.names import normalize, search_stems
from deconflict.store import _rows
from deconflict.store.base import (
    Acknowledgement,
    ClaimQuery,
    CorrectionRow,
    ImportRecord,
    IncidentQuery,
    IncidentVersion,
    LogEntryRow,
    NodeKey,
    SiteCommitment,
    SiteQuery,
    Store,
    TimestampRecord,
    TokenRecord,
    WitnessPeer,
)

__all__ = ["NamedParams", "QmarkParams", "SQLBackend", "incident_filters", "site_filters", "where_sql"]


# -- query building ---------------------------------------------------------------------------
class QmarkParams:
    """Positional parameters (``?``), in the order their placeholders are written."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, name: str, value: Any) -> str:
        self.values.append(value)
        return "?"

    def is_in(self, column: str, name: str, values: Sequence[Any]) -> str:
        self.values += list(values)
        return f"{column} IN ({','.join('?' * len(values))})"


class NamedParams:
    """Named psycopg parameters (``%(name)s``)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, name: str, value: Any) -> str:
        self.values[name] = value
        return f"%({name})s"

    def is_in(self, column: str, name: str, values: Sequence[Any]) -> str:
        self.values[name] = list(values)
        return f"{column} = ANY(%({name})s)"


Params = QmarkParams | NamedParams


def where_sql(where: Sequence[str]) -> str:
    """`` WHERE a AND b`` (or nothing)."""
    return " WHERE " + " AND ".join(where) if where else ""


def site_filters(query: SiteQuery, params: Params) -> list[str]:
    """The non-spatial conditions of a site query (on ``sites s``); withdrawn sites are out unless asked for."""
    where: list[str] = [] if query.include_withdrawn else ["s.withdrawn_idx IS NULL"]
    if query.owner:
        where.append(f"s.owner = {params.add('owner', query.owner.upper())}")
    if query.kind:
        where.append(f"s.kind = {params.add('kind', query.kind)}")
    if query.ids is not None:
        where.append(params.is_in("s.id", "ids", query.ids))
    if query.city_geonameid is not None:
        where.append(f"s.city_geonameid = {params.add('city_geonameid', query.city_geonameid)}")
    if query.search:
        key = normalize(query.search)
        if not key:
            raise InvalidInput(f"search text {query.search!r} has no letters or digits")
        # Every word's stem in one name of the site (inflected forms match), or the phrase is its city's name.
        stems = [
            f"norm LIKE {params.add(f'stem{k}', _rows.like_pattern(stem))} ESCAPE '\\'"
            for k, stem in enumerate(search_stems(query.search))
        ]
        where.append(
            f"(s.pk IN (SELECT site_pk FROM site_names WHERE {' AND '.join(stems)}) "
            f"OR s.city_geonameid IN (SELECT geonameid FROM city_names WHERE norm = {params.add('key', key)}))"
        )
    return where


def incident_filters(query: IncidentQuery, params: Params) -> list[str]:
    """The non-spatial conditions of an incident query."""
    where: list[str] = []
    for condition, name in (
        ("time_end >=", "start"),
        ("time_start <=", "end"),
        ("status =", "status"),
        ("provenance =", "provenance"),
        ("confidence =", "confidence"),
    ):
        value = getattr(query, name)
        if value:
            where.append(f"{condition} {params.add(name, value)}")
    return where


# -- the shared half of both backends ------------------------------------------------------------
class SQLBackend(Store):
    """Store methods whose SQL is the same in both backends but for the placeholder ``_MARK``."""

    _conn: Any
    _lock: threading.RLock
    _depth: int
    _MARK: str
    _NOTIFICATION_SITES_ORDER: str  # the column keeping a notification's sites in insertion order

    def _write(self, sql: str, params: Any = ()) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _refusing_duplicates(self, message: str) -> AbstractContextManager[None]:  # pragma: no cover
        """Inside a transaction, turn a unique-key violation of the write inside into ConflictError."""
        raise NotImplementedError

    def _outermost_transaction(self) -> AbstractContextManager[Any]:  # pragma: no cover
        """The engine's own transaction (begin, then commit or roll back)."""
        raise NotImplementedError

    def _existing(self, table: str, ids: Sequence[str]) -> set[str]:  # pragma: no cover
        raise NotImplementedError

    def _site_names(self, pks: list[int]) -> dict[int, list[tuple[str, str]]]:  # pragma: no cover
        """The other names ``(lang, name)`` of the sites ``pks``, ordered by language then name."""
        raise NotImplementedError

    @staticmethod
    def _to_bytes(value: Any) -> bytes:
        return bytes(value)

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
                with self._outermost_transaction():
                    yield
            finally:
                self._depth = 0

    def close(self) -> None:
        self._conn.close()

    def _require_transaction(self) -> None:
        if not self._depth:
            raise DeconflictError("internal error: write outside a transaction")

    def _count(self, table: str) -> int:
        row = self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    # -- settings and imports ---------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._conn.execute(f"SELECT value FROM meta WHERE key = {self._MARK}", (key,)).fetchone()
        return None if row is None else str(row[0])

    def list_imports(self) -> list[ImportRecord]:
        rows = self._conn.execute(f"SELECT {_rows.IMPORT_SELECT} FROM imports ORDER BY id").fetchall()
        return [ImportRecord(*row) for row in rows]

    # -- sites --------------------------------------------------------------------------------
    def existing_site_ids(self, ids: Sequence[str]) -> set[str]:
        return self._existing("sites", ids)

    def _sites_from_rows(self, rows: Sequence[tuple[Any, ...]]) -> list[Site]:
        names = self._site_names([row[0] for row in rows])
        return [_rows.site_from_row(row, names.get(row[0], ())) for row in rows]

    def get_site(self, site_id: str) -> Site:
        rows = self._conn.execute(
            f"SELECT {_rows.SITE_SELECT} FROM sites s WHERE s.id = {self._MARK}", (site_id,)
        ).fetchall()
        if not rows:
            raise NotFound(f"no site with id {site_id!r}")
        return self._sites_from_rows(rows)[0]

    def count_sites(self) -> int:
        return self._count("sites WHERE withdrawn_idx IS NULL")

    def _site_moved(self, pk: int, site: Site) -> None:
        """Hook: keep a backend's own spatial index in step with an amended site's point."""

    def update_site(self, site: Site, city_id: int | None) -> None:
        self._require_transaction()
        m = self._MARK
        row = self._conn.execute(f"SELECT pk FROM sites WHERE id = {m}", (site.id,)).fetchone()
        if row is None:
            raise NotFound(f"no site with id {site.id!r}")
        pk = int(row[0])
        columns = ("name", "kind", "owner", "lat", "lon", "radius_m", "address", "city", "city_geonameid",
                   "footprint_wkt", "approximate", "source", "notes")  # fmt: skip
        values = (site.name, site.kind, site.owner, site.lat, site.lon, site.radius_m, site.address, site.city,
                  city_id, site.footprint_wkt, site.approximate, site.source, site.notes)  # fmt: skip
        assignments = ", ".join(f"{column} = {m}" for column in columns)
        self._conn.execute(f"UPDATE sites SET {assignments} WHERE pk = {m}", (*values, pk))
        self._site_moved(pk, site)
        self._conn.execute(f"DELETE FROM site_names WHERE site_pk = {m}", (pk,))
        names = sorted({("", site.name), *site.names})
        for lang, name in names:
            self._conn.execute(
                f"INSERT INTO site_names (site_pk, lang, name, norm) VALUES ({m}, {m}, {m}, {m})",
                (pk, lang, name, normalize(name)),
            )

    def set_site_withdrawn(self, site_id: str, entry_index: int) -> None:
        m = self._MARK
        cursor = self._write(f"UPDATE sites SET withdrawn_idx = {m} WHERE id = {m}", (entry_index, site_id))
        if cursor.rowcount == 0:
            raise NotFound(f"no site with id {site_id!r}")

    def site_withdrawn(self, site_id: str) -> int | None:
        row = self._conn.execute(f"SELECT withdrawn_idx FROM sites WHERE id = {self._MARK}", (site_id,)).fetchone()
        if row is None:
            raise NotFound(f"no site with id {site_id!r}")
        return None if row[0] is None else int(row[0])

    # -- incidents ------------------------------------------------------------------------------
    def existing_incident_ids(self, ids: Sequence[str]) -> set[str]:
        return self._existing("incidents", ids)

    def get_incident(self, incident_id: str) -> Incident:
        row = self._conn.execute(
            f"SELECT {_rows.INCIDENT_SELECT} FROM incidents WHERE id = {self._MARK}", (incident_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no incident with id {incident_id!r}")
        return _rows.incident_from_row(row)

    def set_incident_status(self, incident_id: str, status: str) -> None:
        m = self._MARK
        cursor = self._write(f"UPDATE incidents SET status = {m} WHERE id = {m}", (status, incident_id))
        if cursor.rowcount == 0:
            raise NotFound(f"no incident with id {incident_id!r}")

    def count_incidents(self) -> int:
        return self._count("incidents")

    def max_uncertainty_m(self) -> dict[str, float]:
        rows = self._conn.execute(
            "SELECT uncertainty_model, max(uncertainty_m) FROM incidents GROUP BY uncertainty_model"
        ).fetchall()
        return {str(model): float(value) for model, value in rows}

    def list_incidents(self, query: IncidentQuery) -> list[Incident]:
        return list(self.iter_incidents(query))

    def incidents_in_entry(self, entry_index: int, start: int = 0, end: int | None = None) -> list[Incident]:
        m = self._MARK
        sql = f"SELECT {_rows.INCIDENT_SELECT} FROM incidents WHERE entry_idx = {m} AND entry_pos >= {m}"
        params: tuple[Any, ...] = (entry_index, start)
        if end is not None:
            sql += f" AND entry_pos < {m}"
            params += (end,)
        rows = self._conn.execute(sql + " ORDER BY entry_pos", params).fetchall()
        return [_rows.incident_from_row(row) for row in rows]

    def incident_batches(self) -> dict[str, int | None]:
        rows = self._conn.execute("SELECT id, entry_idx FROM incidents").fetchall()
        return {str(i): None if e is None else int(e) for i, e in rows}

    def incident_entry(self, incident_id: str) -> tuple[int, int] | None:
        row = self._conn.execute(
            f"SELECT entry_idx, entry_pos FROM incidents WHERE id = {self._MARK}", (incident_id,)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return int(row[0]), int(row[1])

    # -- the log ----------------------------------------------------------------------------------
    def log_size(self) -> int:
        row = self._conn.execute("SELECT coalesce(max(idx) + 1, 0) FROM log_entries").fetchone()
        return int(row[0]) if row else 0

    def _entries(self, where: str, params: tuple[Any, ...]) -> list[LogEntryRow]:
        rows = self._conn.execute(f"SELECT {_rows.ENTRY_SELECT} FROM log_entries{where} ORDER BY idx", params)
        return [_rows.entry_from_row(row, self._to_bytes) for row in rows.fetchall()]

    def log_entries(self, start: int, end: int) -> list[LogEntryRow]:
        return self._entries(f" WHERE idx >= {self._MARK} AND idx < {self._MARK}", (start, end))

    def log_entries_of_kind(self, kind: str) -> list[LogEntryRow]:
        return self._entries(f" WHERE kind = {self._MARK}", (kind,))

    def save_checkpoint(self, size: int, note: str, created_at: str) -> None:
        self._require_transaction()
        self._conn.execute(
            _rows.insert_sql("checkpoints", ("size", "note", "created_at"), self._MARK)
            + " ON CONFLICT (size) DO UPDATE SET note = excluded.note",
            (size, note, created_at),
        )

    def list_checkpoints(self) -> list[tuple[int, str, str]]:
        rows = self._conn.execute("SELECT size, note, created_at FROM checkpoints ORDER BY size").fetchall()
        return [(int(size), str(note), str(created)) for size, note, created in rows]

    # -- records the log commits to -----------------------------------------------------------------
    def _select(self, table: str, columns: Sequence[str], column: str, value: Any, order: str) -> list[Any]:
        """Rows of ``table`` (those whose ``column`` is ``value`` unless it is None) ordered by ``order``."""
        sql = f"SELECT {', '.join(columns)} FROM {table}"
        params: tuple[Any, ...] = ()
        if value is not None:
            sql += f" WHERE {column} = {self._MARK}"
            params = (value,)
        return list(self._conn.execute(f"{sql} ORDER BY {order}", params).fetchall())

    def site_commitments(self, site_id: str | None = None) -> list[SiteCommitment]:
        rows = self._select("site_commitments", _rows.COMMITMENT_FIELDS, "site_id", site_id, "entry_idx")
        return [_rows.commitment_from_row(row) for row in rows]

    def list_notifications(
        self, site_id: str | None = None, *, include_withdrawn: bool = False
    ) -> list[tuple[Notification, int]]:
        columns = ["n." + c for c in _rows.NOTIFICATION_FIELDS]
        columns[1] = "coalesce(n.amended_idx, n.entry_idx)"  # the entry that says what is in force
        sql = f"SELECT {', '.join(columns)} FROM notifications n"
        where = [] if include_withdrawn else ["n.withdrawn_idx IS NULL"]
        params: tuple[Any, ...] = ()
        if site_id is not None:
            where.append(f"n.id IN (SELECT notification_id FROM notification_sites WHERE site_id = {self._MARK})")
            params = (site_id,)
        rows = self._conn.execute(sql + where_sql(where) + " ORDER BY n.entry_idx", params).fetchall()
        sites: dict[str, list[str]] = {}
        for notification_id, sid in self._conn.execute(
            f"SELECT notification_id, site_id FROM notification_sites ORDER BY {self._NOTIFICATION_SITES_ORDER}"
        ):
            sites.setdefault(notification_id, []).append(sid)
        movements: dict[str, list[str]] = {}
        for link in self.select_rows("notification_movements"):
            movements.setdefault(link["notification_id"], []).append(link["movement_id"])
        return [_rows.notification_from_row(row, sites.get(row[0], ()), movements.get(row[0], ())) for row in rows]

    def insert_acknowledgement(self, acknowledgement: Acknowledgement, entry_index: int) -> None:
        a = acknowledgement
        with self._refusing_duplicates(id_unavailable("acknowledgement", [a.id]).message):
            self._conn.execute(
                _rows.insert_sql("acknowledgements", _rows.ACKNOWLEDGEMENT_FIELDS, self._MARK),
                _rows.acknowledgement_values(a, entry_index),
            )

    def list_acknowledgements(
        self, notification_id: str | None = None, *, include_withdrawn: bool = False
    ) -> list[tuple[Acknowledgement, int]]:
        sql = f"SELECT {', '.join('a.' + c for c in _rows.ACKNOWLEDGEMENT_FIELDS)} FROM acknowledgements a"
        where = (
            []
            if include_withdrawn
            else [
                "a.withdrawn_idx IS NULL",
                "a.notification_id IN (SELECT id FROM notifications WHERE withdrawn_idx IS NULL)",
            ]
        )
        params: tuple[Any, ...] = ()
        if notification_id is not None:
            where.append(f"a.notification_id = {self._MARK}")
            params = (notification_id,)
        rows = self._conn.execute(sql + where_sql(where) + " ORDER BY a.entry_idx", params).fetchall()
        return [_rows.acknowledgement_from_row(row) for row in rows]

    # -- claims read from reports ------------------------------------------------------------------
    def existing_claim_ids(self, ids: Sequence[str]) -> set[str]:
        return self._existing("claims", ids)

    def insert_claims(self, claims: Sequence[Claim], import_id: int | None) -> None:
        self._require_transaction()
        sql = _rows.insert_sql("claims", _rows.CLAIM_INSERT, self._MARK)
        for claim in claims:
            with self._refusing_duplicates(f"claim id {claim.id!r} already exists"):
                self._conn.execute(sql, _rows.claim_values(claim, import_id))

    def get_claim(self, claim_id: str) -> Claim:
        row = self._conn.execute(
            f"SELECT {', '.join(_rows.CLAIM_FIELDS)} FROM claims WHERE id = {self._MARK}", (claim_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no claim with id {claim_id!r}")
        return _rows.claim_from_row(row)

    def _claim_where(self, query: ClaimQuery) -> tuple[str, list[Any]]:
        where, values = [], []
        for column, value in (("status", query.status), ("kind", query.kind), ("source_sha256", query.source_sha256)):
            if value is not None:
                where.append(f"{column} = {self._MARK}")
                values.append(value)
        return where_sql(where), values

    def list_claims(self, query: ClaimQuery) -> list[Claim]:
        where, values = self._claim_where(query)
        order = " ORDER BY created_at, source_sha256, span_start, id"
        sql = f"SELECT {', '.join(_rows.CLAIM_FIELDS)} FROM claims{where}{order}"
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit)} OFFSET {int(query.offset)}"
        return [_rows.claim_from_row(row) for row in self._conn.execute(sql, values).fetchall()]

    def count_claims(self, query: ClaimQuery) -> int:
        where, values = self._claim_where(query)
        row = self._conn.execute(f"SELECT count(*) FROM claims{where}", values).fetchone()
        return int(row[0]) if row else 0

    def review_claim(
        self, claim_id: str, status: str, reviewed_at: str, note: str | None, notification_id: str | None
    ) -> None:
        m = self._MARK
        cursor = self._write(
            f"UPDATE claims SET status = {m}, reviewed_at = {m}, review_note = {m}, notification_id = {m} "
            f"WHERE id = {m} AND status = 'unverified'",
            (status, reviewed_at, note, notification_id, claim_id),
        )
        if cursor.rowcount == 0:
            current = self.get_claim(claim_id)  # raises NotFound for an unknown id
            raise ConflictError(f"claim {claim_id!r} is already {current.status}")

    def update_notification(self, notification: Notification, amended_index: int) -> None:
        self._require_transaction()
        n, m = notification, self._MARK
        values = _rows.notification_values(n, amended_index)
        columns = [c for c in _rows.NOTIFICATION_FIELDS if c not in ("id", "entry_idx")]
        assignments = ", ".join(f"{column} = {m}" for column in columns)
        cursor = self._conn.execute(
            f"UPDATE notifications SET {assignments}, amended_idx = {m} WHERE id = {m}",
            (*values[2:], amended_index, n.id),
        )
        if cursor.rowcount == 0:
            raise NotFound(f"no notification with id {n.id!r}")
        self._conn.execute(f"DELETE FROM notification_sites WHERE notification_id = {m}", (n.id,))
        for site_id in n.site_ids:
            self._conn.execute(
                f"INSERT INTO notification_sites (notification_id, site_id) VALUES ({m}, {m})", (n.id, site_id)
            )

    def set_notification_withdrawn(self, notification_id: str, entry_index: int) -> None:
        m = self._MARK
        cursor = self._write(
            f"UPDATE notifications SET withdrawn_idx = {m} WHERE id = {m}", (entry_index, notification_id)
        )
        if cursor.rowcount == 0:
            raise NotFound(f"no notification with id {notification_id!r}")

    def notification_state(self, notification_id: str) -> tuple[int, int | None, int | None]:
        row = self._conn.execute(
            f"SELECT entry_idx, amended_idx, withdrawn_idx FROM notifications WHERE id = {self._MARK}",
            (notification_id,),
        ).fetchone()
        if row is None:
            raise NotFound(f"no notification with id {notification_id!r}")
        return int(row[0]), None if row[1] is None else int(row[1]), None if row[2] is None else int(row[2])

    def set_acknowledgement_withdrawn(self, acknowledgement_id: str, entry_index: int) -> None:
        m = self._MARK
        cursor = self._write(
            f"UPDATE acknowledgements SET withdrawn_idx = {m} WHERE id = {m}", (entry_index, acknowledgement_id)
        )
        if cursor.rowcount == 0:
            raise NotFound(f"no acknowledgement with id {acknowledgement_id!r}")

    def acknowledgement_state(self, acknowledgement_id: str) -> tuple[Acknowledgement, int, int | None]:
        columns = ", ".join(_rows.ACKNOWLEDGEMENT_FIELDS)
        row = self._conn.execute(
            f"SELECT {columns}, withdrawn_idx FROM acknowledgements WHERE id = {self._MARK}", (acknowledgement_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no acknowledgement with id {acknowledgement_id!r}")
        acknowledgement, index = _rows.acknowledgement_from_row(row[:-1])
        return acknowledgement, index, None if row[-1] is None else int(row[-1])

    # -- corrections --------------------------------------------------------------------------------
    def insert_corrections(self, rows: Sequence[CorrectionRow]) -> None:
        self._require_transaction()
        sql = _rows.insert_sql("corrections", _rows.CORRECTION_FIELDS, self._MARK)
        for row in rows:
            self._conn.execute(sql, _rows.correction_values(row))

    def list_corrections(self, target: str | None = None, target_id: str | None = None) -> list[CorrectionRow]:
        where, params = [], []
        for column, value in (("target", target), ("target_id", target_id)):
            if value is not None:
                where.append(f"{column} = {self._MARK}")
                params.append(value)
        rows = self._conn.execute(
            f"SELECT {', '.join(_rows.CORRECTION_FIELDS)} FROM corrections{where_sql(where)} "
            "ORDER BY entry_idx, target, target_id",
            tuple(params),
        ).fetchall()
        return [_rows.correction_from_row(row) for row in rows]

    def _incidents_removed(self, ids: Sequence[str]) -> None:
        """Hook: drop superseded incidents from a backend's own spatial index (before the rows go)."""

    def archive_incidents(self, versions: Sequence[IncidentVersion]) -> None:
        self._require_transaction()
        m = self._MARK
        ids = sorted({v.incident_id for v in versions})
        self._incidents_removed(ids)
        sql = _rows.insert_sql("incident_versions", _rows.VERSION_FIELDS, m)
        for version in versions:
            self._conn.execute(sql, _rows.version_values(version))
        for incident_id in ids:
            self._conn.execute(f"DELETE FROM incidents WHERE id = {m}", (incident_id,))

    def incident_versions(
        self,
        *,
        incident_id: str | None = None,
        entry_index: int | None = None,
        positions: tuple[int, int] | None = None,
    ) -> list[IncidentVersion]:
        where, params = [], []
        for column, value in (("incident_id", incident_id), ("entry_idx", entry_index)):
            if value is not None:
                where.append(f"{column} = {self._MARK}")
                params.append(value)
        if positions is not None:
            where.append(f"entry_pos >= {self._MARK} AND entry_pos < {self._MARK}")
            params += list(positions)
        rows = self._conn.execute(
            f"SELECT {', '.join(_rows.VERSION_FIELDS)} FROM incident_versions{where_sql(where)} "
            "ORDER BY entry_idx, entry_pos",
            tuple(params),
        ).fetchall()
        return [_rows.version_from_row(row, self._to_bytes) for row in rows]

    def save_batch_nodes(self, entry_index: int, nodes: Sequence[tuple[NodeKey, bytes]]) -> None:
        self._require_transaction()
        m = self._MARK
        self._conn.cursor().executemany(
            f"INSERT INTO batch_nodes (entry_idx, level, idx, hash) VALUES ({m}, {m}, {m}, {m})",
            [(entry_index, level, index, digest) for (level, index), digest in nodes],
        )

    def batch_nodes(self, entry_index: int) -> dict[NodeKey, bytes]:
        rows = self._conn.execute(
            f"SELECT level, idx, hash FROM batch_nodes WHERE entry_idx = {self._MARK}", (entry_index,)
        ).fetchall()
        return {(int(level), int(index)): self._to_bytes(digest) for level, index, digest in rows}

    # -- guarantees -----------------------------------------------------------------------------------
    def _conditions(self, table: str, where: Mapping[str, Any] | None) -> tuple[str, list[Any], bool]:
        """``WHERE`` text and parameters for equality filters; the flag is False when nothing can match."""
        where = dict(where or {})
        _rows.guarantee_columns(table, list(where))
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in where.items():
            if value is None:
                clauses.append(f"{column} IS NULL")
            elif isinstance(value, list | tuple | set | frozenset):
                values = list(value)
                if not values:
                    return "", [], False
                clauses.append(f"{column} IN ({', '.join([self._MARK] * len(values))})")
                params += values
            else:
                clauses.append(f"{column} = {self._MARK}")
                params.append(value)
        return where_sql(clauses), params, True

    def _guarantee_row(self, table: str, row: Sequence[Any]) -> dict[str, Any]:
        columns = _rows.GUARANTEE_TABLES[table]
        return {
            column: (self._to_bytes(value) if column in _rows.GUARANTEE_BLOBS and value is not None else value)
            for column, value in zip(columns, row, strict=True)
        }

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        self._require_transaction()
        for row in rows:
            columns = _rows.guarantee_columns(table, list(row))
            with self._refusing_duplicates(f"a {table} record with this key already exists"):
                self._conn.execute(_rows.insert_sql(table, columns, self._MARK), tuple(row[c] for c in columns))

    def select_rows(
        self, table: str, where: Mapping[str, Any] | None = None, order: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        columns = _rows.GUARANTEE_TABLES.get(table)
        if columns is None:
            raise ValueError(f"not a guarantees table: {table!r}")
        condition, params, possible = self._conditions(table, where)
        if not possible:
            return []
        ordering = _rows.guarantee_columns(table, list(order))
        sql = f"SELECT {', '.join(columns)} FROM {table}{condition}"
        if ordering:
            sql += " ORDER BY " + ", ".join(ordering)
        return [self._guarantee_row(table, row) for row in self._conn.execute(sql, params).fetchall()]

    def update_rows(self, table: str, where: Mapping[str, Any], values: Mapping[str, Any]) -> int:
        self._require_transaction()
        condition, params, possible = self._conditions(table, where)
        if not possible or not values:
            return 0
        columns = _rows.guarantee_columns(table, list(values))
        assignments = ", ".join(f"{c} = {self._MARK}" for c in columns)
        cursor = self._conn.execute(
            f"UPDATE {table} SET {assignments}{condition}", [*(values[c] for c in columns), *params]
        )
        return int(cursor.rowcount)

    def claim_deliveries(self, now: float, lease_until: float, claimant: str, limit: int) -> list[dict[str, Any]]:
        m = self._MARK
        free = f"status = 'pending' AND next_attempt_at <= {m} AND (lease_until IS NULL OR lease_until <= {m})"
        with self.transaction():
            due = self._conn.execute(
                f"SELECT id FROM alert_deliveries WHERE {free} ORDER BY next_attempt_at, id LIMIT {int(limit)}",
                (now, now),
            ).fetchall()
            claimed = []
            for (delivery_id,) in due:
                # The condition is evaluated again under the row's write lock: one claimant wins.
                cursor = self._conn.execute(
                    f"UPDATE alert_deliveries SET lease_until = {m}, claimed_by = {m}, attempts = attempts + 1 "
                    f"WHERE id = {m} AND {free}",
                    (lease_until, claimant, delivery_id, now, now),
                )
                if cursor.rowcount == 1:
                    claimed.append(delivery_id)
            return self.select_rows("alert_deliveries", {"id": claimed}, ("next_attempt_at", "id")) if claimed else []

    def log_entries_at(self, indices: Sequence[int]) -> dict[int, LogEntryRow]:
        found: dict[int, LogEntryRow] = {}
        wanted = sorted(set(int(i) for i in indices))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join([self._MARK] * len(chunk))
            for entry in self._entries(f" WHERE idx IN ({marks})", tuple(chunk)):
                found[entry.index] = entry
        return found

    # -- outside time ---------------------------------------------------------------------------------
    _TIMESTAMP_FIELDS = (
        "size", "note", "tsa_url", "response", "certificates", "gen_time", "tsa", "serial", "created_at"
    )  # fmt: skip
    _PEER_FIELDS = ("url", "key_name", "vkey", "last_size", "updated_at")

    def save_timestamp(self, record: TimestampRecord) -> None:
        self._require_transaction()
        r = record
        self._conn.execute(
            _rows.insert_sql("checkpoint_timestamps", self._TIMESTAMP_FIELDS, self._MARK),
            (r.checkpoint_size, r.note, r.tsa_url, r.response, r.certificates, r.gen_time, r.tsa, r.serial,
             r.created_at),
        )  # fmt: skip

    def list_timestamps(self) -> list[TimestampRecord]:
        rows = self._conn.execute(
            f"SELECT {', '.join(self._TIMESTAMP_FIELDS)} FROM checkpoint_timestamps ORDER BY size, gen_time, id"
        ).fetchall()
        return [
            TimestampRecord(int(r[0]), str(r[1]), str(r[2]), self._to_bytes(r[3]), *(str(v) for v in r[4:]))
            for r in rows
        ]

    def save_witness_peer(self, peer: WitnessPeer) -> None:
        self._require_transaction()
        self._conn.execute(
            _rows.insert_sql("witness_peers", self._PEER_FIELDS, self._MARK)
            + " ON CONFLICT (url) DO UPDATE SET key_name = excluded.key_name, vkey = excluded.vkey, "
            "last_size = excluded.last_size, updated_at = excluded.updated_at",
            (peer.url, peer.key_name, peer.vkey, peer.last_size, peer.updated_at),
        )

    def list_witness_peers(self) -> list[WitnessPeer]:
        rows = self._conn.execute(f"SELECT {', '.join(self._PEER_FIELDS)} FROM witness_peers ORDER BY url").fetchall()
        return [WitnessPeer(str(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4])) for r in rows]

    # -- the state the log determines ------------------------------------------------------------------
    def state_rows(self, table: str) -> list[dict[str, Any]]:
        sql = _rows.STATE_SELECT.get(table)
        if sql is None:
            raise ValueError(f"not a table the log determines: {table!r}")
        cursor = self._conn.execute(sql.replace("{order}", self._NOTIFICATION_SITES_ORDER))
        columns = [item[0] for item in cursor.description]
        return [
            {
                column: self._to_bytes(value) if column in _rows.STATE_BLOBS and value is not None else value
                for column, value in zip(columns, row, strict=True)
            }
            for row in cursor.fetchall()
        ]

    # -- API tokens ---------------------------------------------------------------------------------
    def insert_token(self, token: TokenRecord) -> None:
        with self._refusing_duplicates(f"token id {token.id!r} already exists"):
            self._conn.execute(
                _rows.insert_sql("api_tokens", _rows.TOKEN_FIELDS, self._MARK), _rows.token_values(token)
            )

    def get_token(self, token_id: str) -> TokenRecord | None:
        row = self._conn.execute(
            f"SELECT {_rows.TOKEN_SELECT} FROM api_tokens WHERE id = {self._MARK}", (token_id,)
        ).fetchone()
        return None if row is None else _rows.token_from_row(row)

    def list_tokens(self) -> list[TokenRecord]:
        rows = self._conn.execute(f"SELECT {_rows.TOKEN_SELECT} FROM api_tokens ORDER BY created_at, id").fetchall()
        return [_rows.token_from_row(row) for row in rows]

    def revoke_token(self, token_id: str, revoked_at: str) -> None:
        self._require_transaction()
        m = self._MARK
        cursor = self._conn.execute(
            f"UPDATE api_tokens SET revoked_at = {m} WHERE id = {m} AND revoked_at IS NULL", (revoked_at, token_id)
        )
        if cursor.rowcount == 0:
            raise NotFound(f"no active token with id {token_id!r}")
