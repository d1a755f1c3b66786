"""The ledger half of the PostGIS backend (log entries, nodes, checkpoints, commitments, tokens).

Reads whose SQL is the same in SQLite are in :class:`~deconflict.store._common.SQLBackend`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import psycopg

from deconflict.ids import id_unavailable
from deconflict.model import Notification
from deconflict.store import _rows
from deconflict.store._common import SQLBackend
from deconflict.store.base import LogEntryRow, NodeKey, SiteCommitment

__all__ = ["PostGISLedgerMixin"]

_PAGE_ROWS = 2_000


class PostGISLedgerMixin(SQLBackend):
    """Ledger storage for :class:`~deconflict.store.postgis.PostGISStore`."""

    _conn: psycopg.Connection[tuple[Any, ...]]
    _MARK = "%s"
    _NOTIFICATION_SITES_ORDER = "seq"

    # -- the log ---------------------------------------------------------------------------
    def log_get_nodes(self, keys: list[NodeKey]) -> dict[NodeKey, bytes]:
        if not keys:
            return {}
        rows = self._conn.execute(
            "SELECT n.level, n.idx, n.hash FROM log_nodes n "
            "JOIN unnest(%s::integer[], %s::bigint[]) AS k(level, idx) ON n.level = k.level AND n.idx = k.idx",
            ([level for level, _ in keys], [idx for _, idx in keys]),
        ).fetchall()
        return {(int(level), int(idx)): bytes(digest) for level, idx, digest in rows}

    def log_append(self, entries: Sequence[LogEntryRow], nodes: Sequence[tuple[NodeKey, bytes]]) -> None:
        with self._refusing_duplicates("log index already taken (concurrent append?)"):
            cursor = self._conn.cursor()
            cursor.executemany(_rows.insert_sql("log_entries", _rows.ENTRY_FIELDS, "%s"), _rows.entry_values(entries))
            if nodes:
                cursor.executemany(_rows.insert_sql("log_nodes", _rows.NODE_FIELDS, "%s"), _rows.node_values(nodes))

    def log_iter_entries(self) -> Iterator[LogEntryRow]:
        """Every entry in index order, read in pages so a large log is never all in memory."""
        after: int | None = None
        while True:
            if after is None:
                rows = self._conn.execute(
                    f"SELECT {_rows.ENTRY_SELECT} FROM log_entries ORDER BY idx LIMIT %s", (_PAGE_ROWS,)
                ).fetchall()
            else:
                rows = self._conn.execute(
                    f"SELECT {_rows.ENTRY_SELECT} FROM log_entries WHERE idx > %s ORDER BY idx LIMIT %s",
                    (after, _PAGE_ROWS),
                ).fetchall()
            for row in rows:
                yield _rows.entry_from_row(row)
            if len(rows) < _PAGE_ROWS:
                return
            after = int(rows[-1][0])

    def log_iter_nodes(self) -> Iterator[tuple[NodeKey, bytes]]:
        """Every node ordered by level then index, read in pages."""
        after: tuple[int, int] = (-1, -1)
        while True:
            rows = self._conn.execute(
                "SELECT level, idx, hash FROM log_nodes WHERE (level, idx) > (%s, %s) ORDER BY level, idx LIMIT %s",
                (*after, _PAGE_ROWS),
            ).fetchall()
            for level, idx, digest in rows:
                yield (int(level), int(idx)), bytes(digest)
            if len(rows) < _PAGE_ROWS:
                return
            after = (int(rows[-1][0]), int(rows[-1][1]))

    # -- records the log commits to ----------------------------------------------------------
    def save_site_commitment(self, commitment: SiteCommitment) -> None:
        with self._refusing_duplicates("site commitment already stored"):
            self._conn.execute(
                _rows.insert_sql("site_commitments", _rows.COMMITMENT_FIELDS, "%s"),
                _rows.commitment_values(commitment),
            )

    def insert_notification(self, notification: Notification, entry_index: int) -> None:
        n = notification
        with self._refusing_duplicates(id_unavailable("notification", [n.id]).message):
            cursor = self._conn.cursor()
            cursor.execute(
                _rows.insert_sql("notifications", _rows.NOTIFICATION_FIELDS, "%s"),
                _rows.notification_values(n, entry_index),
            )
            cursor.executemany(
                "INSERT INTO notification_sites (notification_id, site_id) VALUES (%s, %s)",
                [(n.id, site_id) for site_id in n.site_ids],
            )
