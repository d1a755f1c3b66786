"""The storage interface every backend implements: SQLite (the default) and PostgreSQL + PostGIS.

Callers (the library API, CLI and server) only ever use :class:`Store`; a backend is
chosen by :func:`deconflict.store.open_store` from a path or URL.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from deconflict.model import Acknowledgement, Claim, Incident, Notification, Site

NodeKey = tuple[int, int]

__all__ = [
    "ClaimQuery",
    "CorrectionRow",
    "ImportRecord",
    "IncidentQuery",
    "IncidentVersion",
    "LogEntryRow",
    "NodeKey",
    "SiteCommitment",
    "SiteQuery",
    "Store",
    "TimestampRecord",
    "TokenRecord",
    "WitnessPeer",
]


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """A file that was imported: its name, SHA-256 and format (the chain of custody)."""

    target: str
    filename: str
    sha256: str
    format: str
    rows: int
    imported_at: str = ""
    id: int | None = None


@dataclass(frozen=True, slots=True)
class SiteQuery:
    """Filters for :meth:`Store.list_sites`; every field is optional.

    ``near`` is ``(lat, lon)`` and ``within_m`` a geodesic distance in metres; ``search``
    matches any name of the site or of its city, regardless of case, diacritics or script.
    """

    near: tuple[float, float] | None = None
    within_m: float | None = None
    owner: str | None = None
    kind: str | None = None
    search: str | None = None
    ids: tuple[str, ...] | None = None
    limit: int | None = None
    offset: int = 0
    include_withdrawn: bool = False
    city_geonameid: int | None = None


@dataclass(frozen=True, slots=True)
class IncidentQuery:
    """Filters for :meth:`Store.list_incidents` (times are ISO 8601 UTC text)."""

    near: tuple[float, float] | None = None
    within_m: float | None = None
    #: ``(lat, lon, reach_m)``: incidents whose reach box overlaps this disk's box (a superset of
    #: those within reach of a site; :func:`deconflict.relevance.incidents_concerning` filters exactly).
    reaching: tuple[float, float, float] | None = None
    start: str | None = None
    end: str | None = None
    status: str | None = None
    provenance: str | None = None
    confidence: str | None = None
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ClaimQuery:
    """Filters for :meth:`Store.list_claims`; every field is optional."""

    status: str | None = None
    kind: str | None = None
    source_sha256: str | None = None
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class LogEntryRow:
    """One stored log entry: its index, kind, exact bytes, leaf hash and the log's time."""

    index: int
    kind: str
    data: bytes
    leaf_hash: bytes
    logged_at: str


@dataclass(frozen=True, slots=True)
class SiteCommitment:
    """A salted commitment to a site record, logged at ``entry_index``."""

    site_id: str
    entry_index: int
    salt: bytes
    commitment: str
    record: bytes


