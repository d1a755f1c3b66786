from datetime import UTC, datetime

import pytest

from deconflict.errors import InvalidInput
from deconflict.times import parse_instant, parse_time, zone

KYIV = zone("Europe/Kyiv")


def test_night_of_is_the_night_ending_on_the_morning_of_the_date_in_local_time():
    span = parse_time("2025-11-14", "night-of", KYIV)
    assert span.start == datetime(2025, 11, 13, 16, 0, tzinfo=UTC)  # 18:00 Kyiv (UTC+2)
    assert span.end == datetime(2025, 11, 14, 4, 0, tzinfo=UTC)  # 06:00 Kyiv
    assert span.precision == "night-of"


def test_a_date_is_the_whole_local_day():
    span = parse_time("2025-08-28", None, KYIV)
    assert (span.start, span.end) == (
        datetime(2025, 8, 27, 21, tzinfo=UTC),
        datetime(2025, 8, 28, 21, tzinfo=UTC),
    )


def test_month_and_iso_week_become_intervals():
    month = parse_time("2025-02", None, zone("UTC"))
    assert (month.start.day, month.end.month, month.precision) == (1, 3, "month")
    week = parse_time("2025-W46", None, zone("UTC"))
    assert (week.end - week.start).days == 7 and week.start.weekday() == 0


def test_instant_keeps_its_offset_converted_to_utc():
    span = parse_time("2025-11-14T02:10:00+02:00")
    assert span.start == span.end == datetime(2025, 11, 14, 0, 10, tzinfo=UTC)


def test_interval_text_round_trips_with_its_precision():
    span = parse_time("2025-11-14", "night-of", KYIV)
    again = parse_time(span.to_text(), span.precision, KYIV)
    assert again == span


@pytest.mark.parametrize("text", ["2025-13-01", "yesterday", "2025-11-14/2025-11-01", "2025-W60"])
def test_bad_times_are_refused(text):
    with pytest.raises(InvalidInput):
        parse_time(text, None, KYIV)


def test_unknown_precision_is_refused():
    with pytest.raises(InvalidInput, match="precision"):
        parse_time("2025-11-14", "fortnight")


@pytest.mark.parametrize(
    "text", ["2025-11-15/2025-11-14", "2025-11-14T10:00Z/2025-11-14T10:00Z", "2025-11-20/2025-11-14"]
)
def test_reversed_or_empty_intervals_are_refused(text):
    with pytest.raises(InvalidInput, match="ends before it starts"):
        parse_time(text, None, KYIV)


def test_a_one_day_interval_of_dates_is_that_day():
    span = parse_time("2025-11-14/2025-11-14", None, KYIV)
    assert (span.end - span.start).days == 1


def test_a_malformed_interval_quotes_the_whole_value():
    with pytest.raises(InvalidInput, match="14/11/2025"):
        parse_time("14/11/2025", None, KYIV)


@pytest.mark.parametrize(("text", "precision"), [("2025-W46", "day"), ("2025-11", "day"), ("2025-11", "week")])
def test_a_precision_that_contradicts_the_value_is_refused(text, precision):
    with pytest.raises(InvalidInput, match="says"):
        parse_time(text, precision, KYIV)


# -- the range of times accepted on input (issue 12, items 4 and 10) ----------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59Z", "9999-12-31", "9999-12", "9999-W52", "0001-01-01", "0001-01-01T00:00+03:00",
        "1899-12-31T23:59:59Z", "2200-01-02", "1900-01-01/9999-12-31",
    ],
)  # fmt: skip
def test_a_time_outside_1900_to_2200_is_refused_naming_the_range(text):
    with pytest.raises(InvalidInput, match="outside the supported range 1900-01-01 to 2200-01-01"):
        parse_time(text, None, KYIV)


@pytest.mark.parametrize("precision", [None, "day", "night-of", "week", "month"])
def test_times_at_both_ends_of_the_range_are_accepted(precision):
    assert parse_time("1900-01-02", precision).start >= datetime(1900, 1, 1, tzinfo=UTC)
    assert parse_time("2199-12-01", precision).end <= datetime(2200, 1, 1, tzinfo=UTC)


def test_the_range_applies_to_bare_instants_too():
    with pytest.raises(InvalidInput, match="outside the supported range"):
        parse_instant("9999-12-31T23:59:59+14:00")
    assert parse_instant("2199-12-31T23:59:59Z").year == 2199
