"""Reader for ACLED-style exports (Armed Conflict Location & Event Data).

Columns used: ``event_id_cnty`` (id, optional), ``event_date`` (``2024-01-02`` or, as ACLED's
downloads write it, ``02 January 2024``), ``time_precision``, ``latitude``, ``longitude``,
``geo_precision``, ``event_type``, ``sub_event_type``, ``notes``, ``source``. Every other
non-empty column (``fatalities``, ``actor1``, ``actor2``, ``location``, ``admin1``..``admin3``,
``civilian_targeting``, ``country``, ``iso``, ``timestamp`` …) is kept in the incident's
``extra`` fields, typed: counts and codes as integers, ``civilian_targeting`` as a boolean.
ACLED codes:

- ``time_precision``: 1 = the day is known, 2 = the week, 3 = the month.
- ``geo_precision``: 1 = the coordinates of the exact town/place, 2 = a nearby or
  containing town / part of a region, 3 = only a larger region (provincial capital).
  We turn it into an uncertainty radius with :data:`ACLED_GEO_PRECISION_RADIUS_M`
  (a uniform disk): the typical extent a point of that precision can be off by.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from deconflict.errors import InvalidInput
from deconflict.ingest.common import (
    Batch,
    build_incident,
    csv_rows,
    read_bytes,
    read_text,
    refuse_repeated_ids,
    with_row,
)
from deconflict.model import Incident
from deconflict.progress import ProgressCallback, report_steps

__all__ = ["ACLED_GEO_PRECISION_RADIUS_M", "ACLED_TIME_PRECISION", "read_incidents_acled"]

#: ACLED ``geo_precision`` code → uncertainty radius in metres (uniform disk).
ACLED_GEO_PRECISION_RADIUS_M: dict[int, float] = {1: 2_000.0, 2: 15_000.0, 3: 50_000.0}
#: ACLED ``time_precision`` code → deconflict time precision.
ACLED_TIME_PRECISION: dict[int, str] = {1: "day", 2: "week", 3: "month"}

_REQUIRED = ("event_date", "latitude", "longitude")


def _code(value: str | None, table: dict[int, object], name: str) -> int:
    text = (value or "1").strip() or "1"
    try:
        code = int(float(text))
    except ValueError as exc:
        raise InvalidInput(f"not an ACLED code: {text!r}", where=f"field {name!r}") from exc
    if code not in table:
        raise InvalidInput(f"ACLED {name} must be one of {sorted(table)}, got {code}", where=f"field {name!r}")
    return code


#: The columns mapped onto interchange fields; every other one goes to ``extra``.
MAPPED_COLUMNS = frozenset({
    "event_id_cnty", "event_date", "time_precision", "latitude", "longitude", "geo_precision",
    "event_type", "sub_event_type", "notes", "source",
})  # fmt: skip
#: ACLED columns holding whole numbers (kept as integers in ``extra``).
INTEGER_COLUMNS = frozenset({"fatalities", "iso", "timestamp", "inter1", "inter2", "interaction", "year"})
#: ACLED's signature columns: a CSV with most of them is an ACLED export.
SIGNATURE_COLUMNS = frozenset({"event_id_cnty", "event_date", "event_type", "sub_event_type", "actor1",
                               "geo_precision", "fatalities", "admin1"})  # fmt: skip


def _event_date(text: str) -> str:
    """``event_date`` as ISO 8601: ACLED downloads write ``02 January 2024`` (and ``2024-01-02``)."""
    raw = text.strip()
    if not raw or raw[:4].isdigit():
        return raw
    from datetime import datetime

    for pattern in ("%d %B %Y", "%d %b %Y", "%d-%b-%Y", "%d/%m/%Y", "%B %d, %Y"):
        try:
            return datetime.strptime(raw, pattern).date().isoformat()
        except ValueError:
            continue
    raise InvalidInput(f"not a date: {raw!r} (expected 2024-01-02 or 02 January 2024)", where="field 'event_date'")


def _extra(row: dict[str, str]) -> str:
    import json

    extra: dict[str, object] = {}
    for key, value in row.items():
        text = value.strip()
        if key in MAPPED_COLUMNS or not text:
            continue
        if key in INTEGER_COLUMNS:
            try:
                extra[key] = int(float(text))
            except ValueError:
                raise InvalidInput(f"not a whole number: {text!r}", where=f"field {key!r}") from None
        elif key == "civilian_targeting":
            extra[key] = True  # ACLED writes "Civilian targeting" or leaves it empty
        else:
            extra[key] = text
    if "civilian_targeting" in row and "civilian_targeting" not in extra:
        extra["civilian_targeting"] = False
    return json.dumps(extra, sort_keys=True, ensure_ascii=False) if extra else ""


def _convert(row: dict[str, str], local: ZoneInfo | None) -> Incident:
    geo = _code(row.get("geo_precision"), ACLED_GEO_PRECISION_RADIUS_M, "geo_precision")  # type: ignore[arg-type]
    when = _code(row.get("time_precision"), ACLED_TIME_PRECISION, "time_precision")  # type: ignore[arg-type]
    kind = " / ".join(v for v in (row.get("event_type", "").strip(), row.get("sub_event_type", "").strip()) if v)
    date = _event_date(row.get("event_date", ""))
    if when == 3 and len(date) == 10:
        date = date[:7]
    mapped = {
        "id": row.get("event_id_cnty", ""),
        "time": date,
        "time_precision": ACLED_TIME_PRECISION[when],
        "lat": row.get("latitude", ""),
        "lon": row.get("longitude", ""),
        "uncertainty_m": str(ACLED_GEO_PRECISION_RADIUS_M[geo]),
        "kind": kind,
        "notes": row.get("notes", ""),
        "source_title": row.get("source", ""),
        "confidence": "fair",
        "provenance": "acled",
        "extra": _extra(row),
    }
    try:
        return build_incident(mapped, local)
    except InvalidInput as exc:
        renamed = {"'time'": "'event_date'", "'lat'": "'latitude'", "'lon'": "'longitude'"}
        where = exc.where
        for ours, theirs in renamed.items():
            if where:
                where = where.replace(ours, theirs)
        message = exc.message
        for plain, theirs in (("lat ", "latitude "), ("lon ", "longitude ")):
            if message.startswith(plain):
                message = theirs + message[len(plain) :]
                where = where or f"field {theirs.strip()!r}"
        raise InvalidInput(message, where=where) from exc


def read_incidents_acled(
    path: str | Path,
    local: ZoneInfo | None = None,
    progress: ProgressCallback | None = None,
    *,
    delimiter: str = ",",
) -> Batch:
    """Read an ACLED CSV export into incidents (confidence ``fair``, provenance ``acled``).

    Rows are numbered as a spreadsheet shows them (header = row 1); an event id given twice is
    refused naming both rows. Reports the phases ``"reading"`` (bytes) and ``"validating"`` (rows)
    to ``progress``.
    """
    where = str(path)
    data, digest = read_bytes(path, progress)
    text = read_text(data, where)
    _, rows = csv_rows(text, where, _REQUIRED, delimiter=delimiter)
    tick = report_steps(progress, "validating", max(text.count("\n") - 1, 1))  # an over-estimate
    incidents = []
    numbers = []
    for number, row in rows:
        incidents.append(with_row(where, number, partial(_convert, row, local)))
        numbers.append(number)
        tick(len(numbers))
    if not incidents:
        raise InvalidInput("has a header but no rows", where=where)
    tick(len(incidents), final=True)
    refuse_repeated_ids(where, [i.id for i in incidents], numbers)
    return Batch(where, digest, "acled", incidents)
