"""Witnesses: parties that do not trust the log's operator.

Two ways to witness, one verification rule. :class:`Witness` implements the C2SP
tlog-witness protocol (``deconflict witness serve`` puts it behind HTTP): logs POST each new
checkpoint with a consistency proof and get a timestamped cosignature back. The older
file-based commands (``witness update`` / ``witness cosign``) do the same by hand.

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
import fcntl
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deconflict.errors import InvalidInput, VerificationError
from deconflict.fileio import atomic_write_text
from deconflict.ledger.checkpoint import Checkpoint, cosign_checkpoint, parse_checkpoint, verify_checkpoint
from deconflict.ledger.merkle import verify_consistency
from deconflict.ledger.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    Signer,
    Verifier,
    _split_note,
    generate_signer,
    parse_verifier_key,
    verify_note,
)
from deconflict.times import format_utc

__all__ = [
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "WITNESS_STATE_FORMAT",
    "Witness",
    "WitnessAnswer",
    "WitnessState",
    "WitnessUpdate",
    "add_checkpoint_body",
    "cosign",
    "generate_witness_key",
    "origin_hash",
    "parse_add_checkpoint",
    "parse_proof",
    "update",
]

WITNESS_STATE_FORMAT = "deconflict-witness-state/1"


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


# -- the C2SP tlog-witness protocol ----------------------------------------------------------
SIZE_CONTENT_TYPE = "text/x.tlog.size"
"""Content type of a 409 answer: the witness's latest cosigned size, then a newline."""
MAX_PROOF_LINES = 63
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]*)")
_EMPTY_ROOT = hashlib.sha256(b"").digest()


@dataclass(frozen=True, slots=True)
class WitnessAnswer:
    """An HTTP answer of the witness: status, body and content type."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"

    @classmethod
    def text(cls, status: int, message: str) -> WitnessAnswer:
        """A plain-text answer (the message and a newline)."""
        return cls(status, (message.rstrip("\n") + "\n").encode("utf-8"))


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.answer = WitnessAnswer.text(status, message)


def parse_add_checkpoint(body: bytes) -> tuple[int, list[bytes], str]:
    """Split an ``add-checkpoint`` request body into (old size, proof hashes, checkpoint note).

    Raises
    ------
    InvalidInput
        If the body is not ``old N``, at most 63 base64 hash lines, an empty line and a note.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the request body is not UTF-8") from None
    first, newline, rest = text.partition("\n")
    match = _OLD_LINE.fullmatch(first)
    if not newline or match is None:
        raise InvalidInput("the first line must be 'old <size>' (decimal, no leading zeros)")
    proof: list[bytes] = []
    while True:
        line, newline, rest = rest.partition("\n")
        if not newline:
            raise InvalidInput("the proof lines must end with an empty line before the checkpoint")
        if not line:
            break
        if len(proof) == MAX_PROOF_LINES:
            raise InvalidInput(f"more than {MAX_PROOF_LINES} consistency proof lines")
        try:
            # A wrong-length "hash" is left to the proof check (422), as the reference witness does.
            proof.append(base64.b64decode(line, validate=True))
        except ValueError:
            raise InvalidInput(f"proof line {len(proof) + 1} is not base64") from None
    return int(match.group(1)), proof, rest


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], checkpoint_note: str) -> bytes:
    """The ``add-checkpoint`` request body a log sends (the inverse of :func:`parse_add_checkpoint`)."""
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof), ""]
    return ("\n".join(lines) + "\n" + checkpoint_note).encode("utf-8")


