"""Resolve mentions of protected sites against the registry, in any language and inflection.

A site is named in a report in one of two ways:

* by a distinctive name of its own ("Okhmatdyt", "Охматдит"), taken from the site's
  ``name`` and ``names``;
* by a kind word and an owner state: "Botschaft Aserbaidschans", "aserbaidschanische
  Botschaft", "посольство Азербайджану", "Azerbaijan's embassy". Owner states are
  recognised by their CLDR names in several languages (Babel ``Locale.territories``) and by
  the CLDR names of their main language, which serve as adjectives (Azerbaijani,
  aserbaidschanisch, азербайджанська, азербайджанский). Names are matched as stems (a
  token *starts with* the stem), which covers case endings of Slavic languages and German.

A kind word without an owner ("the embassy was not damaged") refers back to the last site
of that kind named before it. When the registry holds several sites that fit, the mention
lists them all as candidates and resolves none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pycountry
from babel import Locale
from babel.core import get_global

from deconflict.extract._text import Lexicon, Match, Token, fold, tokens
from deconflict.extract.places import lookup_city
from deconflict.extract.vocab import OWN, SITE_KINDS
from deconflict.model import Site

__all__ = ["COUNTRY_LOCALES", "SiteMention", "SiteResolver", "countries_lexicon"]

#: Locales whose CLDR country and language names are matched.
COUNTRY_LOCALES: tuple[str, ...] = ("en", "de", "uk", "ru", "fr", "pl", "es", "it")

#: Site kinds a kind word may refer to.
KIND_SCOPE: dict[str, frozenset[str]] = {
    "embassy": frozenset({"embassy"}),
    "consular_section": frozenset({"consular_section"}),
    "consulate": frozenset({"consulate", "consular_section"}),
    "cultural_centre": frozenset({"cultural_centre"}),
    "hospital": frozenset({"hospital"}),
    "school": frozenset({"school"}),
    "residence": frozenset({"residence"}),
    "humanitarian": frozenset({"humanitarian"}),
    "power_plant": frozenset({"power_plant"}),
    "diplomatic": frozenset({"embassy", "consulate", "consular_section", "residence"}),
}

# Nationality adjectives that are not the name of a language (CLDR has no demonyms).
_ADJECTIVES: dict[str, tuple[str, ...]] = {
    "USA": ("american", "amerikanisch", "американськ", "американск", "=us", "=u.s"),
    "GBR": ("british", "britisch", "британськ", "британск"),
    "RUS": ("российск", "=рф", "=rf"),
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
}
# Words of site names that do not identify a site.
_GENERIC_NAME_WORDS = frozenset(
    {"children", "kinder", "дитяч", "детск", "national", "central", "city", "municipal",
     "regional", "clinical", "republic", "republik", "республік", "республик", "центр",
     "centre", "center", "zentrum", "cultural", "culture", "kultur", "культур", "office",
     "section", "department", "consular", "konsular", "консульськ", "консульск", "state",
     "states", "united", "ukraine", "україн", "украин", "kyiv", "kiew", "київ", "киев",
     "building", "house", "haus", "будинок", "дом", "the", "der", "die", "das", "embassy",
     "botschaft", "посольство", "hospital", "лікарня", "больница"}
)  # fmt: skip
_CONNECT_AFTER = frozenset(
    {"of", "the", "republic", "der", "des", "von", "republik", "kingdom", "state", "states",
     "республіки", "республики", "держави", "государства", "королівства", "королевства",
     "in", "в", "у", "and", "und", "і", "та", "и"}
)  # fmt: skip
_CONNECT_BEFORE = frozenset({"and", "und", "і", "та", "и", "the", "die", "der", "das", "des", "den"})
_OF = frozenset({"of", "the", "der", "des", "am", "at", "in", "an"})
_ALL_OWNERS = "*"


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
    likely: dict[str, str] = dict(get_global("likely_subtags"))
    owners: dict[str, str] = {}
    for language, subtag in likely.items():
        if "_" in language or language in ("en", "ar", "sw", "und", "pt"):
            continue
        territory = subtag.split("_")[-1]
        country = pycountry.countries.get(alpha_2=territory)
        if country is not None:
            owners[language] = country.alpha_3
    return owners


@lru_cache(maxsize=1)
def countries_lexicon() -> Lexicon:
    """A :class:`Lexicon` from ISO 3166-1 alpha-3 codes to country names and adjectives.

    Phrases whose stem is shorter than six letters only count when capitalised in the text
    (see :meth:`SiteResolver.countries`), so "Mali" does not match "malicious".
    """
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


@dataclass(frozen=True, slots=True)
class SiteMention:
    """A place in the text where a protected site is named.

    Attributes
    ----------
    start, end, quote
        Offsets and words of the mention ("посольство Азербайджану").
    kind
        The kind word's label (``embassy``, ``diplomatic`` ...) or None for a name match.
    owner
        ISO 3166-1 alpha-3 code of the owner state found in the text, if any.
    candidates
        Ids of the registry sites the mention fits.
    site_id
        The one site meant, when the candidates narrow to one; else None (ambiguous).
    via
        ``name``, ``kind+owner``, ``possessive`` or ``coreference``.
    confidence
        0-1: how sure the resolution is.
    """

    start: int
    end: int
    quote: str
    kind: str | None
    owner: str | None
    candidates: tuple[str, ...]
    site_id: str | None
    via: str
    confidence: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "span": [self.start, self.end],
            "quote": self.quote,
            "kind": self.kind,
            "owner": self.owner,
            "candidates": list(self.candidates),
            "site_id": self.site_id,
            "via": self.via,
            "confidence": self.confidence,
        }


class SiteResolver:
    """Finds site mentions in sentences and resolves them against ``sites``.

    Parameters
    ----------
    sites
        The registry's sites.
    """

    def __init__(self, sites: Sequence[Site]) -> None:
        self.sites = tuple(sites)
        self._countries = countries_lexicon()
        names: dict[str, set[str]] = {}
        for site in self.sites:
            for name in (site.name, *(alt for _, alt in site.names)):
                distinctive = [
                    _stem(t.text)
                    for t in tokens(name)
                    if len(t.text) >= 5
                    and not any(t.text.startswith(g) for g in _GENERIC_NAME_WORDS)
                    and not self._countries.find([t])
                    and not SITE_KINDS.find([t])
                ]
                if distinctive:
                    names.setdefault(site.id, set()).add(max(distinctive, key=len))
        self._names = Lexicon(names)
        self._site_city = {
            site.id: (city.geonameid if site.city and (city := lookup_city(site.city)) else None) for site in self.sites
        }
        self._last_owner: dict[str, str] = {}

    def reset(self) -> None:
        """Forget the sites named so far (call before each new report)."""
        self._last_owner.clear()

    def countries(self, toks: Sequence[Token]) -> list[Match]:
        """Country names and adjectives in ``toks`` (label: alpha-3 code)."""
        return [m for m in self._countries.find(toks) if len(m.pattern.lstrip("=*")) >= 6 or toks[m.first].capitalised]

    def _candidates(self, kind: str | None, owner: str | None, city: int | None) -> tuple[str, ...]:
        scope = KIND_SCOPE.get(kind or "", frozenset())
        fitting = [
            s
            for s in self.sites
            if (kind is None or s.kind in scope) and (owner in (None, _ALL_OWNERS) or s.owner == owner)
        ]
        if city is not None:
            local = [s for s in fitting if self._site_city.get(s.id) in (city, None)]
            fitting = local or fitting
        return tuple(s.id for s in fitting)

    def _owners_near(self, kind: Match, toks: Sequence[Token], countries: list[Match]) -> list[str]:
        owners: list[str] = []
        for country in countries:
            if country.first > kind.last:
                between = toks[kind.last + 1 : country.first]
                if len(between) <= 4 and all(t.text in _CONNECT_AFTER for t in between):
                    owners.append(country.label)
            elif country.last < kind.first:
                between = toks[country.last + 1 : kind.first]
                if len(between) <= 3 and all(t.text in _CONNECT_BEFORE or self._countries.find([t]) for t in between):
                    owners.append(country.label)
        return list(dict.fromkeys(owners))

    def find(
        self,
        text: str,
        toks: Sequence[Token],
        *,
        city: int | None = None,
        speaker: str | None = None,
        implicit: bool = False,
    ) -> list[SiteMention]:
        """Site mentions in the sentence ``toks`` of ``text``.

        Parameters
        ----------
        city
            GeoNames id of the city the sentence is about, to narrow candidates.
        speaker
            Owner that "our embassy" / "its embassy" refers to (the sender of a notification).
        implicit
            Whether a kind word without an owner belongs to ``speaker`` (in a notification
            claim, "the coordinates of the embassy" are the sender's).
        """
        found: list[SiteMention] = []
        named = self._names.find(toks)
        for match in named:
            quote = text[match.start : match.end]
            found.append(
                SiteMention(match.start, match.end, quote, None, None, (match.label,), match.label, "name", 0.95)
            )
        countries = self.countries(toks)
        possessives = [m.last for m in OWN.find(toks)]
        kinds = SITE_KINDS.find(toks)
        skip: set[int] = set()
        previous: tuple[Match, list[str], str] | None = None
        for index, kind in enumerate(kinds):
            if index in skip or any(n.first - 2 <= kind.first <= n.last + 2 for n in named):
                continue
            owner_anchor = kind
            # "consular section of the embassy of Azerbaijan": the section takes the owner of the
            # embassy named right after it, and the embassy is not a separate mention.
            if index + 1 < len(kinds) and kind.label not in ("embassy", "diplomatic"):
                following = kinds[index + 1]
                between = toks[kind.last + 1 : following.first]
                if following.label in ("embassy", "diplomatic", "consulate") and all(t.text in _OF for t in between):
                    owner_anchor = following
                    skip.add(index + 1)
            owners = self._owners_near(owner_anchor, toks, countries)
            end = max([owner_anchor.end] + [c.end for c in countries if c.label in owners])
            start = min([kind.start] + [c.start for c in countries if c.label in owners])
            via = "kind+owner"
            if not owners and any(kind.first - 2 <= p < kind.first for p in possessives) and speaker:
                owners, via = [speaker], "possessive"
            if not owners and implicit and speaker:
                owners, via = [speaker], "possessive"
            if not owners and previous is not None and previous[1]:
                # A list: "our embassy, consular section and cultural centre".
                between = toks[previous[0].last + 1 : kind.first]
                if len(between) <= 2 and all(t.text in _CONNECT_BEFORE for t in between):
                    owners, via = list(previous[1]), previous[2]
            if not owners and kind.label in self._last_owner:
                owners, via = [self._last_owner[kind.label]], "coreference"
            previous = (kind, owners, via)
            quote = text[start:end]
            owner_list: list[str | None] = list(owners) or [None]
            for owner in owner_list:
                if owner is None:
                    # A bare kind word ("a hospital") only lists the sites of that kind in the city.
                    candidates = self._candidates(kind.label, None, city) if city is not None else ()
                    candidates = tuple(c for c in candidates if self._site_city.get(c) == city)
                    if candidates:
                        found.append(SiteMention(start, end, quote, kind.label, None, candidates, None, "kind", 0.3))
                    continue
                candidates = self._candidates(kind.label, owner, city)
                if not candidates:
                    continue
                self._last_owner[kind.label] = owner
                resolved = candidates[0] if len(candidates) == 1 else None
                confidence = {"kind+owner": 0.9, "possessive": 0.75, "coreference": 0.7}[via]
                if resolved is None:
                    confidence = min(confidence, 0.5)
                found.append(SiteMention(start, end, quote, kind.label, owner, candidates, resolved, via, confidence))
        return sorted(found, key=lambda m: m.start)
