"""Tokens, sentences and stem lexicons over a report's text, with character offsets kept.

Matching works on a *folded* copy of the text that has exactly the same length as the
original (lower case, ``ё`` → ``е``, typographic apostrophes → ``'``), so every offset found
in the folded text is an offset in the original and the quoted words are the original's.

A lexicon phrase is a space-separated sequence of token patterns:

``stem``
    the token starts with ``stem`` (inflections: ``посольств`` matches ``посольства``);
``=word``
    the token is exactly ``word`` (short function words such as ``=не``, ``=not``);
``*part``
    the token contains ``part`` (German compounds: ``*drohne`` matches ``Kamikazedrohnen``).

When several phrases match at one token, the longest match wins (most tokens, then the
longest pattern), so ``botschafter`` (ambassador) beats ``botschaft`` (embassy).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Lexicon", "Match", "Token", "clauses", "fold", "sentences", "tokens"]

_FOLD_MAP = {"ё": "е", "Ё": "е", "’": "'", "ʼ": "'", "`": "'", "´": "'", "‘": "'"}
_FOLD_MAP_LOWER = {key.lower(): value for key, value in _FOLD_MAP.items()}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
# A line break ends a sentence unless the text was hard-wrapped: a line that does not end a
# sentence, followed by one that starts in lower case, goes on ("… and\nthe cultural centre").
_SENTENCE_END = re.compile(
    r"(?<=[.!?…])[\"»“”')\]]*\s+(?=[\"«„“(\[]?[A-ZА-ЯІЇЄҐÄÖÜ0-9])"
    r"|(?<![\w,;])\s*\n\s*|(?<=[\w,;])[^\S\n]*\n\s*(?![a-zа-яіїєґäöüß])"
)
# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    {"st", "dr", "mr", "mrs", "ms", "nr", "no", "vgl", "bzw", "ca", "z", "b", "u", "a",
     "ul", "вул", "просп", "м", "г", "ст", "р", "т", "д", "n", "jan", "feb", "aug", "sept",
     "sep", "oct", "okt", "nov", "dec", "dez", "лист", "нояб", "i", "e"}
)  # fmt: skip


_FOLD_TABLE = str.maketrans({**_FOLD_MAP, **_FOLD_MAP_LOWER})


def fold(text: str) -> str:
    """Fold ``text`` for matching without changing its length (offsets stay valid)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower.translate(_FOLD_TABLE)
    out = []
    for ch in text:
        mapped = _FOLD_MAP.get(ch)
        if mapped is None:
            lower = ch.lower()
            mapped = lower if len(lower) == 1 else ch
        out.append(mapped)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Token:
    """A word of the text: folded form, offsets in the original, and its original spelling."""

    text: str
    start: int
    end: int
    original: str

    @property
    def capitalised(self) -> bool:
        """Whether the original spelling starts with an upper-case letter."""
        return self.original[:1].isupper()


def tokens(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """The words of ``text[start:end]`` with offsets into ``text``."""
    stop = len(text) if end is None else end
    folded = fold(text[start:stop])
    return [
        Token(m.group(), start + m.start(), start + m.end(), text[start + m.start() : start + m.end()])
        for m in _WORD.finditer(folded)
    ]


def sentences(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentences, returned as ``(start, end)`` offsets (trimmed)."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[cursor : match.start()].rstrip()
        last_word = re.search(r"(\w+)\.$", before)
        if last_word and fold(last_word.group(1)) in _ABBREVIATIONS:
            continue
        if last_word and re.fullmatch(r"\d{1,2}", last_word.group(1)):
            continue  # "14. November": a German ordinal, not a full stop
        spans.append((cursor, match.start()))
        cursor = match.end()
    spans.append((cursor, len(text)))
    result = []
    for start, stop in spans:
        chunk = text[start:stop]
        left = len(chunk) - len(chunk.lstrip())
        right = len(chunk.rstrip())
        if right > left:
            result.append((start + left, start + right))
    return result


_CLAUSE_BREAK = re.compile(
    r"[;:—–]|,\s*(?=(?:but|while|whereas|aber|doch|während|але|проте|тоді|а|но|однако|хотя)\b)"
    r"|\s(?=(?:but|aber|але|проте|но|однако)\s)",
    re.IGNORECASE,
)


def clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split the sentence ``text[start:end]`` at contrastive breaks ("but", "aber", "але", "но")."""
    cuts = [start]
    for match in _CLAUSE_BREAK.finditer(text, start, end):
        cuts.append(match.end())
    cuts.append(end)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


@dataclass(frozen=True, slots=True)
class Match:
    """A lexicon phrase found in the text: its label and the tokens it covers."""

    label: str
    first: int
    last: int
    start: int
    end: int
    pattern: str


def _token_matches(pattern: str, token: str) -> bool:
    if pattern.startswith("="):
        return token == pattern[1:]
    if pattern.startswith("*"):
        return pattern[1:] in token
    return token.startswith(pattern)


class Lexicon:
    """Labelled phrases matched against tokens by stem, exact word or substring.

    Parameters
    ----------
    entries
        ``label -> phrases``; labels starting with ``_`` are matched (so that they can win
        against shorter phrases) but never reported.
    """

    def __init__(self, entries: Mapping[str, Iterable[str]]) -> None:
        self._phrases: list[tuple[str, tuple[str, ...], int]] = []
        self._by_key: dict[str, list[int]] = {}
        self._contains: list[int] = []
        self._contains_parts: set[str] = set()
        for label, phrases in entries.items():
            for phrase in phrases:
                parts = tuple(fold(phrase).split())
                if not parts:
                    continue
                index = len(self._phrases)
                self._phrases.append((label, parts, sum(len(p) for p in parts)))
                head = parts[0]
                if head.startswith("*"):
                    self._contains.append(index)
                    self._contains_parts.add(head[1:])
                else:
                    key = head.lstrip("=")[:3]
                    self._by_key.setdefault(key, []).append(index)

    def _candidates(self, token: str) -> list[int]:
        keyed = self._by_key.get(token[:3], [])
        if self._contains and any(part in token for part in self._contains_parts):
            return keyed + self._contains
        return keyed

    def find(self, toks: Sequence[Token]) -> list[Match]:
        """All non-overlapping matches in ``toks``, left to right, longest first at each token."""
        found: list[Match] = []
        i = 0
        while i < len(toks):
            best: tuple[int, int, str, str] | None = None
            candidates = self._candidates(toks[i].text)
            for index in candidates:
                label, parts, weight = self._phrases[index]
                if i + len(parts) > len(toks):
                    continue
                if all(_token_matches(p, toks[i + k].text) for k, p in enumerate(parts)):
                    score = (len(parts), weight)
                    if best is None or score > (best[0], best[1]):
                        best = (len(parts), weight, label, " ".join(parts))
            if best is None:
                i += 1
                continue
            length, _, label, pattern = best
            if not label.startswith("_"):
                last = i + length - 1
                found.append(Match(label, i, last, toks[i].start, toks[last].end, pattern))
            i += length
        return found

    def parts(self) -> list[str]:
        """Every token pattern of every phrase, without its ``=``/``*`` marker."""
        return [part.lstrip("=*") for _, parts, _ in self._phrases for part in parts]

    def labels(self, toks: Sequence[Token]) -> set[str]:
        """The set of labels matched in ``toks``."""
        return {m.label for m in self.find(toks)}