def origin_hash(origin: str) -> str:
    """The lowercase hex SHA-256 of a log origin (the witness's monitoring path)."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


class Witness:
    """A C2SP tlog-witness (c2sp.org/tlog-witness) for a set of logs, with a persistent state.

    For each log (identified by its origin, the name of its key) the witness keeps the latest
    checkpoint it cosigned. :meth:`add_checkpoint` answers exactly as the specification says:
    404 for an unknown origin; 403 when no trusted signature verifies (or a trusted key's
    signature fails); 400 for a malformed body or an old size above the checkpoint size; 409
    with the witness's size (``text/x.tlog.size``) when the old size is not the size it
    cosigned last; 422 for a bad consistency proof, a proof sent from size 0, a size-0
    checkpoint whose root is not the empty tree's, or another root at the same size; else 200
    with one Ed25519 ``cosignature/v1`` line timestamped now.

    Checking the old size and storing the new checkpoint happen under one lock (a thread lock
    and an exclusive ``flock`` on ``<state>.lock``, so several threads or processes never roll
    the state back), and the state file is replaced atomically and fsynced before answering.

    Parameters
    ----------
    state_path
        The witness's JSON state file (created on the first cosignature).
    signer
        The witness's type 0x04 cosigning key.
    log_keys
        Verifier keys of the logs it follows; each key's name is the log's origin.
    clock
        POSIX seconds now (a parameter so tests can fix it).
    """

    def __init__(
        self,
        state_path: str | Path,
        signer: Signer,
        log_keys: Sequence[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        if signer.algorithm != ALG_COSIGNATURE_V1:
            raise InvalidInput(
                "a witness cosigns with a type 0x04 (cosignature/v1) key; create one with 'witness init'"
            )
        self.state_path = Path(state_path)
        self.signer = signer
        self.clock = clock
        self.logs: dict[str, list[Verifier]] = {}
        for vkey in log_keys:
            verifier = parse_verifier_key(vkey)
            if verifier.algorithm != ALG_ED25519:
                raise InvalidInput(f"log key {vkey!r} is not a type 0x01 (Ed25519) key")
            self.logs.setdefault(verifier.name, []).append(verifier)
        if not self.logs:
            raise InvalidInput("a witness needs at least one log key (--log)")
        self._lock = threading.Lock()

    # -- state ----------------------------------------------------------------------------
    def _load(self) -> dict[str, Any]:
        if not self.state_path.exists():
            return {"format": WITNESS_STATE_FORMAT, "logs": {}}
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"not a witness state file: {exc}", where=str(self.state_path)) from None
        if not isinstance(data, dict) or data.get("format") != WITNESS_STATE_FORMAT:
            raise InvalidInput("not a witness state file of this format", where=str(self.state_path))
        return data

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._lock, open(f"{self.state_path}.lock", "a+b") as lock_file:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def latest(self, origin: str) -> tuple[int, str] | None:
        """``(size, cosigned note)`` of the latest checkpoint cosigned for ``origin``, or None."""
        entry = self._load()["logs"].get(origin)
        return None if entry is None else (int(entry["size"]), str(entry["checkpoint"]))

    # -- the protocol ---------------------------------------------------------------------
    def add_checkpoint(self, body: bytes) -> WitnessAnswer:
        """Answer a ``POST <prefix>/add-checkpoint`` request body (see the class docstring)."""
        try:
            return self._add(body)
        except _Refusal as refusal:
            return refusal.answer

    def _add(self, body: bytes) -> WitnessAnswer:
        try:
            old_size, proof, note_text = parse_add_checkpoint(body)
            text, _ = _split_note(note_text)
        except (InvalidInput, VerificationError) as exc:
            raise _Refusal(400, exc.message) from None
        origin = text.partition("\n")[0]
        verifiers = self.logs.get(origin)
        if verifiers is None:
            raise _Refusal(404, f"unknown log origin {origin!r}")
        try:
            checkpoint = parse_checkpoint(text)
        except InvalidInput as exc:
            raise _Refusal(400, f"not a checkpoint: {exc.message}") from None
        try:
            verified = verify_note(note_text, verifiers)
        except VerificationError as exc:
            raise _Refusal(403, exc.message) from None
        if old_size > checkpoint.size:
            raise _Refusal(400, f"old size {old_size} is larger than the checkpoint size {checkpoint.size}")
        with self._exclusive():
            state = self._load()
            latest = state["logs"].get(origin)
            latest_size = int(latest["size"]) if latest else 0
            if old_size != latest_size:
                return WitnessAnswer(409, f"{latest_size}\n".encode(), SIZE_CONTENT_TYPE)
            if checkpoint.size == 0 and checkpoint.root_hash != _EMPTY_ROOT:
                raise _Refusal(422, "a checkpoint of size 0 must have the empty tree's root hash")
            if old_size == 0:
                if proof:
                    raise _Refusal(422, "the consistency proof from size 0 must be empty")
            else:
                old_root = base64.b64decode(latest["root_hash"]) if latest else b""
                try:
                    verify_consistency(old_size, checkpoint.size, old_root, checkpoint.root_hash, proof)
                except VerificationError as exc:
                    raise _Refusal(
                        422, f"the consistency proof from size {old_size} does not verify: {exc.message}"
                    ) from None
            timestamp = max(int(self.clock()), 1)
            signed = text + "\n" + "".join(signature.line for signature in verified.verified_signatures)
            cosigned = cosign_checkpoint(signed, self.signer, timestamp)
            line = cosigned[len(signed) :]
            state["logs"][origin] = {
                "size": checkpoint.size, "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
                "checkpoint": cosigned, "cosigned_at": timestamp,
            }  # fmt: skip
            atomic_write_text(self.state_path, json.dumps(state, indent=2, ensure_ascii=False) + "\n")
        return WitnessAnswer(200, line.encode("utf-8"))

    def checkpoint_answer(self, hex_origin: str) -> WitnessAnswer:
        """Answer ``GET <prefix>/<origin hash>/checkpoint``: the latest cosigned checkpoint, or 404."""
        for origin in self.logs:
            if origin_hash(origin) == hex_origin:
                latest = self.latest(origin)
                if latest is not None:
                    return WitnessAnswer(200, latest[1].encode("utf-8"))
        return WitnessAnswer.text(404, "this witness has cosigned no checkpoint for that log")
