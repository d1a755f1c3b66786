"""CSV reader for the interchange format (columns in :data:`SITE_COLUMNS` / :data:`INCIDENT_COLUMNS`)."""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from deconflict.errors import InvalidInput
from deconflict.ids import content_id
from deconflict.ingest.common import (
    COLUMN_ALIASES,
    INCIDENT_COLUMNS,
    INCIDENT_OPTIONAL_COLUMNS,
    SITE_COLUMNS,
    Batch,
    build_incident,
    build_site,
    csv_rows,
    read_bytes,
    read_text,
    refuse_repeated_ids,
    with_row,
)
from deconflict.model import Incident, Site, Source
from deconflict.progress import ProgressCallback, report_steps
from deconflict.times import parse_time

__all__ = ["read_incidents_csv", "read_sites_csv"]


def _ignored(header: Sequence[str], known: Sequence[str]) -> list[str]:
    return [h for h in header if h not in known and not h.startswith("name:")]


def read_sites_csv(path: str | Path, progress: ProgressCallback | None = None, *, delimiter: str = ",") -> Batch:
    """Read sites from a CSV file; raise :class:`InvalidInput` naming file, row and field.

    Rows are numbered as a spreadsheet shows them (the header is row 1); an id given twice is
    refused naming both rows. Reports the phases ``"reading"`` (bytes) and ``"validating"`` (rows)
    to ``progress``.
    """
    where = str(path)
    data, digest = read_bytes(path, progress)
    text = read_text(data, where)
    header, rows = csv_rows(
        text, where, ("name", "kind", "owner", "lat", "lon"), delimiter=delimiter, aliases=COLUMN_ALIASES
    )
    tick = report_steps(progress, "validating", max(text.count("\n") - 1, 1), step=1000)  # an over-estimate
    sites: list[Site] = []
    numbers: list[int] = []
    for number, row in rows:
        sites.append(with_row(where, number, partial(build_site, row)))
        numbers.append(number)
        tick(len(numbers))
    if not sites:
        raise InvalidInput("has a header but no rows", where=where)
    tick(len(sites), final=True)
    refuse_repeated_ids(where, [s.id for s in sites], numbers)
    return Batch(where, digest, "csv", sites, ignored_columns=_ignored(header, SITE_COLUMNS))


def read_incidents_csv(
    path: str | Path,
    local: ZoneInfo | None = None,
    progress: ProgressCallback | None = None,
    *,
    delimiter: str = ",",
) -> Batch:
    """Read incidents from a CSV file; raise :class:`InvalidInput` naming file, row and field.

    Rows are numbered as a spreadsheet shows them (the header is row 1); an id given twice is
    refused naming both rows. Reports the phases ``"reading"`` (bytes) and ``"validating"`` (rows)
    to ``progress``.
    """
    where = str(path)
    data, digest = read_bytes(path, progress)
    text = read_text(data, where)
    header, rows = csv_rows(text, where, _INCIDENT_REQUIRED, delimiter=delimiter, aliases=COLUMN_ALIASES)
    ignored = _ignored(header, INCIDENT_COLUMNS + INCIDENT_OPTIONAL_COLUMNS)
    # Quoted line breaks make this an over-estimate; the final report gives the true count.
    tick = report_steps(progress, "validating", max(text.count("\n") - 1, 1))
    fast = _fast_incidents(text, header, local, tick, delimiter)
    if fast is not None:
        tick(len(fast), final=True)
        # The fast path only accepts files without blank or irregular rows: data row k is row k + 2.
        refuse_repeated_ids(where, [i.id for i in fast], range(2, len(fast) + 2))
        return Batch(where, digest, "csv", fast, ignored_columns=ignored)
    incidents: list[Incident] = []
    numbers: list[int] = []
    for number, row in rows:
        incidents.append(with_row(where, number, partial(build_incident, row, local)))
        numbers.append(number)
        tick(len(numbers))
    if not incidents:
        raise InvalidInput("has a header but no rows", where=where)
    tick(len(incidents), final=True)
    refuse_repeated_ids(where, [i.id for i in incidents], numbers)
    return Batch(where, digest, "csv", incidents, ignored_columns=ignored)


_INCIDENT_REQUIRED = ("time", "lat", "lon")


def _fast_incidents(
    text: str,
    header: Sequence[str],
    local: ZoneInfo | None,
    tick: Callable[[int], None] = lambda done: None,
    delimiter: str = ",",
) -> list[Incident] | None:
    """The incidents of a CSV document whose every data row is complete and valid, or None.

    Same result as :func:`build_incident` on each row of :func:`csv_rows`, read column by column
    (one parse per distinct time). It never raises: on any irregularity (a malformed or blank row,
    a short or long row, a missing or invalid value, no rows) it returns None and the caller reads
    the file row by row, which reports the error exactly as before.
    """
    collecting = gc.isenabled()
    gc.disable()  # hundreds of thousands of new objects, none cyclic: skip the collector's passes
    try:
        return _fast_incidents_unguarded(text, header, local, tick, delimiter)
    except Exception:  # any failure: the row-by-row path reports it
        return None
    finally:
        if collecting:
            gc.enable()


def _fast_incidents_unguarded(
    text: str, header: Sequence[str], local: ZoneInfo | None, tick: Callable[[int], None], delimiter: str = ","
) -> list[Incident] | None:
    if any(column in header for column in INCIDENT_OPTIONAL_COLUMNS):
        return None  # JSON-valued columns are read by build_incident
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    width = len(header)
    data = records[1:]
    if not data or any(len(values) != width for values in data):
        return None
    columns = dict(zip(header, zip(*data, strict=True), strict=True))
    none: tuple[None, ...] = (None,) * len(data)

    def column(name: str) -> Sequence[str | None]:
        raw = columns.get(name)
        return none if raw is None else [value.strip() or None for value in raw]

    spans = {}
    times = column("time")
    precisions = column("time_precision")
    for key in set(zip(times, precisions, strict=True)):
        if key[0] is None:
            return None
        spans[key] = parse_time(key[0], key[1], local)
    lat_texts, lon_texts = column("lat"), column("lon")
    if None in lat_texts or None in lon_texts:
        return None
    lats = [float(v) for v in lat_texts if v is not None]
    lons = [float(v) for v in lon_texts if v is not None]
    uncertainties = [0.0 if v is None else float(v) for v in column("uncertainty_m")]
    incidents: list[Incident] = []
    append_incident = incidents.append
    for (
        incident_id, time_text, precision, lat, lon, uncertainty, model, kind, weapon,
        url, sha256, title, confidence, notes, provenance, status,
    ) in zip(
        column("id"), times, precisions, lats, lons, uncertainties, column("uncertainty_model"),
        column("kind"), column("weapon"), column("source_url"), column("source_sha256"),
        column("source_title"), column("confidence"), column("notes"), column("provenance"),
        column("status"), strict=True,
    ):  # fmt: skip
        span = spans[time_text, precision]
        source = _EMPTY_SOURCE if url is None and sha256 is None and title is None else Source(url, sha256, title)
        append_incident(
            Incident(
                id=incident_id or content_id("inc", span.to_text(), lat, lon, source.url, kind, notes),
                time=span, lat=lat, lon=lon, uncertainty_m=uncertainty,
                uncertainty_model=model or "disk", kind=kind, weapon=weapon,
                confidence=confidence or "confirmed", source=source, notes=notes,
                provenance=provenance, status=status or "confirmed",
            )
        )  # fmt: skip
        if len(incidents) % 10_000 == 0:
            tick(len(incidents))
    return incidents


_EMPTY_SOURCE = Source()
