"""Times with their precision, stored as intervals.

A strike report rarely gives an instant: "14 November", "the night of
14 November", "November 2025". Every time is therefore kept as a half-open
interval ``[start, end)`` of timezone-aware UTC datetimes plus the precision it
was given with. Dates without a time are read in a *local* timezone (the
database's ``timezone`` setting, UTC unless ``deconflict init --timezone``
says otherwise), because "the night of 14 November" in Kyiv is not the same
interval as in UTC.

Precisions
----------
instant    a date-time; the interval is ``[t, t]``
day        a calendar date; ``[00:00, 24:00)`` local
night-of   the night that ends on the morning of the given date
           (the convention of strike reports): ``[D-1 18:00, D 06:00)`` local
week       an ISO week ``2025-W46`` or the 7 days starting at a date
month      ``2025-11``: the calendar month, local
interval   ``start/end`` (ISO 8601 interval with two explicit ends)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deconflict.errors import InvalidInput

__all__ = [
    "EARLIEST",
    "LATEST",
    "PRECISIONS",
    "TimeSpan",
    "format_instant",
    "format_span",
    "format_stored",
    "format_utc",
    "in_range",
    "parse_instant",
    "parse_time",
    "zone",
]

PRECISIONS: tuple[str, ...] = ("instant", "day", "night-of", "week", "month", "interval")

NIGHT_START = time(18, 0)
NIGHT_END = time(6, 0)

#: The range of times accepted on input, ``[EARLIEST, LATEST]`` (UTC). Records older than 1900
#: have no business in a notification log, and a bound far from ``datetime``'s own limits (years
#: 1 and 9999) leaves every renderer room to widen an axis or shift to a timezone.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
RANGE_TEXT = "1900-01-01 to 2200-01-01 (UTC)"

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, slots=True)
class TimeSpan:
    """A time known to lie in ``[start, end)``; ``start == end`` for an instant.

    Attributes
    ----------
    start, end
        Timezone-aware UTC datetimes.
    precision
        One of :data:`PRECISIONS`.
    """

    start: datetime
    end: datetime
    precision: str

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidInput("times must be timezone-aware")
        if self.end < self.start:
            raise InvalidInput(f"interval ends ({format_utc(self.end)}) before it starts ({format_utc(self.start)})")
        if self.precision not in PRECISIONS:
            raise InvalidInput(f"unknown time precision {self.precision!r}; expected one of {', '.join(PRECISIONS)}")

    @property
    def midpoint(self) -> datetime:
        """The middle of the interval (the instant itself for an instant)."""
        return self.start + (self.end - self.start) / 2

    def to_text(self) -> str:
        """ISO 8601 text that :func:`parse_time` reads back to the same span."""
        return _span_text(self.start, self.end, self.precision)


@lru_cache(maxsize=65_536)
def _span_text(start: datetime, end: datetime, precision: str) -> str:
    if precision == "instant":
        return format_utc(start)
    return f"{format_utc(start)}/{format_utc(end)}"


def zone(name: str) -> ZoneInfo:
    """Return the IANA timezone ``name``, raising :class:`InvalidInput` when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown timezone {name!r} (use an IANA name such as Europe/Kyiv)") from exc


@lru_cache(maxsize=65_536)
def format_utc(moment: datetime) -> str:
    """Format a datetime as ISO 8601 UTC with a ``Z`` suffix, to the second (cached: imports repeat times)."""
    text = moment.astimezone(UTC).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


def now_utc_text() -> str:
    """The current time as every record stores it: :func:`format_utc` of now."""
    return format_utc(datetime.now(UTC))


def parse_instant(text: str, local: ZoneInfo | None = None) -> datetime:
    """Parse an ISO 8601 date-time; a value without offset is read in ``local`` (UTC if None).

    Raises
    ------
    InvalidInput
        When the text is not a date-time, or it lies outside ``[EARLIEST, LATEST]``.
    """
    raw = text.strip()
    try:
        moment = _instant(raw, local)
    except OverflowError:
        raise _out_of_range(raw) from None
    if not EARLIEST <= moment <= LATEST:
        raise _out_of_range(raw)
    return moment


