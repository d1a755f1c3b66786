"""CSV reader for the interchange format (columns in :data:`SITE_COLUMNS` / :data:`INCIDENT_COLUMNS`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from deconflict.errors import InvalidInput
from deconflict.ingest.common import (
    INCIDENT_COLUMNS,
    SITE_COLUMNS,
    Batch,
    build_incident,
    build_site,
    csv_rows,
    read_bytes,
    read_text,
    with_row,
)
from deconflict.model import Incident, Site

__all__ = ["read_incidents_csv", "read_sites_csv"]


def _ignored(header: Sequence[str], known: Sequence[str]) -> list[str]:
    return [h for h in header if h not in known and not h.startswith("name:")]


def read_sites_csv(path: str | Path) -> Batch:
    """Read sites from a CSV file; raise :class:`InvalidInput` naming file, row and field."""
    where = str(path)
    data, digest = read_bytes(path)
    header, rows = csv_rows(read_text(data, where), where, ("name", "kind", "owner", "lat", "lon"))
    sites: list[Site] = [with_row(where, number, partial(build_site, row)) for number, row in rows]
    if not sites:
        raise InvalidInput("has a header but no rows", where=where)
    return Batch(where, digest, "csv", sites, ignored_columns=_ignored(header, SITE_COLUMNS))


def read_incidents_csv(
    path: str | Path, local: ZoneInfo | None = None, progress: Callable[[int], None] | None = None
) -> Batch:
    """Read incidents from a CSV file; raise :class:`InvalidInput` naming file, row and field."""
    where = str(path)
    data, digest = read_bytes(path)
    header, rows = csv_rows(read_text(data, where), where, ("time", "lat", "lon"))
    incidents: list[Incident] = []
    for number, row in rows:
        incidents.append(with_row(where, number, partial(build_incident, row, local)))
        if progress is not None and number % 10_000 == 0:
            progress(number)
    if not incidents:
        raise InvalidInput("has a header but no rows", where=where)
    return Batch(where, digest, "csv", incidents, ignored_columns=_ignored(header, INCIDENT_COLUMNS))
