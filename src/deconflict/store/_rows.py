"""Rows ↔ records, shared by the SQLite and PostGIS backends.

Both backends store the same columns in the same order, so turning a fetched row tuple
into a :class:`~deconflict.model.Site`, :class:`~deconflict.model.Incident`, … (and a
record into the values of an ``INSERT``) is written once here. Only the SQL that really
differs between the engines stays in each backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from importlib import resources
from typing import Any

from deconflict.export import extra_text, sources_text
from deconflict.model import Acknowledgement, Claim, Incident, Notification, Site, Source
from deconflict.store.base import (
    CorrectionRow,
    ImportRecord,
    IncidentVersion,
    LogEntryRow,
    SiteCommitment,
    TokenRecord,
)
from deconflict.times import TimeSpan, format_utc, now_utc_text

# -- column lists (the order the converters below read and write) ----------------------------
SITE_SELECT = (
    "s.pk, s.id, s.name, s.kind, s.owner, s.lat, s.lon, s.radius_m, s.address, s.city, "
    "s.footprint_wkt, s.approximate, s.source, s.notes"
)
SITE_INSERT = (
    "id", "name", "kind", "owner", "lat", "lon", "radius_m", "address", "city", "city_geonameid",
    "footprint_wkt", "approximate", "source", "notes", "import_id", "created_at",
)  # fmt: skip
INCIDENT_FIELDS = (
    "id", "time_start", "time_end", "time_precision", "lat", "lon", "uncertainty_m", "uncertainty_model",
    "kind", "weapon", "confidence", "source_url", "source_sha256", "source_title", "notes", "provenance",
    "status", "extra", "more_sources",
)  # fmt: skip
INCIDENT_SELECT = ", ".join(INCIDENT_FIELDS)
INCIDENT_INSERT = (*INCIDENT_FIELDS, "import_id", "entry_idx", "entry_pos")
IMPORT_INSERT = ("target", "filename", "sha256", "format", "rows", "imported_at")
IMPORT_SELECT = ", ".join((*IMPORT_INSERT, "id"))
ENTRY_FIELDS = ("idx", "kind", "data", "leaf_hash", "logged_at")
ENTRY_SELECT = ", ".join(ENTRY_FIELDS)
NODE_FIELDS = ("level", "idx", "hash")
COMMITMENT_FIELDS = ("site_id", "entry_idx", "salt", "commitment", "record")
NOTIFICATION_FIELDS = (
    "id", "entry_idx", "sender", "recipient", "notified_start", "notified_end", "precision", "channel",
    "reference", "text",
)  # fmt: skip
ACKNOWLEDGEMENT_FIELDS = (
    "id", "entry_idx", "notification_id", "recipient", "at_start", "at_end", "precision", "reference", "text"
)  # fmt: skip
CORRECTION_FIELDS = ("entry_idx", "kind", "target", "target_id", "supersedes_idx", "reason")
VERSION_FIELDS = ("incident_id", "entry_idx", "entry_pos", "record", "status", "superseded_idx")
TOKEN_FIELDS = ("id", "secret_hash", "scopes", "name", "created_at", "revoked_at")
CLAIM_FIELDS = (
    "id", "kind", "status", "source_sha256", "source_name", "span_start", "span_end", "quote", "confidence",
    "sender", "recipient", "not_before", "not_after", "bounds_quote", "response_kind", "response_date",
    "date_stated", "parties", "site_ids", "site_candidates", "created_at", "reviewed_at", "review_note",
    "notification_id",
)  # fmt: skip
CLAIM_INSERT = (*CLAIM_FIELDS, "import_id")
#: The guarantees tables (migration 0005) and their columns: what :meth:`Store.insert_rows`,
#: :meth:`Store.select_rows` and :meth:`Store.update_rows` accept (nothing else reaches SQL).
GUARANTEE_TABLES: dict[str, tuple[str, ...]] = {
    "movements": ("id", "owner", "entry_idx", "start_at", "end_at", "salt", "commitment", "record"),
    "notification_movements": ("notification_id", "movement_id"),
    "commitments": ("id", "party", "entry_idx"),
    "commitment_objects": ("commitment_id", "object_kind", "object_id", "owner"),
    "commitment_acknowledgements": ("id", "commitment_id", "entry_idx"),
    "deadlines_missed": ("commitment_id", "entry_idx"),
    "alerts": ("id", "alert_key", "owner", "object_kind", "object_id", "incident_id", "commitment_id", "entry_idx"),
    "alert_acknowledgements": ("alert_id", "entry_idx"),
    "alert_channels": ("id", "owner", "kind", "target", "options", "created_at", "removed_at"),
    "alert_deliveries": (
        "id", "alert_id", "channel_id", "status", "attempts", "created_at", "next_attempt_at", "lease_until",
        "claimed_by", "last_error", "delivered_at",
    ),
    "alert_delivery_attempts": (
        "delivery_id", "attempt", "started_at", "finished_at", "outcome", "error", "claimed_by",
    ),
}  # fmt: skip
#: Columns holding bytes (read back as ``bytes`` whatever the driver returns).
GUARANTEE_BLOBS = frozenset({"salt", "record"})


def guarantee_columns(table: str, columns: Sequence[str]) -> tuple[str, ...]:
    """``columns`` after checking that ``table`` is a guarantees table and has every one of them."""
    known = GUARANTEE_TABLES.get(table)
    if known is None:
        raise ValueError(f"not a guarantees table: {table!r}")
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ValueError(f"table {table} has no column(s) {', '.join(unknown)}")
    return tuple(columns)


TOKEN_SELECT = ", ".join(TOKEN_FIELDS)


#: The tables whose rows are a function of the log (:mod:`deconflict.ledger.state` rebuilds them from
#: the entries and compares), each as the SELECT that reads it back as canonical rows: the columns the
#: log determines, sorted. ``notification_sites`` keeps each notification's order of sites (``{order}``).
STATE_SELECT: dict[str, str] = {
    "sites": "SELECT id, withdrawn_idx FROM sites ORDER BY id",
    "site_names": "SELECT s.id AS site_id, n.lang, n.name, n.norm FROM site_names n "
    "LEFT JOIN sites s ON s.pk = n.site_pk ORDER BY s.id, n.lang, n.name",
    "site_commitments": "SELECT site_id, entry_idx, salt, commitment, record FROM site_commitments "
    "ORDER BY site_id, entry_idx",
    "notifications": "SELECT id, entry_idx, amended_idx, withdrawn_idx, sender, recipient, notified_start, "
    "notified_end, precision, channel, reference, text FROM notifications ORDER BY id",
    "notification_sites": "SELECT notification_id, site_id FROM notification_sites ORDER BY {order}",
    "notification_movements": "SELECT notification_id, movement_id FROM notification_movements "
    "ORDER BY notification_id, movement_id",
    "acknowledgements": "SELECT id, entry_idx, withdrawn_idx, notification_id, recipient, at_start, at_end, "
    "precision, reference, text FROM acknowledgements ORDER BY id",
    "incidents": "SELECT i.id, i.entry_idx, i.entry_pos, i.status, m.filename AS import_filename, "
    "m.sha256 AS import_sha256, m.format AS import_format, i.import_id FROM incidents i "
    "LEFT JOIN imports m ON m.id = i.import_id ORDER BY i.id",
    "incident_versions": "SELECT incident_id, entry_idx, entry_pos, record, status, superseded_idx "
    "FROM incident_versions ORDER BY entry_idx, entry_pos",
    "corrections": "SELECT entry_idx, kind, target, target_id, supersedes_idx, reason FROM corrections "
    "ORDER BY entry_idx, target, target_id",
    **{table: f"SELECT {', '.join(columns)} FROM {table} ORDER BY {columns[0]}"
       for table, columns in GUARANTEE_TABLES.items()
       if table not in ("notification_movements", "alert_channels", "alert_deliveries", "alert_delivery_attempts")},
}  # fmt: skip
#: Columns of :data:`STATE_SELECT` holding bytes.
STATE_BLOBS = frozenset({"salt", "record"})


def insert_sql(table: str, columns: Sequence[str], mark: str) -> str:
    """``INSERT INTO table (columns) VALUES (mark, mark, …)`` with one backend's placeholder."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"


