"""Dates: nights spanning two dates, relative dates, missing years, four languages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from deconflict.extract.dates import find_dates

REPORT_DATE = date(2025, 11, 15)


@pytest.mark.parametrize(
    "text",
    [
        "in the night of 14 November",
        "the night of 13 to 14 November",
        "the night of November 13-14, 2025",
        "in der Nacht zum 14. November",
        "in der Nacht vom 13. auf den 14. November 2025",
        "в ніч на 14 листопада",
        "в ніч з 13 на 14 листопада 2025 року",
        "в ночь на 14 ноября",
        "в ночь с 13 на 14 ноября",
    ],
)
def test_night_phrases_in_four_languages_are_the_night_ending_on_the_14th(text: str) -> None:
    (mention,) = find_dates(text, REPORT_DATE)
    assert (mention.day, mention.precision) == (date(2025, 11, 14), "night-of")
    assert text[mention.start : mention.end] == mention.quote


def test_night_of_14_november_in_kyiv_runs_from_18_00_on_the_13th_to_06_00_on_the_14th() -> None:
    (mention,) = find_dates("the night of 14 November", REPORT_DATE)
    span = mention.to_span(ZoneInfo("Europe/Kyiv"))
    assert span.start == datetime(2025, 11, 13, 16, 0, tzinfo=UTC)
    assert span.end == datetime(2025, 11, 14, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected", "precision"),
    [
        ("Yesterday", date(2025, 11, 14), "day"),
        ("gestern", date(2025, 11, 14), "day"),
        ("вчора", date(2025, 11, 14), "day"),
        ("вчера", date(2025, 11, 14), "day"),
        ("last night", date(2025, 11, 15), "night-of"),
        ("этой ночью", date(2025, 11, 15), "night-of"),
        ("в ніч на вівторок", date(2025, 11, 11), "night-of"),
        ("am Dienstag", date(2025, 11, 11), "day"),
    ],
)
def test_relative_dates_resolve_against_the_report_date(text: str, expected: date, precision: str) -> None:
    (mention,) = find_dates(text, REPORT_DATE)
    assert (mention.day, mention.precision, mention.relative) == (expected, precision, True)


def test_relative_dates_are_left_out_without_a_report_date() -> None:
    assert find_dates("Yesterday drones attacked", None) == []


def test_a_date_without_year_after_the_report_is_last_years() -> None:
    (mention,) = find_dates("28 December", date(2026, 1, 3))
    assert mention.day == date(2025, 12, 28)


def test_a_number_before_a_word_that_starts_like_a_month_is_no_date() -> None:
    assert find_dates("14 травмованих, 3 marines", REPORT_DATE) == []
