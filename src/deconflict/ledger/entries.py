"""What the log's entries say, byte for byte.

Every entry is the RFC 8785 canonical JSON of::

    {"v": 1, "index": <n>, "kind": <kind>, "logged_at": "<UTC time>", "body": {...}}

so the index and the log's own time are inside the signed bytes. Kinds and bodies:

``site_committed``
    ``{"site_id", "commitment"}``: ``commitment`` = hex SHA-256(salt || record), where
    ``record`` is the canonical JSON of the site's interchange row (its id, names, kind,
    owner, coordinates, radius …) and ``salt`` 32 random bytes kept private until an
    evidence bundle reveals them. The public log proves *which* coordinates were notified
    without disclosing them.
``notification``
    ``{"notification_id", "sender", "recipient", "notified_at": {"start", "end", "precision"},
    "channel", "reference", "text", "sites": [{"site_id", "commitment", "committed_index"}]}``
``acknowledgement``
    ``{"acknowledgement_id", "notification_id", "notification_index", "recipient", "at", "reference", "text"}``
``incident``
    a batch of incidents: ``{"count", "records_root", "first_id", "last_id", "import"}``;
    ``records_root`` is the RFC 6962 root over the canonical JSON of each incident's
    interchange row, in order, so one incident is proved by two inclusion proofs.
``evidence``
    a document about an incident: ``{"incident_id", "sha256", "filename", "description"}``.
``review``
    a person's decision on an extracted incident: ``{"incident_id", "status", "note"}``.

Corrections (amendments, withdrawals, incident revisions and merges) are described in
:mod:`deconflict.ledger.corrections`.

Guarantees (:mod:`deconflict.guarantees`; bodies in :mod:`deconflict.guarantees.records`):
``movement_committed`` (a salted commitment to a movement's record, as for sites; a
``notification`` names movements in ``"movements"``), ``commitment`` (what a party undertook),
``commitment_acknowledged``, ``deadline_missed``, ``alert`` and ``alert_acknowledged``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import rfc8785

from deconflict.errors import InvalidInput
from deconflict.times import TimeSpan, format_utc

__all__ = [
    "ENTRY_KINDS",
    "canonical_json",
    "canonical_record",
    "commitment",
    "decode_entry",
    "encode_entry",
    "span_json",
]

ENTRY_KINDS = (
    "site_committed", "notification", "acknowledgement", "incident", "evidence", "review",
    # corrections (deconflict.ledger.corrections)
    "site_amended", "site_withdrawn", "notification_amended", "notification_withdrawn",
    "acknowledgement_withdrawn", "incident_revision", "incident_merge",
    "movement_committed", "commitment", "commitment_acknowledged", "deadline_missed", "alert", "alert_acknowledged",
)  # fmt: skip
ENTRY_VERSION = 1


_SAFE_INTEGER = 2**53 - 1


def _plain(value: Any) -> bool:
    """True when ``json.dumps`` (sorted keys, no whitespace, no ASCII escaping) is RFC 8785 output.

    That holds for strings without lone surrogates, safe integers, booleans, null, lists, and
    objects with ASCII keys (RFC 8785 sorts keys by UTF-16 code units, which for ASCII is
    Python's order). Floats are left to the rfc8785 encoder (ECMAScript number formatting).
    """
    kind = type(value)
    if kind is str:
        return not any("\ud800" <= ch <= "\udfff" for ch in value) if not value.isascii() else True
    if kind is int:
        return -_SAFE_INTEGER <= value <= _SAFE_INTEGER
    if value is None or kind is bool:
        return True
    if kind is dict:
        return all(type(k) is str and k.isascii() and _plain(v) for k, v in value.items())
    if kind is list:
        return all(_plain(v) for v in value)
    return False


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON bytes of ``value``.

    Values made only of strings, safe integers, booleans, null, lists and ASCII-keyed objects
    take a fast path through the C JSON encoder, whose output is then identical (a property test
    checks it against the ``rfc8785`` package); anything else goes through ``rfc8785``.
    """
    if _plain(value):
        return _ENCODER.encode(value).encode("utf-8")
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InvalidInput(f"cannot canonicalise record: {exc}") from exc


def canonical_record(row: Mapping[str, str]) -> bytes:
    """Canonical JSON of a flat ``str -> str`` record (an interchange row); see :func:`canonical_json`.

    Hot path of large imports: when every key and value is an ASCII ``str``, the bytes are made from
    a template per key set (keys sorted, as the C encoder sorts them) and each value's JSON string,
    which is exactly what :func:`canonical_json` produces for such a record.
    """
    record = row if type(row) is dict else dict(row)
    keys = tuple(record)
    template = _TEMPLATES.get(keys)
    if template is None:
        if not keys or len(_TEMPLATES) >= 1024 or not all(type(k) is str and k.isascii() for k in keys):
            return canonical_json(record)
        order = tuple(sorted(keys))
        text = ",".join(_encode_string(k).replace("%", "%%") + ":%s" for k in order)
        template = _TEMPLATES[keys] = ("{" + text + "}", order)
    values = list(map(record.__getitem__, template[1]))
    if set(map(type, values)) != _STR_ONLY or not "".join(values).isascii():
        return canonical_json(record)
    return (template[0] % tuple(map(_encode_string, values))).encode("ascii")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_encode_string: Callable[[str], str] = json.encoder.encode_basestring  # what _ENCODER uses for strings
_TEMPLATES: dict[tuple[str, ...], tuple[str, tuple[str, ...]]] = {}
_STR_ONLY = {str}


def commitment(salt: bytes, record: bytes) -> str:
    """Hex SHA-256 of ``salt || record``: a hiding, binding commitment to a site record."""
    return hashlib.sha256(salt + record).hexdigest()


def span_json(span: TimeSpan) -> dict[str, str]:
    """A time span as JSON: UTC start and end, and the precision."""
    return {"start": format_utc(span.start), "end": format_utc(span.end), "precision": span.precision}


def encode_entry(index: int, kind: str, logged_at: str, body: Mapping[str, Any]) -> bytes:
    """The exact bytes of a log entry.

    Raises
    ------
    InvalidInput
        For an unknown kind, or an entry larger than :data:`~deconflict.limits.MAX_ENTRY_BYTES`
        (65,535 bytes: a C2SP tlog-tiles entry bundle prefixes each entry with a uint16 length,
        so a larger entry could never be served); nothing is appended then.
    """
    from deconflict.limits import MAX_ENTRY_BYTES

    if kind not in ENTRY_KINDS:
        raise InvalidInput(f"unknown entry kind {kind!r}")
    data = canonical_json({"v": ENTRY_VERSION, "index": index, "kind": kind, "logged_at": logged_at, "body": body})
    if len(data) > MAX_ENTRY_BYTES:
        raise InvalidInput(
            f"the {kind.replace('_', ' ')} log entry would be {len(data):,} bytes; a log entry holds at most "
            f"{MAX_ENTRY_BYTES:,} (shorten its free text)"
        )
    return data


def decode_entry(data: bytes) -> dict[str, Any]:
    """Parse entry bytes; raise :class:`InvalidInput` unless they are a canonical entry."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"entry is not JSON: {exc}") from exc
    if not isinstance(value, dict) or set(value) != {"v", "index", "kind", "logged_at", "body"}:
        raise InvalidInput("entry does not have the fields v, index, kind, logged_at, body")
    if canonical_json(value) != data:
        raise InvalidInput("entry bytes are not RFC 8785 canonical JSON")
    return value
