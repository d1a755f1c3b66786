"""Witness state: a party that does not trust the log's operator.

A witness keeps the newest checkpoint it has verified (a JSON state file) and accepts a
new checkpoint only if it is signed by the log's key, is at least as large, and — when
larger — comes with a valid consistency proof from the witnessed one (as the rekor client
does). A smaller checkpoint (rollback) or a different root at the same size, or a larger
one without a valid proof (a fork or a rewritten history), raises
:class:`~deconflict.errors.VerificationError` and leaves the state unchanged. Having
verified a checkpoint, a witness can cosign it (c2sp.org/tlog-cosignature), so the log's
operator cannot later present a different history as having existed at that time.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from deconflict.errors import InvalidInput, VerificationError
from deconflict.fileio import atomic_write_text
from deconflict.ledger.checkpoint import Checkpoint, cosign_checkpoint, verify_checkpoint
from deconflict.ledger.merkle import verify_consistency
from deconflict.ledger.note import ALG_COSIGNATURE_V1, Signer, generate_signer, parse_verifier_key
from deconflict.times import format_utc

__all__ = ["WitnessState", "WitnessUpdate", "cosign", "generate_witness_key", "parse_proof", "update"]


@dataclass(frozen=True, slots=True)
class WitnessState:
    """The newest checkpoint a witness verified, and the log key it trusts."""

    origin: str
    log_key: str
    size: int
    root_hash: bytes
    checkpoint: str
    updated_at: str

    def to_json(self) -> str:
        """The state file's text."""
        data = {
            "origin": self.origin, "log_key": self.log_key, "size": self.size,
            "root_hash": base64.b64encode(self.root_hash).decode(), "checkpoint": self.checkpoint,
            "updated_at": self.updated_at,
        }  # fmt: skip
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def load(cls, path: str | Path) -> WitnessState | None:
        """Read a state file; None when it does not exist yet."""
        target = Path(path)
        if not target.exists():
            return None
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
            return cls(
                origin=str(data["origin"]), log_key=str(data["log_key"]), size=int(data["size"]),
                root_hash=base64.b64decode(data["root_hash"], validate=True), checkpoint=str(data["checkpoint"]),
                updated_at=str(data["updated_at"]),
            )  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"not a witness state file: {exc}", where=str(path)) from exc


@dataclass(frozen=True, slots=True)
class WitnessUpdate:
    """The outcome of :func:`update`."""

    old_size: int | None
    new_size: int
    state: WitnessState


def parse_proof(text: str) -> list[bytes]:
    """A proof in text form: one base64 hash per line (blank lines ignored)."""
    hashes = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            digest = base64.b64decode(line.strip(), validate=True)
        except ValueError as exc:
            raise InvalidInput(f"proof line {number} is not base64") from exc
        if len(digest) != 32:
            raise InvalidInput(f"proof line {number} is not a 32-byte hash")
        hashes.append(digest)
    return hashes


def update(
    state_path: str | Path,
    checkpoint_note: str,
    proof: Sequence[bytes] | None,
    *,
    log_key: str | None = None,
) -> WitnessUpdate:
    """Verify ``checkpoint_note`` against the witnessed state and store it.

    Parameters
    ----------
    state_path
        The witness's state file (created on first use: trust on first use of ``log_key``).
    checkpoint_note
        The log's signed checkpoint.
    proof
        Consistency proof from the witnessed size to the new size (needed when it grew).
    log_key
        The log's verifier key; required on first use, must match the state afterwards.

    Raises
    ------
    VerificationError
        Bad signature, other origin or key, a smaller tree, a fork, or a missing or invalid
        consistency proof. The state file is not changed.
    """
    state = WitnessState.load(state_path)
    if state is None and log_key is None:
        raise InvalidInput("first use of a witness state needs the log's key (--log-key)")
    if state is not None and log_key is not None and log_key != state.log_key:
        raise VerificationError("this witness follows another log key; refusing a checkpoint signed by a different key")
    trusted_key = state.log_key if state is not None else str(log_key)
    parse_verifier_key(trusted_key)
    checkpoint = verify_checkpoint(checkpoint_note, trusted_key)
    if state is not None:
        _check_growth(state, checkpoint, proof)
    new_state = WitnessState(
        checkpoint.origin, trusted_key, checkpoint.size, checkpoint.root_hash, checkpoint_note,
        format_utc(datetime.now(UTC)),
    )  # fmt: skip
    if state is None or checkpoint.size != state.size:
        atomic_write_text(state_path, new_state.to_json())
    else:
        new_state = state
    return WitnessUpdate(state.size if state else None, checkpoint.size, new_state)


def _check_growth(state: WitnessState, checkpoint: Checkpoint, proof: Sequence[bytes] | None) -> None:
    if checkpoint.origin != state.origin:
        raise VerificationError(f"checkpoint is for origin {checkpoint.origin!r}, the witness follows {state.origin!r}")
    if checkpoint.size < state.size:
        raise VerificationError(
            f"checkpoint of size {checkpoint.size} is smaller than the witnessed size {state.size}: "
            "the log was rolled back or truncated"
        )
    if checkpoint.size == state.size:
        if checkpoint.root_hash != state.root_hash:
            raise VerificationError(f"fork: a different root hash at the witnessed size {state.size}")
        return
    if not proof:
        raise VerificationError(
            f"no consistency proof from the witnessed size {state.size} to {checkpoint.size}: "
            f"get one with 'deconflict log consistency {state.size}'"
        )
    try:
        verify_consistency(state.size, checkpoint.size, state.root_hash, checkpoint.root_hash, list(proof))
    except VerificationError as exc:
        raise VerificationError(
            f"fork or rewritten history: the checkpoint of size {checkpoint.size} is not consistent with "
            f"the witnessed size {state.size} ({exc.message})"
        ) from None


def generate_witness_key(name: str) -> Signer:
    """A new Ed25519 cosigning key (signature type 0x04) for a witness called ``name``."""
    return generate_signer(name, ALG_COSIGNATURE_V1)


def cosign(state_path: str | Path, witness: Signer, timestamp: int | None = None) -> str:
    """Cosign the checkpoint this witness has verified; return the cosigned note."""
    state = WitnessState.load(state_path)
    if state is None:
        raise InvalidInput("the witness has not verified any checkpoint yet (run 'deconflict witness update')")
    when = int(time.time()) if timestamp is None else timestamp
    return cosign_checkpoint(state.checkpoint, witness, when, log_key=state.log_key)
