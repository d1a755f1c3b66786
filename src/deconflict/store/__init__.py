"""Persistence: the :class:`Store` interface and its backends.

:func:`open_store` picks the backend from the location: a file path is SQLite (the
default, one file, no server); a ``postgresql://`` URL is PostgreSQL + PostGIS.
"""

from __future__ import annotations

from pathlib import Path

from deconflict.errors import InvalidInput
from deconflict.store.base import ImportRecord, IncidentQuery, SiteQuery, Store

__all__ = ["ImportRecord", "IncidentQuery", "SiteQuery", "Store", "open_store"]


def open_store(location: str | Path, *, create: bool = False) -> Store:
    """Open (or with ``create=True`` create) the database at ``location``."""
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        raise InvalidInput("PostgreSQL support is not available in this build; use a SQLite file path")
    from deconflict.store.sqlite import SQLiteStore

    return SQLiteStore(text, create=create)
