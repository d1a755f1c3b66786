"""The page around a report: its publication date and the furniture that is no part of the story.

Text pasted or saved from a browser carries more than the story: the page's address, a
dateline ("KYIV, Oct 10 (Reuters) -", "МОСКВА, 14 ноября. /ТАСС/."), time stamps and
bylines ("Updated 3:05 PM GMT+2, December 20, 2024", "14 Ноябрь 2025 11:20 (UTC +04:00)"),
navigation, cookie banners, "read also" links and copyright lines. :func:`find_furniture`
finds those spans so that extraction leaves them out (a dateline's date is no strike date,
its city no strike's city, a related headline no strike), and :func:`publication_date` reads
the date the report was published from them:

1. a labelled line (``Date:``, ``Published:``, ``Datum:``, ``Дата:``, ...);
2. the date in the page's address (``/2025/07/4/``, ``ria.ru/20241220/``, ``2025-11-14``);
3. a time stamp or byline line with a full date, wherever it is on the page;
4. the dateline, its year taken from the latest year the text names;
5. else the first full date of the first lines.

The markers of agencies and page furniture are hand-written lists: no library knows the
house styles of news agencies, and the lists are short.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from deconflict.extract._text import fold
from deconflict.extract.dates import find_dates, month_forms

__all__ = ["Furniture", "find_furniture", "mask", "publication_date"]

_LABELLED = re.compile(
    r"^\s*(?:date|published|posted|datum|veröffentlicht|дата|опубліковано|опубликовано)\s*:\s*(.+)$",
    re.IGNORECASE | re.MULTILINE,
)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_URL_DATES = (
    re.compile(r"/(?P<y>20\d\d)/(?P<m>[01]?\d)/(?P<d>[0-3]?\d)(?=[/._-]|$)"),
    re.compile(r"(?<!\d)(?P<y>20\d\d)(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)"),
    re.compile(r"(?<!\d)(?P<y>20\d\d)-(?P<m>[01]\d)-(?P<d>[0-3]\d)(?!\d)"),
)
# Agency marks that close a dateline: "(Reuters) -", "/ТАСС/.", "Trend:", "— РИА Новости.".
_AGENCY = (
    r"\((?:reuters|ap|afp|dpa|kna|epd|apa|ansa|efe|xinhua|bloomberg|upi)\)|/?тасс/?|/trend/|trend:|"
    r"риа\s+новости|укрінформ|укринформ|уніан|униан|інтерфакс-україна|интерфакс(?:-азербайджан)?|"
    r"interfax(?:\.az)?|report\.az|апа|азертадж|azertac"
)
_DATELINE = re.compile(
    rf"^[^\S\n]*(?P<head>[^\n]{{0,60}}?)(?<!\w)(?:{_AGENCY})(?!\w)[^\S\n]*[-–—:.•]*[^\S\n]*",
    re.IGNORECASE | re.MULTILINE,
)
# A dateline in capitals: "KYIV —", "KHARKIV, Ukraine —", "MUNICH, Feb 14 (Agency) -" (any agency).
_CAPS_DATELINE = re.compile(
    r"^[^\S\n]*(?P<head>[A-ZА-ЯІЇЄҐ]{3,}(?:[ /-][A-ZА-ЯІЇЄҐ]{3,})*(?:,[^—–\n(]{1,30})?)"
    r"(?:\s*\([A-ZА-Я][\w.&-]{1,24}\)\s+[-—–]|\s+[—–])\s",
    re.MULTILINE,
)
_CLOCK = re.compile(
    r"\b\d{1,2}[:.]\d\d(?:\s*(?:am|pm|uhr|h))?\b|\b(?:gmt|utc|cet|cest|eet|eest|bst|msk)\b[+−-]?\d*", re.IGNORECASE
)
_STAMP_WORDS = re.compile(
    r"\b(?:updated|published|posted|last\s+updated|stand|aktualisiert|veröffentlicht|оновлено|"
    r"опубліковано|обновлено|опубликовано|ago|hours?|minutes?|uhr|by|von)\b",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^\s*(?:by|von|від|автор|автори|авторы)\b[^\n]{0,80}$", re.IGNORECASE | re.MULTILINE)
_NAVIGATION = re.compile(
    r"^\s*(?:skip\s+to|menu\b|search\b|sign\s+in|log\s+in|subscribe|accept\s+cookies|manage\s+preferences|"
    r"cookie|share\b|follow\s+us|most\s+read|related\b|read\s+(?:more|also)|more\s+on\s+this|advertisement|"
    r"copyright|©|all\s+rights\s+reserved|our\s+standards|\((?:reporting|writing|editing|additional\s+reporting|"
    r"adds|updates)\b|mehr\s+zum\s+thema|meistgelesen|teilen\b|drucken\b|impressum|datenschutz|"
    r"wir\s+verwenden\s+cookies|lesen\s+sie\s+auch|alle\s+rechte\s+vorbehalten|anmelden|startseite|"
    r"читайте\s+(?:також|также)|новини\s+партнерів|новости\s+партн[её]ров|підписуйтесь|подписывайтесь|"
    r"головне\b|главная\b|все\s+права\s+защищены|реклама\b|поділитися|поделиться|войти\b|"
    r"[^\n]*\bdpa-afx\b)[^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
# After these headings come lists of other articles' headlines.
_LIST_HEADING = re.compile(
    r"^\s*(?:related|most\s+read|read\s+more|more\s+on\s+this|mehr\s+zum\s+thema|meistgelesen|"
    r"lesen\s+sie\s+auch|читайте\s+(?:також|также)|новини\s+партнерів|новости\s+партн[её]ров)\s*:?\s*$",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"[|•·>]")


@dataclass(frozen=True, slots=True)
class Furniture:
    """A span of the page that is not part of the story (``url``, ``stamp``, ``byline``,
    ``dateline``, ``navigation``), with the date it states, if any."""

    start: int
    end: int
    kind: str
    day: date | None = None


def _lines(text: str) -> list[tuple[int, int]]:
    spans, cursor = [], 0
    for line in text.split("\n"):
        spans.append((cursor, cursor + len(line)))
        cursor += len(line) + 1
    return spans


def _url_date(url: str) -> date | None:
    for pattern in _URL_DATES:
        if match := pattern.search(url):
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                continue
    return None


def _full_dates(line: str) -> list[date]:
    """Dates of ``line`` with day, month and year written out."""
    found = []
    for mention in find_dates(line):
        if mention.precision == "day" and not mention.relative and re.search(r"(?:19|20)\d\d", mention.quote):
            found.append(mention.day)
    return found


def _is_stamp(line: str) -> bool:
    """Whether a line is a time stamp: a full date, a clock time or stamp words, and little else."""
    rest = line
    for mention in find_dates(line):
        rest = rest.replace(mention.quote, " ")
    marked = bool(_CLOCK.search(rest) or _STAMP_WORDS.search(rest))
    rest = _STAMP_WORDS.sub(" ", _CLOCK.sub(" ", rest))
    words = re.findall(r"[^\W\d_]{2,}", rest)
    return len(line) <= 120 and (len(words) <= 2 or (marked and len(words) <= 4))


def _is_byline(line: str) -> bool:
    """ "By Olena Harmash and Tom Balmforth", "Von Christian Esch, München": names after "by"."""
    words = re.findall(r"[^\W\d_]+", line)
    return 2 <= len(words) <= 10 and all(w[0].isupper() or w.lower() in _NAME_JOINERS for w in words[1:])


_NAME_JOINERS = frozenset({"and", "und", "та", "і", "и", "de", "von", "van", "al"})


def _is_dateline_head(head: str) -> bool:
    """The words before an agency mark are a place and a date: capitalised words, numbers, months."""
    words = re.findall(r"[^\W\d_]+", head)
    months = month_forms()
    return len(words) <= 6 and all(w[0].isupper() or len(w) <= 3 or fold(w).rstrip(".") in months for w in words)


def find_furniture(text: str) -> list[Furniture]:
    """Spans of ``text`` that belong to the page, not to the story, in text order."""
    found: list[Furniture] = []
    in_list = False
    for start, end in _lines(text):
        line = text[start:end]
        stripped = line.strip()
        if not stripped:
            in_list = False
            continue
        if _LIST_HEADING.match(line):
            in_list = True
            found.append(Furniture(start, end, "navigation"))
            continue
        if in_list and len(stripped) <= 120 and not stripped.endswith((".", "!", "?")):
            found.append(Furniture(start, end, "navigation"))
            continue
        in_list = False
        if (url := _URL.search(line)) and len(stripped) - len(url.group()) <= 20:
            found.append(Furniture(start, end, "url", _url_date(url.group())))
            continue
        if _NAVIGATION.match(line) or (len(_SEPARATORS.findall(line)) >= 2 and len(stripped) <= 160):
            found.append(Furniture(start, end, "navigation", next(iter(_full_dates(line)), None)))
            continue
        full = _full_dates(line)
        if full and _is_stamp(line):
            found.append(Furniture(start, end, "stamp", full[0]))
            continue
        if _BYLINE.match(line) and len(stripped) <= 90 and _is_byline(stripped):
            found.append(Furniture(start, end, "byline", next(iter(full), None)))
            continue
        match = _DATELINE.match(line)
        if match is None or not _is_dateline_head(match.group("head")):
            match = _CAPS_DATELINE.match(line)
        if match is not None:
            found.append(Furniture(start, start + match.end(), "dateline"))
    return found


def mask(text: str, furniture: list[Furniture]) -> str:
    """``text`` with the furniture replaced by spaces (offsets are kept)."""
    chars = list(text)
    for item in furniture:
        for i in range(item.start, item.end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def _labelled(text: str) -> date | None:
    for match in _LABELLED.finditer(text[:3000]):
        value = match.group(1).strip()
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            pass
        if full := _full_dates(value):
            return full[0]
        numeric = find_dates(value)
        if numeric and numeric[0].precision == "day" and not numeric[0].relative:
            return numeric[0].day
    return None


def publication_date(text: str, furniture: list[Furniture] | None = None) -> date | None:
    """The date ``text`` was published, read from the page (see the module docstring), or None."""
    if found := _labelled(text):
        return found
    items = find_furniture(text) if furniture is None else furniture
    for kind in ("url", "stamp", "byline", "navigation"):
        for item in items:
            if item.kind == kind and item.day is not None:
                return item.day
    years = [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", text)]
    if years:
        # A dateline has no year ("BAKU, Sept 7 (Reuters)"): the report is no older than the latest year it names.
        latest = date(max(years), 12, 31)
        for item in items:
            if item.kind == "dateline":
                for mention in find_dates(text[item.start : item.end], latest):
                    if mention.precision == "day":
                        return mention.day
    for mention in find_dates(text[:300]):
        if mention.precision == "day" and not mention.relative:
            return mention.day
    return None
