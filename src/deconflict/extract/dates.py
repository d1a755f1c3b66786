"""Dates in report text: absolute, relative to the report's date, and nights spanning two dates.

Month and weekday names come from Babel's CLDR data for English, German, Ukrainian and
Russian (both the genitive "format" and the nominative "stand-alone" forms, so that
"14 листопада", "у листопаді", "14 ноября" and "ноябрь" all resolve). Nights follow the
convention of :mod:`deconflict.times`: "the night of 14 November", "die Nacht zum 14.
November", "в ніч на 14 листопада", "в ночь с 13 на 14 ноября" are all the night of 13 to 14
November, precision ``night-of`` with date 14 November.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale

from deconflict.extract._text import fold
from deconflict.times import TimeSpan, parse_time

__all__ = ["LANGUAGES", "DateMention", "find_dates", "month_forms", "resolve_year"]

#: Languages whose month and weekday names are recognised.
LANGUAGES: tuple[str, ...] = ("en", "de", "uk", "ru")


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date found in the text.

    Attributes
    ----------
    start, end, quote
        Character offsets in the text and the words themselves.
    day
        The date meant (for ``night-of``: the morning the night ends on).
    precision
        ``day``, ``night-of`` or ``month`` (``day`` is then the first of the month).
    relative
        Whether it was resolved against the report's date ("yesterday", "last night").
    """

    start: int
    end: int
    quote: str
    day: date
    precision: str
    relative: bool = False

    def to_span(self, local: ZoneInfo | None = None) -> TimeSpan:
        """The :class:`~deconflict.times.TimeSpan` in the timezone ``local`` (UTC when None)."""
        if self.precision == "month":
            return parse_time(self.day.isoformat()[:7], "month", local)
        return parse_time(self.day.isoformat(), self.precision, local)


@lru_cache(maxsize=1)
def _month_forms() -> dict[str, int]:
    """Every written form of a month name: wide and abbreviated, genitive and locative."""
    forms: dict[str, int] = {}
    for lang in LANGUAGES:
        locale = Locale(lang)
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in locale.months[context][width].items():
                    word = fold(name).rstrip(".")
                    forms[word] = number
                    if width == "wide" and context == "format" and lang in ("uk", "ru"):
                        # Locative "у листопаді", "в ноябре"; Ukrainian "лютого" → "лютому".
                        if word.endswith("ого"):
                            forms[word[:-3] + "ому"] = number
                        elif word[-1:] in "ая":
                            forms[word[:-1] + ("і" if lang == "uk" else "е")] = number
    forms.update({"sept": 9, "marz": 3, "mai": 5})
    return forms


@lru_cache(maxsize=1)
def month_forms() -> frozenset[str]:
    """Every folded month-name form recognised (so that places can leave them alone)."""
    return frozenset(_month_forms())


@lru_cache(maxsize=1)
def _weekday_forms() -> dict[str, int]:
    forms: dict[str, int] = {}
    for lang in LANGUAGES:
        locale = Locale(lang)
        for context in ("format", "stand-alone"):
            for number, name in locale.days[context]["wide"].items():
                word = fold(name)
                forms[word] = number
                if word.endswith("а"):
                    forms[word[:-1] + "у"] = number
                if word.endswith("я"):
                    forms[word[:-1] + "ю"] = number
    return forms


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    month = rf"(?P<m>(?:{_alternation(list(_month_forms()))})(?:\.|\b))"
    weekday = rf"(?P<w>{_alternation(list(_weekday_forms()))})\b"
    year = r"(?:,?\s*(?P<y>(?:19|20)\d\d)\b(?:\s*(?:року|р\.|года|г\.))?)?"
    day = r"(?P<d>[0-3]?\d)(?:\.|st|nd|rd|th)?"
    first = r"(?:(?:from|vom|von|з|із|с|from the)\s+)?(?P<d1>[0-3]?\d)(?:\.|st|nd|rd|th)?"
    to = r"\s*(?:to|into|-|–|/|auf den|auf|zum|bis zum|на|проти)\s*"
    night = (
        r"(?:(?:the\s+)?night\s+(?:of|to|into|before|on|from|leading\s+up\s+to)(?:\s+the)?"
        r"|overnight\s+(?:on|into|to|of)|"
        r"nacht\s+(?:zum|zur|auf\s+den|auf|zu|vom|von)|"
        r"(?:в|у)\s+ніч\s+(?:на|проти|з|із)|(?:в|у)ночі\s+(?:на|проти)?|"
        r"в\s+ночь\s+(?:на|с)|ночью\s+(?:на)?)"
    )
    return [
        ("iso", re.compile(r"\b(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})(?:[t ]\d{2}:\d{2}(?::\d{2})?z?)?\b")),
        ("night", re.compile(rf"{night}\s*(?:{first}{to})?{day}\s+(?:of\s+)?{month}{year}")),
        ("night", re.compile(rf"{night}\s*{month}\s+(?:(?P<d1>[0-3]?\d){to})?{day}{year}")),
        ("night", re.compile(
            rf"{night}\s*(?:{first}{to})?(?P<d>[0-3]?\d)\.(?P<mo>[01]?\d)\.(?P<y>\d{{4}})?")),
        ("night-weekday", re.compile(rf"{night}\s*(?:den\s+|the\s+)?{weekday}")),
        ("dmy", re.compile(rf"\b{day}\s*(?:of\s+)?{month}{year}")),
        ("mdy", re.compile(rf"\b{month}\s+{day}(?!\d){year}")),
        ("numeric", re.compile(r"\b(?P<d>[0-3]?\d)\.(?P<mo>[01]?\d)\.(?P<y>\d{4})\b")),
        ("month", re.compile(rf"\b(?:in|im|у|в)\s+{month}\s+(?P<y>(?:19|20)\d\d)")),
        ("weekday", re.compile(rf"\b(?:on|am|у|в|во)\s+{weekday}")),
        ("rel-night", re.compile(
            r"\b(?:last\s+night|overnight|tonight|(?:heute|vergangene|letzte|in\s+der)\s+nacht|"
            r"(?:цієї|минулої|сьогодні|минулої)\s+ночі|вночі|уночі|"
            r"(?:этой|прошлой|сегодня)\s+ночью|ночью)\b")),
        ("rel-day", re.compile(
            r"\b(?:the\s+day\s+before\s+yesterday|yesterday|today|this\s+morning|vorgestern|"
            r"gestern|heute|позавчора|позавчера|вчора|вчера|сьогодні|сегодня)\b")),
    ]  # fmt: skip


