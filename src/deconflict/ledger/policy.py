"""Witness policies in the C2SP tlog-policy format: which witnesses, and how many of them.

A policy decides when a checkpoint counts as *witnessed* (c2sp.org/tlog-policy)::

    log deconflict/log-1aef8ec05d50+4e1f2a3b+AQ...
    witness mfa   witness.mfa.example+8d66cf3f+BA... http://127.0.0.1:8101
    witness court witness.court.example+01ab23cd+BA... http://127.0.0.1:8102
    witness ngo   witness.ngo.example+77aa11bb+BA...
    group two-of-three 2 mfa court ngo
    quorum two-of-three

``witness NAME VKEY [URL]`` names a witness by its cosigning key (signature type 0x04) and,
optionally, its tlog-witness submission prefix; ``group NAME all|any|K MEMBER...`` is satisfied
when at least K members are; ``quorum NAME`` (or ``quorum none``) says which name must be
satisfied. Lines are parsed as the specification says (definitions before use, each member
once per group, no duplicate keys). The policy format is small and has no Python library, so
it is parsed here; the semantics follow the specification's text line by line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deconflict.errors import InvalidInput, NotFound, VerificationError
from deconflict.ledger.checkpoint import Cosignature
from deconflict.ledger.note import ALG_COSIGNATURE_V1, ALG_ED25519, Verifier, _split_note, parse_verifier_key

__all__ = ["PolicyWitness", "WitnessPolicy", "load_policy"]

_WHITESPACE = re.compile(r"[ \t]+")
_DECIMAL = re.compile(r"[1-9][0-9]*")
_ALLOWED = re.compile(r"[^\t\n\x20-\x7e\x80-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class PolicyWitness:
    """One ``witness`` line: the policy's name for it, its cosigning key and its URL (optional)."""

    name: str
    verifier: Verifier
    url: str | None = None

    @property
    def vkey(self) -> str:
        """The witness's verifier key string."""
        return self.verifier.vkey