@dataclass(frozen=True, slots=True)
class CorrectionRow:
    """A record a correction entry touches: which entry, of what kind, what it supersedes, and why.

    ``target`` is ``site``, ``notification``, ``acknowledgement`` or ``incident``;
    ``supersedes_index`` the log entry of the version it replaces (None when there is none).
    """

    entry_index: int
    kind: str
    target: str
    target_id: str
    supersedes_index: int | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class IncidentVersion:
    """An incident version that a revision or merge superseded.

    ``record`` is the canonical record its entry (``entry_index``, at ``position``) commits to,
    ``status`` its review status when superseded, ``superseded_index`` the entry that replaced it.
    """

    incident_id: str
    entry_index: int
    position: int
    record: bytes
    status: str
    superseded_index: int


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token as stored: its public id, the SHA-256 of its secret, its scopes."""

    id: str
    secret_hash: str
    scopes: tuple[str, ...]
    name: str | None
    created_at: str
    revoked_at: str | None = None


@dataclass(frozen=True, slots=True)
class TimestampRecord:
    """An RFC 3161 token over a checkpoint note, verified when it was stored."""

    checkpoint_size: int
    note: str
    tsa_url: str
    response: bytes
    certificates: str
    gen_time: str
    tsa: str
    serial: str
    created_at: str


@dataclass(frozen=True, slots=True)
class WitnessPeer:
    """A tlog-witness the log reports to: its cosigning key and the last size it cosigned."""

    url: str
    key_name: str
    vkey: str
    last_size: int
    updated_at: str


class Store(abc.ABC):
    """A deconflict database. Every write happens inside :meth:`transaction`."""

    location: str

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Context manager: one atomic, durable write transaction (nested calls join it)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""

    @abc.abstractmethod
    def schema_version(self) -> int:
        """The highest applied migration."""

    # -- settings -------------------------------------------------------------------------
    @abc.abstractmethod
    def get_meta(self, key: str) -> str | None:
        """A stored setting, or None."""

    @abc.abstractmethod
    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""

    # -- imports --------------------------------------------------------------------------
    @abc.abstractmethod
    def record_import(self, record: ImportRecord) -> int:
        """Store an import record and return its id."""

    @abc.abstractmethod
    def list_imports(self) -> list[ImportRecord]:
        """Every import, oldest first."""

    # -- sites ----------------------------------------------------------------------------
    @abc.abstractmethod
    def existing_site_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are already stored."""

    @abc.abstractmethod
    def insert_sites(self, sites: Sequence[Site], city_ids: Sequence[int | None], import_id: int | None) -> None:
        """Insert new sites (``city_ids``: GeoNames id of each site's city, or None)."""

    @abc.abstractmethod
    def add_city_names(self, geonameid: int, keys: set[str]) -> None:
        """Store the normalised names of a city so searches by any of them find its sites."""

    @abc.abstractmethod
    def get_site(self, site_id: str) -> Site:
        """The site ``site_id``; raises :class:`~deconflict.errors.NotFound`."""

    @abc.abstractmethod
    def list_sites(self, query: SiteQuery) -> list[tuple[Site, float | None]]:
        """Sites matching ``query`` with their distance in metres from ``query.near``.

        Withdrawn sites are left out unless ``query.include_withdrawn``.
        """

    @abc.abstractmethod
    def count_sites(self) -> int:
        """How many sites are in force (registered and not withdrawn)."""

    @abc.abstractmethod
    def update_site(self, site: Site, city_id: int | None) -> None:
        """Replace the stored fields of ``site.id`` by ``site``'s (an amendment; names and index follow)."""

    @abc.abstractmethod
    def set_site_withdrawn(self, site_id: str, entry_index: int) -> None:
        """Mark a site withdrawn by the log entry ``entry_index``."""

    @abc.abstractmethod
    def site_withdrawn(self, site_id: str) -> int | None:
        """The entry that withdrew ``site_id``, or None while it is in force."""

    # -- incidents ------------------------------------------------------------------------
    @abc.abstractmethod
    def existing_incident_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are already stored."""

    @abc.abstractmethod
    def insert_incidents(
        self,
        incidents: Sequence[Incident],
        import_id: int | None,
        entry_index: int | None = None,
        first_position: int = 0,
    ) -> None:
        """Insert new incidents; ``entry_index`` is the log entry committing to them, in this order.

        ``first_position`` is the position of ``incidents[0]`` in that entry, so that one entry's
        incidents can be inserted in several calls within one transaction.
        """

    @abc.abstractmethod
    def get_incident(self, incident_id: str) -> Incident:
        """The incident ``incident_id``; raises :class:`~deconflict.errors.NotFound`."""

    @abc.abstractmethod
    def set_incident_status(self, incident_id: str, status: str) -> None:
        """Change an incident's review status (``unverified`` → ``confirmed``/``rejected``)."""

    @abc.abstractmethod
    def list_incidents(self, query: IncidentQuery) -> list[Incident]:
        """Incidents matching ``query`` ordered by time then id."""

    @abc.abstractmethod
    def iter_incidents(self, query: IncidentQuery) -> Iterator[Incident]:
        """Like :meth:`list_incidents`, streaming."""

    @abc.abstractmethod
    def count_incidents(self) -> int:
        """How many incidents are stored."""

    @abc.abstractmethod
    def count_matching_incidents(self, query: IncidentQuery) -> int:
        """How many incidents match ``query``'s filters other than ``near``/``within_m`` and paging, counted in SQL."""

    @abc.abstractmethod
    def max_uncertainty_m(self) -> dict[str, float]:
        """The largest ``uncertainty_m`` of the stored incidents, per uncertainty model."""

    @abc.abstractmethod
    def incidents_in_entry(self, entry_index: int, start: int = 0, end: int | None = None) -> list[Incident]:
        """The incidents a log entry commits to (at positions ``start <= p < end``), in their order in the entry."""

    @abc.abstractmethod
    def incident_batches(self) -> dict[str, int | None]:
        """Every incident in force with the log entry (batch) committing to it."""

    @abc.abstractmethod
    def incident_entry(self, incident_id: str) -> tuple[int, int] | None:
        """``(entry_index, position)`` of the log entry committing to an incident, or None."""

    # -- ledger ---------------------------------------------------------------------------
    @abc.abstractmethod
    def log_size(self) -> int:
        """Number of entries in the log."""

    def lock_log(self) -> None:  # noqa: B027 - an optional hook, not an abstract method
        """Become the log's only appender until the current transaction ends.

        :class:`~deconflict.ledger.log.Ledger` calls this inside its write transaction before
        it reads :meth:`log_size`, so concurrent appenders never compute the same index. The
        default does nothing: a backend whose write transactions already exclude each other
        (SQLite's ``BEGIN IMMEDIATE``) needs no more.
        """

    @abc.abstractmethod
    def log_get_nodes(self, keys: list[NodeKey]) -> dict[NodeKey, bytes]:
        """Stored subtree hashes for ``keys`` (missing keys are left out)."""

    @abc.abstractmethod
    def log_append(self, entries: Sequence[LogEntryRow], nodes: Sequence[tuple[NodeKey, bytes]]) -> None:
        """Store new entries and the subtree nodes they complete (inside a transaction)."""

    @abc.abstractmethod
    def log_entries(self, start: int, end: int) -> list[LogEntryRow]:
        """Entries with ``start <= index < end``, in order."""

    @abc.abstractmethod
    def log_entries_of_kind(self, kind: str) -> list[LogEntryRow]:
        """Every entry of one kind, in index order."""

    @abc.abstractmethod
    def log_iter_entries(self) -> Iterator[LogEntryRow]:
        """Every stored entry in index order (as stored, gaps included)."""

    @abc.abstractmethod
    def log_iter_nodes(self) -> Iterator[tuple[NodeKey, bytes]]:
        """Every stored node, ordered by level then index."""

    @abc.abstractmethod
    def save_checkpoint(self, size: int, note: str, created_at: str) -> None:
        """Store a signed checkpoint (replacing one of the same size, e.g. with cosignatures)."""

    @abc.abstractmethod
    def list_checkpoints(self) -> list[tuple[int, str, str]]:
        """Every stored checkpoint as ``(size, note, created_at)``, smallest first."""

    @abc.abstractmethod
    def save_site_commitment(self, commitment: SiteCommitment) -> None:
        """Store a site commitment (its salt stays private)."""

    @abc.abstractmethod
    def site_commitments(self, site_id: str | None = None) -> list[SiteCommitment]:
        """Commitments of one site (or all), oldest first."""

    @abc.abstractmethod
    def insert_notification(self, notification: Notification, entry_index: int) -> None:
        """Store a notification logged at ``entry_index``."""

    @abc.abstractmethod
    def list_notifications(
        self, site_id: str | None = None, *, include_withdrawn: bool = False
    ) -> list[tuple[Notification, int]]:
        """Notifications (of one site, or all) as in force, oldest first, with the index of the entry
        that says so (the latest amendment, else the notification's own entry); withdrawn ones only
        when ``include_withdrawn``."""

    @abc.abstractmethod
    def update_notification(self, notification: Notification, amended_index: int) -> None:
        """Replace a notification's fields (and sites) by an amendment logged at ``amended_index``."""

    @abc.abstractmethod
    def set_notification_withdrawn(self, notification_id: str, entry_index: int) -> None:
        """Mark a notification withdrawn by the log entry ``entry_index``."""

    @abc.abstractmethod
    def notification_state(self, notification_id: str) -> tuple[int, int | None, int | None]:
        """``(entry_index, amended_index, withdrawn_index)`` of a notification; raises NotFound."""

    @abc.abstractmethod
    def insert_acknowledgement(self, acknowledgement: Acknowledgement, entry_index: int) -> None:
        """Store an acknowledgement logged at ``entry_index``."""

    @abc.abstractmethod
    def list_acknowledgements(
        self, notification_id: str | None = None, *, include_withdrawn: bool = False
    ) -> list[tuple[Acknowledgement, int]]:
        """Acknowledgements (of one notification, or all) with their log index; those withdrawn, or of a
        withdrawn notification, only when ``include_withdrawn``."""

    @abc.abstractmethod
    def set_acknowledgement_withdrawn(self, acknowledgement_id: str, entry_index: int) -> None:
        """Mark an acknowledgement withdrawn by the log entry ``entry_index``."""

    @abc.abstractmethod
    def acknowledgement_state(self, acknowledgement_id: str) -> tuple[Acknowledgement, int, int | None]:
        """``(acknowledgement, entry_index, withdrawn_index)``; raises NotFound."""

    # -- corrections ------------------------------------------------------------------------
    @abc.abstractmethod
    def insert_corrections(self, rows: Sequence[CorrectionRow]) -> None:
        """Store what correction entries touch (inside a transaction)."""

    @abc.abstractmethod
    def list_corrections(self, target: str | None = None, target_id: str | None = None) -> list[CorrectionRow]:
        """Corrections (of one target kind and id, or all), oldest entry first."""

    @abc.abstractmethod
    def archive_incidents(self, versions: Sequence[IncidentVersion]) -> None:
        """Move superseded incidents out of the effective table into the versions kept for the log."""

    @abc.abstractmethod
    def incident_versions(
        self,
        *,
        incident_id: str | None = None,
        entry_index: int | None = None,
        positions: tuple[int, int] | None = None,
    ) -> list[IncidentVersion]:
        """Superseded incident versions (of one incident, or of one entry, or all; at positions
        ``[start, end)`` when given), by entry and position."""

    @abc.abstractmethod
    def save_batch_nodes(self, entry_index: int, nodes: Sequence[tuple[NodeKey, bytes]]) -> None:
        """Store upper-level subtree hashes of a batch entry's records (:mod:`deconflict.ledger.batches`)."""

    @abc.abstractmethod
    def batch_nodes(self, entry_index: int) -> dict[NodeKey, bytes]:
        """The stored subtree hashes of a batch entry's records (empty for batches logged before they were kept)."""

    # -- claims read from reports ------------------------------------------------------------
    @abc.abstractmethod
    def existing_claim_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are already stored."""

    @abc.abstractmethod
    def insert_claims(self, claims: Sequence[Claim], import_id: int | None) -> None:
        """Insert new claims (inside a transaction); a stored id raises :class:`~deconflict.errors.ConflictError`."""

    @abc.abstractmethod
    def get_claim(self, claim_id: str) -> Claim:
        """The claim ``claim_id``; raises :class:`~deconflict.errors.NotFound`."""

    @abc.abstractmethod
    def list_claims(self, query: ClaimQuery) -> list[Claim]:
        """Claims matching ``query``, in the order they were stored (source, then position in it)."""

    @abc.abstractmethod
    def count_claims(self, query: ClaimQuery) -> int:
        """How many claims match ``query`` (its limit and offset aside)."""

    @abc.abstractmethod
    def review_claim(
        self, claim_id: str, status: str, reviewed_at: str, note: str | None, notification_id: str | None
    ) -> None:
        """Record a person's decision on an unverified claim; raises NotFound / ConflictError."""

    # -- guarantees (movements, commitments, alerts, the alert outbox) ---------------------------
    # The tables of :data:`deconflict.store._rows.GUARANTEE_TABLES` are read and written through
    # these few generic methods: most of them only index log entries (the records are the entries).
    @abc.abstractmethod
    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows into a guarantees table; raises :class:`~deconflict.errors.ConflictError` on a duplicate key."""

    @abc.abstractmethod
    def select_rows(
        self, table: str, where: Mapping[str, Any] | None = None, order: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Rows of a guarantees table whose columns equal ``where`` (a list or tuple value means one of)."""

    @abc.abstractmethod
    def update_rows(self, table: str, where: Mapping[str, Any], values: Mapping[str, Any]) -> int:
        """Set ``values`` on the rows matching ``where`` (inside a transaction); return how many."""

    @abc.abstractmethod
    def claim_deliveries(self, now: float, lease_until: float, claimant: str, limit: int) -> list[dict[str, Any]]:
        """Claim up to ``limit`` due outbox rows (pending, due by ``now``, not leased) until ``lease_until``.

        Runs in its own transaction: a row is claimed by one claimant only, and its ``attempts``
        count is raised in the same write. Returns the claimed rows (after the update).
        """

    @abc.abstractmethod
    def log_entries_at(self, indices: Sequence[int]) -> dict[int, LogEntryRow]:
        """The entries at ``indices`` (missing ones are left out)."""

    # -- outside time -----------------------------------------------------------------------
    @abc.abstractmethod
    def save_timestamp(self, record: TimestampRecord) -> None:
        """Store a verified timestamp token (inside a transaction)."""

    @abc.abstractmethod
    def list_timestamps(self) -> list[TimestampRecord]:
        """Every stored timestamp token, by checkpoint size then time."""

    @abc.abstractmethod
    def save_witness_peer(self, peer: WitnessPeer) -> None:
        """Store or replace what the log knows of a witness (inside a transaction)."""

    @abc.abstractmethod
    def list_witness_peers(self) -> list[WitnessPeer]:
        """Every witness the log has reported to, by URL."""

    # -- the state the log determines ---------------------------------------------------------
    @abc.abstractmethod
    def state_rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a table of :data:`deconflict.store._rows.STATE_SELECT` as ``column -> value``
        (bytes for BLOB columns), in that SELECT's order; raises ``ValueError`` for another table."""

    @abc.abstractmethod
    def change_marker(self) -> str:
        """A token that changes whenever another connection commits a write (SQLite ``PRAGMA data_version``,
        PostgreSQL's next transaction id); with the log size it says whether a verified state may have moved."""

    @abc.abstractmethod
    def spatial_index_problem(self) -> tuple[str, str] | None:
        """``(table, id)`` of the first site or incident whose spatial index entry (SQLite R*Tree,
        PostGIS ``geog``) is missing or disagrees with its latitude and longitude, else None."""

    # -- API tokens -------------------------------------------------------------------------
    @abc.abstractmethod
    def insert_token(self, token: TokenRecord) -> None:
        """Store a new API token (its secret only as a hash)."""

    @abc.abstractmethod
    def get_token(self, token_id: str) -> TokenRecord | None:
        """The token with public id ``token_id``, or None."""

    @abc.abstractmethod
    def list_tokens(self) -> list[TokenRecord]:
        """Every token, oldest first."""

    @abc.abstractmethod
    def revoke_token(self, token_id: str, revoked_at: str) -> None:
        """Mark a token revoked; raises :class:`~deconflict.errors.NotFound` when unknown."""
