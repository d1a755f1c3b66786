"""C2SP signed notes and their Ed25519 keys.

Byte formats followed (see ``tests/ledger/vectors/SOURCES.md``):

- c2sp.org/signed-note and golang.org/x/mod/sumdb/note: a note is UTF-8 text
  ending in ``\\n`` with no control characters but ``\\n``, a blank line, and
  signature lines ``"— <name> <base64(key ID(4) || signature)>\\n"``. The text is
  split from the signatures at the *last* ``"\\n\\n"``. Signature lines from keys
  the verifier does not know (name *and* key ID) are ignored; a line from a known
  key must verify; at least one must; more than 100 lines are refused (as Go).
  Unlike Go, every line from a known key is checked, not just the first.
- Keys: key ID = ``SHA-256(name || 0x0A || type || public key)[:4]``; verifier
  keys ``name+<8 hex>+base64(type || key)``; private keys in Go's
  ``PRIVATE+KEY+name+<8 hex>+base64(type || 32-byte seed)`` format, so the files
  work with Go's ``note.NewSigner``. Type 0x01 signs notes (Ed25519 over the
  text), type 0x04 cosigns them.

tlog-checkpoints and tlog-cosignatures (their byte formats included) live in
:mod:`deconflict.ledger.checkpoint`, which builds on this module.

Verifiers return what they verified and raise
:class:`~deconflict.errors.VerificationError` on any failure; a key or text
that cannot be used at all raises :class:`~deconflict.errors.InvalidInput`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from deconflict.errors import ConflictError, InvalidInput, VerificationError

__all__ = [
    "ALG_COSIGNATURE_V1",
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "Note",
    "NoteSignature",
    "Signer",
    "Verifier",
    "format_signer_key",
    "format_verifier_key",
    "generate_signer",
    "load_signer_key",
    "note_signatures",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_note",
    "verify_note",
    "write_signer_key",
]

ALG_ED25519 = 0x01
"""Signature type of plain Ed25519 note signatures (c2sp.org/signed-note)."""
ALG_COSIGNATURE_V1 = 0x04
"""Signature type of timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature)."""
MAX_SIGNATURES = 100
"""Most signature lines a note may carry (Go's limit; the spec asks for at least 16)."""

_ALGORITHMS = {ALG_ED25519: "Ed25519", ALG_COSIGNATURE_V1: "Ed25519 cosignature/v1"}
_SIG_PREFIX = "— "
_MAX_TIMESTAMP = (1 << 63) - 1
_HEX_ID = re.compile(r"[0-9a-fA-F]{8}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def _b64decode(text: str) -> bytes:
    """Strict standard base64 (canonical, padded); raises ValueError."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(str(exc)) from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return raw


def _key_id(name: str, algorithm: int, public_key: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _raw_public(key: Ed25519PublicKey | bytes) -> bytes:
    if isinstance(key, Ed25519PublicKey):
        return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    if len(key) != 32:
        raise InvalidInput(f"an Ed25519 public key has 32 bytes, not {len(key)}")
    return bytes(key)


def _check_key(name: str, algorithm: int) -> None:
    if not _valid_name(name):
        raise InvalidInput(f"key name {name!r} must be non-empty, without spaces or '+'")
    if algorithm not in _ALGORITHMS:
        raise InvalidInput(f"unsupported signature type 0x{algorithm:02x} (supported: 0x01, 0x04)")


def _cosigned_message(text: bytes, timestamp: int) -> bytes:
    return b"cosignature/v1\ntime %d\n" % timestamp + text


@dataclass(frozen=True)
class Verifier:
    """A public key that checks note signatures of one type (0x01 or 0x04)."""

    name: str
    key_id: int
    algorithm: int
    public_key: bytes

    def __post_init__(self) -> None:
        _check_key(self.name, self.algorithm)
        if self.key_id != _key_id(self.name, self.algorithm, _raw_public(self.public_key)):
            raise InvalidInput(f"key ID of verifier {self.name!r} does not match its key")

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (key ID stripped) signs the note ``text``."""
        if self.algorithm == ALG_COSIGNATURE_V1:
            if len(signature) != 72:
                return False
            timestamp = int.from_bytes(signature[:8], "big")
            if timestamp > _MAX_TIMESTAMP:
                return False
            message, signature = _cosigned_message(text, timestamp), signature[8:]
        else:
            message = text
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    @property
    def vkey(self) -> str:
        """This key as a verifier key string."""
        return format_verifier_key(self.name, self.public_key, self.algorithm)


class Signer:
    """An Ed25519 private key with its key name, for one signature type.

    Parameters
    ----------
    private_key
        The Ed25519 key.
    name
        Key name: non-empty, no spaces, no ``+``. For a log, its origin.
    algorithm
        :data:`ALG_ED25519` to sign notes, :data:`ALG_COSIGNATURE_V1` to cosign
        checkpoints as a witness.
    """

    def __init__(self, private_key: Ed25519PrivateKey, name: str, algorithm: int = ALG_ED25519) -> None:
        _check_key(name, algorithm)
        self._private_key = private_key
        self.name = name
        self.algorithm = algorithm
        self.public_key = _raw_public(private_key.public_key())
        self.key_id = _key_id(name, algorithm, self.public_key)

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_id={self.key_id:08x}, type=0x{self.algorithm:02x})"

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``message``."""
        return self._private_key.sign(message)

    def seed(self) -> bytes:
        """The 32-byte private seed (secret: write it only to a 0600 key file)."""
        return self._private_key.private_bytes_raw()

    @property
    def verifier(self) -> Verifier:
        """The matching public :class:`Verifier`."""
        return Verifier(self.name, self.key_id, self.algorithm, self.public_key)

    @property
    def vkey(self) -> str:
        """The matching verifier key string, to publish."""
        return self.verifier.vkey


def format_verifier_key(name: str, public_key: Ed25519PublicKey | bytes, algorithm: int = ALG_ED25519) -> str:
    """Verifier key string ``name+<hex key ID>+base64(type || public key)``.

    Raises
    ------
    InvalidInput
        For an invalid name, an unsupported type or a key that is not 32 bytes.
    """
    _check_key(name, algorithm)
    raw = _raw_public(public_key)
    encoded = base64.b64encode(bytes([algorithm]) + raw).decode()
    return f"{name}+{_key_id(name, algorithm, raw):08x}+{encoded}"


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse a verifier key string, as Go's ``note.NewVerifier`` does.

    The string is split on its first two ``+`` (the base64 part may hold more).

    Raises
    ------
    InvalidInput
        If the string is malformed, the type is not 0x01 or 0x04, the key is
        not 32 bytes, or the key ID does not match name, type and key.
    """
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3 or not _HEX_ID.fullmatch(parts[1]):
        raise InvalidInput(f"verifier key {vkey!r} is not name+<8 hex digits>+<base64 key>")
    name, hex_id, encoded = parts
    try:
        raw = _b64decode(encoded)
    except ValueError:
        raise InvalidInput(f"verifier key {vkey!r} has an invalid base64 key") from None
    if not raw:
        raise InvalidInput(f"verifier key {vkey!r} has an empty key")
    _check_key(name, raw[0])
    if len(raw) != 33:
        raise InvalidInput(f"verifier key {vkey!r}: an Ed25519 key has 32 bytes, not {len(raw) - 1}")
    key_id = int(hex_id, 16)
    if key_id != _key_id(name, raw[0], raw[1:]):
        raise InvalidInput(f"verifier key {vkey!r}: key ID does not match the name and key")
    return Verifier(name, key_id, raw[0], raw[1:])


def generate_signer(name: str, algorithm: int = ALG_ED25519) -> Signer:
    """A new random Ed25519 :class:`Signer` named ``name``."""
    return Signer(Ed25519PrivateKey.generate(), name, algorithm)


def format_signer_key(signer: Signer) -> str:
    """Go ``note.NewSigner`` string ``PRIVATE+KEY+name+<hex ID>+base64(type || seed)``."""
    encoded = base64.b64encode(bytes([signer.algorithm]) + signer.seed()).decode()
    return f"PRIVATE+KEY+{signer.name}+{signer.key_id:08x}+{encoded}"


def parse_signer_key(skey: str) -> Signer:
    """Parse a private key string written by :func:`format_signer_key` or Go.

    Raises
    ------
    InvalidInput
        If it is malformed or its key ID does not match its key.
    """
    parts = skey.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _HEX_ID.fullmatch(parts[3]):
        raise InvalidInput("private key is not PRIVATE+KEY+name+<8 hex digits>+<base64 seed>")
    try:
        raw = _b64decode(parts[4])
    except ValueError:
        raise InvalidInput("private key has an invalid base64 seed") from None
    if len(raw) != 33:
        raise InvalidInput("private key must hold a type byte and a 32-byte Ed25519 seed")
    signer = Signer(Ed25519PrivateKey.from_private_bytes(raw[1:]), parts[2], raw[0])
    if signer.key_id != int(parts[3], 16):
        raise InvalidInput("private key: key ID does not match the name and key")
    return signer


def write_signer_key(path: str | os.PathLike[str], signer: Signer) -> None:
    """Write ``signer`` as a Go-format private key file, mode 0600.

    The key is written whole to a temporary file beside ``path`` and then linked to ``path``
    (which fails if it exists), so a full disk never leaves a partial or empty key file behind.

    Raises
    ------
    ConflictError
        If the file exists (a signing key is never overwritten).
    StorageError
        If the disk is full or read-only (nothing is left behind).
    """
    import tempfile

    from deconflict.fileio import storage_error_for

    target = os.fspath(path)
    if os.path.lexists(target):
        raise ConflictError("key file exists; refusing to overwrite it", where=target)
    directory = os.path.dirname(target) or "."
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), 0o600)
            handle.write(format_signer_key(signer) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, target)  # atomic, and refuses to replace an existing key
    except FileExistsError:
        raise ConflictError("key file exists; refusing to overwrite it", where=target) from None
    except OSError as exc:
        mapped = storage_error_for(exc, target)
        if mapped is None:
            raise
        raise mapped from exc
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def load_signer_key(path: str | os.PathLike[str]) -> Signer:
    """Read a private key file written by :func:`write_signer_key` (or Go).

    Raises
    ------
    NotFound
        If the file does not exist.
    InvalidInput
        If it does not hold a valid private key.
    """
    from deconflict.limits import read_limited_text

    text = read_limited_text(path, what="key file")
    try:
        return parse_signer_key(text)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where=str(path)) from None


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key ID and the signature bytes after the ID."""

    name: str
    key_id: int
    signature: bytes

    @property
    def line(self) -> str:
        """The signature line, with its final newline."""
        encoded = base64.b64encode(self.key_id.to_bytes(4, "big") + self.signature).decode()
        return f"{_SIG_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True)
class Note:
    """A verified note: its text and the signatures that did or did not verify."""

    text: str
    verified_signatures: tuple[NoteSignature, ...]
    unverified_signatures: tuple[NoteSignature, ...] = ()


def _check_text(text: str) -> bytes:
    """UTF-8 bytes of a note text, or ValueError if it cannot be a note text."""
    if _CONTROL.search(text):
        raise ValueError("note contains a control character other than newline")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("note is not valid UTF-8") from None


def _split_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into text and signature lines, without verifying."""
    try:
        if isinstance(note, bytes):
            note = note.decode("utf-8")
        _check_text(note)
    except UnicodeDecodeError:
        raise VerificationError("malformed note: not valid UTF-8") from None
    except ValueError as exc:
        raise VerificationError(f"malformed note: {exc}") from None
    split = note.rfind("\n\n")
    if split < 0:
        raise VerificationError("malformed note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise VerificationError("malformed note: the signature block is empty or unterminated")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise VerificationError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    signatures = []
    for number, line in enumerate(lines, 1):
        name, _, encoded = line.removeprefix(_SIG_PREFIX).partition(" ")
        try:
            raw = _b64decode(encoded)
        except ValueError:
            raw = b""
        if not line.startswith(_SIG_PREFIX) or not _valid_name(name) or len(raw) < 5:
            raise VerificationError(f"malformed note: signature line {number} is malformed")
        signatures.append(NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return text, signatures


def note_signatures(note: str | bytes) -> list[NoteSignature]:
    """The signature lines of a signed note, parsed but NOT verified (for display and bookkeeping).

    Raises
    ------
    VerificationError
        If the note is malformed.
    """
    return _split_note(note)[1]


def _verifiers(keys: str | Verifier | Sequence[str | Verifier]) -> dict[tuple[str, int], Verifier]:
    listed = [keys] if isinstance(keys, str | Verifier) else list(keys)
    known: dict[tuple[str, int], Verifier] = {}
    for key in listed:
        verifier = parse_verifier_key(key) if isinstance(key, str) else key
        if (verifier.name, verifier.key_id) in known:
            raise InvalidInput(f"two verifier keys share name {verifier.name!r} and key ID")
        known[(verifier.name, verifier.key_id)] = verifier
    if not known:
        raise InvalidInput("no verifier key given")
    return known


def sign_note(text: str, signer: Signer) -> str:
    """Sign ``text`` with an Ed25519 (type 0x01) ``signer``.

    Returns
    -------
    str
        ``text``, a blank line and the signature line: the exact bytes Go's
        ``note.Sign`` produces (Ed25519 is deterministic).

    Raises
    ------
    InvalidInput
        If ``text`` is empty, does not end in a newline or holds control
        characters, or ``signer`` is a cosigner.
    """
    if signer.algorithm != ALG_ED25519:
        raise InvalidInput("sign_note needs a type 0x01 signer; cosign with cosign_checkpoint")
    if not text.endswith("\n"):
        raise InvalidInput("note text must be non-empty and end with a newline")
    try:
        message = _check_text(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    signature = NoteSignature(signer.name, signer.key_id, signer.sign(message))
    return text + "\n" + signature.line


def verify_note(text: str | bytes, verifier_key: str | Verifier | Sequence[str | Verifier]) -> Note:
    """Verify a signed note against one or more known keys.

    Parameters
    ----------
    text
        The whole signed note.
    verifier_key
        One verifier key (string or :class:`Verifier`) or several.

    Returns
    -------
    Note
        The note text with its verified signatures and the ignored ones.
        Use ``Note.text`` only after this returns.

    Raises
    ------
    VerificationError
        If the note is malformed, a signature from a known key fails, or no
        signature from a known key is present.
    InvalidInput
        If a verifier key string is malformed.
    """
    known = _verifiers(verifier_key)
    body, signatures = _split_note(text)
    message = body.encode("utf-8")
    verified: dict[tuple[str, int], NoteSignature] = {}
    unverified: dict[NoteSignature, None] = {}
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            unverified[signature] = None
        elif verifier.verify(message, signature.signature):
            verified.setdefault((signature.name, signature.key_id), signature)
        else:
            raise VerificationError(f"invalid signature for key {signature.name!r}")
    if not verified:
        names = ", ".join(sorted({name for name, _ in known}))
        raise VerificationError(f"note has no valid signature from a known key ({names})")
    return Note(body, tuple(verified.values()), tuple(unverified))
