"""Atomic, durable file writes: write a temporary file, fsync, rename, fsync the directory."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from deconflict.errors import InvalidInput, StorageError

__all__ = ["atomic_write_bytes", "atomic_write_text", "storage_error_for"]


def storage_error_for(exc: OSError, path: str | Path) -> StorageError | None:
    """The :class:`StorageError` for a full disk or read-only media writing ``path``; None for others."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageError(f"the disk holding {path} is full; nothing was written (free space and run it again)")
    if exc.errno == errno.EROFS:
        return StorageError(f"{path} is on read-only media; nothing was written")
    return None


def atomic_write_bytes(path: str | Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InvalidInput(f"directory {directory} does not exist", where=str(path))
    try:
        existing = os.stat(target).st_mode
    except OSError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing):
        # Renaming over it would replace a device (/dev/zero, as root) or fail on a directory.
        what = "a directory" if stat.S_ISDIR(existing) else "not a regular file (a device, pipe or socket)"
        raise InvalidInput(f"{what}: refusing to write over it; give a file path", where=str(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_text(path: str | Path, text: str, *, mode: int = 0o644) -> None:
    """Write UTF-8 ``text`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)
