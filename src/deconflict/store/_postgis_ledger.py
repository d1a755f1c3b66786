"""The ledger half of the PostGIS backend (log entries, nodes, checkpoints, commitments, tokens)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import psycopg

from deconflict.errors import NotFound
from deconflict.model import Incident, Notification
from deconflict.store.base import Acknowledgement, LogEntryRow, NodeKey, SiteCommitment, TokenRecord
from deconflict.times import TimeSpan, format_utc

__all__ = ["PostGISLedgerMixin"]

_PAGE_ROWS = 2_000
_ENTRY_COLUMNS = "idx, kind, data, leaf_hash, logged_at"


def _span(start: str, end: str, precision: str) -> TimeSpan:
    return TimeSpan(datetime.fromisoformat(start), datetime.fromisoformat(end), precision)


def _entry(row: tuple[Any, ...]) -> LogEntryRow:
    return LogEntryRow(int(row[0]), str(row[1]), bytes(row[2]), bytes(row[3]), str(row[4]))


def _token(row: tuple[Any, ...]) -> TokenRecord:
    return TokenRecord(str(row[0]), str(row[1]), tuple(str(row[2]).split()), row[3], str(row[4]), row[5])


class PostGISLedgerMixin:
    """Ledger storage for :class:`~deconflict.store.postgis.PostGISStore`."""

    _conn: psycopg.Connection[tuple[Any, ...]]
    _INCIDENT_COLUMNS: str

    def _require_transaction(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def _refusing_duplicates(self, message: str) -> AbstractContextManager[None]:  # pragma: no cover
        raise NotImplementedError

    def _incident_from_row(self, row: tuple[Any, ...]) -> Incident:  # pragma: no cover
        raise NotImplementedError

    # -- incidents and their log entries ---------------------------------------------------
    def incidents_in_entry(self, entry_index: int) -> list[Incident]:
        rows = self._conn.execute(
            f"SELECT {self._INCIDENT_COLUMNS} FROM incidents WHERE entry_idx = %s ORDER BY entry_pos",
            (entry_index,),
        ).fetchall()
        return [self._incident_from_row(row) for row in rows]

    def incident_entry(self, incident_id: str) -> tuple[int, int] | None:
        row = self._conn.execute("SELECT entry_idx, entry_pos FROM incidents WHERE id = %s", (incident_id,)).fetchone()
        if row is None or row[0] is None:
            return None
        return int(row[0]), int(row[1])

    # -- the log ---------------------------------------------------------------------------
    def log_size(self) -> int:
        row = self._conn.execute("SELECT coalesce(max(idx) + 1, 0) FROM log_entries").fetchone()
        return int(row[0]) if row else 0

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
            cursor.executemany(
                "INSERT INTO log_entries (idx, kind, data, leaf_hash, logged_at) VALUES (%s, %s, %s, %s, %s)",
                [(e.index, e.kind, e.data, e.leaf_hash, e.logged_at) for e in entries],
            )
            if nodes:
                cursor.executemany(
                    "INSERT INTO log_nodes (level, idx, hash) VALUES (%s, %s, %s)",
                    [(level, idx, digest) for (level, idx), digest in nodes],
                )

    def log_entries(self, start: int, end: int) -> list[LogEntryRow]:
        rows = self._conn.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM log_entries WHERE idx >= %s AND idx < %s ORDER BY idx", (start, end)
        ).fetchall()
        return [_entry(row) for row in rows]

    def log_entries_of_kind(self, kind: str) -> list[LogEntryRow]:
        rows = self._conn.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM log_entries WHERE kind = %s ORDER BY idx", (kind,)
        ).fetchall()
        return [_entry(row) for row in rows]

    def log_iter_entries(self) -> Iterator[LogEntryRow]:
        """Every entry in index order, read in pages so a large log is never all in memory."""
        after: int | None = None
        while True:
            if after is None:
                rows = self._conn.execute(
                    f"SELECT {_ENTRY_COLUMNS} FROM log_entries ORDER BY idx LIMIT %s", (_PAGE_ROWS,)
                ).fetchall()
            else:
                rows = self._conn.execute(
                    f"SELECT {_ENTRY_COLUMNS} FROM log_entries WHERE idx > %s ORDER BY idx LIMIT %s",
                    (after, _PAGE_ROWS),
                ).fetchall()
            for row in rows:
                yield _entry(row)
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

    def save_checkpoint(self, size: int, note: str, created_at: str) -> None:
        self._require_transaction()
        self._conn.execute(
            "INSERT INTO checkpoints (size, note, created_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (size) DO UPDATE SET note = excluded.note",
            (size, note, created_at),
        )

    def list_checkpoints(self) -> list[tuple[int, str, str]]:
        rows = self._conn.execute("SELECT size, note, created_at FROM checkpoints ORDER BY size").fetchall()
        return [(int(size), str(note), str(created)) for size, note, created in rows]

    # -- records the log commits to ----------------------------------------------------------
    def save_site_commitment(self, commitment: SiteCommitment) -> None:
        c = commitment
        with self._refusing_duplicates("site commitment already stored"):
            self._conn.execute(
                "INSERT INTO site_commitments (site_id, entry_idx, salt, commitment, record) "
                "VALUES (%s, %s, %s, %s, %s)",
                (c.site_id, c.entry_index, c.salt, c.commitment, c.record),
            )

    def site_commitments(self, site_id: str | None = None) -> list[SiteCommitment]:
        sql = "SELECT site_id, entry_idx, salt, commitment, record FROM site_commitments"
        params: tuple[Any, ...] = ()
        if site_id is not None:
            sql += " WHERE site_id = %s"
            params = (site_id,)
        rows = self._conn.execute(sql + " ORDER BY entry_idx", params).fetchall()
        return [SiteCommitment(str(a), int(b), bytes(c), str(d), bytes(e)) for a, b, c, d, e in rows]

    def insert_notification(self, notification: Notification, entry_index: int) -> None:
        n = notification
        with self._refusing_duplicates(f"notification id {n.id!r} already exists"):
            cursor = self._conn.cursor()
            cursor.execute(
                "INSERT INTO notifications (id, entry_idx, sender, recipient, notified_start, notified_end, "
                "precision, channel, reference, text) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (n.id, entry_index, n.sender, n.recipient, format_utc(n.notified_at.start),
                 format_utc(n.notified_at.end), n.notified_at.precision, n.channel, n.reference, n.text),
            )  # fmt: skip
            cursor.executemany(
                "INSERT INTO notification_sites (notification_id, site_id) VALUES (%s, %s)",
                [(n.id, site_id) for site_id in n.site_ids],
            )

    def list_notifications(self, site_id: str | None = None) -> list[tuple[Notification, int]]:
        sql = (
            "SELECT n.id, n.entry_idx, n.sender, n.recipient, n.notified_start, n.notified_end, n.precision, "
            "n.channel, n.reference, n.text FROM notifications n"
        )
        params: tuple[Any, ...] = ()
        if site_id is not None:
            sql += " WHERE n.id IN (SELECT notification_id FROM notification_sites WHERE site_id = %s)"
            params = (site_id,)
        rows = self._conn.execute(sql + " ORDER BY n.entry_idx", params).fetchall()
        sites: dict[str, list[str]] = {}
        for notification_id, sid in self._conn.execute(
            "SELECT notification_id, site_id FROM notification_sites ORDER BY seq"
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
        a = acknowledgement
        with self._refusing_duplicates(f"acknowledgement id {a.id!r} already exists"):
            self._conn.execute(
                "INSERT INTO acknowledgements (id, entry_idx, notification_id, recipient, at_start, at_end, "
                "precision, reference, text) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (a.id, entry_index, a.notification_id, a.recipient, format_utc(a.at.start), format_utc(a.at.end),
                 a.at.precision, a.reference, a.text),
            )  # fmt: skip

    def list_acknowledgements(self, notification_id: str | None = None) -> list[tuple[Acknowledgement, int]]:
        sql = (
            "SELECT id, entry_idx, notification_id, recipient, at_start, at_end, precision, reference, text "
            "FROM acknowledgements"
        )
        params: tuple[Any, ...] = ()
        if notification_id is not None:
            sql += " WHERE notification_id = %s"
            params = (notification_id,)
        rows = self._conn.execute(sql + " ORDER BY entry_idx", params).fetchall()
        return [(Acknowledgement(r[0], r[2], r[3], _span(r[4], r[5], r[6]), r[7], r[8]), int(r[1])) for r in rows]

    # -- API tokens --------------------------------------------------------------------------
    def insert_token(self, token: TokenRecord) -> None:
        with self._refusing_duplicates(f"token id {token.id!r} already exists"):
            self._conn.execute(
                "INSERT INTO api_tokens (id, secret_hash, scopes, name, created_at, revoked_at) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (token.id, token.secret_hash, " ".join(token.scopes), token.name, token.created_at, token.revoked_at),
            )

    def get_token(self, token_id: str) -> TokenRecord | None:
        row = self._conn.execute(
            "SELECT id, secret_hash, scopes, name, created_at, revoked_at FROM api_tokens WHERE id = %s", (token_id,)
        ).fetchone()
        return None if row is None else _token(row)

    def list_tokens(self) -> list[TokenRecord]:
        rows = self._conn.execute(
            "SELECT id, secret_hash, scopes, name, created_at, revoked_at FROM api_tokens ORDER BY created_at, id"
        ).fetchall()
        return [_token(row) for row in rows]

    def revoke_token(self, token_id: str, revoked_at: str) -> None:
        self._require_transaction()
        cursor = self._conn.execute(
            "UPDATE api_tokens SET revoked_at = %s WHERE id = %s AND revoked_at IS NULL", (revoked_at, token_id)
        )
        if cursor.rowcount == 0:
            raise NotFound(f"no active token with id {token_id!r}")
