"""Evidence bundles: one zip that proves a site's record, notifications and hits offline.

A bundle holds, for one site: the revealed site record and its salt; every log entry about
the site (its commitments, the notifications naming it, their acknowledgements, the incident
batches holding incidents that may have hit it), each with an inclusion proof against one
signed checkpoint; each incident record with its proof inside its batch; the checkpoint with
its signatures and witness cosignatures; and a manifest of SHA-256 hashes of every file,
signed by the log's key. :func:`verify_bundle` needs only the bundle and the log's public key:
any altered byte makes it raise :class:`~deconflict.errors.VerificationError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from deconflict.errors import DeconflictError, InvalidInput, NotFound, VerificationError
from deconflict.export import site_row
from deconflict.ledger import merkle
from deconflict.ledger.batches import batch_proofs
from deconflict.ledger.bundle_time import (
    TIME_DIR,
    TimeCheck,
    build_time_section,
    choose_checkpoint,
    load_section,
    verify_time_section,
)
from deconflict.ledger.checkpoint import Checkpoint, verify_checkpoint, verify_cosignatures
from deconflict.ledger.corrections import BATCH_KINDS
from deconflict.ledger.entries import canonical_record, commitment, decode_entry
from deconflict.ledger.log import Ledger
from deconflict.ledger.note import note_signatures, parse_verifier_key, sign_note, verify_note
from deconflict.ledger.outside import EntryTime, Voucher, entry_time
from deconflict.ledger.policy import WitnessPolicy
from deconflict.ledger.timestamp import TsaTrust
from deconflict.relevance import incidents_concerning
from deconflict.times import format_utc

__all__ = ["BUNDLE_FORMAT", "BundleReport", "build_bundle", "build_movement_bundle", "verify_bundle"]

BUNDLE_FORMAT = "deconflict-evidence-bundle/2"
_FORMATS = ("deconflict-evidence-bundle/1", BUNDLE_FORMAT)
_MEMBERS = ("README.txt", "manifest.json", "manifest.sig", "checkpoint.txt", "site.json", "entries.json",
            "incidents.json")  # fmt: skip
#: A movement's bundle holds movement.json where a site's holds site.json.
_MOVEMENT_MEMBERS = tuple("movement.json" if name == "site.json" else name for name in _MEMBERS)
_TIME_MEMBERS = ("time.json",)

README = """\
deconflict evidence bundle — how to check it by hand
=====================================================

This zip proves, without trusting whoever gave it to you, that a transparency log
("{origin}") contained, by the time of a signed checkpoint, a commitment to the record of
site {site_id}, the notifications that named it and the incidents that may have hit it.

Quick check (needs the Python package deconflict, and nothing online):

    deconflict evidence verify THIS.zip --key '{vkey}'

Get the log's public key ({vkey}) from its operator through a channel you trust
(e.g. a diplomatic note), not from this file.

What each file holds
--------------------
- checkpoint.txt   a C2SP signed note: origin, tree size N, base64 RFC 6962 root hash, then
                   signature lines "— <name> <base64(4-byte key id || signature)>": the log's
                   Ed25519 signature and any witness cosignatures (c2sp.org/tlog-cosignature).
- entries.json     log entries: "index", "data_b64" (the exact entry bytes, RFC 8785 JSON)
                   and "proof" (base64 hashes, leaf to root).
- site.json        the site record as notified, its 32-byte "salt" (hex) and "commitment".
- incidents.json   incident records with their position in a batch entry and a proof.
- manifest.json    SHA-256 of every file; manifest.sig is a signed note over its hash.

By hand
-------
1. Entry leaf hash = SHA-256(0x00 || entry bytes). Fold the proof (RFC 9162 section 2.1.3.2)
   with node hash = SHA-256(0x01 || left || right); the result must equal the checkpoint's
   root for tree size N, and the signature on checkpoint.txt must verify with the key above.
2. Site: SHA-256(salt || canonical JSON of "record") must equal the "commitment" in the
   site_committed entry, and the notification entries name the same commitment. So the
   coordinates shown in "record" are exactly those the log committed to at that entry.