@dataclass(frozen=True, slots=True)
class _Group:
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class WitnessPolicy:
    """A parsed tlog-policy: known logs, witnesses, groups and the quorum.

    Use :meth:`parse`, :func:`load_policy` or :meth:`threshold`.
    """

    text: str
    logs: tuple[Verifier, ...] = ()
    witnesses: tuple[PolicyWitness, ...] = ()
    groups: dict[str, _Group] = field(default_factory=dict)
    quorum: str = "none"

    # -- building -----------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str, where: str | None = None) -> WitnessPolicy:
        """Parse policy text.

        Raises
        ------
        InvalidInput
            Naming the line number of the first line that breaks the format.
        """
        logs: list[Verifier] = []
        witnesses: dict[str, PolicyWitness] = {}
        groups: dict[str, _Group] = {}
        quorum: str | None = None
        keys: set[bytes] = set()
        for number, raw in enumerate(text.split("\n"), start=1):
            here = f"{where}, line {number}" if where else f"policy line {number}"
            if _ALLOWED.search(raw):
                raise InvalidInput("control characters other than tab are not allowed", where=here)
            words = [w for w in _WHITESPACE.split(raw.strip(" \t")) if w]
            if not words or words[0].startswith("#"):
                continue
            keyword, args = words[0], words[1:]
            if keyword == "log":
                if len(args) not in (1, 2):
                    raise InvalidInput("expected 'log <vkey> [<url>]'", where=here)
                verifier = _key(args[0], ALG_ED25519, "log", here)
                if verifier.public_key in keys:
                    raise InvalidInput("this key is listed twice", where=here)
                keys.add(verifier.public_key)
                logs.append(verifier)
            elif keyword == "witness":
                if len(args) not in (2, 3):
                    raise InvalidInput("expected 'witness <name> <vkey> [<url>]'", where=here)
                name = _new_name(args[0], witnesses, groups, here)
                verifier = _key(args[1], ALG_COSIGNATURE_V1, "witness", here)
                if verifier.public_key in keys:
                    raise InvalidInput("this key is listed twice", where=here)
                keys.add(verifier.public_key)
                witnesses[name] = PolicyWitness(name, verifier, args[2] if len(args) == 3 else None)
            elif keyword == "group":
                if len(args) < 3:
                    raise InvalidInput("expected 'group <name> all|any|<k> <member>...'", where=here)
                name = _new_name(args[0], witnesses, groups, here)
                members = tuple(args[2:])
                for member in members:
                    if member == "none" or (member not in witnesses and member not in groups):
                        raise InvalidInput(f"group member {member!r} is not defined above", where=here)
                if len(set(members)) != len(members):
                    raise InvalidInput("a group lists a member more than once", where=here)
                groups[name] = _Group(_threshold(args[1], len(members), here), members)
            elif keyword == "quorum":
                if len(args) != 1:
                    raise InvalidInput("expected 'quorum <name>'", where=here)
                if quorum is not None:
                    raise InvalidInput("a policy has exactly one quorum line", where=here)
                if args[0] != "none" and args[0] not in witnesses and args[0] not in groups:
                    raise InvalidInput(f"quorum {args[0]!r} is not defined above", where=here)
                quorum = args[0]
            else:
                raise InvalidInput(f"unknown keyword {keyword!r} (log, witness, group, quorum)", where=here)
        if quorum is None:
            raise InvalidInput("the policy has no quorum line", where=where)
        return cls(text, tuple(logs), tuple(witnesses.values()), groups, quorum)

    @classmethod
    def threshold(
        cls, witness_keys: Sequence[str], quorum: int | None = None, urls: Sequence[str | None] = ()
    ) -> WitnessPolicy:
        """The policy "``quorum`` of these witnesses" (default: all of them), as policy text.

        Raises
        ------
        InvalidInput
            For a bad key, or a quorum outside 1..number of witnesses.
        """
        if not witness_keys:
            return cls.parse("quorum none\n")
        count = len(witness_keys)
        needed = count if quorum is None else quorum
        if not 1 <= needed <= count:
            raise InvalidInput(f"quorum must be between 1 and {count} (the number of witness keys), got {needed}")
        lines, names = [], []
        for position, vkey in enumerate(witness_keys, start=1):
            url = urls[position - 1] if position <= len(urls) else None
            key_name = vkey.strip().split("+", 1)[0]
            name = key_name if key_name and key_name not in names and key_name != "none" else f"w{position}"
            names.append(name)
            lines.append(f"witness {name} {vkey.strip()}" + (f" {url}" if url else ""))
        lines += [f"group quorum-group {needed} {' '.join(names)}", "quorum quorum-group"]
        return cls.parse("\n".join(lines) + "\n")

    # -- reading ------------------------------------------------------------------------
    @property
    def required(self) -> bool:
        """Whether the policy asks for any cosignature at all (``quorum none`` does not)."""
        return self.quorum != "none"

    def witness(self, name: str) -> PolicyWitness:
        """The witness the policy calls ``name``; raises :class:`NotFound`."""
        for witness in self.witnesses:
            if witness.name == name:
                return witness
        raise NotFound(f"the witness policy has no witness called {name!r}")

    def witness_for_key(self, key_name: str, key_id: int) -> PolicyWitness | None:
        """The witness whose cosigning key has this key name and key ID, or None."""
        for witness in self.witnesses:
            if witness.verifier.name == key_name and witness.verifier.key_id == key_id:
                return witness
        return None

    def satisfied_by(self, witness_names: Iterable[str]) -> bool:
        """Whether cosignatures from these witnesses (policy names) satisfy the quorum."""
        cosigned = set(witness_names)

        def satisfied(name: str) -> bool:
            if name in self.groups:
                group = self.groups[name]
                return sum(satisfied(member) for member in group.members) >= group.threshold
            return name in cosigned

        return self.quorum == "none" or satisfied(self.quorum)

    def describe(self) -> str:
        """The quorum in words, e.g. ``2 of mfa, court, ngo``."""

        def words(name: str) -> str:
            if name not in self.groups:
                return name
            group = self.groups[name]
            inner = ", ".join(words(member) for member in group.members)
            if group.threshold == len(group.members) == 1:
                return inner
            return f"{group.threshold} of ({inner})"

        return "no cosignature required" if self.quorum == "none" else words(self.quorum)

    def verify(self, note_text: str) -> list[tuple[PolicyWitness, Cosignature]]:
        """Verify the cosignatures on a checkpoint note by this policy's witnesses.

        Signatures by keys not in the policy are ignored (tlog-witness says clients MUST
        ignore them); a signature line that names a policy witness's key but does not verify
        is an error. The log's own signature is not checked here.

        Returns
        -------
        list of (PolicyWitness, Cosignature)
            One per policy witness whose cosignature verified, in note order.

        Raises
        ------
        VerificationError
            A malformed note, or a policy witness's cosignature that fails.
        """
        body, signatures = _split_note(note_text)
        message = body.encode("utf-8")
        found: dict[str, tuple[PolicyWitness, Cosignature]] = {}
        for signature in signatures:
            witness = self.witness_for_key(signature.name, signature.key_id)
            if witness is None:
                continue
            if not witness.verifier.verify(message, signature.signature):
                raise VerificationError(f"the cosignature of witness {witness.name} ({signature.name}) does not verify")
            timestamp = int.from_bytes(signature.signature[:8], "big")
            found.setdefault(witness.name, (witness, Cosignature(signature.name, signature.key_id, timestamp)))
        return list(found.values())


def _key(text: str, algorithm: int, role: str, where: str) -> Verifier:
    try:
        verifier = parse_verifier_key(text)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where=where) from None
    if verifier.algorithm != algorithm:
        expected = "0x01 (Ed25519 log key)" if algorithm == ALG_ED25519 else "0x04 (Ed25519 cosignature/v1)"
        raise InvalidInput(f"a {role} key must have signature type {expected}", where=where)
    return verifier


def _new_name(name: str, witnesses: dict[str, PolicyWitness], groups: dict[str, _Group], where: str) -> str:
    if name == "none":
        raise InvalidInput("'none' is reserved and cannot name a witness or group", where=where)
    if name in witnesses or name in groups:
        raise InvalidInput(f"name {name!r} is defined twice", where=where)
    return name


def _threshold(text: str, members: int, where: str) -> int:
    if text == "all":
        return members
    if text == "any":
        return 1
    if not _DECIMAL.fullmatch(text) or not 1 <= int(text) <= members:
        raise InvalidInput(f"group threshold must be all, any or 1..{members}, got {text!r}", where=where)
    return int(text)


def load_policy(path: str | Path) -> WitnessPolicy:
    """Read a policy file; raises :class:`NotFound` or :class:`InvalidInput` naming the line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound("witness policy file does not exist", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the witness policy: {exc}", where=str(path)) from None
    return WitnessPolicy.parse(text, where=str(path))