def _instant(raw: str, local: ZoneInfo | None) -> datetime:
    """:func:`parse_instant` without the range check (``parse_time`` checks the whole span)."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput(f"not an ISO 8601 date-time: {raw!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local or UTC)
    return moment.astimezone(UTC)


def _out_of_range(raw: str) -> InvalidInput:
    return InvalidInput(f"time {raw!r} is outside the supported range {RANGE_TEXT}")


def in_range(span: TimeSpan, text: str | None = None) -> TimeSpan:
    """Return ``span`` when it lies within ``[EARLIEST, LATEST]``, else raise :class:`InvalidInput`.

    Every time given as input passes here (:func:`parse_time` does it), so no stored record
    lies outside the range that the renderers (axes, local timezones) can show.
    """
    if not (span.start >= EARLIEST and span.end <= LATEST):
        raise _out_of_range(text if text is not None else span.to_text())
    return span


def _local_midnight(day: date, local: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=local).astimezone(UTC)


def _parse_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput(f"not an ISO 8601 date: {raw!r}") from exc


def _is_date_only(raw: str) -> bool:
    return len(raw) == 10 and raw[4] == "-" and raw[7] == "-"


@lru_cache(maxsize=65_536)
def parse_time(text: str, precision: str | None = None, local: ZoneInfo | None = None) -> TimeSpan:
    """Parse a report's time into a :class:`TimeSpan`.

    Parameters
    ----------
    text
        ISO 8601 date (``2025-11-14``), date-time (``2025-11-14T02:10Z``), month
        (``2025-11``), ISO week (``2025-W46``) or interval (``start/end``).
    precision
        One of :data:`PRECISIONS`, or None to infer it from the text.
    local
        Timezone in which dates without a time are read; UTC when None.

    Raises
    ------
    InvalidInput
        When the text or the precision cannot be read, or they contradict each other, or the
        time lies outside ``[EARLIEST, LATEST]`` (1900-01-01 to 2200-01-01).
    """
    try:
        return in_range(_parse_time(text, precision, local), (text or "").strip())
    except (OverflowError, ValueError):  # a date at datetime's limits, widened to a day, week or month
        raise _out_of_range((text or "").strip()) from None


def _parse_time(text: str, precision: str | None, local: ZoneInfo | None) -> TimeSpan:
    tz = local or ZoneInfo("UTC")
    raw = (text or "").strip()
    prec = (precision or "").strip().lower().replace("_", "-") or None
    if prec == "night":
        prec = "night-of"
    if not raw:
        raise InvalidInput("time is empty")
    if prec is not None and prec not in PRECISIONS:
        raise InvalidInput(f"unknown time precision {prec!r}; expected one of {', '.join(PRECISIONS)}")

    if "/" in raw:
        first, _, second = raw.partition("/")
        try:
            start = _local_midnight(_parse_date(first), tz) if _is_date_only(first) else _instant(first.strip(), tz)
            if _is_date_only(second):
                end = _local_midnight(_parse_date(second), tz) + timedelta(days=1)
            else:
                end = _instant(second.strip(), tz)
        except InvalidInput:
            raise InvalidInput(f"not an ISO 8601 interval start/end (e.g. 2025-01-02/2025-08-27): {raw!r}") from None
        last_day = _parse_date(second) if _is_date_only(second) else None
        if end <= start or (last_day is not None and _is_date_only(first) and last_day < _parse_date(first)):
            raise InvalidInput(f"interval {raw!r} ends before it starts (or has no length)")
        return TimeSpan(start, end, "interval" if prec in (None, "instant") else prec)

    if prec not in (None, "month") and _MONTH.match(raw):
        raise InvalidInput(f"{raw!r} is a month but time_precision says {prec!r}")
    if prec not in (None, "week") and _WEEK.match(raw):
        raise InvalidInput(f"{raw!r} is an ISO week but time_precision says {prec!r}")
    if match := _MONTH.match(raw):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise InvalidInput(f"not a month: {raw!r}")
        first_day = date(year, month, 1)
        next_first = date(year + month // 12, month % 12 + 1, 1)
        return TimeSpan(_local_midnight(first_day, tz), _local_midnight(next_first, tz), "month")

    if match := _WEEK.match(raw):
        try:
            monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError as exc:
            raise InvalidInput(f"not an ISO week: {raw!r}") from exc
        start = _local_midnight(monday, tz)
        return TimeSpan(start, _local_midnight(monday + timedelta(days=7), tz), "week")

    if _is_date_only(raw):
        day = _parse_date(raw)
        prec = prec or "day"
        if prec == "instant":
            raise InvalidInput(f"precision 'instant' needs a date-time, got the date {raw!r}")
        if prec == "night-of":
            start = datetime.combine(day - timedelta(days=1), NIGHT_START, tzinfo=tz)
            end = datetime.combine(day, NIGHT_END, tzinfo=tz)
            return TimeSpan(start.astimezone(UTC), end.astimezone(UTC), "night-of")
        if prec == "week":
            start = _local_midnight(day, tz)
            return TimeSpan(start, _local_midnight(day + timedelta(days=7), tz), "week")
        if prec == "month":
            return _parse_time(raw[:7], "month", tz)
        if prec == "interval":
            raise InvalidInput(f"precision 'interval' needs 'start/end', got {raw!r}")
        return TimeSpan(_local_midnight(day, tz), _local_midnight(day + timedelta(days=1), tz), "day")

    moment = _instant(raw, tz)
    if prec in (None, "instant"):
        return TimeSpan(moment, moment, "instant")
    # A date-time given with a coarser precision: widen it to that precision around its local date.
    local_day = moment.astimezone(tz).date().isoformat()
    if prec == "night-of":
        local_moment = moment.astimezone(tz)
        morning = local_moment.date() + (timedelta(days=1) if local_moment.time() >= NIGHT_START else timedelta(0))
        return _parse_time(morning.isoformat(), "night-of", tz)
    return _parse_time(local_day, prec, tz)


# -- showing times ----------------------------------------------------------------------------------
def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    """``moment`` in ``tz``; in UTC when ``tz`` would carry it past year 1 or 9999.

    Input is bounded (:data:`EARLIEST`, :data:`LATEST`), but a database written before the bound
    may hold such a time, and it must still be shown (with its offset, so nothing is hidden).
    """
    try:
        return moment.astimezone(tz)
    except OverflowError:
        return moment.astimezone(UTC)


def _is_midnight(moment: datetime) -> bool:
    return moment.hour == moment.minute == moment.second == moment.microsecond == 0


def _day(moment: date, style: str) -> str:
    return moment.isoformat() if style == "iso" else f"{moment:%d %b %Y}"


def _offset(moment: datetime) -> str:
    text = moment.strftime("%z")
    return "UTC" if text in ("+0000", "") and moment.utcoffset() == timedelta(0) else f"{text[:3]}:{text[3:]}"


def format_instant(moment: datetime, tz: ZoneInfo, style: str = "iso") -> str:
    """An instant in ``tz`` with its offset: ``2025-10-01 15:00 +03:00`` (``text``: ``01 Oct 2025 15:00 UTC+03:00``)."""
    local = _local(moment, tz)
    clock = f"{local:%H:%M}" + (f":{local:%S}" if local.second else "")
    offset = _offset(local)
    if style == "iso":
        return f"{local.date().isoformat()} {clock} {offset}"
    return f"{local:%d %b %Y} {clock} " + (offset if offset == "UTC" else f"UTC{offset}")


def format_stored(text: str | None, tz: ZoneInfo | str, style: str = "iso", *, empty: str = "") -> str:
    """A time kept as stored text (UTC ``...Z``, or ``start/end``), shown as :func:`format_span` shows it.

    For printers that hold a record's JSON rather than its :class:`TimeSpan` (the CLI prints the
    API's answer): an instant shows as a local date and time with its offset, an interval as its
    two local ends (whole local days as days). ``empty`` is shown for ``None`` or ``""``.
    """
    if not text:
        return empty
    start, _, end = text.partition("/")
    first = parse_instant(start)
    span = TimeSpan(first, parse_instant(end), "interval") if end else TimeSpan(first, first, "instant")
    return format_span(span, tz, style)


def format_span(span: TimeSpan, tz: ZoneInfo | str, style: str = "iso") -> str:
    """A time as it was recorded, in the database's timezone ``tz``: THE way every door shows a time.

    - ``day``: that local day (``2025-10-05``), never the UTC start of it;
    - ``instant``: local date and time with the offset (``2025-10-01 15:00 +03:00``);
    - ``night-of``: ``night of 2025-11-13/14`` (the night ending on the morning of the date);
    - ``week``: ``week 2025-W46`` (an ISO week) or ``week from 2025-11-12``;
    - ``month``: ``2025-11``;
    - ``interval``: its two local ends, ``2024-01-02 to 2025-08-27`` for whole days (the last
      day shown, not the exclusive midnight after it), else two local instants.

    Parameters
    ----------
    span
        The time, as stored (UTC).
    tz
        The database's timezone (``db.timezone``) or its IANA name.
    style
        ``iso`` (tables, the API, the UI: ISO 8601 dates) or ``text`` (reports: ``05 Oct 2025``,
        ``between 02 Jan 2024 and 27 Aug 2025``, ``November 2025``).
    """
    zone_info = zone(tz) if isinstance(tz, str) else tz
    if style not in ("iso", "text"):
        raise InvalidInput(f"unknown time style {style!r}; expected iso or text")
    start, end = _local(span.start, zone_info), _local(span.end, zone_info)
    precision = span.precision
    whole_days = _is_midnight(start) and _is_midnight(end) and end > start
    last_day = (end - timedelta(days=1)).date() if whole_days else end.date()
    if precision == "instant" or span.start == span.end:
        return format_instant(span.start, zone_info, style)
    if precision == "day" and whole_days and last_day == start.date():
        return _day(start.date(), style)
    if precision == "night-of" and start.time() == NIGHT_START and end.time() == NIGHT_END:
        if style == "iso":
            return f"night of {start.date().isoformat()}/{end:%d}"
        return f"night of {start:%d}/{end:%d %b %Y}"
    if precision == "month" and whole_days and start.day == 1 and last_day.month == start.month:
        return f"{start:%Y-%m}" if style == "iso" else f"{start:%B %Y}"
    if precision == "week" and whole_days and (last_day - start.date()).days == 6:
        year, week, weekday = start.date().isocalendar()
        if weekday == 1:
            return f"week {year}-W{week:02d}" if style == "iso" else f"week {week} of {year} (from {start:%d %b %Y})"
        return f"week from {_day(start.date(), style)}"
    if whole_days:
        first, last = _day(start.date(), style), _day(last_day, style)
        if first == last:
            return first
        return f"{first} to {last}" if style == "iso" else f"between {first} and {last}"
    first, last = format_instant(span.start, zone_info, style), format_instant(span.end, zone_info, style)
    return f"{first} to {last}" if style == "iso" else f"between {first} and {last}"
