"""People named in a report, so that their names are not read as places.

"Volodymyr Zelenskyy" is not Volodymyr-Volynskyi and "Kaja Kallas" is not Callao. A
capitalised word is part of a person's name when it follows a title ("President",
"Außenbeauftragte", "речник МЗС", "глава МИД"), when it is followed by a word with a
surname ending ("-enko", "-skyi", "-ський", "-ов"), or when the report named that person
before. With the ``ru-ner`` extra (natasha, whose Russian news NER model ships inside the
package) the people it tags in Russian text are added.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from deconflict.extract._text import Token
from deconflict.extract.vocab import TITLES

__all__ = ["People", "is_russian", "natasha_available", "natasha_people"]

_SURNAME = re.compile(
    r"\w+(?:enko|ko|skyi|skyy|skiy|sky|skij|ska|ski|yi|yy|iy|yj|ij|ov|ova|ev|eva|in|ina|uk|chuk|ak|ych|ich|"
    r"vych|yan|ian|shvili|dze|as|is|us|aite|ienė|ський|ська|цький|ський|ский|ская|цкий|енко|ко|ов|ова|ев|"
    r"ева|ін|ина|ин|ук|чук|ич|іч|ян|швили|дзе|ас|іс|ис)",
)


@dataclass
class People:
    """The people of one report: call :meth:`tokens` for each sentence in order."""

    names: set[str] = field(default_factory=set)
    spans: list[tuple[int, int]] = field(default_factory=list)

    def known(self, token: Token) -> bool:
        """Whether ``token`` is (an inflection of) a name seen before."""
        return token.text in self.names or (len(token.text) > 5 and token.text[:5] in self.names)

    def _add(self, token: Token) -> None:
        self.names.add(token.text)
        if len(token.text) > 5:
            self.names.add(token.text[:5])

    def tokens(self, toks: Sequence[Token], places: set[int]) -> set[int]:
        """Indices of the tokens of ``toks`` that are part of a person's name.

        ``places`` are the indices of tokens that a place name matched (a title followed by
        a place-like word still names a person: "Präsident Wolodymyr Selenskyj").
        """
        found: set[int] = set()
        for match in TITLES.find(toks):
            i = match.last + 1
            # "верховна представниця ЄС Кая Каллас": one short word (a body's acronym) may stand between.
            if i < len(toks) and toks[i].original.isupper() and len(toks[i].text) <= 4:
                i += 1
            run: list[int] = []
            while i < len(toks) and toks[i].capitalised and len(run) < 3:
                run.append(i)
                i += 1
            if run:
                found.update(run)
        for i in found:
            self._add(toks[i])  # "… Kaja Kallas condemned the attack; Kallas spoke …"
        for i, token in enumerate(toks):
            if not token.capitalised:
                continue
            if self.known(token) or any(a <= token.start < b for a, b in self.spans):
                found.add(i)
                continue
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if (
                nxt is not None
                and i in places
                and nxt.capitalised
                and i + 1 not in places
                and _SURNAME.fullmatch(nxt.text)
                and not TITLES.find([nxt])
            ):
                found.update({i, i + 1})
        for i in found:
            self._add(toks[i])
        return found


def natasha_available() -> bool:
    """Whether the ``ru-ner`` extra (natasha) is installed."""
    try:
        import natasha  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _natasha() -> tuple[Any, Any]:
    from natasha import NewsEmbedding, NewsNERTagger, Segmenter

    return Segmenter(), NewsNERTagger(NewsEmbedding())


def is_russian(text: str) -> bool:
    """Whether ``text`` is Russian rather than Ukrainian (letters only one of them has)."""
    russian = len(re.findall(r"[ыэъёЫЭЪЁ]", text))
    ukrainian = len(re.findall(r"[іїєґІЇЄҐ]", text))
    cyrillic = bool(re.search(r"[а-яА-Я]", text))
    # Ukrainian text hardly ever goes a sentence without і, ї, є or ґ.
    return cyrillic and (ukrainian == 0 or russian >= 2 * ukrainian)


def natasha_people(text: str) -> list[tuple[int, int]]:
    """Spans of people natasha's news NER finds in a Russian ``text`` (empty without the extra)."""
    if not natasha_available() or not is_russian(text):
        return []
    from natasha import Doc

    segmenter, tagger = _natasha()
    doc = Doc(text)
    doc.segment(segmenter)
    doc.tag_ner(tagger)
    return [(span.start, span.stop) for span in doc.spans if span.type == "PER"]
