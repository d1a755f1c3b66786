"""Limits on input: how much of a file, an archive, a JSON document or a record is read.

Every door reads untrusted input (an upload, a bundle from someone else, a path typed by a user
that may be ``/dev/zero``). The limits here keep one input from exhausting memory, time or the
log; each is a named constant, stated in ``docs/security.md`` ("Limits on input"), and a refusal
is one :class:`~deconflict.errors.InvalidInput` (or, for a bundle,
:class:`~deconflict.errors.VerificationError`) naming the limit and its value.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deconflict.errors import InvalidInput, NotFound

__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_BUNDLE_MEMBERS",
    "MAX_BUNDLE_MEMBER_BYTES",
    "MAX_BUNDLE_TOTAL_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_CSV_COLUMNS",
    "MAX_ENTRY_BYTES",
    "MAX_IMPORT_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_SMALL_FILE_BYTES",
    "load_json",
    "read_limited",
    "read_limited_text",
    "upload_name",
]

#: Largest data file read for an import (CSV, GeoJSON, ACLED, a news article, a bundle): 1 GiB.
MAX_IMPORT_BYTES = 1 << 30
#: Largest small file read (key files, checkpoints, proofs, policies, study areas): 16 MiB.
MAX_SMALL_FILE_BYTES = 16 << 20
#: Largest log entry, in bytes of its canonical JSON: the C2SP tlog-tiles entry bundle prefixes
#: each entry with a big-endian uint16 length, so no larger entry could be served as a tile.
MAX_ENTRY_BYTES = 0xFFFF
#: Most columns a CSV header may have (the interchange formats use about 20; ACLED about 30).
MAX_CSV_COLUMNS = 1_000
#: Deepest nesting of arrays and objects accepted in a JSON document read from input.
MAX_JSON_DEPTH = 64

# An evidence bundle comes from someone else: its central directory is checked against these
# before any member is decompressed (a 4 MB zip bomb would otherwise expand to gigabytes).
#: Largest bundle file read: 256 MiB.
MAX_BUNDLE_BYTES = 256 << 20
#: Most members a bundle may list.
MAX_BUNDLE_MEMBERS = 10_000
#: Largest uncompressed member: 256 MiB.
MAX_BUNDLE_MEMBER_BYTES = 256 << 20
#: Largest uncompressed total of all members: 1 GiB.
MAX_BUNDLE_TOTAL_BYTES = 1 << 30
#: Highest compression ratio (uncompressed / compressed) of a member over 1 MiB; the JSON of a
#: real bundle compresses about 2-10 times, a zip bomb about 1000 times.
MAX_COMPRESSION_RATIO = 200

_CHUNK = 1 << 22


def _size_text(limit: int) -> str:
    return f"{limit >> 30} GiB" if limit >= 1 << 30 and not limit % (1 << 30) else f"{limit >> 20} MiB"


def read_limited(
    path: str | os.PathLike[str],
    limit: int = MAX_IMPORT_BYTES,
    *,
    what: str = "file",
    on_chunk: Callable[[bytes, int], None] | None = None,
) -> bytes:
    """The bytes of the file at ``path``, refusing a device or more than ``limit`` bytes.

    A regular file, a pipe (``/dev/stdin``) or a process substitution is read; a character or
    block device (``/dev/zero``, ``/dev/urandom``, a disk) or a directory is refused before
    reading, and reading stops after ``limit`` bytes, so no input is read without bound.
    ``on_chunk(chunk, size_hint)`` sees each chunk as it is read (a hash, a progress bar;
    ``size_hint`` is the file's size, 0 for a pipe).

    Raises
    ------
    NotFound
        When the file does not exist.
    InvalidInput
        When it is a directory or a device, larger than ``limit``, or cannot be read.
    """
    where = str(path)
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if stat.S_ISDIR(mode):
                raise InvalidInput(f"is a directory, expected a {what}", where=where)
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                raise InvalidInput(f"is a device, not a {what}; give a regular file", where=where)
            size_hint = os.fstat(handle.fileno()).st_size
            if size_hint > limit:
                raise InvalidInput(f"{what} is larger than the limit of {_size_text(limit)}", where=where)
            chunks: list[bytes] = []
            size = 0
            while chunk := handle.read(min(_CHUNK, limit + 1 - size)):
                chunks.append(chunk)
                size += len(chunk)
                if on_chunk is not None:
                    on_chunk(chunk, size_hint)
                if size > limit:
                    raise InvalidInput(f"{what} is larger than the limit of {_size_text(limit)}", where=where)
    except FileNotFoundError:
        raise NotFound(f"{what} does not exist", where=where) from None
    except IsADirectoryError:
        raise InvalidInput(f"is a directory, expected a {what}", where=where) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read the {what}: {exc.strerror or exc}", where=where) from None
    return b"".join(chunks)


def read_limited_text(path: str | os.PathLike[str], limit: int = MAX_SMALL_FILE_BYTES, *, what: str = "file") -> str:
    """:func:`read_limited`, decoded as UTF-8 (a BOM is dropped); binary content is refused."""
    data = read_limited(path, limit, what=what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{what} is not UTF-8 text (byte {exc.start} is not)", where=str(path)) from None


def load_json(text: str | bytes, *, where: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON, refusing a document nested deeper than ``max_depth`` arrays/objects.

    The standard parser is used; it raises :class:`RecursionError` for a document nested
    about a thousand levels deep, which is turned into the same refusal, and the depth of what it
    returns is then measured without recursion, so no later recursive walk (canonical encoding,
    validation) can exhaust the stack either.

    Raises
    ------
    InvalidInput
        When the text is not JSON or is nested too deeply.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise InvalidInput(f"JSON is nested deeper than {max_depth} levels", where=where) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"not JSON: {exc}", where=where) from None
    if _depth_exceeds(value, max_depth):
        raise InvalidInput(f"JSON is nested deeper than {max_depth} levels", where=where)
    return value


def _depth_exceeds(value: Any, max_depth: int) -> bool:
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth + 1 > max_depth:
                return True
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def upload_name(name: str, *, where: str) -> str:
    """A file name from outside (an upload) as its last part, at most 200 characters.

    Raises :class:`InvalidInput` for ``.``, ``..`` and names with nothing left (they name
    directories, not files).
    """
    base = Path(name.replace("\\", "/")).name[-200:]
    if base in ("", ".", "..") or "\x00" in base:
        raise InvalidInput(f"not a file name: {name[:200]!r}", where=where)
    return base
