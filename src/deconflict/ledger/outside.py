"""Outside time for a log: timestamp and witness its checkpoints, and say what they vouch for.

The operator's own clock proves nothing to someone who distrusts the operator. Two kinds of
outside party do: an RFC 3161 timestamp authority (:func:`timestamp_checkpoint`) signs that a
checkpoint note existed at its time, and a tlog-witness (:func:`witness_checkpoint`) cosigns
a checkpoint it verified as consistent with everything it saw before. Because a checkpoint
commits to every entry before it, each entry is then vouched for "no later than" the earliest
such time over the checkpoints that contain it (:func:`entry_times`).

Both requests are all-or-nothing on verification: any answer that fails to verify (another
note, a wrong nonce, an untrusted or expired certificate, a witness holding a larger or
forked tree, a cosignature by a key outside the policy) raises
:class:`~deconflict.errors.VerificationError` and nothing is stored. A service that cannot be
reached is reported and the others' answers are kept.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from deconflict.errors import NotFound, ServiceUnavailable, VerificationError
from deconflict.ledger.entries import decode_entry
from deconflict.ledger.note import NoteSignature, _split_note, note_signatures
from deconflict.ledger.policy import WitnessPolicy
from deconflict.ledger.timestamp import TsaTrust, request_timestamp, verify_timestamp
from deconflict.ledger.witness import SIZE_CONTENT_TYPE
from deconflict.ledger.witness_http import post_checkpoint
from deconflict.store.base import TimestampRecord, WitnessPeer
from deconflict.times import format_utc

if TYPE_CHECKING:
    from deconflict.ledger.log import Ledger, StoredCheckpoint

__all__ = [
    "FUTURE_SKEW_S",
    "EntryTime",
    "TimestampRun",
    "Voucher",
    "WitnessReply",
    "WitnessRun",
    "describe_gap",
    "entry_times",
    "log_signed_note",
    "merge_signatures",
    "timestamp_checkpoint",
    "timestamp_json",
    "witness_checkpoint",
    "witness_run_json",
]

FUTURE_SKEW_S = 300
"""A cosignature dated more than this many seconds in the future is refused."""
TSA_TRUST_META = "tsa_trust_pem"
POLICY_META = "witness_policy"


def log_signed_note(note: str, origin: str) -> str:
    """The checkpoint note with only the log's own signature lines (what outsiders are sent)."""
    text, signatures = _split_note(note)
    own = [s for s in signatures if s.name == origin]
    if not own:
        raise VerificationError("the checkpoint carries no signature by the log's key")
    return text + "\n" + "".join(s.line for s in own)


def merge_signatures(note: str, lines: Sequence[str]) -> str:
    """``note`` with the signature ``lines`` added; a key that already signed keeps its first line."""
    text, signatures = _split_note(note)
    seen = {(s.name, s.key_id) for s in signatures}
    merged: list[NoteSignature] = list(signatures)
    for line in lines:
        for signature in note_signatures(text + "\n" + line):
            if (signature.name, signature.key_id) not in seen:
                seen.add((signature.name, signature.key_id))
                merged.append(signature)
    return text + "\n" + "".join(s.line for s in merged)


def timestamp_json(record: TimestampRecord) -> dict[str, Any]:
    """A stored token as JSON (``log timestamps --json`` and ``GET /api/v1/log/timestamps``)."""
    return {"checkpoint_size": record.checkpoint_size, "tsa_url": record.tsa_url, "tsa": record.tsa,
            "gen_time": record.gen_time, "serial": record.serial, "stored_at": record.created_at}  # fmt: skip


def witness_run_json(run: WitnessRun) -> dict[str, Any]:
    """The outcome of :func:`witness_checkpoint` as JSON (CLI and API)."""
    return {
        "checkpoint_size": run.checkpoint_size, "witnessed": run.witnessed, "policy": run.policy,
        "cosignatures": [{"url": r.url, "witness": r.witness, "key_name": r.key_name, "old_size": r.old_size,
                          "timestamp": r.timestamp} for r in run.replies],
        "unreachable": [{"url": u, "error": m} for u, m in run.unreachable],
    }  # fmt: skip


# -- RFC 3161 -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TimestampRun:
    """What :func:`timestamp_checkpoint` did."""

    checkpoint_size: int
    stored: list[TimestampRecord]
    unreachable: list[tuple[str, str]] = field(default_factory=list)


def stored_tsa_trust(ledger: Ledger) -> TsaTrust:
    """The TSA certificates this database trusts (added by earlier ``log timestamp --tsa-cert``)."""
    return TsaTrust.from_pem(ledger.store.get_meta(TSA_TRUST_META) or "")


