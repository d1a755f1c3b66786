"""The ledger half of the SQLite backend (log entries, nodes, checkpoints, commitments)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from deconflict.errors import ConflictError, NotFound
from deconflict.model import Incident, Notification
from deconflict.store.base import Acknowledgement, LogEntryRow, NodeKey, SiteCommitment, TokenRecord
from deconflict.times import TimeSpan, format_utc

__all__ = ["SQLiteLedgerMixin"]


def _span(start: str, end: str, precision: str) -> TimeSpan:
    return TimeSpan(datetime.fromisoformat(start), datetime.fromisoformat(end), precision)


def _blob(value: Any) -> bytes:
    """Bytes of a BLOB column, also when someone stored TEXT there (verify must see it, not crash)."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


class SQLiteLedgerMixin:
    """Ledger storage for :class:`~deconflict.store.sqlite.SQLiteStore`."""

    _conn: sqlite3.Connection

    def _write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:  # pragma: no cover
        raise NotImplementedError

    def _require_transaction(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def _incident_from_row(self, row: tuple[Any, ...]) -> Incident:  # pragma: no cover
        raise NotImplementedError

    _INCIDENT_COLUMNS: str

    # -- incidents and their log entries ---------------------------------------------------
    def incidents_in_entry(self, entry_index: int) -> list[Incident]:
        rows = self._conn.execute(
            f"SELECT {self._INCIDENT_COLUMNS} FROM incidents WHERE entry_idx = ? ORDER BY entry_pos",
            (entry_index,),
        ).fetchall()
        return [self._incident_from_row(row) for row in rows]

    def incident_entry(self, incident_id: str) -> tuple[int, int] | None:
        row = self._conn.execute("SELECT entry_idx, entry_pos FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        if row is None or row[0] is None:
            return None
        return int(row[0]), int(row[1])

    # -- the log ---------------------------------------------------------------------------
    def log_size(self) -> int:
        row = self._conn.execute("SELECT coalesce(max(idx) + 1, 0) FROM log_entries").fetchone()
        return int(row[0])

    def log_get_nodes(self, keys: list[NodeKey]) -> dict[NodeKey, bytes]:
        found: dict[NodeKey, bytes] = {}
        for start in range(0, len(keys), 400):
            chunk = keys[start : start + 400]
            clause = " OR ".join("(level = ? AND idx = ?)" for _ in chunk)
            params = [value for key in chunk for value in key]
            for level, idx, digest in self._conn.execute(
                f"SELECT level, idx, hash FROM log_nodes WHERE {clause}", params
            ):
                found[(int(level), int(idx))] = _blob(digest)
        return found

    def log_append(self, entries: Sequence[LogEntryRow], nodes: Sequence[tuple[NodeKey, bytes]]) -> None:
        self._require_transaction()
        try:
            self._conn.executemany(
                "INSERT INTO log_entries (idx, kind, data, leaf_hash, logged_at) VALUES (?, ?, ?, ?, ?)",
                [(e.index, e.kind, e.data, e.leaf_hash, e.logged_at) for e in entries],
            )
            self._conn.executemany(
                "INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)",
                [(level, idx, digest) for (level, idx), digest in nodes],
            )
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"log index already taken (concurrent append?): {exc}") from exc

    @staticmethod
    def _entry(row: tuple[Any, ...]) -> LogEntryRow:
        return LogEntryRow(int(row[0]), str(row[1]), _blob(row[2]), _blob(row[3]), str(row[4]))

    def log_entries(self, start: int, end: int) -> list[LogEntryRow]:
        rows = self._conn.execute(
            "SELECT idx, kind, data, leaf_hash, logged_at FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx",
            (start, end),
        ).fetchall()
        return [self._entry(row) for row in rows]

    def log_entries_of_kind(self, kind: str) -> list[LogEntryRow]:
        rows = self._conn.execute(
            "SELECT idx, kind, data, leaf_hash, logged_at FROM log_entries WHERE kind = ? ORDER BY idx", (kind,)
        ).fetchall()
        return [self._entry(row) for row in rows]

    def log_iter_entries(self) -> Iterator[LogEntryRow]:
        cursor = self._conn.execute("SELECT idx, kind, data, leaf_hash, logged_at FROM log_entries ORDER BY idx")
        for row in cursor:
            yield self._entry(row)

    def log_iter_nodes(self) -> Iterator[tuple[NodeKey, bytes]]:
        for level, idx, digest in self._conn.execute("SELECT level, idx, hash FROM log_nodes ORDER BY level, idx"):
            yield (int(level), int(idx)), _blob(digest)

    def save_checkpoint(self, size: int, note: str, created_at: str) -> None:
        self._require_transaction()
        self._conn.execute(
            "INSERT INTO checkpoints (size, note, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT(size) DO UPDATE SET note = excluded.note",
            (size, note, created_at),
        )

    def list_checkpoints(self) -> list[tuple[int, str, str]]:
        rows = self._conn.execute("SELECT size, note, created_at FROM checkpoints ORDER BY size").fetchall()
        return [(int(size), str(note), str(created)) for size, note, created in rows]

    # -- records the log commits to ----------------------------------------------------------
    def save_site_commitment(self, commitment: SiteCommitment) -> None:
        self._require_transaction()
        self._conn.execute(
            "INSERT INTO site_commitments (site_id, entry_idx, salt, commitment, record) VALUES (?, ?, ?, ?, ?)",
            (commitment.site_id, commitment.entry_index, commitment.salt, commitment.commitment, commitment.record),
        )

    def site_commitments(self, site_id: str | None = None) -> list[SiteCommitment]:
        sql = "SELECT site_id, entry_idx, salt, commitment, record FROM site_commitments"
        params: tuple[Any, ...] = ()
        if site_id is not None:
            sql += " WHERE site_id = ?"
            params = (site_id,)
        rows = self._conn.execute(sql + " ORDER BY entry_idx", params).fetchall()
        return [SiteCommitment(str(a), int(b), bytes(c), str(d), bytes(e)) for a, b, c, d, e in rows]

    def insert_notification(self, notification: Notification, entry_index: int) -> None:
        self._require_transaction()
        n = notification
        try:
            self._conn.execute(
                "INSERT INTO notifications (id, entry_idx, sender, recipient, notified_start, notified_end, "
                "precision, channel, reference, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (n.id, entry_index, n.sender, n.recipient, format_utc(n.notified_at.start),
                 format_utc(n.notified_at.end), n.notified_at.precision, n.channel, n.reference, n.text),
            )  # fmt: skip
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"notification id {n.id!r} already exists") from exc
        self._conn.executemany(
            "INSERT INTO notification_sites (notification_id, site_id) VALUES (?, ?)",
            [(n.id, site_id) for site_id in n.site_ids],
        )

    def list_notifications(self, site_id: str | None = None) -> list[tuple[Notification, int]]:
        sql = (
            "SELECT n.id, n.entry_idx, n.sender, n.recipient, n.notified_start, n.notified_end, n.precision, "
            "n.channel, n.reference, n.text FROM notifications n"
        )
        params: tuple[Any, ...] = ()
        if site_id is not None:
            sql += " WHERE n.id IN (SELECT notification_id FROM notification_sites WHERE site_id = ?)"
            params = (site_id,)
        rows = self._conn.execute(sql + " ORDER BY n.entry_idx", params).fetchall()
        sites: dict[str, list[str]] = {}
        for notification_id, sid in self._conn.execute(
            "SELECT notification_id, site_id FROM notification_sites ORDER BY rowid"
        ):
            sites.setdefault(notification_id, []).append(sid)
        return [
            (
                Notification(
                    id=row[0], site_ids=tuple(sites.get(row[0], ())), recipient=row[3],
                    notified_at=_span(row[4], row[5], row[6]), channel=row[7], reference=row[8],
                    text=row[9], sender=row[2],
                ),
                int(row[1]),
            )
            for row in rows
        ]  # fmt: skip

    def insert_acknowledgement(self, acknowledgement: Acknowledgement, entry_index: int) -> None:
        self._require_transaction()
        a = acknowledgement
        try:
            self._conn.execute(
                "INSERT INTO acknowledgements (id, entry_idx, notification_id, recipient, at_start, at_end, "
                "precision, reference, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (a.id, entry_index, a.notification_id, a.recipient, format_utc(a.at.start), format_utc(a.at.end),
                 a.at.precision, a.reference, a.text),
            )  # fmt: skip
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"acknowledgement id {a.id!r} already exists") from exc

    def list_acknowledgements(self, notification_id: str | None = None) -> list[tuple[Acknowledgement, int]]:
        sql = (
            "SELECT id, entry_idx, notification_id, recipient, at_start, at_end, precision, reference, text "
            "FROM acknowledgements"
        )
        params: tuple[Any, ...] = ()
        if notification_id is not None:
            sql += " WHERE notification_id = ?"
            params = (notification_id,)
        rows = self._conn.execute(sql + " ORDER BY entry_idx", params).fetchall()
        return [(Acknowledgement(r[0], r[2], r[3], _span(r[4], r[5], r[6]), r[7], r[8]), int(r[1])) for r in rows]

    # -- API tokens --------------------------------------------------------------------------
    def insert_token(self, token: TokenRecord) -> None:
        self._require_transaction()
        try:
            self._conn.execute(
                "INSERT INTO api_tokens (id, secret_hash, scopes, name, created_at, revoked_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (token.id, token.secret_hash, " ".join(token.scopes), token.name, token.created_at, token.revoked_at),
            )
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"token id {token.id!r} already exists") from exc

    @staticmethod
    def _token(row: tuple[Any, ...]) -> TokenRecord:
        return TokenRecord(str(row[0]), str(row[1]), tuple(str(row[2]).split()), row[3], str(row[4]), row[5])

    def get_token(self, token_id: str) -> TokenRecord | None:
        row = self._conn.execute(
            "SELECT id, secret_hash, scopes, name, created_at, revoked_at FROM api_tokens WHERE id = ?", (token_id,)
        ).fetchone()
        return None if row is None else self._token(row)

    def list_tokens(self) -> list[TokenRecord]:
        rows = self._conn.execute(
            "SELECT id, secret_hash, scopes, name, created_at, revoked_at FROM api_tokens ORDER BY created_at, id"
        ).fetchall()
        return [self._token(row) for row in rows]

    def revoke_token(self, token_id: str, revoked_at: str) -> None:
        self._require_transaction()
        cursor = self._conn.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (revoked_at, token_id)
        )
        if cursor.rowcount == 0:
            raise NotFound(f"no active token with id {token_id!r}")
