"""Persistence: the :class:`Store` interface and its backends.

:func:`open_store` picks the backend from the location: a file path is SQLite (the
default, one file, no server); a ``postgresql://`` (or ``postgres://``) URL is
PostgreSQL + PostGIS (:mod:`deconflict.store.postgis`).
"""

from deconflict.store._open import is_postgres_url, open_store
from deconflict.store.base import ImportRecord, IncidentQuery, SiteQuery, Store

__all__ = ["ImportRecord", "IncidentQuery", "SiteQuery", "Store", "is_postgres_url", "open_store"]