def timestamp_checkpoint(
    ledger: Ledger, tsa_urls: Sequence[str], trust: TsaTrust | None = None, *, timeout: float = 30.0
) -> TimestampRun:
    """Have each TSA timestamp the latest checkpoint (signing one first if the log grew).

    The message is the checkpoint note as signed by the log (without cosignatures), so the
    token stays checkable however many witnesses cosign later. Each response is verified
    against ``trust`` plus the certificates stored by earlier calls; when all verify, the
    tokens are stored with the checkpoint and ``trust`` joins the stored certificates.

    Raises
    ------
    VerificationError
        Any response fails verification (nothing is stored).
    ServiceUnavailable
        No TSA could be reached.
    """
    if not tsa_urls:
        raise NotFound("no timestamp authority given (pass --tsa URL)")
    given = trust or TsaTrust()
    anchors = stored_tsa_trust(ledger) + given
    checkpoint = ledger.sign_checkpoint()
    note = log_signed_note(checkpoint.note, ledger.origin)
    message = note.encode("utf-8")
    verified = []
    unreachable: list[tuple[str, str]] = []
    for url in dict.fromkeys(tsa_urls):
        try:
            response, nonce = request_timestamp(url, message, timeout=timeout)
        except ServiceUnavailable as exc:
            unreachable.append((url, exc.message))
            continue
        verified.append((url, response, verify_timestamp(response, message, anchors, nonce=nonce, where=url)))
    if not verified:
        raise ServiceUnavailable("no timestamp authority answered: " + "; ".join(f"{u}: {m}" for u, m in unreachable))
    now = format_utc(datetime.now(UTC))
    records = [
        TimestampRecord(checkpoint.size, note, url, response, token.chain_pem, token.gen_time_text, token.tsa,
                        f"{token.serial:x}", now)
        for url, response, token in verified
    ]  # fmt: skip
    with ledger.store.transaction():
        for record in records:
            ledger.store.save_timestamp(record)
        if given:
            ledger.store.set_meta(TSA_TRUST_META, anchors.pem())
    return TimestampRun(checkpoint.size, records, unreachable)


# -- tlog-witness -------------------------------------------------------------------------
@dataclass(frozen=True)
class WitnessReply:
    """One witness's verified cosignature."""

    url: str
    witness: str
    key_name: str
    vkey: str
    old_size: int
    timestamp: int
    line: str


@dataclass(frozen=True)
class WitnessRun:
    """What :func:`witness_checkpoint` did and whether the checkpoint is now witnessed."""

    checkpoint_size: int
    replies: list[WitnessReply]
    unreachable: list[tuple[str, str]]
    witnessed: bool
    policy: str


def witness_policy(ledger: Ledger) -> WitnessPolicy | None:
    """The witness policy stored with the log (``log witness --policy``), or None."""
    text = ledger.store.get_meta(POLICY_META)
    return None if text is None else WitnessPolicy.parse(text, where="the stored witness policy")


def witness_checkpoint(
    ledger: Ledger,
    policy: WitnessPolicy,
    urls: Sequence[str] = (),
    *,
    timeout: float = 30.0,
    store_policy: bool = True,
) -> WitnessRun:
    """Send the latest checkpoint to witnesses (C2SP tlog-witness) and store their cosignatures.

    Each witness gets the log-signed note with a consistency proof from the size it last
    cosigned (remembered per URL; learnt from its 409 answer when unknown or stale).

    Parameters
    ----------
    policy
        Which witness keys are accepted and how many make a checkpoint witnessed.
    urls
        Submission prefixes to send to; default the policy's witness URLs.

    Raises
    ------
    VerificationError
        A witness has cosigned a larger tree than the log, refuses the consistency proof (a
        fork), or answers with a cosignature that does not verify or is by a key outside the
        policy; nothing is stored.
    ServiceUnavailable
        No witness could be reached.
    """
    targets = list(dict.fromkeys(urls or [w.url for w in policy.witnesses if w.url]))
    if not targets:
        raise NotFound("no witness URL: pass --url or give the witnesses URLs in the policy")
    checkpoint = ledger.sign_checkpoint()
    size = checkpoint.size
    note = log_signed_note(checkpoint.note, ledger.origin)
    peers = {peer.url: peer for peer in ledger.store.list_witness_peers()}
    replies: list[WitnessReply] = []
    unreachable: list[tuple[str, str]] = []
    for url in targets:
        known = peers.get(url)
        old = known.last_size if known is not None and known.last_size <= size else 0
        try:
            replies.append(_witness_one(ledger, policy, url, note, size, old, timeout))
        except ServiceUnavailable as exc:
            unreachable.append((url, exc.message))
    if not replies:
        raise ServiceUnavailable("no witness answered: " + "; ".join(f"{u}: {m}" for u, m in unreachable))
    now = format_utc(datetime.now(UTC))
    with ledger.store.transaction():
        current = {s: n for s, n, _ in ledger.store.list_checkpoints()}.get(size, checkpoint.note)
        merged = merge_signatures(current, [r.line for r in replies])
        ledger.store.save_checkpoint(size, merged, checkpoint.created_at)
        for reply in replies:
            ledger.store.save_witness_peer(WitnessPeer(reply.url, reply.key_name, reply.vkey, size, now))
        if store_policy:
            ledger.store.set_meta(POLICY_META, policy.text)
    witnessed = policy.satisfied_by(w.name for w, _ in policy.verify(merged))
    return WitnessRun(size, replies, unreachable, witnessed, policy.describe())


