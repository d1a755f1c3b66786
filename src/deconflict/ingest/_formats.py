"""Which reader reads a file: the format from its name or the caller, then one reader per format."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from deconflict.errors import InvalidInput
from deconflict.ingest.acled import read_incidents_acled
from deconflict.ingest.common import Batch
from deconflict.ingest.csv import read_incidents_csv, read_sites_csv
from deconflict.ingest.geojson import read_incidents_geojson, read_sites_geojson
from deconflict.ingest.wikidata import read_sites_wikidata
from deconflict.progress import ProgressCallback

__all__ = ["INCIDENT_FORMATS", "SITE_FORMATS", "guess_format", "read_incidents", "read_sites"]

SITE_FORMATS = ("csv", "geojson", "wikidata-embassies")
INCIDENT_FORMATS = ("csv", "geojson", "acled")


def guess_format(path: str | Path, allowed: tuple[str, ...]) -> str:
    """The format from the file extension (``.csv``, ``.geojson``/``.json``)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".geojson", ".json"):
        return "geojson"
    if suffix in (".csv", ".txt", ".tsv", ""):
        return "csv"
    raise InvalidInput(
        f"cannot tell the format from {suffix!r}; pass --format ({'|'.join(allowed)})",
        where=str(path),
    )


def read_sites(
    path: str | Path, format: str | None = None, *, city: str | None = None, progress: ProgressCallback | None = None
) -> Batch:
    """Read sites from ``path`` in ``format`` (guessed from the extension when None).

    Reports the phases ``"reading"`` and ``"validating"`` to ``progress`` (see :mod:`deconflict.progress`).
    """
    chosen = format or guess_format(path, SITE_FORMATS)
    if chosen == "csv":
        return read_sites_csv(path, progress)
    if chosen == "geojson":
        return read_sites_geojson(path, progress)
    if chosen == "wikidata-embassies":
        return read_sites_wikidata(path, city=city, progress=progress)
    raise InvalidInput(f"unknown site format {chosen!r}; expected one of {', '.join(SITE_FORMATS)}")


def read_incidents(
    path: str | Path,
    format: str | None = None,
    *,
    local: ZoneInfo | None = None,
    progress: ProgressCallback | None = None,
) -> Batch:
    """Read incidents from ``path``; dates without a time are read in the ``local`` timezone.

    Reports the phases ``"reading"`` and ``"validating"`` to ``progress`` (see :mod:`deconflict.progress`).
    """
    chosen = format or guess_format(path, INCIDENT_FORMATS)
    if chosen == "csv":
        return read_incidents_csv(path, local, progress)
    if chosen == "geojson":
        return read_incidents_geojson(path, local, progress)
    if chosen == "acled":
        return read_incidents_acled(path, local, progress)
    raise InvalidInput(f"unknown incident format {chosen!r}; expected one of {', '.join(INCIDENT_FORMATS)}")
