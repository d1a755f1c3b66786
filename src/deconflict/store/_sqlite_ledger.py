"""The ledger half of the SQLite backend (log entries, nodes, checkpoints, commitments).

Reads whose SQL is the same in PostgreSQL are in :class:`~deconflict.store._common.SQLBackend`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from deconflict.errors import ConflictError
from deconflict.ids import id_unavailable
from deconflict.model import Notification
from deconflict.store import _rows
from deconflict.store._common import SQLBackend
from deconflict.store.base import LogEntryRow, NodeKey, SiteCommitment

__all__ = ["SQLiteLedgerMixin"]


class SQLiteLedgerMixin(SQLBackend):
    """Ledger storage for :class:`~deconflict.store.sqlite.SQLiteStore`."""

    _conn: sqlite3.Connection
    _MARK = "?"
    _NOTIFICATION_SITES_ORDER = "rowid"

    @staticmethod
    def _to_bytes(value: Any) -> bytes:
        return _rows.blob(value)

    @contextmanager
    def _refusing_duplicates(self, message: str) -> Iterator[None]:
        """Turn an integrity violation of the write inside into :class:`ConflictError` (``message``)."""
        self._require_transaction()
        try:
            yield
        except sqlite3.IntegrityError as exc:
            raise ConflictError(message) from exc

    # -- the log ---------------------------------------------------------------------------
    def log_get_nodes(self, keys: list[NodeKey]) -> dict[NodeKey, bytes]:
        found: dict[NodeKey, bytes] = {}
        for start in range(0, len(keys), 400):
            chunk = keys[start : start + 400]
            clause = " OR ".join("(level = ? AND idx = ?)" for _ in chunk)
            params = [value for key in chunk for value in key]
            for level, idx, digest in self._conn.execute(
                f"SELECT level, idx, hash FROM log_nodes WHERE {clause}", params
            ):
                found[(int(level), int(idx))] = _rows.blob(digest)
        return found

    def log_append(self, entries: Sequence[LogEntryRow], nodes: Sequence[tuple[NodeKey, bytes]]) -> None:
        self._require_transaction()
        try:
            self._conn.executemany(
                _rows.insert_sql("log_entries", _rows.ENTRY_FIELDS, "?"), _rows.entry_values(entries)
            )
            self._conn.executemany(_rows.insert_sql("log_nodes", _rows.NODE_FIELDS, "?"), _rows.node_values(nodes))
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"log index already taken (concurrent append?): {exc}") from exc

    def log_iter_entries(self) -> Iterator[LogEntryRow]:
        cursor = self._conn.execute(f"SELECT {_rows.ENTRY_SELECT} FROM log_entries ORDER BY idx")
        for row in cursor:
            yield _rows.entry_from_row(row, self._to_bytes)

    def log_iter_nodes(self) -> Iterator[tuple[NodeKey, bytes]]:
        for level, idx, digest in self._conn.execute("SELECT level, idx, hash FROM log_nodes ORDER BY level, idx"):
            yield (int(level), int(idx)), _rows.blob(digest)

    # -- records the log commits to ----------------------------------------------------------
    def save_site_commitment(self, commitment: SiteCommitment) -> None:
        self._require_transaction()
        self._conn.execute(
            _rows.insert_sql("site_commitments", _rows.COMMITMENT_FIELDS, "?"), _rows.commitment_values(commitment)
        )

    def insert_notification(self, notification: Notification, entry_index: int) -> None:
        self._require_transaction()
        n = notification
        with self._refusing_duplicates(id_unavailable("notification", [n.id]).message):
            self._conn.execute(
                _rows.insert_sql("notifications", _rows.NOTIFICATION_FIELDS, "?"),
                _rows.notification_values(n, entry_index),
            )
        self._conn.executemany(
            "INSERT INTO notification_sites (notification_id, site_id) VALUES (?, ?)",
            [(n.id, site_id) for site_id in n.site_ids],
        )