_REL_DAYS = {
    "the day before yesterday": -2, "vorgestern": -2, "позавчора": -2, "позавчера": -2,
    "yesterday": -1, "gestern": -1, "вчора": -1, "вчера": -1,
}  # fmt: skip


def _month_number(word: str) -> int | None:
    return _month_forms().get(fold(word).rstrip("."))


def resolve_year(month: int, day: int, year: int | None, report_date: date | None) -> date | None:
    """The date ``day``/``month``, taking a missing year from ``report_date``.

    A date without a year that would lie more than two days after the report is read as
    last year's ("on 28 December", in a report of 3 January). Returns None when the date
    is impossible or needs a year and there is no report date.
    """
    if year is None:
        if report_date is None:
            return None
        year = report_date.year
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate > report_date + timedelta(days=2):
            year -= 1
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _last_weekday(report_date: date, weekday: int, *, night: bool) -> date:
    # "on Tuesday" in a report of Tuesday is that day; "the night to Tuesday" ends that morning.
    delta = (report_date.weekday() - weekday) % 7
    del night
    return report_date - timedelta(days=delta)


def _mention(kind: str, match: re.Match[str], report_date: date | None) -> tuple[date, str, bool] | None:
    groups = match.groupdict()
    if kind in ("iso", "numeric") or (kind == "night" and groups.get("mo")):
        year = int(groups["y"]) if groups.get("y") else None
        day = resolve_year(int(groups["mo"]), int(groups["d"]), year, report_date)
        return None if day is None else (day, "night-of" if kind == "night" else "day", False)
    if kind in ("night", "dmy", "mdy"):
        number = _month_number(groups["m"])
        if number is None:
            return None
        year = int(groups["y"]) if groups.get("y") else None
        day = resolve_year(number, int(groups["d"]), year, report_date)
        if day is None:
            return None
        if kind == "night" and groups.get("d1") and int(groups["d1"]) == day.day - 1:
            return day, "night-of", False
        return day, "night-of" if kind == "night" else "day", False
    if kind == "month":
        number = _month_number(groups["m"])
        return None if number is None else (date(int(groups["y"]), number, 1), "month", False)
    if report_date is None:
        return None
    if kind in ("weekday", "night-weekday"):
        weekday = _weekday_forms()[groups["w"]]
        night = kind == "night-weekday"
        return _last_weekday(report_date, weekday, night=night), "night-of" if night else "day", True
    if kind == "rel-night":
        return report_date, "night-of", True
    phrase = re.sub(r"\s+", " ", match.group())
    return report_date + timedelta(days=_REL_DAYS.get(phrase, 0)), "day", True


def find_dates(text: str, report_date: date | None = None) -> list[DateMention]:
    """All dates in ``text``, earliest in the text first, without overlaps.

    Parameters
    ----------
    text
        The report's plain text.
    report_date
        The date the report was published; needed for relative dates and dates without
        a year. Without it such mentions are left out.
    """
    folded = fold(text)
    taken: list[tuple[int, int]] = []
    found: list[DateMention] = []
    for kind, pattern in _patterns():
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(start < b and a < end for a, b in taken):
                continue
            resolved = _mention(kind, match, report_date)
            if resolved is None:
                continue
            day, precision, relative = resolved
            taken.append((start, end))
            found.append(DateMention(start, end, text[start:end], day, precision, relative))
    return sorted(found, key=lambda m: m.start)
