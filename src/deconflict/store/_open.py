"""Which backend a location names, and opening it."""

from __future__ import annotations

from pathlib import Path

from deconflict.store.base import Store

__all__ = ["is_postgres_url", "open_store"]


def is_postgres_url(location: str | Path) -> bool:
    """Whether ``location`` is a PostgreSQL URL rather than a SQLite file path."""
    return str(location).startswith(("postgresql://", "postgres://"))


def open_store(location: str | Path, *, create: bool = False) -> Store:
    """Open (or with ``create=True`` create) the database at ``location``.

    Parameters
    ----------
    location
        A SQLite file path, or a ``postgresql://user@host/database`` URL.
    create
        Create the database: a new SQLite file, or the schema in an empty PostgreSQL
        database (which must exist; the ``postgis`` extension is created in it).

    Raises
    ------
    NotFound
        If ``create`` is False and there is no deconflict database at ``location``.
    InvalidInput
        If ``location`` is not a deconflict database or the server cannot be reached.
    """
    text = str(location)
    if is_postgres_url(text):
        from deconflict.store.postgis import PostGISStore

        return PostGISStore(text, create=create)
    from deconflict.store.sqlite import SQLiteStore

    return SQLiteStore(text, create=create)
