"""Record identifiers: one pattern, one policy for every door.

Every id (site, incident, notification, acknowledgement, ...) is 1-128 characters of letters,
digits, ``.``, ``_``, ``:`` and ``-``, starting with a letter or digit (:data:`ID_PATTERN`).

When a caller gives no id, the library makes one, the same whichever door the record comes
through (library, CLI, API, UI):

- sites and incidents get a **content id** (:func:`content_id`): a digest of what identifies the
  record, so that importing the same file or registering the same site twice is detected;
- notifications and acknowledgements get a **new id** (:func:`new_id`): 12 random hex digits,
  because two notifications with the same content are two events.

Ids are **one namespace shared by every owner**, and the ids of logged records (sites,
notifications, acknowledgements, movements, commitments) are public: the log's entries name
them. A chosen id that is in use therefore answers 409 (:func:`id_unavailable`) with the same
words whoever holds it, the caller or another owner, and whatever its state (in force or
withdrawn): the answer says that the id cannot be chosen, never whose record it is, of which
owner or kind, nor anything the caller could not read. An id should carry no secret.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable

from deconflict.errors import ConflictError, InvalidInput

__all__ = ["ID_PATTERN", "ID_RE", "check_id", "content_id", "id_unavailable", "new_id"]

#: The pattern every record id matches (also used in the API's OpenAPI schema).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
ID_RE = re.compile(ID_PATTERN)
_RANDOM_HEX = 12


def check_id(value: str, field_name: str = "id") -> str:
    """Return ``value`` when it is a valid id, else raise :class:`InvalidInput` naming ``field_name``."""
    if not isinstance(value, str) or not ID_RE.match(value):
        raise InvalidInput(f"{field_name} {value!r} must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    return value


def id_unavailable(kind: str, ids: Iterable[str], where: str | None = None) -> ConflictError:
    """The one answer (409) to chosen ids that are in use: the same for every caller and holder.

    Parameters
    ----------
    kind
        What the caller was writing (``site``, ``notification``, ...).
    ids
        The chosen ids that are in use (the first five are named).
    where
        The input that named them (``id``, a file).
    """
    chosen = sorted(ids)
    named = ", ".join(repr(i) for i in chosen[:5]) + (f" and {len(chosen) - 5} more" if len(chosen) > 5 else "")
    return ConflictError(
        f"{kind} id {named} cannot be chosen: ids are one namespace for every owner; choose another or leave it out",
        where=where,
    )


def new_id(prefix: str) -> str:
    """A fresh random id such as ``ntf-3f9a0c1b2d4e`` (48 random bits)."""
    return f"{prefix}-{secrets.token_hex(_RANDOM_HEX // 2)}"


def content_id(prefix: str, *parts: object) -> str:
    """A deterministic id from a record's content (so re-importing a file is detected)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f"{prefix}-{digest[:_RANDOM_HEX]}"
