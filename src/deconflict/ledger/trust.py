"""Which key ``log verify`` trusts: one the caller gives or pins, never silently the one in the database.

The database stores its log's public key, but whoever can rewrite the entries can rewrite that key
and re-sign every checkpoint with a new one; a verification against it proves only that the file
agrees with itself. :func:`choose_key` picks, in this order: the key the caller passes (a verifier
key, a file holding one, or the log's signing-key file, whose public half is used), the key and
checkpoint pinned in a witness state file (``deconflict witness update --state``), and only then the
database's own key, with a warning. :func:`check_trust` then requires the database's key to be the
trusted one, a signed checkpoint to exist, and the tree to contain the pinned checkpoint, so a
rewritten or re-keyed log fails even when every signature in it is valid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deconflict.errors import InvalidInput, VerificationError
from deconflict.ledger.note import load_signer_key, parse_verifier_key
from deconflict.ledger.witness import WitnessState

__all__ = ["KEY_SOURCES", "TrustedKey", "check_key", "check_trust", "choose_key", "read_verifier_key"]

#: Where a trusted key came from: the caller (``--key``), the caller's signing-key file
#: (``--key-file``), a pinned witness state (``--witness-state``), or the database itself (a warning).
KEY_SOURCES = ("caller", "key file", "witness state", "database")


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """The verifier key a verification trusted, and where it came from."""

    vkey: str
    source: str
    pinned: WitnessState | None = None

    @property
    def name(self) -> str:
        """The key's name (the log's origin)."""
        return parse_verifier_key(self.vkey).name

    @property
    def key_id(self) -> str:
        """The key ID as 8 hex digits."""
        return f"{parse_verifier_key(self.vkey).key_id:08x}"

    @property
    def warning(self) -> str | None:
        """What a verification against this key cannot prove, or None."""
        if self.source != "database":
            return None
        return (
            "WARNING: trusted the log key stored in the database itself; a log rewritten and re-signed with a "
            "new key passes this check. Pass --key (the log's verifier key, from a channel you trust) or "
            "--witness-state"
        )

    def describe(self) -> str:
        """``name (key id …), from …`` for the output."""
        origin = {"caller": "given with --key", "key file": "the public half of --key-file",
                  "witness state": "pinned in the witness state", "database": "read from the database"}  # fmt: skip
        return f"{self.name} (key id {self.key_id}), {origin[self.source]}"

    def to_json(self) -> dict[str, object]:
        """The key as the JSON output names it."""
        return {"name": self.name, "key_id": self.key_id, "vkey": self.vkey, "source": self.source}


def read_verifier_key(value: str) -> str:
    """A verifier key from ``value``: the key itself, a file holding it, or a signing-key file.

    Raises :class:`~deconflict.errors.InvalidInput` naming ``--key`` when it is none of these.
    """
    text = value.strip()
    path = Path(text)
    if "+" not in text or path.is_file():
        try:
            content = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"not a verifier key, nor a readable key file: {exc}", where="--key") from None
        if content.startswith("PRIVATE+KEY+"):
            return load_signer_key(path).vkey
        text = content
    try:
        parse_verifier_key(text)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where="--key") from None
    return text


def choose_key(
    database_key: str, *, key: str | None = None, key_file: Path | None = None, witness_state: Path | None = None
) -> TrustedKey:
    """The key to trust: ``key`` (the caller's), else ``key_file``'s public half, else the witness state's,
    else the database's own (whose :attr:`TrustedKey.warning` says what that cannot prove)."""
    pinned = None
    if witness_state is not None:
        pinned = WitnessState.load(witness_state)
        if pinned is None:
            raise InvalidInput("witness state file does not exist", where=str(witness_state))
    if key is not None:
        return TrustedKey(read_verifier_key(key), "caller", pinned)
    if key_file is not None:
        return TrustedKey(load_signer_key(key_file).vkey, "key file", pinned)
    if pinned is not None:
        return TrustedKey(pinned.log_key, "witness state", pinned)
    return TrustedKey(database_key, "database")


def check_key(trusted: TrustedKey, database_key: str) -> None:
    """Raise :class:`~deconflict.errors.VerificationError` unless the database's log key is the trusted one."""
    if database_key.strip() != trusted.vkey:
        raise VerificationError(
            f"the database's log key ({database_key}) is not the trusted key {trusted.describe()}: "
            "the log was re-keyed, or this is another log"
        )


def check_trust(
    trusted: TrustedKey, database_key: str, checkpoint_sizes: Sequence[int], size: int, root_at: Callable[[int], bytes]
) -> None:
    """Raise :class:`~deconflict.errors.VerificationError` unless the log is the trusted key's.

    The database's key must be the trusted one; with a key from outside the database, at least one
    checkpoint must be signed (the caller verifies each against the trusted key); a pinned
    checkpoint must be a prefix of the tree with the same root.
    """
    if trusted.source == "database":
        return
    check_key(trusted, database_key)
    if not checkpoint_sizes:
        raise VerificationError(
            "the log has no signed checkpoint, so the trusted key proves nothing about it (run 'deconflict log "
            "checkpoint' on the genuine log)"
        )
    pinned = trusted.pinned
    if pinned is None:
        return
    if pinned.log_key != trusted.vkey:
        raise VerificationError(f"the witness state pins another log key ({pinned.log_key})")
    if pinned.size > size:
        raise VerificationError(f"log truncated: the witness state saw {pinned.size} entries, the log has {size}")
    if root_at(pinned.size) != pinned.root_hash:
        raise VerificationError(
            f"the log was rewritten: its tree at size {pinned.size} differs from the checkpoint pinned in the "
            "witness state"
        )
