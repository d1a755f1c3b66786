"""Dates in report text: absolute, relative to the report's date, and nights spanning two dates.

Month and weekday names come from Babel's CLDR data for English, German, Ukrainian and
Russian (both the genitive "format" and the nominative "stand-alone" forms, so that
"14 листопада", "у листопаді", "14 ноября" and "ноябрь" all resolve). Nights follow the
convention of :mod:`deconflict.times`: "the night of 14 November", "die Nacht zum 14.
November", "в ніч на 14 листопада", "в ночь с 13 на 14 ноября" are all the night of 13 to 14
November, precision ``night-of`` with date 14 November.

Relative phrases are resolved against the report's date: "last night", "bei den nächtlichen
Angriffen", "early Friday", "last Wednesday", "last week" (the calendar week before),
"im vergangenen November", "у листопаді минулого року"; "the same day" takes the day named
before it. A year alone ("back in 2022") is kept with precision ``year``: it can bound a
notification claim but never dates a strike.
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

__all__ = ["LANGUAGES", "DateMention", "find_dates", "month_forms", "resolve_year", "vague_times"]

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
        ``day``, ``night-of``, ``week`` (``day`` is its Monday), ``month`` (``day`` is the
        first of the month) or ``year`` (``day`` is 1 January).
    relative
        Whether it was resolved against the report's date ("yesterday", "last night") or
        against the date named before it ("the same day").
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
        if self.precision == "week":
            year, week, _ = self.day.isocalendar()
            return parse_time(f"{year}-W{week:02d}", "week", local)
        if self.precision == "year":
            january = parse_time(f"{self.day.year}-01", "month", local)
            following = parse_time(f"{self.day.year + 1}-01", "month", local)
            return TimeSpan(january.start, following.start, "interval")
        return parse_time(self.day.isoformat(), self.precision, local)

    @property
    def is_event_date(self) -> bool:
        """Whether a strike can be dated by it (a day, a night, a week or a month; not a year)."""
        return self.precision != "year"


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
    # Genitive forms: "у ніч проти неділі", "в ночь с четверга на пятницу".
    genitive = {
        "неділі": 6, "понеділка": 0, "вівторка": 1, "середи": 2, "четверга": 3, "п'ятниці": 4, "суботи": 5,
        "воскресенья": 6, "понедельника": 0, "вторника": 1, "среды": 2, "пятницы": 4, "субботы": 5,
    }  # fmt: skip
    forms.update(genitive)
    return forms


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    month = rf"(?P<m>(?:{_alternation(list(_month_forms()))})(?:\.|\b))"
    weekday = rf"(?P<w>{_alternation(list(_weekday_forms()))})(?:morgen|abend|nacht|früh|vormittag)?\b"
    # A year may run into a time of day in text copied from a web page: "October 10, 20257:52 AM".
    year = r"(?:,?\s*(?P<y>(?:19|20)\d\d)(?:\b|(?=\d{1,2}[:.]\d\d))(?:\s*(?:року|р\.|года|г\.))?)?"
    day = r"(?P<d>[0-3]?\d)(?:\.|st|nd|rd|th)?"
    first = r"(?:(?:from|vom|von|з|із|с|from the)\s+)?(?P<d1>[0-3]?\d)(?:\.|st|nd|rd|th)?"
    to = r"\s*(?:to|into|-|–|/|auf den|auf|zum|bis zum|на|проти)\s*"
    night = (
        r"(?:(?:the\s+)?nights?\s+(?:of|to|into|before|on|from|leading\s+up\s+to)(?:\s+the)?"
        r"|overnight\s+(?:on|into|to|of)|"
        r"nacht\s+(?:zum|zur|auf\s+den|auf|zu|vom|von)|"
        r"(?:в|у)\s+ніч\s+(?:на|проти|з|із)|(?:в|у)ночі\s+(?:на|проти)?|"
        r"в\s+ночь\s+(?:на|с)|ночью\s+(?:на)?)"
    )
    last = r"(?:last|past|vergangenen|letzten|минулого|минулої|минулий|минулу|прошлый|прошлую|прошлого|прошлой)"
    last_year = (
        r"(?P<ly>last\s+year|(?:des\s+)?vergangenen\s+jahres|(?:des\s+)?letzten\s+jahres|"
        r"минулого\s+року|прошлого\s+года)"
    )
    return [
        ("iso", re.compile(r"\b(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})(?:[t ]\d{2}:\d{2}(?::\d{2})?z?)?\b")),
        ("night", re.compile(rf"{night}\s*(?:{first}{to})?{day}\s+(?:of\s+)?{month}{year}")),
        ("night", re.compile(rf"{night}\s*{month}\s+(?:(?P<d1>[0-3]?\d){to})?{day}{year}")),
        ("night", re.compile(
            rf"{night}\s*(?:{first}{to})?(?P<d>[0-3]?\d)\.(?P<mo>[01]?\d)\.(?P<y>\d{{4}})?")),
        ("night-weekday", re.compile(rf"{night}\s*(?:den\s+|the\s+)?{weekday}")),
        ("night-weekday", re.compile(
            rf"\b(?:early\s+(?:on\s+)?|in\s+the\s+early\s+hours\s+of\s+|am\s+frühen\s+|in\s+der\s+nacht\s+zum\s+){weekday}")),
        ("dmy", re.compile(rf"\b{day}\s*(?:of\s+)?{month}{year}")),
        ("mdy", re.compile(rf"\b{month}\s+{day}(?!\d){year}")),
        ("numeric", re.compile(r"\b(?P<d>[0-3]?\d)\.(?P<mo>[01]?\d)\.(?P<y>\d{4})\b")),
        ("month", re.compile(rf"\b(?:in|im|у|в)\s+{month}\s+(?P<y>(?:19|20)\d\d)")),
        ("rel-month", re.compile(
            rf"\b(?:(?:in|im|у|в)\s+(?:the\s+)?(?P<last>{last}\s+)?|(?P<last2>last\s+)){month}"
            rf"(?:\s+{last_year})?")),
        ("last-weekday", re.compile(rf"\b(?:(?:в|у|am)\s+)?{last}\s+{weekday}")),
        ("weekday", re.compile(rf"\b(?:on|am|у|в|во)\s+{weekday}")),
        ("weekday", re.compile(r"\b(?P<w>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b")),
        ("rel-week", re.compile(
            r"\b(?:last\s+week|(?:in\s+der\s+)?vergangenen\s+woche|letzte\s+woche|минулого\s+тижня|"
            r"на\s+минулому\s+тижні|на\s+прошлой\s+неделе)\b")),
        ("year", re.compile(
            r"\b(?:back\s+in|in|im\s+jahr(?:e)?|у|в)\s+(?P<y>(?:19|20)\d\d)(?!\d)(?:\s*(?:році|року|р\.|году|г\.))?")),
        ("same-day", re.compile(
            r"\b(?:(?:on\s+)?the\s+same\s+day|later\s+that\s+day|(?:noch\s+)?am\s+(?:selben|gleichen)\s+tag|"
            r"того\s+ж\s+дня|в\s+т(?:от|ой)\s+же\s+день)\b")),
        ("rel-night", re.compile(
            r"\b(?:last\s+night|overnight|tonight|during\s+the\s+night|(?:heute|vergangene|letzte|in\s+der)\s+nacht|"
            r"nächtlich\w*|(?:цієї|минулої|сьогодні|минулої)\s+ночі|вночі|уночі|нічн\w+|"
            r"(?:этой|прошлой|сегодня)\s+ночью|ночью|ночн\w+)\b")),
        ("rel-day", re.compile(
            r"\b(?:the\s+day\s+before\s+yesterday|yesterday|today|this\s+morning|vorgestern|"
            r"gestern|heute|позавчора|позавчера|вчора|вчера|сьогодні|сегодня)\b")),
    ]  # fmt: skip


_REL_DAYS = {
    "the day before yesterday": -2, "vorgestern": -2, "позавчора": -2, "позавчера": -2,
    "yesterday": -1, "gestern": -1, "вчора": -1, "вчера": -1,
}  # fmt: skip


# Times too vague to date a strike, which mark a sentence as being about another time
# ("In the summer, the embassy was damaged"); "seit dem Sommer" (since) does not.
_VAGUE = re.compile(
    r"(?<!seit )(?<!since )(?<!з )(?<!с )\b(?:(?:in|im|during)\s+(?:the\s+)?(?:(?:last|past|vergangenen|letzten)\s+)?"
    r"(?:summer|spring|autumn|fall|winter|sommer|frühjahr|frühling|herbst)|last\s+(?:summer|spring|autumn|winter)|"
    r"влітку|улітку|навесні|восени|взимку|узимку|минулого\s+(?:літа|року)|летом|весной|осенью|зимой|"
    r"прошлым\s+летом|в\s+прошлом\s+году|last\s+year|im\s+vergangenen\s+jahr|im\s+letzten\s+jahr|"
    r"earlier\s+this\s+year|earlier\s+in\s+the\s+war|at\s+the\s+start\s+of\s+the\s+war|"
    r"zu\s+beginn\s+des\s+krieges|на\s+початку\s+війни|в\s+начале\s+войны|in\s+(?:19|20)\d\d|"
    r"im\s+jahr\s+(?:19|20)\d\d|(?:у|в)\s+(?:19|20)\d\d\s+(?:році|году))\b"
)


_JOINED = re.compile(r"\s*(?:,|and|und|та|і|й|и|or|oder|або|или)\s*(?:(?:again\s+)?in\s+the\s+night\s+of\s+)?")


def vague_times(text: str) -> list[tuple[int, int]]:
    """Spans of vague past times ("in the summer", "минулого року") in ``text``."""
    return [m.span() for m in _VAGUE.finditer(fold(text))]


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
    if kind == "year":
        return date(int(groups["y"]), 1, 1), "year", False
    if report_date is None:
        return None
    if kind == "rel-month":
        number = _month_number(groups["m"])
        if number is None:
            return None
        year = report_date.year - 1 if groups.get("ly") else report_date.year
        strictly_before = bool(groups.get("last") or groups.get("last2"))
        if not groups.get("ly") and (number > report_date.month or (strictly_before and number == report_date.month)):
            year -= 1
        return date(year, number, 1), "month", True
    if kind == "rel-week":
        monday = report_date - timedelta(days=report_date.weekday() + 7)
        return monday, "week", True
    if kind == "last-weekday":
        weekday = _weekday_forms()[groups["w"]]
        delta = (report_date.weekday() - weekday) % 7 or 7
        return report_date - timedelta(days=delta), "day", True
    if kind == "same-day":
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
    anaphoric: list[tuple[int, int]] = []
    for kind, pattern in _patterns():
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(start < b and a < end for a, b in taken):
                continue
            if kind == "same-day":
                anaphoric.append((start, end))
                taken.append((start, end))
                continue
            resolved = _mention(kind, match, report_date)
            if resolved is None:
                continue
            day, precision, relative = resolved
            taken.append((start, end))
            found.append(DateMention(start, end, text[start:end], day, precision, relative))
    found.sort(key=lambda m: m.start)
    for i in range(1, len(found)):
        # "in the nights of 14 November and 27 December": the second is a night too.
        night, mention = found[i - 1], found[i]
        joined = _JOINED.fullmatch(folded[night.end : mention.start])
        if night.precision == "night-of" and mention.precision == "day" and not mention.relative and joined:
            found[i] = DateMention(mention.start, mention.end, mention.quote, mention.day, "night-of")
    for start, end in anaphoric:
        # "The ministry wrote on X the same day": the day of the last day or night named before.
        before = [m for m in found if m.end <= start and m.precision in ("day", "night-of")]
        if before:
            found.append(DateMention(start, end, text[start:end], before[-1].day, "day", True))
    return sorted(found, key=lambda m: m.start)