def _witness_one(
    ledger: Ledger, policy: WitnessPolicy, url: str, note: str, size: int, old: int, timeout: float
) -> WitnessReply:
    for attempt in range(2):
        proof = ledger.consistency_proof(old, size) if 0 < old < size else []
        answer = post_checkpoint(url, old, proof, note, timeout=timeout)
        if answer.status != 409:
            break
        learned = _size_of_409(url, answer.body, answer.content_type)
        if learned > size:
            raise VerificationError(
                f"the witness has cosigned a tree of size {learned}, larger than this log's {size}: the log was "
                "rolled back, or the witness follows a fork of it",
                where=url,
            )
        if attempt == 1 or learned == old:
            raise VerificationError(f"the witness keeps answering 409 (size {learned})", where=url)
        old = learned
    message = answer.body.decode("utf-8", "replace").strip()
    if answer.status == 422:
        raise VerificationError(
            f"the witness refused the consistency proof from size {old} to {size} ({message}): its view of "
            f"the log at size {old} differs from this log's — a fork",
            where=url,
        )
    if answer.status != 200:
        raise ServiceUnavailable(f"the witness answered HTTP {answer.status}: {message}", where=url)
    return _check_cosignature(policy, url, note, old, answer.body)


def _size_of_409(url: str, body: bytes, content_type: str) -> int:
    text = body.decode("ascii", "replace")
    if not content_type.startswith(SIZE_CONTENT_TYPE) or not text.endswith("\n") or not text[:-1].isdigit():
        raise VerificationError(f"the witness's 409 answer is not a tree size ({text[:40]!r})", where=url)
    return int(text[:-1])


def _check_cosignature(policy: WitnessPolicy, url: str, note: str, old: int, body: bytes) -> WitnessReply:
    try:
        lines = body.decode("utf-8")
        answered = note_signatures(note + lines)[len(note_signatures(note)) :]
    except (UnicodeDecodeError, VerificationError):
        raise VerificationError("the witness's answer is not signature lines", where=url) from None
    if not answered:
        raise VerificationError("the witness answered 200 without a cosignature", where=url)
    try:
        verified = policy.verify(note + lines)
    except VerificationError as exc:
        raise VerificationError(f"{exc.message}: it does not sign the checkpoint sent", where=url) from None
    if not verified:
        names = ", ".join(f"{s.name} (key ID {s.key_id:08x})" for s in answered)
        raise VerificationError(
            f"the witness cosigned with a key that is not in the witness policy: {names}", where=url
        )
    witness, cosignature = verified[0]
    if cosignature.timestamp == 0:
        raise VerificationError("the witness's cosignature has no timestamp (0)", where=url)
    if cosignature.timestamp > time.time() + FUTURE_SKEW_S:
        raise VerificationError(
            f"the witness's cosignature is dated {format_utc(datetime.fromtimestamp(cosignature.timestamp, UTC))}, "
            "in the future",
            where=url,
        )
    line = next(s.line for s in answered if (s.name, s.key_id) == (cosignature.name, cosignature.key_id))
    return WitnessReply(url, witness.name, cosignature.name, witness.vkey, old, cosignature.timestamp, line)


# -- what outside parties vouch for -----------------------------------------------------------
@dataclass(frozen=True)
class Voucher:
    """An outside party's time for a checkpoint: a TSA's genTime or a witness's cosignature time."""

    kind: str
    by: str
    at: datetime
    checkpoint_size: int

    def sentence(self) -> str:
        """E.g. ``2025-11-14T09:12:03Z, timestamped by CN=TSA`` ."""
        verb = "timestamped by TSA" if self.kind == "timestamp" else "cosigned by witness"
        return f"{format_utc(self.at)}, {verb} {self.by} (checkpoint of size {self.checkpoint_size})"


