"""The time part of an evidence bundle: which outside party vouches for each entry, and when.

``time.json`` lists *vouchers*: stored checkpoints that a timestamp authority timestamped or
a witness cosigned, each with the inclusion proofs of the bundle's entries it contains and a
consistency proof to the bundle's checkpoint (so it is the same history, not a fork). Each
RFC 3161 token is also a separate file, ``time/cp<SIZE>-tsa<N>.tsr``, beside the exact note
it timestamps (``.note``) and the TSA's certificate chain (``-chain.pem``), so anyone can
check it by hand with ``openssl ts -verify``. Verification trusts only what the verifier
brings: the log key, witness keys or a witness policy, and TSA root certificates.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from deconflict.errors import InvalidInput, VerificationError
from deconflict.ledger import merkle
from deconflict.ledger.checkpoint import Checkpoint, verify_checkpoint
from deconflict.ledger.log import Ledger, StoredCheckpoint
from deconflict.ledger.note import note_signatures
from deconflict.ledger.outside import Voucher, checkpoint_vouchers
from deconflict.ledger.policy import WitnessPolicy
from deconflict.ledger.timestamp import TsaTrust, verify_timestamp

__all__ = ["TimeCheck", "build_time_section", "choose_checkpoint", "verify_time_section"]

TIME_FILE = "time.json"
TIME_DIR = "time/"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(f"{what} is not base64") from None


def _cosigned(note: str, origin: str) -> bool:
    return any(signature.name != origin for signature in note_signatures(note))


def _cosignature_time(signature: bytes) -> datetime:
    """The (unverified) timestamp of a cosignature/v1 signature, for choosing; verify_time_section checks it."""
    seconds = int.from_bytes(signature[:8], "big") if len(signature) >= 8 else 0
    return datetime.fromtimestamp(min(seconds, 253_402_300_799), UTC)


def choose_checkpoint(
    ledger: Ledger, covering: list[StoredCheckpoint], policy: WitnessPolicy | None
) -> StoredCheckpoint | None:
    """The checkpoint a bundle is built on: the newest that satisfies the witness policy.

    Without a policy (or when none satisfies it): the newest one a witness cosigned, else the
    newest one; None when ``covering`` is empty.
    """
    if policy is not None and policy.required:
        witnessed = [c for c in covering if policy.satisfied_by(w.name for w, _ in policy.verify(c.note))]
        if witnessed:
            return witnessed[-1]
    cosigned = [c for c in covering if _cosigned(c.note, ledger.origin)]
    chosen = cosigned or covering
    return chosen[-1] if chosen else None


def build_time_section(
    ledger: Ledger, indices: list[int], main: StoredCheckpoint, policy: WitnessPolicy | None
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The ``time/`` files and the ``time.json`` content for a bundle of entries ``indices``.

    A checkpoint is a voucher when a stored TSA token covers it or a witness cosigned it
    (by the policy's keys when there is a policy; any cosigner otherwise: the verifier
    decides whom it trusts). For each entry the voucher with the earliest outside time is
    included, and ``main`` when it is one, so a bundle stays small however often the log was
    timestamped.
    """
    stored = [c for c in ledger.checkpoints() if 0 < c.size <= main.size]
    known = checkpoint_vouchers(ledger, policy, stored)
    earliest = {size: min(v.at for v in found) for size, found in known.items()}
    if policy is None:  # any cosigner may be one the verifier trusts: keep the cosigned checkpoints too
        for c in stored:
            times = [_cosignature_time(s.signature) for s in note_signatures(c.note) if s.name != ledger.origin]
            if times:
                earliest[c.size] = min([*times, earliest.get(c.size, times[0])])
    # Per entry, the checkpoint that vouches for it first; and the bundle's own checkpoint.
    sizes = {main.size} if main.size in earliest else set()
    for index in indices:
        covering = [size for size in earliest if size > index]
        if covering:
            sizes.add(min(covering, key=lambda size: (earliest[size], size)))
    by_size = {c.size: c for c in stored}
    tokens = [t for t in ledger.store.list_timestamps() if t.checkpoint_size in set(sizes)]
    files: dict[str, bytes] = {}
    vouchers = []
    for size in sorted(sizes):
        entries = {str(i): [_b64(h) for h in ledger.inclusion_proof(i, size)] for i in indices if i < size}
        if not entries:
            continue
        items = []
        for number, token in enumerate((t for t in tokens if t.checkpoint_size == size), start=1):
            stem = f"{TIME_DIR}cp{size}-tsa{number}"
            files[f"{stem}.tsr"] = token.response
            files[f"{stem}.note"] = token.note.encode("utf-8")
            files[f"{stem}-chain.pem"] = token.certificates.encode("ascii")
            items.append({"tsa_url": token.tsa_url, "token": f"{stem}.tsr", "note": f"{stem}.note",
                          "chain": f"{stem}-chain.pem", "gen_time": token.gen_time, "tsa": token.tsa})  # fmt: skip
        proof = ledger.consistency_proof(size, main.size) if size < main.size else []
        vouchers.append({"size": size, "note": by_size[size].note, "entries": entries, "timestamps": items,
                         "consistency_to_checkpoint": [_b64(h) for h in proof]})  # fmt: skip
    section = {"vouchers": vouchers, "witness_policy": policy.text if policy is not None else None}
    return files, section


