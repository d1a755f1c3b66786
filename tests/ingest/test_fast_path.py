"""The columnar fast path of the incident CSV reader gives exactly what the row-by-row path gives."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconflict.errors import DeconflictError, InvalidInput
from deconflict.export import incident_row
from deconflict.ingest import csv as csv_reader
from deconflict.ingest.common import INCIDENT_COLUMNS
from deconflict.ledger.entries import canonical_record

VALUES: dict[str, list[str]] = {
    "id": ["", "a1", "b-2", " c.3 ", "x y", "-bad", "a1"],
    "time": ["2024-01-01", " 2024-03-05T02:10Z ", "2024-W10", "2024-02", "2024-01-01/2024-01-03", "", "bad"],
    "time_precision": ["", "day", "night-of", "night", "Night_Of", "instant", "bogus"],
    "lat": ["50.4", " -12.5 ", "1e1", "90", "", "abc", "91", "nan"],
    "lon": ["30.5", "-180", " 179.999 ", "", "x", "181", "inf"],
    "uncertainty_m": ["", "100", "0", " 2.5 ", "-1", "x", "600000"],
    "uncertainty_model": ["", "disk", "normal", "bogus"],
    "source_url": ["", "https://example.org/a", " u "],
    "source_sha256": ["", "a" * 64, "A" * 64 + " ", "zz"],
    "confidence": ["", "fair", " Confirmed ", "WEAK", "bogus"],
    "status": ["", "confirmed", "unverified", "rejected", "bogus"],
}
FREE_TEXT = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\tй€%\\')), max_size=6)
VALID_TEXT = st.text(
    alphabet=st.sampled_from(list('ab ,"\n\tй€%\\')), max_size=6
)  # no bare CR: csv.writer leaves it unquoted


def _value(column: str) -> st.SearchStrategy[str]:
    if column in VALUES:
        return st.sampled_from(VALUES[column])
    return st.one_of(st.just(""), FREE_TEXT)


def _valid_value(column: str) -> st.SearchStrategy[str]:
    valid = {
        "id": ["", "a1", " c.3 "],
        "time": ["2024-01-01", " 2024-03-05T02:10Z ", "2024-W10", "2024-02"],
        "time_precision": [""],
        "lat": ["50.4", " -12.5 ", "1e1", "90"],
        "lon": ["30.5", "-180", " 179.999 "],
        "uncertainty_m": ["", "100", " 2.5 "],
        "uncertainty_model": ["", "disk", "normal"],
        "source_sha256": ["", "a" * 64, "A" * 64 + " "],
        "confidence": ["", "fair", " Confirmed ", "WEAK"],
        "status": ["", "confirmed", "unverified"],
    }
    if column == "id":
        return st.one_of(st.sampled_from(valid["id"]), st.from_regex(r"\A[a-z][a-z0-9]{0,5}\Z"))
    if column in valid:
        return st.sampled_from(valid[column])
    if column in VALUES:
        return st.sampled_from(VALUES[column])
    return st.one_of(st.just(""), VALID_TEXT)


@st.composite
def documents(draw: Any, valid: bool) -> str:
    required = ["time", "lat", "lon"]
    optional = [c for c in INCIDENT_COLUMNS if c not in required]
    chosen = required + draw(st.lists(st.sampled_from(optional), unique=True, max_size=len(optional)))
    if not valid:
        chosen += draw(st.lists(st.sampled_from(["colour", "time", ""]), max_size=1))
        if draw(st.booleans()) and draw(st.booleans()):
            chosen.remove(draw(st.sampled_from(required)))
    if valid and "notes" not in chosen:
        chosen.append("notes")
    header = draw(st.permutations(chosen))
    strategy = _valid_value if valid else _value
    rows = draw(
        st.lists(st.fixed_dictionaries({c: strategy(c) for c in header}), min_size=0 if not valid else 1, max_size=8)
    )
    if valid:  # a valid file names each record once (a repeated id is refused naming both rows)
        for k, row in enumerate(rows):
            row["notes"] = f"{row['notes']}{k}"
            if row.get("id", "").strip():
                row["id"] = f"{row['id'].strip()}x{k}"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    for row in rows:
        values = [row[c] for c in header]
        if not valid:
            shape = draw(st.sampled_from(["same"] * 6 + ["blank", "short", "long", "trailing", "raw"]))
            if shape == "blank":
                values = [""] * len(header) if draw(st.booleans()) else []
            elif shape == "short":
                values = values[:-1]
            elif shape == "long":
                values = [*values, "extra"]
            elif shape == "trailing":
                values = [*values, "", " "]
            elif shape == "raw":
                buffer.write(",".join(values) + '"x"y\n')
                continue
        writer.writerow(values)
    return buffer.getvalue()


def _outcome(path: Path, local: ZoneInfo | None, monkeypatch: pytest.MonkeyPatch, *, fast: bool) -> Any:
    calls: list[tuple[str, int, int | None]] = []
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(csv_reader, "_fast_incidents", lambda *args: None)
        try:
            batch = csv_reader.read_incidents_csv(
                path, local, progress=lambda phase, done, total: calls.append((phase, done, total))
            )
        except DeconflictError as exc:
            return ("error", type(exc), exc.message, exc.where, calls)
    return ("ok", batch.records, batch.sha256, batch.format, batch.skipped, batch.ignored_columns, calls)


def _compare(text: str, local: ZoneInfo | None, monkeypatch: pytest.MonkeyPatch, *, fast_path_taken: bool) -> Any:
    """Both paths' outcomes, which must be equal; so must their progress reports when the fast path ran.

    When the fast path gives up half-way, the row path carries on the "validating" phase it
    started, so the reports in between may differ; their start and end must not.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "incidents.csv"
        path.write_text(text, encoding="utf-8", newline="")
        fast = _outcome(path, local, monkeypatch, fast=True)
        slow = _outcome(path, local, monkeypatch, fast=False)
    assert fast[:-1] == slow[:-1]
    if fast_path_taken:
        assert fast[-1] == slow[-1]
    else:
        started = [call for call in slow[-1] if call[0] == "reading" or call[1] == 0]
        assert fast[-1][: len(started)] == started
        assert fast[-1][-1:] == slow[-1][-1:]
    return fast


