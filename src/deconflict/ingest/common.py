"""What every reader shares: reading bytes safely, per-row error context, record builders."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from deconflict.errors import DeconflictError, InvalidInput, NotFound
from deconflict.ids import content_id
from deconflict.limits import MAX_CSV_COLUMNS, MAX_IMPORT_BYTES, read_limited
from deconflict.model import Incident, Site, Source
from deconflict.progress import ProgressCallback, report_steps
from deconflict.times import parse_time

__all__ = [
    "COLUMN_ALIASES",
    "INCIDENT_COLUMNS",
    "INCIDENT_OPTIONAL_COLUMNS",
    "SITE_COLUMNS",
    "Batch",
    "build_incident",
    "build_site",
    "csv_rows",
    "header_row",
    "read_bytes",
    "read_text",
    "refuse_repeated_ids",
]

SITE_COLUMNS: tuple[str, ...] = (
    "id", "name", "kind", "owner", "lat", "lon", "radius_m", "address", "city",
    "footprint_wkt", "approximate", "source", "notes",
)  # fmt: skip
#: Incident columns written only when a record has them: source-specific fields as a JSON object,
#: and further sources (of reports merged into the incident) as a JSON list.
INCIDENT_OPTIONAL_COLUMNS: tuple[str, ...] = ("extra", "more_sources")
INCIDENT_COLUMNS: tuple[str, ...] = (
    "id", "time", "time_precision", "lat", "lon", "uncertainty_m", "uncertainty_model", "kind",
    "weapon", "source_url", "source_sha256", "source_title", "confidence", "notes", "provenance", "status",
)  # fmt: skip


@dataclass
class Batch:
    """The records read from one file, all valid, with the file's SHA-256."""

    path: str
    sha256: str
    format: str
    records: list[Any]
    skipped: list[tuple[int, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def read_bytes(path: str | Path, progress: ProgressCallback | None = None) -> tuple[bytes, str]:
    """Read a file, returning its bytes and SHA-256; raise :class:`InvalidInput` when unreadable.

    A device (``/dev/zero``) or a file over :data:`~deconflict.limits.MAX_IMPORT_BYTES` is
    refused (:func:`deconflict.limits.read_limited`). Reports the ``"reading"`` phase to
    ``progress`` in bytes.
    """
    digest = hashlib.sha256()
    ticks: list[Callable[..., None]] = []
    done = 0

    def on_chunk(chunk: bytes, size_hint: int) -> None:
        nonlocal done
        if not ticks:
            ticks.append(report_steps(progress, "reading", size_hint or None, step=_READ_CHUNK))
        digest.update(chunk)
        done += len(chunk)
        ticks[0](done)

    try:
        data = read_limited(path, MAX_IMPORT_BYTES, on_chunk=on_chunk)
    except NotFound as exc:
        raise InvalidInput(exc.message, where=exc.where) from None
    if ticks:
        ticks[0](done, final=True)
    return data, digest.hexdigest()


_READ_CHUNK = 1 << 22


def read_text(data: bytes, where: str) -> str:
    """Decode UTF-8 (a BOM is accepted); reject other encodings naming the line."""
    if not data.strip():
        raise InvalidInput("file is empty", where=where)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            f"not UTF-8 (byte 0x{data[exc.start]:02x} at line {line}); re-save the file as UTF-8",
            where=where,
        ) from exc


#: Header names accepted for the interchange columns (as GIS tools and spreadsheets write them).
COLUMN_ALIASES: dict[str, str] = {"latitude": "lat", "longitude": "lon", "lng": "lon", "long": "lon"}


def header_row(where: str) -> str:
    """``where`` of the header: row 1, as a spreadsheet numbers it."""
    return f"{where}, row 1 (header)"


#: How many of a header's columns an error about the header quotes.
_SHOWN_COLUMNS = 30


def csv_rows(
    text: str,
    where: str,
    required: tuple[str, ...],
    *,
    delimiter: str = ",",
    aliases: Mapping[str, str] | None = None,
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Parse CSV text; return the header and an iterator of ``(row_number, row)``.

    Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is
    row 2 (a record whose quoted field spans several lines counts as one row). ``aliases`` maps
    other header names to ours (``latitude`` → ``lat``) when ours is absent.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise InvalidInput(f"cannot read the CSV header: {exc}", where=where) from exc
    if len(header) > MAX_CSV_COLUMNS:
        raise InvalidInput(
            f"the header has {len(header):,} columns; the limit is {MAX_CSV_COLUMNS:,}", where=header_row(where)
        )
    header = [h.strip() for h in header]
    while header and header[-1] == "":  # a trailing delimiter on the header line (Wikidata export)
        header.pop()
    for theirs, ours in (aliases or {}).items():
        if theirs in header and ours not in header:
            header[header.index(theirs)] = ours
    missing = [c for c in required if c not in header]
    if missing:
        others = [d for d in (";", "\t", "|", ",") if d != delimiter and d in (header[0] if header else "")]
        if len(header) == 1 and others:
            shown = {"\t": "tab"}.get(others[0], others[0])
            raise InvalidInput(
                f"wrong delimiter: the header is one column containing {shown!r}; "
                f"expected {delimiter!r}-separated columns (pass --delimiter '{others[0]}')",
                where=header_row(where),
            )
        shown = ", ".join(header[:_SHOWN_COLUMNS]) + (
            f" and {len(header) - _SHOWN_COLUMNS:,} more" if len(header) > _SHOWN_COLUMNS else ""
        )
        raise InvalidInput(
            f"missing column(s) {', '.join(missing)}; the header has {shown or 'nothing'}",
            where=header_row(where),
        )
    duplicates = sorted(name for name, count in Counter(header).items() if count > 1)  # linear in the columns
    if duplicates:
        raise InvalidInput(f"duplicate column(s) {', '.join(duplicates)}", where=header_row(where))

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        number = 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InvalidInput(f"malformed CSV: {exc}", where=f"{where}, row {number + 1}") from exc
            number += 1
            if not values or all(not v.strip() for v in values):
                continue
            while len(values) > len(header) and not values[-1].strip():
                values.pop()
            if len(values) != len(header):
                raise InvalidInput(
                    f"has {len(values)} fields, the header has {len(header)}",
                    where=f"{where}, row {number}",
                )
            yield number, dict(zip(header, values, strict=True))

    return header, rows()


def refuse_repeated_ids(where: str, ids: Sequence[str], numbers: Sequence[int], unit: str = "row") -> None:
    """Raise :class:`InvalidInput` naming both rows of the first id that appears twice in a file."""
    seen: dict[str, int] = {}
    for record_id, number in zip(ids, numbers, strict=True):
        if record_id in seen:
            raise InvalidInput(
                f"id {record_id!r} appears twice, in {unit}s {seen[record_id]} and {number}",
                where=f"{where}, {unit} {number}, field 'id'",
            )
        seen[record_id] = number


def _get(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(row: Mapping[str, Any], key: str) -> float | None:
    text = _get(row, key)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError as exc:
        raise InvalidInput(f"not a number: {text!r}", where=f"field {key!r}") from exc


def _bool(row: Mapping[str, Any], key: str) -> bool:
    text = (_get(row, key) or "false").lower()
    if text in ("true", "1", "yes", "y"):
        return True
    if text in ("false", "0", "no", "n"):
        return False
    raise InvalidInput(f"not a boolean (true/false): {text!r}", where=f"field {key!r}")


def _field_of(exc: DeconflictError) -> str:
    message = exc.message
    for name in (
        "lat",
        "lon",
        "radius_m",
        "uncertainty_m",
        "kind",
        "owner",
        "confidence",
        "name",
        "id",
        "source_sha256",
        "uncertainty_model",
        "status",
        "footprint",
    ):
        if message.startswith(name + " ") or message.startswith(name + ":"):
            return name
    return ""


def with_row(where: str, number: int, call: Callable[[], Any], unit: str = "row") -> Any:
    """Run ``call`` and re-raise its :class:`InvalidInput` naming the file, row and field."""
    try:
        return call()
    except DeconflictError as exc:
        field_name = exc.where if exc.where and exc.where.startswith("field ") else ""
        if not field_name and _field_of(exc):
            field_name = f"field {_field_of(exc)!r}"
        place = f"{where}, {unit} {number}" + (f", {field_name}" if field_name else "")
        raise InvalidInput(exc.message, where=place) from exc


def build_site(row: Mapping[str, Any]) -> Site:
    """A :class:`Site` from a row of the interchange format (CSV columns / GeoJSON properties)."""
    name = _get(row, "name")
    owner = _get(row, "owner")
    kind = _get(row, "kind")
    for key, value in (("name", name), ("kind", kind), ("owner", owner)):
        if value is None:
            raise InvalidInput("is required", where=f"field {key!r}")
    lat, lon = _number(row, "lat"), _number(row, "lon")
    if lat is None or lon is None:
        raise InvalidInput("is required", where=f"field {'lat' if lat is None else 'lon'!r}")
    # Several names in one language are joined by "; " in a single name:<lang> column.
    names = tuple(
        sorted(
            (str(key).split(":", 1)[1], part.strip())
            for key, value in row.items()
            if str(key).startswith("name:") and value
            for part in str(value).split("; ")
            if part.strip()
        )
    )
    radius = _number(row, "radius_m")
    if radius is not None and not 0 < radius <= 50_000:
        raise InvalidInput(f"radius_m must be in (0, 50000] metres, got {radius:g}", where="field 'radius_m'")
    site_id = _get(row, "id") or content_id("site", owner, kind, name, lat, lon)
    assert name is not None and owner is not None and kind is not None
    return Site(
        id=site_id,
        name=name,
        kind=kind,
        owner=owner,
        lat=lat,
        lon=lon,
        radius_m=-1.0 if radius is None else radius,
        address=_get(row, "address"),
        city=_get(row, "city"),
        names=names,
        footprint_wkt=_get(row, "footprint_wkt"),
        approximate=_bool(row, "approximate"),
        source=_get(row, "source"),
        notes=_get(row, "notes"),
    )


def build_incident(row: Mapping[str, Any], local: ZoneInfo | None) -> Incident:
    """An :class:`Incident` from a row of the interchange format."""
    # Hot path of large imports: read each field once.
    values = {key: (str(value).strip() or None) if value is not None else None for key, value in row.items()}
    time_text = values.get("time")
    if time_text is None:
        raise InvalidInput("is required", where="field 'time'")
    try:
        span = parse_time(time_text, values.get("time_precision"), local)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where="field 'time'") from exc
    lat, lon = _number(values, "lat"), _number(values, "lon")
    if lat is None or lon is None:
        raise InvalidInput("is required", where=f"field {'lat' if lat is None else 'lon'!r}")
    uncertainty = _number(values, "uncertainty_m")
    url, digest, title = values.get("source_url"), values.get("source_sha256"), values.get("source_title")
    source = _EMPTY_SOURCE if url is None and digest is None and title is None else Source(url, digest, title)
    kind, notes = values.get("kind"), values.get("notes")
    incident_id = values.get("id") or content_id("inc", span.to_text(), lat, lon, source.url, kind, notes)
    return Incident(
        id=incident_id, time=span, lat=lat, lon=lon,
        uncertainty_m=0.0 if uncertainty is None else uncertainty,
        uncertainty_model=values.get("uncertainty_model") or "disk",
        kind=kind, weapon=values.get("weapon"),
        confidence=values.get("confidence") or "confirmed", source=source, notes=notes,
        provenance=values.get("provenance"), status=values.get("status") or "confirmed",
        extra=_extra(row.get("extra")), more_sources=_more_sources(row.get("more_sources")),
    )  # fmt: skip


def _json_field(value: Any, key: str) -> Any:
    if value is None or isinstance(value, dict | list):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not JSON: {exc.msg}", where=f"field {key!r}") from None


def _extra(value: Any) -> tuple[tuple[str, Any], ...]:
    """The ``extra`` field: a JSON object (text or mapping) of text, numbers, booleans and nulls."""
    data = _json_field(value, "extra")
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise InvalidInput("must be a JSON object of source-specific fields", where="field 'extra'")
    for key, item in data.items():
        if isinstance(item, dict | list):
            raise InvalidInput(f"{key!r} must be text, a number, a boolean or null", where="field 'extra'")
    return tuple(sorted((str(k), v) for k, v in data.items()))


def _more_sources(value: Any) -> tuple[Source, ...]:
    """The ``more_sources`` field: a JSON list of ``{"url", "sha256", "title"}``."""
    data = _json_field(value, "more_sources")
    if data is None:
        return ()
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InvalidInput("must be a JSON list of {url, sha256, title}", where="field 'more_sources'")
    try:
        return tuple(Source(item.get("url"), item.get("sha256"), item.get("title")) for item in data)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where="field 'more_sources'") from None


_EMPTY_SOURCE = Source()
