"""Which reader reads a file: the format from its name or the caller, then one reader per format."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from deconflict.errors import InvalidInput
from deconflict.ingest.acled import SIGNATURE_COLUMNS, read_incidents_acled
from deconflict.ingest.common import Batch
from deconflict.ingest.csv import read_incidents_csv, read_sites_csv
from deconflict.ingest.geojson import read_incidents_geojson, read_sites_geojson
from deconflict.ingest.wikidata import read_sites_wikidata
from deconflict.progress import ProgressCallback

__all__ = ["INCIDENT_FORMATS", "SITE_FORMATS", "detect_csv_format", "guess_format", "read_incidents", "read_sites"]

SITE_FORMATS = ("csv", "geojson", "wikidata-embassies")
INCIDENT_FORMATS = ("csv", "geojson", "acled")


def guess_format(path: str | Path, allowed: tuple[str, ...]) -> str:
    """The format from the file extension (``.csv``, ``.geojson``/``.json``), refusing a CSV that is an
    ACLED export or the Wikidata embassies export read without ``--format`` (it says which flag)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".geojson", ".json"):
        return "geojson"
    if suffix in (".csv", ".txt", ".tsv", ""):
        detected = detect_csv_format(path)
        if detected is not None:
            where = str(path)
            if detected in allowed:
                raise InvalidInput(
                    f"looks like {_FORMAT_NAMES[detected]}; pass --format {detected} to read it as such",
                    where=where,
                )
            raise InvalidInput(f"looks like {_FORMAT_NAMES[detected]}, which is not a file of this kind", where=where)
        return "csv"
    raise InvalidInput(
        f"cannot tell the format from {suffix!r}; pass --format ({'|'.join(allowed)})",
        where=str(path),
    )


_FORMAT_NAMES = {"acled": "an ACLED export", "wikidata-embassies": "the Wikidata embassies export"}
_WIKIDATA_SIGNATURE = {"operator", "QID", "latitude", "longitude", "type"}


def detect_csv_format(path: str | Path) -> str | None:
    """``acled`` or ``wikidata-embassies`` when the header of a CSV file is theirs, else None."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            first = handle.readline(1 << 20)  # a header, never a whole device such as /dev/zero
    except OSError:
        return None  # the reader reports a missing or unreadable file
    for delimiter in (",", ";", "\t"):
        columns = {c.strip().strip('"') for c in first.split(delimiter)}
        if len(columns & SIGNATURE_COLUMNS) >= 4:
            return "acled"
        if columns >= _WIKIDATA_SIGNATURE:
            return "wikidata-embassies"
    return None


def _check_delimiter(delimiter: str | None) -> None:
    """Refuse a CSV delimiter that is not one character (or is a quote or a line break), before reading."""
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        shown = delimiter if len(delimiter) <= 20 else delimiter[:20] + "…"
        raise InvalidInput(
            f"delimiter (--delimiter) must be one character other than a quote or a line break, not {shown!r}"
        )


def read_sites(
    path: str | Path,
    format: str | None = None,
    *,
    city: str | None = None,
    progress: ProgressCallback | None = None,
    delimiter: str | None = None,
) -> Batch:
    """Read sites from ``path`` in ``format`` (guessed from the extension when None).

    ``delimiter`` separates CSV fields (default ``,``; the Wikidata export is always ``;``). Reports the
    phases ``"reading"`` and ``"validating"`` to ``progress`` (see :mod:`deconflict.progress`).
    """
    _check_delimiter(delimiter)
    chosen = format or guess_format(path, SITE_FORMATS)
    if chosen == "csv":
        return read_sites_csv(path, progress, delimiter=delimiter or ",")
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
    delimiter: str | None = None,
) -> Batch:
    """Read incidents from ``path``; dates without a time are read in the ``local`` timezone.

    Reports the phases ``"reading"`` and ``"validating"`` to ``progress`` (see :mod:`deconflict.progress`).
    """
    _check_delimiter(delimiter)
    chosen = format or guess_format(path, INCIDENT_FORMATS)
    if chosen == "csv":
        return read_incidents_csv(path, local, progress, delimiter=delimiter or ",")
    if chosen == "geojson":
        return read_incidents_geojson(path, local, progress)
    if chosen == "acled":
        return read_incidents_acled(path, local, progress, delimiter=delimiter or ",")
    raise InvalidInput(f"unknown incident format {chosen!r}; expected one of {', '.join(INCIDENT_FORMATS)}")