ZONES = st.sampled_from([None, ZoneInfo("Europe/Kyiv")])
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(text=documents(valid=True), local=ZONES)
def test_fast_path_returns_the_same_incidents_for_valid_documents(
    text: str, local: ZoneInfo | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert csv_reader._fast_incidents(text, next(csv.reader(io.StringIO(text, newline=""))), local) is not None
    assert _compare(text, local, monkeypatch, fast_path_taken=True)[0] == "ok"


@SETTINGS
@given(text=documents(valid=False), local=ZONES)
def test_fast_path_gives_the_same_result_or_error_for_any_document(
    text: str, local: ZoneInfo | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _compare(text, local, monkeypatch, fast_path_taken=False)


def test_progress_is_reported_as_by_the_row_path(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "id,time,lat,lon\n" + "".join(f"i{n},2024-01-01,50.1,30.2\n" for n in range(20_001))
    result = _compare(text, None, monkeypatch, fast_path_taken=True)
    size = len(text.encode())
    assert result[0] == "ok"
    assert result[-1] == [
        ("reading", 0, size),
        ("reading", size, size),
        ("validating", 0, 20_001),
        ("validating", 10_000, 20_001),
        ("validating", 20_000, 20_001),
        ("validating", 20_001, 20_001),
    ]


RECORD_TEXT = st.text(alphabet=st.characters(codec=None, categories=None), max_size=8)


@settings(max_examples=500, deadline=None)
@given(
    row=st.dictionaries(
        st.one_of(st.sampled_from([*INCIDENT_COLUMNS, "a%s", "%", 'q"', "é"]), RECORD_TEXT),
        st.one_of(st.sampled_from(["", "50.4", "%s", "%%", '"', "\\", "\x00", "é", "\ud800"]), RECORD_TEXT),
        max_size=18,
    )
)
def test_canonical_record_is_rfc8785(row: dict[str, str]) -> None:
    """The templated canonical record of an interchange row is the RFC 8785 encoding of the row."""
    try:
        expected: bytes | None = bytes(rfc8785.dumps(row))
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        expected = None
    if expected is None:
        with pytest.raises(InvalidInput):
            canonical_record(row)
    else:
        assert canonical_record(row) == expected
        assert canonical_record(row) == expected  # again, now from the cached template


@settings(max_examples=200, deadline=None)
@given(text=documents(valid=True), local=ZONES)
def test_incident_rows_encode_as_before(text: str, local: ZoneInfo | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "incidents.csv"
        path.write_text(text, encoding="utf-8", newline="")
        incidents = csv_reader.read_incidents_csv(path, local).records
    for incident in incidents:
        row = incident_row(incident)
        assert canonical_record(row) == bytes(rfc8785.dumps(row))