@dataclass
class TimeCheck:
    """What the time section proved: verified vouchers, and what could not be checked."""

    vouchers: list[Voucher] = field(default_factory=list)
    unchecked_timestamps: list[str] = field(default_factory=list)
    unchecked_cosigners: set[str] = field(default_factory=set)


def verify_time_section(
    section: Mapping[str, Any],
    files: Mapping[str, bytes],
    log_key: str,
    main: Checkpoint,
    entry_bytes: Mapping[int, bytes],
    witnesses: WitnessPolicy | None,
    tsa_trust: TsaTrust | None,
) -> TimeCheck:
    """Verify every voucher of ``time.json``; return the outside times it proves.

    Raises
    ------
    VerificationError
        A voucher checkpoint not signed by the log, not consistent with ``main``, an entry
        proof that fails, a timestamp over another note or one that fails against
        ``tsa_trust``, or a cosignature by a trusted witness key that fails.
    """
    check = TimeCheck()
    for item in section.get("vouchers", []):
        size = int(item["size"])
        note = str(item["note"])
        try:
            checkpoint = verify_checkpoint(note, log_key)
        except VerificationError as exc:
            raise VerificationError(f"time.json: checkpoint of size {size}: {exc.message}") from None
        if checkpoint.size != size or checkpoint.origin != main.origin or size > main.size:
            raise VerificationError(f"time.json: the checkpoint of size {size} is not a checkpoint of this log")
        proof = [_unb64(h, f"consistency proof of checkpoint {size}") for h in item["consistency_to_checkpoint"]]
        try:
            merkle.verify_consistency(size, main.size, checkpoint.root_hash, main.root_hash, proof)
        except VerificationError as exc:
            raise VerificationError(
                f"time.json: the checkpoint of size {size} is not consistent with the bundle's checkpoint of size "
                f"{main.size} ({exc.message}): another history"
            ) from None
        for index_text, hashes in item["entries"].items():
            index = int(index_text)
            if index not in entry_bytes:
                raise VerificationError(f"time.json: entry {index} is not in entries.json")
            path = [_unb64(h, f"proof of entry {index} in checkpoint {size}") for h in hashes]
            try:
                merkle.verify_inclusion(merkle.leaf_hash(entry_bytes[index]), index, size, path, checkpoint.root_hash)
            except VerificationError as exc:
                raise VerificationError(
                    f"time.json: entry {index} is not in checkpoint {size}: {exc.message}"
                ) from None
        for token in item["timestamps"]:
            _check_timestamp(token, files, log_key, checkpoint, tsa_trust, check)
        if witnesses is not None:
            for witness, cosignature in witnesses.verify(note):
                at = datetime.fromtimestamp(cosignature.timestamp, UTC)
                check.vouchers.append(Voucher("witness", witness.name, at, size))
        own = checkpoint.origin
        trusted = {w.verifier.name for w in witnesses.witnesses} if witnesses is not None else set()
        check.unchecked_cosigners |= {s.name for s in note_signatures(note)} - trusted - {own}
    return check


def _check_timestamp(
    token: Mapping[str, Any],
    files: Mapping[str, bytes],
    log_key: str,
    checkpoint: Checkpoint,
    trust: TsaTrust | None,
    check: TimeCheck,
) -> None:
    name = str(token["token"])
    for member in (name, str(token["note"]), str(token["chain"])):
        if member not in files:
            raise VerificationError(f"time.json names {member}, which is not in the bundle")
    note = files[str(token["note"])].decode("utf-8")
    try:
        stamped = verify_checkpoint(note, log_key)
    except VerificationError as exc:
        raise VerificationError(f"{token['note']}: {exc.message}") from None
    if stamped != checkpoint:
        raise VerificationError(f"{token['note']} is not the checkpoint of size {checkpoint.size}")
    if trust is None or not trust:
        check.unchecked_timestamps.append(f"{name} ({token.get('tsa')})")
        return
    try:
        verified = verify_timestamp(files[name], note.encode("utf-8"), trust, where=name)
    except InvalidInput as exc:  # pragma: no cover - verify_timestamp raises VerificationError
        raise VerificationError(exc.message, where=name) from None
    check.vouchers.append(Voucher("timestamp", verified.tsa, verified.gen_time, checkpoint.size))


def load_section(data: bytes) -> dict[str, Any]:
    """``time.json`` parsed; raises :class:`VerificationError` when it is not JSON."""
    from deconflict.limits import load_json

    try:
        loaded = load_json(data.decode("utf-8"), where="time.json")
    except UnicodeDecodeError as exc:
        raise VerificationError(f"time.json is not JSON: {exc}") from None
    except InvalidInput as exc:  # not JSON, or nested too deeply
        raise VerificationError(f"time.json: {exc.message}") from None
    if not isinstance(loaded, dict):
        raise VerificationError("time.json is not a JSON object")
    return loaded