3. Incidents: leaf = canonical JSON of the record; its proof at "position" in a tree of
   "batch_size" leaves must give the "records_root" of the incident entry at "entry_index".
4. Witness cosignatures on checkpoint.txt tell who vouched that this checkpoint existed at
   their timestamp; check them with the witnesses' own public keys (--witness-key or
   --witness-policy, a c2sp.org/tlog-policy file).
5. Outside time. time.json lists earlier checkpoints that a timestamp authority (RFC 3161)
   timestamped or a witness cosigned, with each entry's inclusion proof in them and a
   consistency proof to checkpoint.txt. Each token is time/cpN-tsaK.tsr over the exact
   note time/cpN-tsaK.note, with the TSA's chain in time/cpN-tsaK-chain.pem. By hand:
       openssl ts -verify -data time/cpN-tsaK.note -in time/cpN-tsaK.tsr -CAfile ROOT.pem
   with ROOT.pem the TSA's root certificate obtained from the TSA, not from this file
   (deconflict evidence verify ... --tsa-cert ROOT.pem does the same for every token).

Time, per record (as the exporting database saw it; evidence verify re-derives it)
-----------------------------------------------------------------------------------
{time_lines}

What it does not prove: that the notification reached the recipient (only an acknowledgement
entry or an outside record does), or that an incident record is true: it proves what was
recorded, and when the log's checkpoints and witnesses say it was.
"""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(f"{what} is not base64") from None


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def _signers(note: str) -> set[str]:
    """Names on the signature lines of a signed note."""
    return {signature.name for signature in note_signatures(note)}


def build_bundle(
    ledger: Ledger, site_id: str, policy: WitnessPolicy | None = None, *, reach_cap_m: float | None = None
) -> bytes:
    """The evidence bundle (zip bytes) for ``site_id``, signed with the log's key.

    ``reach_cap_m`` bounds the site's reach for the incidents it holds (a caller that is not admin:
    :meth:`deconflict.access.Principal.reach_cap_m`); None uses the stored reach.

    The bundle is built on the newest checkpoint covering its entries that satisfies the
    witness ``policy`` (default: the one stored with the log), else the newest cosigned one,
    else the newest; a checkpoint is signed first when none covers the entries. Earlier
    checkpoints that a TSA timestamped or a witness cosigned go in ``time.json``.
    The commitments covering the site and the alerts naming it (:mod:`deconflict.guarantees.evidence`)
    are in it too.

    Raises
    ------
    NotFound
        For an unknown site, or one never committed to the log.
    """
    from deconflict.guarantees.evidence import guarantee_indices
    from deconflict.guarantees.model import ObjectRef

    site = ledger.store.get_site(site_id)
    commitments = ledger.store.site_commitments(site_id)
    if not commitments:
        raise NotFound(f"site {site_id!r} has no commitment in the log")
    latest = commitments[-1]
    notifications = ledger.store.list_notifications(site_id, include_withdrawn=True)
    # Every committed version of the site, so notifications made before an amendment still verify.
    subject = {"record": site_row(site), "salt": latest.salt.hex(), "commitment": latest.commitment,
               "entry_index": latest.entry_index,
               "earlier_versions": [{"record": json.loads(c.record), "salt": c.salt.hex(), "commitment": c.commitment,
                                     "entry_index": c.entry_index} for c in commitments[:-1]]}  # fmt: skip
    extra = {c.entry_index for c in commitments} | guarantee_indices(ledger.store, ObjectRef("site", site_id))
    extra |= {c.entry_index for c in ledger.store.list_corrections("site", site_id)}
    incidents = incidents_concerning(ledger.store, site, reach_cap_m=reach_cap_m)
    return _build(ledger, "site", site_id, subject, notifications, incidents, extra, policy)


def build_movement_bundle(
    ledger: Ledger, movement_id: str, policy: WitnessPolicy | None = None, *, reach_cap_m: float | None = None
) -> bytes:
    """The evidence bundle of a movement: its revealed record and salt, the notifications naming it,
    the commitments covering it, its alerts and the incidents that concern it (see :func:`build_bundle`;
    ``reach_cap_m`` bounds the corridor's reach).

    Raises
    ------
    NotFound
        For an unknown movement.
    """
    from deconflict.guarantees.evidence import guarantee_indices
    from deconflict.guarantees.model import ObjectRef
    from deconflict.guarantees.records import movement_from_row
    from deconflict.relevance import incidents_concerning_movement

    rows = ledger.store.select_rows("movements", {"id": movement_id})
    if not rows:
        raise NotFound(f"no movement with id {movement_id!r}")
    row = rows[0]
    record = json.loads(row["record"])
    movement = movement_from_row(record, ZoneInfo("UTC"))
    notifications = [(n, i) for n, i in ledger.store.list_notifications() if movement_id in n.movement_ids]
    subject = {"record": record, "salt": bytes(row["salt"]).hex(), "commitment": row["commitment"],
               "entry_index": int(row["entry_idx"])}  # fmt: skip
    extra = {int(row["entry_idx"])} | guarantee_indices(ledger.store, ObjectRef("movement", movement_id))
    incidents = incidents_concerning_movement(ledger.store, movement, reach_cap_m=reach_cap_m)
    return _build(ledger, "movement", movement_id, subject, notifications, incidents, extra, policy)


def _build(
    ledger: Ledger,
    subject_kind: str,
    subject_id: str,
    subject: dict[str, Any],
    notifications: Sequence[tuple[Any, int]],
    incidents: Sequence[Any],
    extra: set[int],
    policy: WitnessPolicy | None,
) -> bytes:
    store = ledger.store
    notification_ids = {n.id for n, _ in notifications}
    acknowledgements = [
        (a, i) for a, i in store.list_acknowledgements(include_withdrawn=True) if a.notification_id in notification_ids
    ]
    # The whole chain of every record: first entries, amendments, withdrawals (with their reasons).
    extra = extra | {store.notification_state(n)[0] for n in notification_ids}
    extra |= {c.entry_index for n in notification_ids for c in store.list_corrections("notification", n)}
    extra |= {c.entry_index for a, _ in acknowledgements for c in store.list_corrections("acknowledgement", a.id)}
    placed = []
    for incident in incidents:
        where = ledger.store.incident_entry(incident.id)
        if where is not None:
            placed.append((incident, *where))
    reviews = ledger.reviews()
    review_indices = {index for incident, _, _ in placed for index, _ in reviews.get(incident.id, [])}
    indices = sorted(
        extra | {i for _, i in notifications} | {i for _, i in acknowledgements}
        | {entry for _, entry, _ in placed} | review_indices
    )  # fmt: skip
    policy = policy if policy is not None else ledger.witness_policy()
    covering = [c for c in ledger.checkpoints() if c.size > indices[-1]]
    checkpoint = choose_checkpoint(ledger, covering, policy) or ledger.sign_checkpoint()
    size = checkpoint.size
    time_files, time_section = build_time_section(ledger, indices, checkpoint, policy)
    entries = [
        {"index": index, "data_b64": _b64(ledger.entry(index).data),
         "proof": [_b64(h) for h in ledger.inclusion_proof(index, size)]}
        for index in indices
    ]  # fmt: skip
    # All proofs of a batch from its stored upper subtree hashes (ledger/batches.py): O(k log n), not O(k·n).
    proofs: dict[int, dict[int, list[bytes]]] = {}
    sizes: dict[int, int] = {}
    for entry in sorted({entry for _, entry, _ in placed}):
        sizes[entry] = int(decode_entry(ledger.entry(entry).data)["body"]["count"])
        positions = [position for _, e, position in placed if e == entry]

        def records_between(start: int, end: int, entry: int = entry) -> list[bytes]:
            return ledger.batch_records(entry, reviews, start, end)

        proofs[entry] = batch_proofs(sizes[entry], positions, store.batch_nodes(entry), records_between)
    incident_items = []
    for _incident, entry, position in placed:
        (record,) = ledger.batch_records(entry, reviews, position, position + 1)
        incident_items.append({
            "record": json.loads(record), "entry_index": entry, "position": position,
            "batch_size": sizes[entry], "batch_proof": [_b64(h) for h in proofs[entry][position]],
        })  # fmt: skip
    times = [t for t in ledger.entry_times(policy) if t.index in set(indices)]
    time_lines = "\n".join(f"- {t.kind} {t.record_id} (log entry {t.index}): {t.sentence()}" for t in times)
    readme = README.format(origin=ledger.origin, site_id=subject_id, vkey=ledger.verifier_key,
                           time_lines=time_lines or "- no notification or acknowledgement in this bundle")  # fmt: skip
    if subject_kind == "movement":
        readme = readme.replace(f"site {subject_id}", f"movement {subject_id}").replace("site.json ", "movement.json")
    files: dict[str, bytes] = {
        "README.txt": readme.encode("utf-8"),
        "checkpoint.txt": checkpoint.note.encode("utf-8"),
        f"{subject_kind}.json": _json(subject),
        "entries.json": _json(entries),
        "incidents.json": _json(incident_items),
        "time.json": _json(time_section),
        **time_files,
    }  # fmt: skip
    manifest = _json({
        "format": BUNDLE_FORMAT, "origin": ledger.origin, "log_key": ledger.verifier_key,
        f"{subject_kind}_id": subject_id,
        "checkpoint_size": size, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    })  # fmt: skip
    files["manifest.json"] = manifest
    signed = f"{BUNDLE_FORMAT}\n{ledger.origin}\nsha256 {hashlib.sha256(manifest).hexdigest()}\n"
    files["manifest.sig"] = sign_note(signed, ledger.signer()).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in [*(_MEMBERS if subject_kind == "site" else _MOVEMENT_MEMBERS), *_TIME_MEMBERS, *sorted(time_files)]:
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


@dataclass(frozen=True)
class BundleReport:
    """What a verified bundle proves, as plain statements."""

    site_id: str
    origin: str
    checkpoint_size: int
    statements: list[str] = field(default_factory=list)
    cosigners: list[tuple[str, str]] = field(default_factory=list)
    unverified_signers: list[str] = field(default_factory=list)
    entry_times: list[EntryTime] = field(default_factory=list)
    timestamps: list[Voucher] = field(default_factory=list)
    unchecked_timestamps: list[str] = field(default_factory=list)
    witnessed: bool | None = None
    subject_kind: str = "site"


def _read_members(data: bytes) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            fixed = sorted(n for n in names if not n.startswith(TIME_DIR) and n not in _TIME_MEMBERS)
            timed = [n for n in names if n.startswith(TIME_DIR)]
            if (
                fixed not in (sorted(_MEMBERS), sorted(_MOVEMENT_MEMBERS))
                or (timed and "time.json" not in names)
                or len(set(names)) != len(names)
            ):
                raise VerificationError(
                    f"bundle must hold exactly {', '.join(_MEMBERS)} (movement.json for a movement's; and time.json "
                    f"with time/ files); it holds {', '.join(names)}"
                )
            return {name: archive.read(name) for name in names}
    except VerificationError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        KeyError,
        RuntimeError,
    ) as exc:
        raise VerificationError(f"not an intact zip file: {exc}") from None
    except Exception as exc:  # zlib.error and friends from a corrupted stream
        raise VerificationError(f"not an intact zip file: {exc}") from None


def _load(data: bytes, name: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VerificationError(f"{name} is not JSON: {exc}") from None


def verify_bundle(
    data: bytes,
    log_key: str,
    witness_keys: Sequence[str] = (),
    *,
    witness_policy: WitnessPolicy | None = None,
    tsa_trust: TsaTrust | None = None,
) -> BundleReport:
    """Verify an evidence bundle offline; return what it proves or raise.

    Parameters
    ----------
    data
        The zip bytes.
    log_key
        The log's verifier key, obtained from its operator through a trusted channel.
    witness_keys
        Cosigner keys of witnesses you trust; their cosignatures must verify.
    witness_policy
        A tlog-policy: the bundle's checkpoint must satisfy its quorum.
    tsa_trust
        TSA root certificates you trust; the bundle's RFC 3161 tokens are checked against them.

    Raises
    ------
    VerificationError
        On any altered, missing or inconsistent byte.
    """
    try:
        return _verify(data, log_key, witness_keys, witness_policy, tsa_trust)
    except VerificationError:
        raise
    except InvalidInput:
        raise
    except DeconflictError as exc:
        raise VerificationError(exc.message) from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise VerificationError(f"bundle content is malformed: {exc!r}") from None


def _verify(
    data: bytes,
    log_key: str,
    witness_keys: Sequence[str],
    policy: WitnessPolicy | None,
    tsa_trust: TsaTrust | None,
) -> BundleReport:
    parse_verifier_key(log_key)
    files = _read_members(data)
    manifest, subject_kind = _verify_manifest(files, log_key)
    note_text = files["checkpoint.txt"].decode("utf-8")
    checkpoint: Checkpoint = verify_checkpoint(note_text, log_key)
    if checkpoint.origin != manifest["origin"] or checkpoint.size != manifest["checkpoint_size"]:
        raise VerificationError("checkpoint.txt is not the checkpoint the manifest names")
    entries, raw_entries = _verify_entries(files, checkpoint)
    site_id = manifest[f"{subject_kind}_id"]
    digests, statements = _subject_statements(files, subject_kind, site_id, entries)
    statements += _entry_statements(entries, subject_kind, site_id, digests)
    statements += _verify_incidents(files, entries, subject_kind)
    cosigners, trusted, witnessed, main_vouchers = _verify_witnesses(
        note_text, checkpoint, log_key, witness_keys, policy
    )
    check = TimeCheck()
    if "time.json" in files:
        section = load_section(files["time.json"])
        check = verify_time_section(section, files, log_key, checkpoint, raw_entries, trusted, tsa_trust)
    vouchers = [*main_vouchers, *check.vouchers]
    times = [
        entry_time(index, entry["kind"], _record_id(entry), _claimed_span(entry), entry["logged_at"], vouchers)
        for index, entry in sorted(entries.items())
        if entry["kind"] in ("notification", "acknowledgement")
    ]
    own = parse_verifier_key(log_key).name
    known = {name for name, _ in cosigners}
    unverified = sorted((_signers(note_text) | check.unchecked_cosigners) - known - {own})
    statements.append(
        f"all of it is in the log of origin {checkpoint.origin} by its checkpoint of size "
        f"{checkpoint.size}, signed by the log's key"
    )
    for name, moment in cosigners:
        statements.append(f"cosigned by witness {name} at {moment}")
    stamps = sorted((v for v in check.vouchers if v.kind == "timestamp"), key=lambda v: v.at)
    for stamp in stamps:
        statements.append(
            f"checkpoint of size {stamp.checkpoint_size} timestamped by TSA {stamp.by} at {format_utc(stamp.at)}"
        )
    for item in times:
        statements.append(f"time of {item.kind} {item.record_id} (log entry {item.index}): {item.sentence()}")
    return BundleReport(
        site_id, checkpoint.origin, checkpoint.size, statements, cosigners, unverified, times, stamps,
        check.unchecked_timestamps, witnessed, subject_kind,
    )  # fmt: skip


def _verify_manifest(files: dict[str, bytes], log_key: str) -> tuple[dict[str, Any], str]:
    """Check the signed manifest covers every member unaltered; return it and the subject kind."""
    manifest_bytes = files["manifest.json"]
    signed = verify_note(files["manifest.sig"].decode("utf-8", "replace"), log_key).text
    manifest = _load(manifest_bytes, "manifest.json")
    expected = f"{BUNDLE_FORMAT}\n{manifest['origin']}\nsha256 {hashlib.sha256(manifest_bytes).hexdigest()}\n"
    if signed != expected:
        raise VerificationError("manifest.sig does not sign this manifest.json")
    if manifest.get("format") not in _FORMATS:
        raise VerificationError(f"unknown bundle format {manifest.get('format')!r}")
    for name, digest in manifest["files"].items():
        if name not in files or hashlib.sha256(files[name]).hexdigest() != digest:
            raise VerificationError(f"{name} was altered (its SHA-256 differs from the signed manifest)")
    if set(manifest["files"]) != set(files) - {"manifest.json", "manifest.sig"}:
        raise VerificationError("the manifest does not cover every file of the bundle")
    return manifest, "movement" if "movement.json" in files else "site"


def _verify_entries(
    files: dict[str, bytes], checkpoint: Checkpoint
) -> tuple[dict[int, dict[str, Any]], dict[int, bytes]]:
    """Prove every bundled log entry is in the checkpoint; return them decoded and raw, by index."""
    entries: dict[int, dict[str, Any]] = {}
    raw_entries: dict[int, bytes] = {}
    for item in _load(files["entries.json"], "entries.json"):
        index, entry_bytes = int(item["index"]), _unb64(item["data_b64"], f"entry {item['index']}")
        proof = [_unb64(h, f"proof of entry {index}") for h in item["proof"]]
        try:
            merkle.verify_inclusion(merkle.leaf_hash(entry_bytes), index, checkpoint.size, proof, checkpoint.root_hash)
        except VerificationError as exc:
            raise VerificationError(f"log entry {index} is not in the checkpoint: {exc.message}") from None
        try:
            decoded = decode_entry(entry_bytes)
        except InvalidInput as exc:
            raise VerificationError(f"log entry {index}: {exc.message}") from None
        if decoded["index"] != index:
            raise VerificationError(f"log entry {index} says it is entry {decoded['index']}")
        entries[index] = decoded
        raw_entries[index] = entry_bytes
    return entries, raw_entries


def _subject_statements(
    files: dict[str, bytes], subject_kind: str, site_id: str, entries: dict[int, dict[str, Any]]
) -> tuple[set[str], list[str]]:
    """Check the site's (or movement's) record against its commitment in the log.

    Returns the commitment digests the record has had and the statements about it.
    """
    site = _load(files[f"{subject_kind}.json"], f"{subject_kind}.json")
    record = site["record"]
    if subject_kind == "site":
        versions = [*site.get("earlier_versions", []), site]
        return _verify_site_versions(site_id, versions, entries), _site_statements(site_id, versions, entries)
    salt = bytes.fromhex(site["salt"])
    if record.get("id") != site_id:
        raise VerificationError(f"{subject_kind}.json is about another {subject_kind}")
    digest = commitment(salt, canonical_record(record))
    committed = entries.get(int(site["entry_index"]))
    if (
        committed is None
        or committed["kind"] != f"{subject_kind}_committed"
        or committed["body"] != {f"{subject_kind}_id": site_id, "commitment": digest}
    ):
        raise VerificationError(f"the {subject_kind} record and salt do not match the commitment in the log")
    return {digest}, [
        f"movement {site_id} ({record.get('name') or record.get('kind')}, owner {record.get('owner')}, "
        f"{record.get('organisation') or 'organisation not named'}) on the route {record.get('route')} with a "
        f"corridor {record.get('width_m')} m wide from {record.get('from')} to {record.get('until')}"
        + (" [SYNTHETIC]" if (record.get("provenance") or "").lower() == "synthetic" else "")
        + f" was committed to the log at entry {site['entry_index']} on {committed['logged_at']}"
    ]


def _entry_statements(
    entries: dict[int, dict[str, Any]], subject_kind: str, site_id: str, digests: set[str]
) -> list[str]:
    """Statements for the notifications, corrections, reviews, acknowledgements and guarantees."""
    statements: list[str] = []
    notified = {}
    subject_list = "sites" if subject_kind == "site" else "movements"
    for index, entry in sorted(entries.items()):
        body = entry["body"]
        if entry["kind"] in ("notification", "notification_amended"):
            mine = [s for s in body.get(subject_list, []) if s[f"{subject_kind}_id"] == site_id]
            if (entry["kind"] == "notification" and not mine) or (mine and mine[0]["commitment"] not in digests):
                raise VerificationError(f"notification entry {index} does not name this {subject_kind}'s commitment")
            notified[body["notification_id"]] = index
            when = body["notified_at"]
            window = when["start"] if when["start"] == when["end"] else f"between {when['start']} and {when['end']}"
            sent = (
                f"notified to {body['recipient']} {window} (channel {body.get('channel') or 'not given'}, "
                f"reference {body.get('reference') or 'none'})"
            )
            if entry["kind"] == "notification":
                statements.append(f"{sent}: log entry {index}, logged {entry['logged_at']}")
            else:
                statements.append(
                    f"notification {body['notification_id']} AMENDED at log entry {index}, logged "
                    f"{entry['logged_at']} (superseding entry {body.get('supersedes')}; reason: {body.get('reason')}): "
                    f"{sent}" + ("" if mine else f"; it no longer names {subject_kind} {site_id}")
                )
        elif entry["kind"] in ("notification_withdrawn", "acknowledgement_withdrawn", "site_withdrawn"):
            what = body.get("acknowledgement_id") or body.get("notification_id") or body.get("site_id")
            statements.append(
                f"{entry['kind'].split('_')[0]} {what} WITHDRAWN at log entry {index}, logged {entry['logged_at']} "
                f"(superseding entry {body.get('supersedes')}; reason: {body.get('reason')})"
            )
        elif entry["kind"] == "review":
            statements.append(
                f"incident {body['incident_id']} was {body['status']} on review: log entry {index}, "
                f"logged {entry['logged_at']}"
            )
        elif entry["kind"] == "acknowledgement":
            statements.append(
                f"acknowledged by {body['recipient']} (notification {body['notification_id']}, reference "
                f"{body.get('reference') or 'none'}): log entry {index}, logged {entry['logged_at']}"
            )
    from deconflict.guarantees.evidence import guarantee_statements
    from deconflict.guarantees.model import ObjectRef

    statements += guarantee_statements(entries, ObjectRef(subject_kind, site_id), digests)
    for entry in entries.values():
        if entry["kind"] == "acknowledgement" and entry["body"]["notification_id"] not in notified:
            raise VerificationError("an acknowledgement refers to a notification not in the bundle")
    return statements


def _verify_incidents(files: dict[str, bytes], entries: dict[int, dict[str, Any]], subject_kind: str) -> list[str]:
    """Prove every bundled incident record is in its batch entry's records root."""
    hits = 0
    for item in _load(files["incidents.json"], "incidents.json"):
        batch_entry = entries.get(int(item["entry_index"]))
        if batch_entry is None or batch_entry["kind"] not in BATCH_KINDS:
            raise VerificationError(f"incident {item['record'].get('id')} points to no incident entry in the bundle")
        leaf = merkle.leaf_hash(canonical_record(item["record"]))
        proof = [_unb64(h, "incident proof") for h in item["batch_proof"]]
        if int(item["batch_size"]) != batch_entry["body"]["count"]:
            raise VerificationError(f"incident {item['record'].get('id')}: batch size differs from the log entry")
        root = bytes.fromhex(batch_entry["body"]["records_root"])
        try:
            merkle.verify_inclusion(leaf, int(item["position"]), int(item["batch_size"]), proof, root)
        except VerificationError:
            raise VerificationError(
                f"incident {item['record'].get('id')} is not in log entry {item['entry_index']}"
            ) from None
        hits += 1
    if not hits:
        return []
    return [
        f"{hits} incident record(s) near the {subject_kind} are in the log (entries "
        f"{', '.join(str(i) for i, e in sorted(entries.items()) if e['kind'] in BATCH_KINDS)})"
    ]


