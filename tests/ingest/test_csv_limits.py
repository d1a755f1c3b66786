"""Issue 12, item 6: the CSV header check is linear and bounded, and parsing holds no write lock."""

from __future__ import annotations

import pytest

from deconflict.errors import InvalidInput
from deconflict.ingest.csv import read_incidents_csv, read_sites_csv
from deconflict.limits import MAX_CSV_COLUMNS


@pytest.mark.parametrize("columns", [MAX_CSV_COLUMNS + 1, 1_000_000])
def test_a_header_wider_than_the_column_limit_is_refused_naming_it(write, columns: int) -> None:
    header = ["name", "kind", "owner", "lat", "lon"] + [f"extra{n}" for n in range(columns - 5)]
    path = write(
        "wide.csv", ",".join(header) + "\n" + ",".join(["A", "embassy", "AZE", "50", "30"] + [""] * (columns - 5))
    )
    with pytest.raises(InvalidInput, match=f"the header has {columns:,} columns; the limit is {MAX_CSV_COLUMNS:,}"):
        read_sites_csv(path)


def test_a_header_at_the_column_limit_is_read_and_its_duplicates_named(write) -> None:
    header = ["id", "time", "lat", "lon"] + [f"extra{n}" for n in range(MAX_CSV_COLUMNS - 6)] + ["extra7", "lat"]
    path = write("dup.csv", ",".join(header) + "\n")
    with pytest.raises(InvalidInput, match=r"duplicate column\(s\) extra7, lat"):
        read_incidents_csv(path)


def test_an_error_about_a_wide_header_quotes_part_of_it(write) -> None:
    header = [f"extra{n}" for n in range(MAX_CSV_COLUMNS)]
    path = write("wide.csv", ",".join(header) + "\n")
    with pytest.raises(InvalidInput, match="missing column") as caught:
        read_incidents_csv(path)
    assert f"and {MAX_CSV_COLUMNS - 30:,} more" in str(caught.value) and len(str(caught.value)) < 1000
