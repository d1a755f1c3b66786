"""Read a report file (plain text or HTML) into plain text, keeping the way back to the file.

The SHA-256 is computed over the file's bytes as stored, so a candidate's source hash
identifies the exact document an investigator can re-open. For HTML, offsets of candidates
refer to the extracted plain text; :meth:`Report.source_offset` maps them back to the
character offset in the decoded HTML.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from deconflict.errors import InvalidInput, NotFound
from deconflict.extract.dates import find_dates
from deconflict.extract.publication import publication_date

__all__ = ["Report", "html_to_text", "read_report", "sha256_hex"]

_HTML_HINT = re.compile(r"<\s*(?:!doctype|html|body|p|div|article|meta|head)\b", re.IGNORECASE)
_SKIP_ELEMENTS = ("script", "style", "noscript", "template", "svg", "nav", "footer")
_BLOCK = re.compile(
    r"^(?:p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|article|section|header|footer|blockquote|"
    r"figure|figcaption|title|pre|hr|dd|dt)$"
)
_TOKEN = re.compile(
    r"<!--.*?-->|<(?P<skip>" + "|".join(_SKIP_ELEMENTS) + r")\b[^>]*>.*?</(?P=skip)\s*>"
    r"|<(?P<close>/)?(?P<name>[a-zA-Z][a-zA-Z0-9]*)\b(?P<attrs>[^>]*)>|<![^>]*>",
    re.DOTALL | re.IGNORECASE,
)
_META_DATE = re.compile(
    r"<meta\b[^>]*(?:property|name|itemprop)\s*=\s*[\"'](?:article:published_time|date|pubdate|"
    r"publishdate|dc\.date|dcterms\.date|datepublished|og:published_time)[\"'][^>]*>",
    re.IGNORECASE,
)
_CONTENT = re.compile(r"content\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_TIME_TAG = re.compile(r"<time\b[^>]*datetime\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)


def sha256_hex(data: bytes) -> str:
    """The lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Report:
    """A report ready for extraction.

    Attributes
    ----------
    text
        Plain text (for HTML: the visible text, blocks separated by newlines).
    sha256
        SHA-256 of the file's bytes (or of the UTF-8 text when built from a string).
    report_date
        Publication date from the HTML metadata, else from the page's text (see
        :func:`~deconflict.extract.publication.publication_date`), else the default passed
        in; None when unknown.
    path
        The file read, when there was one.
    offsets
        ``(text_offset, source_offset)`` anchors for mapping back into the decoded HTML.
    """

    text: str
    sha256: str
    report_date: date | None = None
    path: str | None = None
    is_html: bool = False
    offsets: tuple[tuple[int, int], ...] = field(default=(), repr=False)

    def source_offset(self, text_offset: int) -> int:
        """The character offset in the decoded source file that ``text_offset`` comes from."""
        if not self.offsets:
            return text_offset
        keys = [anchor[0] for anchor in self.offsets]
        index = max(bisect.bisect_right(keys, text_offset) - 1, 0)
        text_anchor, source_anchor = self.offsets[index]
        return source_anchor + (text_offset - text_anchor)


def html_to_text(markup: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Visible text of ``markup`` and anchors ``(text_offset, source_offset)`` per text run.

    Scripts, styles, navigation and footers are dropped; block elements become newlines;
    character references are decoded (an anchor starts at each text run, so offsets inside
    a run shift only where an entity such as ``&amp;`` was decoded).
    """
    parts: list[str] = []
    anchors: list[tuple[int, int]] = []
    length = 0
    cursor = 0

    def emit(raw: str, source_at: int) -> None:
        nonlocal length
        if not raw:
            return
        decoded = re.sub(r"[ \t\r\f\v]+", " ", html.unescape(raw).replace("\xa0", " "))
        anchors.append((length, source_at))
        parts.append(decoded)
        length += len(decoded)

    for match in _TOKEN.finditer(markup):
        emit(markup[cursor : match.start()], cursor)
        name = (match.group("name") or "").lower()
        if _BLOCK.match(name) and (not parts or not parts[-1].endswith("\n")):
            parts.append("\n")
            length += 1
        cursor = match.end()
    emit(markup[cursor:], cursor)
    text = "".join(parts)
    # Collapse runs of blank lines without moving text: replace with spaces of equal length.
    text = re.sub(r"\n[ \n]*\n", lambda m: "\n\n" + " " * (len(m.group()) - 2), text)
    return text, tuple(anchors)


def _parse_date(value: str) -> date | None:
    value = value.strip()
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    mentions = find_dates(value)
    return mentions[0].day if mentions and mentions[0].precision != "month" else None


def _html_date(markup: str) -> date | None:
    for match in _META_DATE.finditer(markup):
        content = _CONTENT.search(match.group())
        if content and (found := _parse_date(content.group(1))):
            return found
    if time_tag := _TIME_TAG.search(markup):
        return _parse_date(time_tag.group(1))
    return None


def read_report(path: str | Path, *, default_date: date | None = None) -> Report:
    """Read one report file (``.txt``, ``.html``, ``.htm`` or text that looks like HTML).

    Raises
    ------
    NotFound
        When the file does not exist.
    InvalidInput
        When the file is not UTF-8 (or UTF-16 with a byte-order mark) text.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError as exc:
        raise NotFound("no such report file", where=str(file)) from exc
    except OSError as exc:
        raise InvalidInput(f"cannot read report: {exc.strerror}", where=str(file)) from exc
    try:
        raw = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("report is not UTF-8 text", where=str(file)) from exc
    digest = sha256_hex(data)
    is_html = file.suffix.lower() in (".html", ".htm", ".xhtml") or bool(_HTML_HINT.search(raw[:2000]))
    if is_html:
        text, anchors = html_to_text(raw)
        found = _html_date(raw) or publication_date(text)
        return Report(text, digest, found or default_date, str(file), True, anchors)
    return Report(raw, digest, publication_date(raw) or default_date, str(file))