def _verify_witnesses(
    note_text: str,
    checkpoint: Checkpoint,
    log_key: str,
    witness_keys: Sequence[str],
    policy: WitnessPolicy | None,
) -> tuple[list[tuple[str, str]], WitnessPolicy | None, bool | None, list[Voucher]]:
    """Check the checkpoint's cosignatures against the trusted witnesses and the policy.

    Returns the verified cosigners (name, time), the trusted set, whether the policy is met
    (None without a policy) and the witnesses' vouchers for the checkpoint.
    """
    cosigners: list[tuple[str, str]] = []
    if witness_keys:
        try:
            verified_cosignatures = verify_cosignatures(note_text, list(witness_keys))
        except VerificationError as exc:
            raise VerificationError(
                f"the bundle's checkpoint (size {checkpoint.size}) is not validly cosigned by the given witness "
                f"key(s): {exc.message}"
            ) from None
        for cosignature in verified_cosignatures:
            moment = datetime.fromtimestamp(cosignature.timestamp, UTC).isoformat(timespec="seconds")
            cosigners.append((cosignature.name, moment))
    if policy is not None and policy.logs and all(v.vkey != parse_verifier_key(log_key).vkey for v in policy.logs):
        raise VerificationError("the log key given is not one of the logs the witness policy lists")
    trusted = policy if policy is not None else WitnessPolicy.threshold(list(witness_keys), 1) if witness_keys else None
    witnessed = None
    vouchers: list[Voucher] = []
    if trusted is not None:
        verified = trusted.verify(note_text)
        for witness, cosignature in verified:
            signed_at = datetime.fromtimestamp(cosignature.timestamp, UTC)
            vouchers.append(Voucher("witness", witness.name, signed_at, checkpoint.size))
            if all(name != cosignature.name for name, _ in cosigners):
                cosigners.append((cosignature.name, signed_at.isoformat(timespec="seconds")))
        if policy is not None:
            witnessed = policy.satisfied_by(w.name for w, _ in verified)
            if not witnessed:
                names = ", ".join(w.name for w, _ in verified) or "none of its witnesses"
                raise VerificationError(
                    f"the bundle's checkpoint (size {checkpoint.size}) does not satisfy the witness policy "
                    f"({policy.describe()}): cosigned by {names}"
                )
    return cosigners, trusted, witnessed, vouchers