@dataclass(frozen=True)
class EntryTime:
    """For one log entry: the time it claims, when the log says it was recorded, the first outside time."""

    index: int
    kind: str
    record_id: str
    claimed: str | None
    claimed_end: datetime | None
    logged_at: str
    first: Voucher | None

    @property
    def gap(self) -> timedelta | None:
        """First outside time minus the end of the claimed time (None when either is missing)."""
        if self.first is None or self.claimed_end is None:
            return None
        return self.first.at - self.claimed_end

    def to_json(self) -> dict[str, Any]:
        """The JSON shape ``log time --json`` and ``GET /api/v1/log/time`` share."""
        first = self.first
        return {
            "index": self.index, "kind": self.kind, "id": self.record_id, "claimed": self.claimed,
            "logged_at": self.logged_at,
            "first_outside": None if first is None else {
                "kind": first.kind, "by": first.by, "at": format_utc(first.at),
                "checkpoint_size": first.checkpoint_size,
            },
            "gap_seconds": None if self.gap is None else int(self.gap.total_seconds()),
            "statement": self.sentence(),
        }  # fmt: skip

    def sentence(self) -> str:
        """The plain statement printed in bundles, ``evidence verify`` and reports."""
        claim = f"claims {self.claimed}" if self.claimed else "claims no time"
        if self.first is None:
            return (
                f"{claim}; logged {self.logged_at} by the operator's clock only: no timestamp authority or trusted "
                "witness vouches for when it was recorded"
            )
        return f"{claim}; in the log no later than {self.first.sentence()}; {describe_gap(self.gap)}"


def describe_gap(gap: timedelta | None) -> str:
    """The gap between a claimed time and the first outside time, in words."""
    if gap is None:
        return "gap: not applicable"
    seconds = abs(gap.total_seconds())
    days, rest = divmod(int(seconds), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    amount = f"{days} d {hours} h" if days else f"{hours} h {minutes} min" if hours else f"{minutes} min"
    if gap.total_seconds() >= 0:
        return (
            f"gap: {amount} from the end of the claimed time to the first outside proof (it dates the record, "
            "not the event)"
        )
    return f"gap: none; the record was vouched for {amount} before the end of the time it claims"


def checkpoint_vouchers(
    ledger: Ledger, policy: WitnessPolicy | None, checkpoints: Sequence[StoredCheckpoint] | None = None
) -> dict[int, list[Voucher]]:
    """Outside times per checkpoint size: stored TSA tokens, and cosignatures by policy witnesses."""
    found: dict[int, list[Voucher]] = {}
    for record in ledger.store.list_timestamps():
        at = datetime.fromisoformat(record.gen_time.replace("Z", "+00:00"))
        found.setdefault(record.checkpoint_size, []).append(
            Voucher("timestamp", record.tsa, at, record.checkpoint_size)
        )
    if policy is not None:
        for stored in checkpoints if checkpoints is not None else ledger.checkpoints():
            for witness, cosignature in policy.verify(stored.note):
                at = datetime.fromtimestamp(cosignature.timestamp, UTC)
                found.setdefault(stored.size, []).append(Voucher("witness", witness.name, at, stored.size))
    return found


def entry_times(ledger: Ledger, policy: WitnessPolicy | None = None) -> list[EntryTime]:
    """For each notification and acknowledgement in the log: claimed time, log time, first outside time.

    ``policy`` decides whose cosignatures count (default: the stored policy; without one only
    TSA tokens count). Stored tokens were verified when they were stored.
    """
    policy = policy if policy is not None else witness_policy(ledger)
    vouchers = sorted((v for items in checkpoint_vouchers(ledger, policy).values() for v in items), key=lambda v: v.at)
    rows = [*ledger.store.log_entries_of_kind("notification"), *ledger.store.log_entries_of_kind("acknowledgement")]
    times = []
    for row in sorted(rows, key=lambda r: r.index):
        body = decode_entry(row.data)["body"]
        span = body["notified_at"] if row.kind == "notification" else body["at"]
        record_id = body["notification_id"] if row.kind == "notification" else body["acknowledgement_id"]
        times.append(entry_time(row.index, row.kind, record_id, span, row.logged_at, vouchers))
    return times


def entry_time(
    index: int, kind: str, record_id: str, span: dict[str, str] | None, logged_at: str, vouchers: Sequence[Voucher]
) -> EntryTime:
    """The :class:`EntryTime` of one entry given every voucher (any order)."""
    covering = [v for v in vouchers if v.checkpoint_size > index]
    first = min(covering, key=lambda v: (v.at, v.kind != "timestamp")) if covering else None
    claimed = claimed_end = None
    if span:
        claimed = span["start"] if span["start"] == span["end"] else f"{span['start']}/{span['end']}"
        claimed_end = datetime.fromisoformat(span["end"].replace("Z", "+00:00"))
    return EntryTime(index, kind, record_id, claimed, claimed_end, logged_at, first)
