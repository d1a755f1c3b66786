"""Reading reports: HTML to text with offsets back into the file, report dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from deconflict.errors import InvalidInput
from deconflict.extract.publication import publication_date
from deconflict.extract.reader import read_report


def test_html_text_offsets_map_back_to_the_same_words_in_the_file(tmp_path: Path) -> None:
    markup = "<html><body><script>var x = 1;</script><p>Drones hit <b>Kyiv</b> &amp; Lviv.</p></body></html>"
    file = tmp_path / "r.html"
    file.write_text(markup, encoding="utf-8")
    report = read_report(file)
    at = report.text.index("Kyiv")
    source_at = report.source_offset(at)
    assert markup[source_at : source_at + 4] == "Kyiv"
    assert "var x" not in report.text


def test_the_report_date_comes_from_a_date_line_in_any_of_the_languages() -> None:
    assert publication_date("Дата: 14.11.2025\nТекст") == date(2025, 11, 14)
    assert publication_date("Datum: 14. November 2025\nText") == date(2025, 11, 14)


def test_a_binary_file_is_refused_with_its_name(tmp_path: Path) -> None:
    file = tmp_path / "x.txt"
    file.write_bytes(b"\xff\xfe\xfd\x00\x81")
    with pytest.raises(InvalidInput, match=r"x\.txt"):
        read_report(file)