def _record_id(entry: dict[str, Any]) -> str:
    body = entry["body"]
    return str(body.get("notification_id") if entry["kind"] == "notification" else body.get("acknowledgement_id"))


def _claimed_span(entry: dict[str, Any]) -> dict[str, str] | None:
    span = entry["body"].get("notified_at" if entry["kind"] == "notification" else "at")
    return span if isinstance(span, dict) else None


def _verify_site_versions(site_id: str, versions: list[dict[str, Any]], entries: dict[int, dict[str, Any]]) -> set[str]:
    """Check each revealed version of the site against its entry; return their commitments.

    The first is a ``site_committed`` entry, each later one a ``site_amended`` entry superseding
    the one before it (:mod:`deconflict.ledger.corrections`).
    """
    digests: set[str] = set()
    previous: int | None = None
    for position, version in enumerate(versions):
        record = version["record"]
        if record.get("id") != site_id:
            raise VerificationError("site.json is about another site")
        digest = commitment(bytes.fromhex(version["salt"]), canonical_record(record))
        index = int(version["entry_index"])
        entry = entries.get(index)
        body = entry["body"] if entry else {}
        kind = "site_committed" if position == 0 else "site_amended"
        if (
            digest != version["commitment"]
            or entry is None
            or entry["kind"] != kind
            or body.get("site_id") != site_id
            or body.get("commitment") != digest
            or (position and body.get("supersedes") != previous)
        ):
            raise VerificationError("the site record and salt do not match the commitment in the log")
        digests.add(digest)
        previous = index
    return digests


def _site_statements(site_id: str, versions: list[dict[str, Any]], entries: dict[int, dict[str, Any]]) -> list[str]:
    """What each verified version of the site says: its first commitment, then each amendment and why."""
    statements = []
    for position, version in enumerate(versions):
        shown = version["record"]
        entry = entries[int(version["entry_index"])]
        what = (
            f"site {site_id} ({shown.get('name')}, {shown.get('kind')}, owner {shown.get('owner')}) at "
            f"{shown.get('lat')}, {shown.get('lon')} (radius {shown.get('radius_m')} m)"
        )
        if position == 0:
            statements.append(
                f"{what} was committed to the log at entry {version['entry_index']} on {entry['logged_at']}"
            )
        else:
            statements.append(
                f"amended to {what} at entry {version['entry_index']} on {entry['logged_at']} "
                f"(superseding entry {entry['body'].get('supersedes')}; reason: {entry['body'].get('reason')})"
            )
    return statements
