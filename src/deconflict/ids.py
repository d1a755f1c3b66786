"""Record identifiers: one pattern, one policy for every door.

Every id (site, incident, notification, acknowledgement, ...) is 1-128 characters of letters,
digits, ``.``, ``_``, ``:`` and ``-``, starting with a letter or digit (:data:`ID_PATTERN`).

When a caller gives no id, the library makes one, the same whichever door the record comes
through (library, CLI, API, UI):

- sites and incidents get a **content id** (:func:`content_id`): a digest of what identifies the
  record, so that importing the same file or registering the same site twice is detected;
- notifications and acknowledgements get a **new id** (:func:`new_id`): 12 random hex digits,
  because two notifications with the same content are two events.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from deconflict.errors import InvalidInput

__all__ = ["ID_PATTERN", "ID_RE", "check_id", "content_id", "new_id"]

#: The pattern every record id matches (also used in the API's OpenAPI schema).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
ID_RE = re.compile(ID_PATTERN)
_RANDOM_HEX = 12


def check_id(value: str, field_name: str = "id") -> str:
    """Return ``value`` when it is a valid id, else raise :class:`InvalidInput` naming ``field_name``."""
    if not isinstance(value, str) or not ID_RE.match(value):
        raise InvalidInput(f"{field_name} {value!r} must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    return value


def new_id(prefix: str) -> str:
    """A fresh random id such as ``ntf-3f9a0c1b2d4e`` (48 random bits)."""
    return f"{prefix}-{secrets.token_hex(_RANDOM_HEX // 2)}"


def content_id(prefix: str, *parts: object) -> str:
    """A deterministic id from a record's content (so re-importing a file is detected)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f"{prefix}-{digest[:_RANDOM_HEX]}"