# -- small helpers --------------------------------------------------------------------------
def now() -> str:
    """The current time as stored (ISO 8601 UTC text)."""
    return now_utc_text()


def read_migrations(package: str) -> list[tuple[int, str, str]]:
    """The ``.sql`` files of ``package`` as ``(version, name, sql)``, in order."""
    found = []
    for entry in resources.files(package).iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def like_pattern(key: str) -> str:
    """A ``LIKE … ESCAPE '\\'`` pattern matching ``key`` anywhere."""
    return "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def span(start: str, end: str, precision: str) -> TimeSpan:
    return TimeSpan(datetime.fromisoformat(start), datetime.fromisoformat(end), precision)


def blob(value: Any) -> bytes:
    """Bytes of a BLOB column, also when someone stored TEXT there (verify must see it, not crash)."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


# -- row → record ---------------------------------------------------------------------------
def site_from_row(row: Sequence[Any], names: Sequence[tuple[str, str]]) -> Site:
    """A site from a :data:`SITE_SELECT` row and its other names ``(lang, name)``."""
    return Site(
        id=row[1], name=row[2], kind=row[3], owner=row[4], lat=row[5], lon=row[6], radius_m=row[7],
        address=row[8], city=row[9], footprint_wkt=row[10], approximate=bool(row[11]), source=row[12],
        notes=row[13], names=tuple(names),
    )  # fmt: skip


def incident_from_row(row: Sequence[Any]) -> Incident:
    """An incident from an :data:`INCIDENT_SELECT` row."""
    return Incident(
        id=row[0], time=span(row[1], row[2], row[3]), lat=row[4], lon=row[5], uncertainty_m=row[6],
        uncertainty_model=row[7], kind=row[8], weapon=row[9], confidence=row[10],
        source=Source(url=row[11], sha256=row[12], title=row[13]), notes=row[14], provenance=row[15],
        status=row[16], extra=extra_from_text(row[17]), more_sources=sources_from_text(row[18]),
    )  # fmt: skip


def extra_from_text(text: str | None) -> tuple[tuple[str, Any], ...]:
    """The ``extra`` column back as sorted ``(name, value)`` pairs."""
    return tuple(sorted(json.loads(text).items())) if text else ()


def sources_from_text(text: str | None) -> tuple[Source, ...]:
    """The ``more_sources`` column back as sources."""
    if not text:
        return ()
    return tuple(Source(item.get("url"), item.get("sha256"), item.get("title")) for item in json.loads(text))


def entry_from_row(row: Sequence[Any], to_bytes: Callable[[Any], bytes] = bytes) -> LogEntryRow:
    """A log entry from an :data:`ENTRY_SELECT` row (``to_bytes`` reads the BLOB columns)."""
    return LogEntryRow(int(row[0]), str(row[1]), to_bytes(row[2]), to_bytes(row[3]), str(row[4]))


def commitment_from_row(row: Sequence[Any]) -> SiteCommitment:
    """A site commitment from a :data:`COMMITMENT_FIELDS` row."""
    site_id, entry_index, salt, commitment, record = row
    return SiteCommitment(str(site_id), int(entry_index), bytes(salt), str(commitment), bytes(record))


def notification_from_row(
    row: Sequence[Any], site_ids: Sequence[str], movement_ids: Sequence[str] = ()
) -> tuple[Notification, int]:
    """A notification and its log index from a :data:`NOTIFICATION_FIELDS` row."""
    notification = Notification(
        id=row[0], site_ids=tuple(site_ids), recipient=row[3], notified_at=span(row[4], row[5], row[6]),
        channel=row[7], reference=row[8], text=row[9], sender=row[2], movement_ids=tuple(sorted(movement_ids)),
    )  # fmt: skip
    return notification, int(row[1])


def acknowledgement_from_row(row: Sequence[Any]) -> tuple[Acknowledgement, int]:
    """An acknowledgement and its log index from an :data:`ACKNOWLEDGEMENT_FIELDS` row."""
    return Acknowledgement(row[0], row[2], row[3], span(row[4], row[5], row[6]), row[7], row[8]), int(row[1])


def token_from_row(row: Sequence[Any]) -> TokenRecord:
    """A token from a :data:`TOKEN_SELECT` row."""
    return TokenRecord(str(row[0]), str(row[1]), tuple(str(row[2]).split()), row[3], str(row[4]), row[5])


# -- record → INSERT values -----------------------------------------------------------------
def import_values(record: ImportRecord) -> tuple[Any, ...]:
    """Values for :data:`IMPORT_INSERT`."""
    return (record.target, record.filename, record.sha256, record.format, record.rows, record.imported_at or now())


def site_values(site: Site, city_id: int | None, import_id: int | None, created_at: str) -> tuple[Any, ...]:
    """Values for :data:`SITE_INSERT`."""
    return (
        site.id, site.name, site.kind, site.owner, site.lat, site.lon, site.radius_m, site.address, site.city,
        city_id, site.footprint_wkt, site.approximate, site.source, site.notes, import_id, created_at,
    )  # fmt: skip


def incident_values(
    incidents: Sequence[Incident], import_id: int | None, entry_index: int | None, first_position: int = 0
) -> list[tuple[Any, ...]]:
    """Values for :data:`INCIDENT_INSERT`, one tuple an incident (its position in the entry last)."""
    return [
        (inc.id, format_utc(inc.time.start), format_utc(inc.time.end), inc.time.precision, inc.lat, inc.lon,
         inc.uncertainty_m, inc.uncertainty_model, inc.kind, inc.weapon, inc.confidence, inc.source.url,
         inc.source.sha256, inc.source.title, inc.notes, inc.provenance, inc.status,
         extra_text(inc.extra) if inc.extra else None,
         sources_text(inc.more_sources) if inc.more_sources else None, import_id, entry_index,
         None if entry_index is None else i)
        for i, inc in enumerate(incidents, start=first_position)
    ]  # fmt: skip


def entry_values(entries: Sequence[LogEntryRow]) -> list[tuple[Any, ...]]:
    """Values for :data:`ENTRY_FIELDS`."""
    return [(e.index, e.kind, e.data, e.leaf_hash, e.logged_at) for e in entries]


def node_values(nodes: Sequence[tuple[tuple[int, int], bytes]]) -> list[tuple[Any, ...]]:
    """Values for :data:`NODE_FIELDS`."""
    return [(level, idx, digest) for (level, idx), digest in nodes]


def commitment_values(c: SiteCommitment) -> tuple[Any, ...]:
    """Values for :data:`COMMITMENT_FIELDS`."""
    return (c.site_id, c.entry_index, c.salt, c.commitment, c.record)


def notification_values(n: Notification, entry_index: int) -> tuple[Any, ...]:
    """Values for :data:`NOTIFICATION_FIELDS`."""
    return (n.id, entry_index, n.sender, n.recipient, format_utc(n.notified_at.start),
            format_utc(n.notified_at.end), n.notified_at.precision, n.channel, n.reference, n.text)  # fmt: skip


def acknowledgement_values(a: Acknowledgement, entry_index: int) -> tuple[Any, ...]:
    """Values for :data:`ACKNOWLEDGEMENT_FIELDS`."""
    return (a.id, entry_index, a.notification_id, a.recipient, format_utc(a.at.start), format_utc(a.at.end),
            a.at.precision, a.reference, a.text)  # fmt: skip


def token_values(token: TokenRecord) -> tuple[Any, ...]:
    """Values for :data:`TOKEN_FIELDS`."""
    return (token.id, token.secret_hash, " ".join(token.scopes), token.name, token.created_at, token.revoked_at)


def _words(value: str | None) -> tuple[str, ...]:
    return tuple(value.split()) if value else ()


def claim_from_row(row: Sequence[Any]) -> Claim:
    """A claim from a :data:`CLAIM_FIELDS` row (lists are stored as space-separated words)."""
    candidates = tuple(_words(group) for group in str(row[19] or "").split(";") if group.strip())
    return Claim(
        id=row[0], kind=row[1], status=row[2], source_sha256=row[3], source_name=row[4],
        span=(int(row[5]), int(row[6])), quote=row[7], confidence=float(row[8]), sender=row[9], recipient=row[10],
        not_before=datetime.fromisoformat(row[11]) if row[11] else None,
        not_after=datetime.fromisoformat(row[12]) if row[12] else None, bounds_quote=row[13], response_kind=row[14],
        response_date=date.fromisoformat(row[15]) if row[15] else None,
        date_stated=None if row[16] is None else bool(row[16]), parties=_words(row[17]), site_ids=_words(row[18]),
        site_candidates=candidates, created_at=str(row[20]), reviewed_at=row[21], review_note=row[22],
        notification_id=row[23],
    )  # fmt: skip


def claim_values(claim: Claim, import_id: int | None) -> tuple[Any, ...]:
    """Values for :data:`CLAIM_INSERT`."""
    c = claim
    return (
        c.id, c.kind, c.status, c.source_sha256, c.source_name, c.span[0], c.span[1], c.quote, c.confidence,
        c.sender, c.recipient, format_utc(c.not_before) if c.not_before else None,
        format_utc(c.not_after) if c.not_after else None, c.bounds_quote, c.response_kind,
        c.response_date.isoformat() if c.response_date else None, c.date_stated, " ".join(c.parties),
        " ".join(c.site_ids), ";".join(" ".join(group) for group in c.site_candidates), c.created_at or now(),
        c.reviewed_at, c.review_note, c.notification_id, import_id,
    )  # fmt: skip


def correction_from_row(row: Sequence[Any]) -> CorrectionRow:
    """A correction from a :data:`CORRECTION_FIELDS` row."""
    return CorrectionRow(int(row[0]), str(row[1]), str(row[2]), str(row[3]),
                         None if row[4] is None else int(row[4]), row[5])  # fmt: skip


def correction_values(c: CorrectionRow) -> tuple[Any, ...]:
    """Values for :data:`CORRECTION_FIELDS`."""
    return (c.entry_index, c.kind, c.target, c.target_id, c.supersedes_index, c.reason)


def version_from_row(row: Sequence[Any], to_bytes: Callable[[Any], bytes] = bytes) -> IncidentVersion:
    """A superseded incident version from a :data:`VERSION_FIELDS` row."""
    return IncidentVersion(str(row[0]), int(row[1]), int(row[2]), to_bytes(row[3]), str(row[4]), int(row[5]))


def version_values(v: IncidentVersion) -> tuple[Any, ...]:
    """Values for :data:`VERSION_FIELDS`."""
    return (v.incident_id, v.entry_index, v.position, v.record, v.status, v.superseded_index)
