"""C2SP tlog-checkpoints and tlog-cosignatures over signed notes, with Ed25519.

Byte formats followed (see ``tests/ledger/vectors/SOURCES.md``):

- c2sp.org/tlog-checkpoint: the text is ``origin\\nsize\\nbase64(root)\\n`` plus
  optional non-empty extension lines.
- c2sp.org/tlog-cosignature (Ed25519, "cosignature/v1"): the signature is
  ``u64 big-endian timestamp || Ed25519 signature`` over
  ``"cosignature/v1\\ntime <timestamp>\\n" || checkpoint text``.

Signed notes and keys are in :mod:`deconflict.ledger.note`, which re-exports every name
here. Verifiers return what they verified and raise
:class:`~deconflict.errors.VerificationError` on any failure; a key or text
that cannot be used at all raises :class:`~deconflict.errors.InvalidInput`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from deconflict.errors import InvalidInput, VerificationError
from deconflict.ledger.merkle import HASH_SIZE, MAX_TREE_SIZE
from deconflict.ledger.note import (
    _MAX_TIMESTAMP,
    ALG_COSIGNATURE_V1,
    MAX_SIGNATURES,
    NoteSignature,
    Signer,
    Verifier,
    _b64decode,
    _cosigned_message,
    _split_note,
    _verifiers,
    sign_note,
    verify_note,
)

__all__ = [
    "Checkpoint",
    "Cosignature",
    "cosign_checkpoint",
    "parse_checkpoint",
    "sign_checkpoint",
    "verify_checkpoint",
    "verify_cosignatures",
]

_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint body: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise InvalidInput("checkpoint origin must be one non-empty line")
        if isinstance(self.size, bool) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise InvalidInput(f"checkpoint size {self.size!r} is outside 0..2^64-1")
        if len(self.root_hash) != HASH_SIZE:
            raise InvalidInput(f"checkpoint root hash must be {HASH_SIZE} bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise InvalidInput("checkpoint extension lines must be non-empty single lines")

    def to_text(self) -> str:
        """The checkpoint note text, each line ending in a newline."""
        root = base64.b64encode(self.root_hash).decode()
        return "".join(f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions))


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text (not a signed note: see :func:`verify_checkpoint`).

    Raises
    ------
    InvalidInput
        If the text is not ``origin\\nsize\\nbase64(32-byte root)\\n[extensions]``
        with a decimal size without leading zeros.
    """
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise InvalidInput("a checkpoint has at least 3 lines, each ending in a newline")
    origin, size, root, *extensions = lines[:-1]
    if not _DECIMAL.fullmatch(size):
        raise InvalidInput(f"checkpoint size {size!r} is not a decimal number")
    try:
        root_hash = _b64decode(root)
    except ValueError:
        raise InvalidInput(f"checkpoint root hash {root!r} is not base64") from None
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """Sign ``checkpoint`` as a note (the key name SHOULD equal the origin)."""
    return sign_note(checkpoint.to_text(), signer)


def verify_checkpoint(note_text: str | bytes, vkey: str | Verifier | Sequence[str | Verifier]) -> Checkpoint:
    """Verify a signed checkpoint and return it.

    Raises
    ------
    VerificationError
        If the note does not verify (:func:`verify_note`) or its text is not a
        checkpoint.
    """
    return _checkpoint_of(verify_note(note_text, vkey).text)


def _checkpoint_of(text: str) -> Checkpoint:
    """The checkpoint a signed note's text holds, or VerificationError."""
    try:
        return parse_checkpoint(text)
    except InvalidInput as exc:
        raise VerificationError(f"signed note is not a checkpoint: {exc.message}") from None


@dataclass(frozen=True)
class Cosignature:
    """A verified witness cosignature: who, which key, and when (POSIX seconds)."""

    name: str
    key_id: int
    timestamp: int


def cosign_checkpoint(
    checkpoint_note_text: str,
    witness_signer: Signer,
    timestamp: int,
    *,
    log_key: str | Verifier | None = None,
) -> str:
    """Append a witness cosignature (tlog-cosignature, type 0x04) to a signed checkpoint.

    Parameters
    ----------
    checkpoint_note_text
        The signed checkpoint note.
    witness_signer
        A type 0x04 :class:`Signer`.
    timestamp
        Signing time in POSIX seconds, ``0..2^63-1``.
    log_key
        If given, the log's signature is verified first; otherwise the caller
        (a witness) has verified it and the consistency proof already.

    Returns
    -------
    str
        The note with the cosignature line appended.

    Raises
    ------
    InvalidInput
        For a signer that is not a cosigner, or a timestamp out of range.
    VerificationError
        If the note is malformed, not a checkpoint, or fails ``log_key``.
    """
    if witness_signer.algorithm != ALG_COSIGNATURE_V1:
        raise InvalidInput("cosigning needs a type 0x04 (cosignature/v1) signer")
    if isinstance(timestamp, bool) or not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise InvalidInput(f"cosignature timestamp {timestamp!r} is outside 0..2^63-1")
    if log_key is not None:
        verify_checkpoint(checkpoint_note_text, log_key)
    body, signatures = _split_note(checkpoint_note_text)
    _checkpoint_of(body)
    if len(signatures) >= MAX_SIGNATURES:
        raise VerificationError(f"note already has {MAX_SIGNATURES} signatures")
    signed = witness_signer.sign(_cosigned_message(body.encode("utf-8"), timestamp))
    payload = timestamp.to_bytes(8, "big") + signed
    return checkpoint_note_text + NoteSignature(witness_signer.name, witness_signer.key_id, payload).line


def verify_cosignatures(
    note_text: str | bytes,
    witness_vkeys: str | Verifier | Sequence[str | Verifier],
    *,
    quorum: int = 1,
) -> list[Cosignature]:
    """Verify the cosignatures of trusted witnesses on a checkpoint note.

    The log's own signature is not checked here (use :func:`verify_checkpoint`),
    nor are future timestamps: the caller decides what clock skew it accepts.

    Parameters
    ----------
    note_text
        The signed, cosigned checkpoint.
    witness_vkeys
        Type 0x04 verifier keys of the trusted witnesses.
    quorum
        How many distinct witnesses must have cosigned.

    Returns
    -------
    list of Cosignature
        One per trusted witness whose cosignature verified, in note order.

    Raises
    ------
    VerificationError
        If the note is malformed or not a checkpoint, a trusted witness's
        cosignature fails, or fewer than ``quorum`` witnesses cosigned.
    InvalidInput
        If a key is not a type 0x04 verifier key.
    """
    known = _verifiers(witness_vkeys)
    if any(v.algorithm != ALG_COSIGNATURE_V1 for v in known.values()):
        raise InvalidInput("witness keys must be type 0x04 (cosignature/v1) verifier keys")
    note = verify_note(note_text, list(known.values()))
    _checkpoint_of(note.text)
    cosignatures = [
        Cosignature(sig.name, sig.key_id, int.from_bytes(sig.signature[:8], "big")) for sig in note.verified_signatures
    ]
    if len(cosignatures) < quorum:
        raise VerificationError(f"checkpoint has {len(cosignatures)} valid witness cosignatures, {quorum} required")
    return cosignatures
