"""The persistent, append-only transparency log of a deconflict database.

Entries live in the store with the hashes of every complete subtree, so an append costs
O(log n) node reads and writes and a proof O(log n) reads (:mod:`deconflict.ledger.tree`);
the tree is never rebuilt from all leaves except by :meth:`Ledger.verify`, whose job that is.
Appends happen inside the caller's write transaction, which serialises writers, so indices
are never lost or duplicated and a record and its log entry are committed together.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deconflict.errors import ConflictError, InvalidInput, NotFound, VerificationError
from deconflict.export import incident_row, site_row
from deconflict.ledger import merkle, tree
from deconflict.ledger.batches import batch_tree
from deconflict.ledger.checkpoint import Checkpoint, sign_checkpoint, verify_checkpoint
from deconflict.ledger.entries import (
    canonical_record,
    commitment,
    decode_entry,
    encode_entry,
    span_json,
)
from deconflict.ledger.note import Signer, load_signer_key, note_signatures, parse_verifier_key
from deconflict.ledger.state import StateReport, verify_state
from deconflict.ledger.trust import TrustedKey, check_key, check_trust
from deconflict.model import Acknowledgement, Incident, Notification, Site
from deconflict.progress import ProgressCallback, report_steps
from deconflict.store.base import ImportRecord, LogEntryRow, SiteCommitment, Store, TimestampRecord
from deconflict.times import now_utc_text

if TYPE_CHECKING:
    from deconflict.ledger.outside import EntryTime, TimestampRun, WitnessRun
    from deconflict.ledger.policy import WitnessPolicy
    from deconflict.ledger.timestamp import TsaTrust

__all__ = ["Ledger", "StoredCheckpoint", "VerifyReport"]


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint as stored: its size, note text and creation time."""

    size: int
    note: str
    created_at: str

    @property
    def checkpoint(self) -> Checkpoint:
        """The parsed checkpoint body (origin, size, root)."""
        from deconflict.ledger.checkpoint import parse_checkpoint

        text = self.note.split("\n\n", 1)[0] + "\n"
        return parse_checkpoint(text)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :meth:`Ledger.verify` checked."""

    size: int
    root_hash: bytes
    checkpoints: int
    site_commitments: int
    notifications: int
    incident_batches: int
    incidents: int
    timestamps: int = 0
    #: Rows per table found equal to the state rebuilt from the entries.
    state: StateReport | None = None
    #: The key the checkpoints were verified against, and where it came from.
    trusted: TrustedKey | None = None


class Ledger:
    """The log of one database.

    Parameters
    ----------
    store
        Where entries and nodes live.
    origin
        The log's origin line (also the signing key's name).
    verifier_key
        The log's public key in the note verifier-key format.
    key_file
        The private key file (needed only to sign checkpoints).
    """

    def __init__(self, store: Store, origin: str, verifier_key: str, key_file: Path | None) -> None:
        self.store = store
        self.origin = origin
        self.verifier_key = verifier_key
        self.key_file = key_file

    # -- reading ------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of entries."""
        return self.store.log_size()

    def root(self, size: int | None = None) -> bytes:
        """RFC 6962 root hash of the first ``size`` entries (default: all)."""
        current = self.size
        size = current if size is None else size
        if not 0 <= size <= current:
            raise InvalidInput(f"tree size {size} is outside 0..{current}")
        return tree.root_at(size, self.store.log_get_nodes)

    def entry(self, index: int) -> LogEntryRow:
        """The entry at ``index``; raises :class:`NotFound`."""
        rows = self.store.log_entries(index, index + 1)
        if not rows:
            raise NotFound(f"no log entry {index} (the log has {self.size} entries)")
        return rows[0]

    def entries(self, start: int = 0, end: int | None = None) -> list[LogEntryRow]:
        """Entries ``start <= index < end``."""
        return self.store.log_entries(start, self.size if end is None else end)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Proof that entry ``index`` is in the tree of ``size`` entries (default: all)."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise InvalidInput(f"index {index} is not in a tree of size {size} (log size {self.size})")
        return tree.inclusion_proof_at(index, size, self.store.log_get_nodes)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the tree of ``old_size`` entries is a prefix of the tree of ``new_size``."""
        new_size = self.size if new_size is None else new_size
        if not 0 < old_size <= new_size <= self.size:
            raise InvalidInput(f"need 0 < old size {old_size} <= new size {new_size} <= log size {self.size}")
        return tree.consistency_proof_at(old_size, new_size, self.store.log_get_nodes)

    # -- appending ----------------------------------------------------------------------
    def append(self, items: Sequence[tuple[str, Mapping[str, Any]]]) -> list[LogEntryRow]:
        """Append ``(kind, body)`` entries in the current transaction; return them."""
        if not items:
            return []
        with self.store.transaction():
            self.store.lock_log()
            size = self.store.log_size()
            logged_at = now_utc_text()
            rows = []
            for offset, (kind, body) in enumerate(items):
                data = encode_entry(size + offset, kind, logged_at, body)
                rows.append(LogEntryRow(size + offset, kind, data, merkle.leaf_hash(data), logged_at))
            nodes = tree.append_many_nodes(size, [r.leaf_hash for r in rows], self.store.log_get_nodes)
            self.store.log_append(rows, nodes)
        return rows

    def commit_sites(self, sites: Sequence[Site], *, progress: ProgressCallback | None = None) -> list[SiteCommitment]:
        """Log a salted commitment to each site record (in the current transaction).

        Reports the phase ``"committing"`` (records committed) to ``progress``.
        """
        tick = report_steps(progress, "committing", len(sites), step=1000)
        prepared = []
        for site in sites:
            salt = secrets.token_bytes(32)
            record = canonical_record(site_row(site))
            prepared.append((site.id, salt, record, commitment(salt, record)))
            tick(len(prepared))
        with self.store.transaction():
            rows = self.append([("site_committed", {"site_id": s, "commitment": c}) for s, _, _, c in prepared])
            saved = []
            for (site_id, salt, record, digest), row in zip(prepared, rows, strict=True):
                item = SiteCommitment(site_id, row.index, salt, digest, record)
                self.store.save_site_commitment(item)
                saved.append(item)
        tick(len(saved), final=True)
        return saved

    def reviews(self) -> dict[str, list[tuple[int, dict[str, Any]]]]:
        """Review entries per incident id: ``[(index, body), ...]`` oldest first."""
        found: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for row in self.store.log_entries_of_kind("review"):
            body = decode_entry(row.data)["body"]
            found.setdefault(body["incident_id"], []).append((row.index, body))
        return found

    def batch_records(
        self,
        entry_index: int,
        reviews: Mapping[str, list[tuple[int, dict[str, Any]]]],
        start: int = 0,
        end: int | None = None,
    ) -> list[bytes]:
        """Every record the batch entry ``entry_index`` commits to (at positions ``start <= p < end``),
        in order, as committed (the status before later reviews; versions since superseded by a
        revision or merge included)."""
        from deconflict.ledger.corrections import batch_records

        return batch_records(self, entry_index, reviews, start, end)

    def record_incidents(
        self, incidents: Sequence[Incident], source: ImportRecord | None, *, progress: ProgressCallback | None = None
    ) -> LogEntryRow:
        """Log one ``incident`` entry committing to a batch of incidents, in order.

        The caller stores the incidents with the entry's index in the same transaction. Reports
        the phase ``"committing"`` (records hashed) to ``progress``.
        """
        tick = report_steps(progress, "committing", len(incidents))
        records = []
        for incident in incidents:
            records.append(canonical_record(incident_row(incident)))
            if len(records) % 10_000 == 0:
                tick(len(records))
        tick(len(records), final=True)
        records_root, nodes = batch_tree(records)
        body = {
            "count": len(records),
            "records_root": records_root.hex(),
            "first_id": incidents[0].id,
            "last_id": incidents[-1].id,
            "import": None
            if source is None
            else {"filename": source.filename, "sha256": source.sha256, "format": source.format},
        }
        with self.store.transaction():
            (row,) = self.append([("incident", body)])
            self.store.save_batch_nodes(row.index, nodes)
        return row

    def notify(self, notification: Notification) -> LogEntryRow:
        """Log a notification of committed sites to a party; raises :class:`NotFound` for unknown sites."""
        from deconflict.ledger.corrections import notification_body

        body = notification_body(self, notification)
        with self.store.transaction():
            (row,) = self.append([("notification", body)])
            self.store.insert_notification(notification, row.index)
            self.store.insert_rows(
                "notification_movements",
                [
                    {"notification_id": notification.id, "movement_id": m["movement_id"]}
                    for m in body.get("movements", [])
                ],
            )
        return row

    def acknowledge(self, acknowledgement: Acknowledgement) -> LogEntryRow:
        """Log a recipient's acknowledgement of a notification."""
        found = {n.id: index for n, index in self.store.list_notifications()}
        if acknowledgement.notification_id not in found:
            raise NotFound(f"no notification with id {acknowledgement.notification_id!r}")
        body = {
            "acknowledgement_id": acknowledgement.id,
            "notification_id": acknowledgement.notification_id,
            "notification_index": found[acknowledgement.notification_id],
            "recipient": acknowledgement.recipient,
            "at": span_json(acknowledgement.at),
            "reference": acknowledgement.reference,
            "text": acknowledgement.text,
        }
        with self.store.transaction():
            (row,) = self.append([("acknowledgement", body)])
            self.store.insert_acknowledgement(acknowledgement, row.index)
        return row

    def review(self, incident_id: str, status: str, note: str | None = None) -> LogEntryRow:
        """Log a person's decision on an incident (``confirmed`` or ``rejected``) and apply it."""
        if status not in ("confirmed", "rejected"):
            raise InvalidInput(f"review status must be confirmed or rejected, got {status!r}")
        incident = self.store.get_incident(incident_id)
        if incident.status == status:
            raise ConflictError(f"incident {incident_id!r} is already {status}")
        body = {"incident_id": incident_id, "status": status, "previous_status": incident.status, "note": note}
        with self.store.transaction():
            (row,) = self.append([("review", body)])
            self.store.set_incident_status(incident_id, status)
        return row

    # -- checkpoints --------------------------------------------------------------------
    def signer(self) -> Signer:
        """The log's signing key, loaded from its key file.

        Raises :class:`VerificationError` when the key file holds another log's key: whatever it
        signed (a checkpoint, a bundle's manifest, an alert) would fail verification later.
        """
        if self.key_file is None:
            raise NotFound("no signing key file is configured for this log (pass --key-file)")
        return self._own_key(load_signer_key(self.key_file))

    def _own_key(self, signer: Signer) -> Signer:
        if signer.vkey != self.verifier_key:
            raise VerificationError(f"the key in {self.key_file} is not this log's key ({self.verifier_key})")
        return signer

    def sign_checkpoint(self, signer: Signer | None = None) -> StoredCheckpoint:
        """Sign a checkpoint of the current tree, store it and return it."""
        signer = self._own_key(signer) if signer is not None else self.signer()
        with self.store.transaction():
            size = self.store.log_size()
            body = Checkpoint(self.origin, size, self.root(size))
            note = sign_checkpoint(body, signer)
            created = now_utc_text()
            existing = {s: n for s, n, _ in self.store.list_checkpoints()}
            if size in existing and existing[size].split("\n\n")[0] == note.split("\n\n")[0]:
                return StoredCheckpoint(size, existing[size], created)
            self.store.save_checkpoint(size, note, created)
        return StoredCheckpoint(size, note, created)

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Stored checkpoints, smallest first."""
        return [StoredCheckpoint(*row) for row in self.store.list_checkpoints()]

    def latest_checkpoint(self) -> StoredCheckpoint:
        """The largest stored checkpoint; raises :class:`NotFound` when none was signed."""
        stored = self.checkpoints()
        if not stored:
            raise NotFound("no checkpoint has been signed yet (run 'deconflict log checkpoint')")
        return stored[-1]

    def add_cosigned_checkpoint(self, note_text: str) -> StoredCheckpoint:
        """Store a checkpoint that witnesses cosigned (it must be one of ours, same bytes)."""
        checkpoint = verify_checkpoint(note_text, self.verifier_key)
        if all(signature.name == self.origin for signature in note_signatures(note_text)):
            raise InvalidInput("this checkpoint carries no witness cosignature (only the log's own signature)")
        if checkpoint.origin != self.origin or checkpoint.size > self.size:
            raise VerificationError("the cosigned checkpoint is not a checkpoint of this log")
        if checkpoint.root_hash != self.root(checkpoint.size):
            raise VerificationError(f"the cosigned checkpoint's root differs from this log at size {checkpoint.size}")
        created = now_utc_text()
        with self.store.transaction():
            self.store.save_checkpoint(checkpoint.size, note_text, created)
        return StoredCheckpoint(checkpoint.size, note_text, created)

    # -- outside time (RFC 3161 timestamps, tlog-witness cosignatures) ---------------------
    def timestamp(
        self, tsa_urls: Sequence[str], trust: TsaTrust | None = None, *, timeout: float = 30.0
    ) -> TimestampRun:
        """Timestamp the latest checkpoint at each TSA; see :func:`deconflict.ledger.outside.timestamp_checkpoint`."""
        from deconflict.ledger.outside import timestamp_checkpoint

        return timestamp_checkpoint(self, tsa_urls, trust, timeout=timeout)

    def witness(
        self, policy: WitnessPolicy | None = None, urls: Sequence[str] = (), *, timeout: float = 30.0
    ) -> WitnessRun:
        """Have witnesses cosign the latest checkpoint; see :func:`deconflict.ledger.outside.witness_checkpoint`.

        ``policy`` defaults to the one stored by an earlier call; given, it is stored.
        """
        from deconflict.ledger.outside import witness_checkpoint, witness_policy

        chosen = policy or witness_policy(self)
        if chosen is None:
            raise NotFound("no witness policy: pass --policy FILE, or --witness-key (and --quorum)")
        return witness_checkpoint(self, chosen, urls, timeout=timeout, store_policy=policy is not None)

    def witness_policy(self) -> WitnessPolicy | None:
        """The witness policy stored with the log, or None."""
        from deconflict.ledger.outside import witness_policy

        return witness_policy(self)

    def tsa_urls(self) -> list[str]:
        """The TSAs this log has been timestamped by (the server's configured TSAs)."""
        return list(dict.fromkeys(t.tsa_url for t in self.store.list_timestamps()))

    def timestamps(self) -> list[TimestampRecord]:
        """Every stored RFC 3161 token (verified when stored), by checkpoint size."""
        return self.store.list_timestamps()

    def entry_times(self, policy: WitnessPolicy | None = None) -> list[EntryTime]:
        """Per notification and acknowledgement: claimed time, log time, first outside time."""
        from deconflict.ledger.outside import entry_times

        return entry_times(self, policy)

    # -- verification -------------------------------------------------------------------
    def verify(self, progress: ProgressCallback | None = None, *, trusted: TrustedKey | None = None) -> VerifyReport:
        """Recompute everything from the stored entries; raise naming the first bad index.

        Checks: entries are contiguous from 0, each is canonical JSON naming its own index,
        its stored leaf hash is right; every stored subtree hash equals the recomputed one
        (and none is missing or extra); every checkpoint is signed by the log's key and its
        root matches the recomputed tree at its size (a log shorter than a checkpoint was
        truncated); site commitments, notifications, acknowledgements and incident batches in
        the store match the entries that commit to them.

        Checkpoints are verified against ``trusted`` (see :mod:`deconflict.ledger.trust`; default:
        the key stored in the database, which proves only that the file agrees with itself).

        Reports the phases ``"entries"``, ``"tree"`` (stored subtree hashes) and ``"records"``
        (log entries whose stored records are compared) to ``progress``.
        """
        trusted = trusted or TrustedKey(self.verifier_key, "database")
        verifier = parse_verifier_key(trusted.vkey)
        check_key(trusted, self.verifier_key)
        tick = report_steps(progress, "entries", self.store.log_size())
        # Streamed: the recomputed tree is 64 bytes an entry, and only the bodies of the entries that
        # the record checks below read are kept (not, e.g., every evidence entry of a large log).
        memory = tree.LevelHashes()
        bodies: dict[int, dict[str, Any]] = {}
        kept = _kinds_verified_against_records()
        count = 0
        for expected, row in enumerate(self.store.log_iter_entries()):
            if row.index != expected:
                raise VerificationError(f"log entry {expected} is missing (next stored entry is {row.index})")
            try:
                decoded = decode_entry(row.data)
            except InvalidInput as exc:
                raise VerificationError(f"log entry {expected}: {exc.message}") from None
            if decoded["index"] != expected or decoded["kind"] != row.kind:
                raise VerificationError(
                    f"log entry {expected} was moved or relabelled (it says index {decoded['index']})"
                )
            if merkle.leaf_hash(row.data) != row.leaf_hash:
                raise VerificationError(f"log entry {expected}: stored leaf hash does not match its bytes")
            memory.append(row.leaf_hash)
            if decoded["kind"] in kept:
                bodies[expected] = decoded
            count += 1
            tick(count)
        tick(count, final=True)
        size = count
        self._verify_nodes(memory, size, progress)
        root = tree.root_at(size, memory)
        checkpoints = self.checkpoints()
        for stored in checkpoints:
            try:
                checkpoint = verify_checkpoint(stored.note, verifier)
            except VerificationError as exc:
                raise VerificationError(f"checkpoint of size {stored.size}: {exc.message}") from None
            if checkpoint.size > size:
                raise VerificationError(
                    f"log truncated: checkpoint of size {checkpoint.size} but only {size} entries "
                    f"(first missing index {size})"
                )
            if checkpoint.root_hash != tree.root_at(checkpoint.size, memory):
                raise VerificationError(f"checkpoint of size {checkpoint.size} does not match the entries")
        check_trust(trusted, self.verifier_key, [c.size for c in checkpoints], size, lambda n: tree.root_at(n, memory))
        state = verify_state(self.store, bodies)  # every table the views read, rebuilt from the entries
        counts = self._verify_records(bodies, progress)
        # Guarantees (movements, commitments, alerts) live in a package above the ledger; imported
        # here, when the log is verified, so the layers do not import each other at load time.
        from deconflict.guarantees.records import verify_guarantees

        verify_guarantees(self.store, bodies)
        timestamps = self._verify_timestamps(memory, size)
        return VerifyReport(size, root, len(checkpoints), *counts, timestamps=timestamps, state=state, trusted=trusted)

    def _verify_timestamps(self, memory: tree.LevelHashes, size: int) -> int:
        """Each stored RFC 3161 token: over a note of this log whose root matches, and valid for the stored roots."""
        from deconflict.ledger.outside import stored_tsa_trust
        from deconflict.ledger.timestamp import verify_timestamp

        trust = stored_tsa_trust(self)
        records = self.store.list_timestamps()
        for record in records:
            where = f"timestamp of checkpoint {record.checkpoint_size} by {record.tsa_url}"
            try:
                checkpoint = verify_checkpoint(record.note, self.verifier_key)
            except VerificationError as exc:
                raise VerificationError(exc.message, where=where) from None
            if (
                checkpoint.size != record.checkpoint_size
                or checkpoint.size > size
                or checkpoint.root_hash != tree.root_at(checkpoint.size, memory)
            ):
                raise VerificationError("the timestamped note does not match the log at its size", where=where)
            if trust:
                verify_timestamp(record.response, record.note.encode("utf-8"), trust, where=where)
        return len(records)

    def _verify_nodes(self, memory: tree.LevelHashes, size: int, progress: ProgressCallback | None) -> None:
        expected = memory
        tick = report_steps(progress, "tree", len(expected))
        seen = 0
        for key, digest in self.store.log_iter_nodes():
            want = expected.get(key)
            level, index = key
            first_leaf = index << level
            if want is None:
                raise VerificationError(f"stored tree node {key} is not part of the log (entry {first_leaf})")
            if want != digest:
                raise VerificationError(f"stored hash of tree node {key} is altered (covers entry {first_leaf})")
            seen += 1
            tick(seen)
        if seen != len(expected):
            missing = min((k for k in expected if not self.store.log_get_nodes([k])), key=lambda k: k[1] << k[0])
            raise VerificationError(f"stored tree node {missing} is missing (entry {missing[1] << missing[0]})")
        tick(seen, final=True)

    def _verify_records(
        self, bodies: dict[int, dict[str, Any]], progress: ProgressCallback | None
    ) -> tuple[int, int, int, int]:
        commitments = self.store.site_commitments()
        by_site: dict[str, list[SiteCommitment]] = {}
        for item in commitments:
            by_site.setdefault(item.site_id, []).append(item)
        notifications = self.store.list_notifications(include_withdrawn=True)
        from deconflict.ledger.corrections import BATCH_KINDS

        incident_entries = [index for index, body in bodies.items() if body["kind"] in BATCH_KINDS]
        tick = report_steps(progress, "records", len(commitments) + len(notifications) + len(incident_entries), 1000)
        checked = 0
        for site_id, chain in by_site.items():
            self._verify_site_chain(site_id, chain, bodies)
            checked += len(chain)
            tick(checked)
        for notification, index in notifications:
            body = bodies.get(index, {})
            logged = body.get("body", {})
            entry, amended, withdrawn = self.store.notification_state(notification.id)
            expected_kind = "notification" if amended is None else "notification_amended"
            if (
                body.get("kind") != expected_kind
                or logged.get("notification_id") != notification.id
                or logged.get("recipient") != notification.recipient
                or logged.get("notified_at") != span_json(notification.notified_at)
                or [s["site_id"] for s in logged.get("sites", [])] != list(notification.site_ids)
                or [m["movement_id"] for m in logged.get("movements", [])] != sorted(notification.movement_ids)
            ):
                raise VerificationError(f"log entry {index}: notification {notification.id!r} differs from the log")
            if bodies.get(entry, {}).get("kind") != "notification":
                raise VerificationError(f"log entry {entry}: notification {notification.id!r} differs from the log")
            self._verify_marker(withdrawn, "notification_withdrawn", "notification_id", notification.id)
            checked += 1
            tick(checked)
        for acknowledgement, _ in self.store.list_acknowledgements(include_withdrawn=True):
            _, _, withdrawn = self.store.acknowledgement_state(acknowledgement.id)
            self._verify_marker(withdrawn, "acknowledgement_withdrawn", "acknowledgement_id", acknowledgement.id)
        reviews: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for index, body in sorted(bodies.items()):
            if body["kind"] == "review":
                reviews.setdefault(body["body"]["incident_id"], []).append((index, body["body"]))
        batches = 0
        incidents = 0
        for index in incident_entries:
            body = bodies[index]
            for incident in self.store.incidents_in_entry(index):
                history = [item for item in reviews.get(incident.id, ()) if item[0] > index]
                if history and history[-1][1]["status"] != incident.status:
                    raise VerificationError(
                        f"log entry {history[-1][0]}: incident {incident.id!r} has a status the log does not record"
                    )
            records = self.batch_records(index, reviews)
            records_root, nodes = batch_tree(records)
            if len(records) != body["body"]["count"] or records_root.hex() != body["body"]["records_root"]:
                raise VerificationError(f"log entry {index}: the incidents it commits to were changed or deleted")
            stored_nodes = self.store.batch_nodes(index)
            if stored_nodes and stored_nodes != dict(nodes):
                raise VerificationError(
                    f"log entry {index}: the stored subtree hashes of its incident batch are altered"
                )
            batches += 1
            incidents += len(records)
            checked += 1
            tick(checked)
        tick(checked, final=True)
        return len(commitments), len(notifications), batches, incidents

    def _verify_marker(self, index: int | None, kind: str, key: str, record_id: str) -> None:
        """A withdrawal the store records must be an entry of ``kind`` about ``record_id``."""
        if index is None:
            return
        entry = self.store.log_entries(index, index + 1)
        decoded = decode_entry(entry[0].data) if entry else {}
        if decoded.get("kind") != kind or decoded["body"].get(key) != record_id:
            raise VerificationError(f"log entry {index}: the withdrawal of {record_id!r} is not in the log")

    def _verify_site_chain(self, site_id: str, chain: list[SiteCommitment], bodies: dict[int, dict[str, Any]]) -> None:
        """A site's commitments: the first logged as ``site_committed``, each later one as a ``site_amended``
        entry superseding the one before, and the stored site equal to the latest record."""
        for position, item in enumerate(chain):
            body = bodies.get(item.entry_index, {})
            logged = body.get("body", {})
            kind = "site_committed" if position == 0 else "site_amended"
            if (
                body.get("kind") != kind
                or logged.get("site_id") != site_id
                or logged.get("commitment") != item.commitment
                or (position and logged.get("supersedes") != chain[position - 1].entry_index)
            ):
                raise VerificationError(f"log entry {item.entry_index}: site commitment of {site_id!r} differs")
            if commitment(item.salt, item.record) != item.commitment:
                raise VerificationError(f"log entry {item.entry_index}: stored site record no longer matches")
        latest = chain[-1]
        try:
            current = canonical_record(site_row(self.store.get_site(site_id)))
        except NotFound:
            raise VerificationError(f"log entry {latest.entry_index}: site {site_id!r} was deleted") from None
        if current != latest.record:
            raise VerificationError(f"log entry {latest.entry_index}: site {site_id!r} was edited after commitment")
        self._verify_marker(self.store.site_withdrawn(site_id), "site_withdrawn", "site_id", site_id)


def _kinds_verified_against_records() -> frozenset[str]:
    """Entry kinds whose bodies :meth:`Ledger.verify` reads: those compared with stored records (its
    own, and those :func:`deconflict.guarantees.records.verify_guarantees` compares) and every kind
    the state is rebuilt from (:mod:`deconflict.ledger.projections`: withdrawals, acknowledgements,
    corrections). Only ``evidence`` entries (a document's digest, in no table) are not kept."""
    from deconflict.guarantees.records import GUARANTEE_ENTRY_KINDS, PROJECTIONS
    from deconflict.ledger.corrections import BATCH_KINDS
    from deconflict.ledger.projections import CORE_PROJECTIONS

    own = {"site_committed", "site_amended", "notification", "notification_amended", "review", *BATCH_KINDS}
    projected = (set(CORE_PROJECTIONS) - {"evidence"}) | set(PROJECTIONS)
    return frozenset(own | projected) | GUARANTEE_ENTRY_KINDS


def proof_text(proof: Iterable[bytes]) -> str:
    """A proof as text: one base64 hash per line (the format ``witness update --proof`` reads)."""
    return "".join(base64.b64encode(h).decode() + "\n" for h in proof)
