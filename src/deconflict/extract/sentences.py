"""What one sentence of a report says: dates, places, weapons, attacks, damage, parties, sites.

:func:`analyse` reads one sentence into a :class:`Sentence`; incident, notification and response
extraction (:mod:`~deconflict.extract.pipeline`, :mod:`~deconflict.extract.notifications`,
:mod:`~deconflict.extract.responses`) work on those. A :class:`ReportContext` carries what
one sentence tells the next: the people named, who speaks, the owners of the sites named.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from deconflict.extract._text import Match, Token, clauses, fold, tokens
from deconflict.extract.dates import DateMention
from deconflict.extract.parties import Voices, party_mentions
from deconflict.extract.people import People
from deconflict.extract.places import PlaceMention, find_places
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
    PERSON_WORDS,
    RECIPIENT_MARK,
    TRANSFER,
    WE,
    WEAPON_REGEX,
    WEAPONS,
)

__all__ = ["Phrase", "ReportContext", "Sentence", "analyse", "propositions", "response_dates"]

# German puts "nicht"/"kein"/"niemand" after the participle: "verletzt wurde niemand".
# Ukrainian and Russian state absence after the noun: "постраждалих немає", "погибших нет".
_LATE_NEGATION = frozenset({"nicht", "kein", "keine", "keinen", "niemand", "keiner", "немає", "нема", "нет",
                            "nobody", "ніхто", "никто"})  # fmt: skip
# Negations that determine the subject reach further: "No employees of the embassy were injured".
_DETERMINER_NEGATION = frozenset({"no", "kein", "keine", "keiner", "жоден", "жодна", "жодних", "ніхто",
                                  "никто", "nobody", "none", "niemand"})  # fmt: skip
_QUOTED = re.compile(r"[\"“„«»”]")
_QUOTE_SPAN = re.compile(r"[\"“„«][^\"“”„«»]+[\"”“»]")
# Dates that bound rather than date an event: "since 2022", "seit dem 1. März", "з 24 лютого".
_BOUND_BEFORE = frozenset({"since", "seit", "until", "bis", "з", "с", "із", "від", "от", "до", "ab", "from"})


# Wire copy joins a second statement to a sentence with a reporting verb: "…, the ministry said,
# adding that Baku had handed Moscow the coordinates …", "…, fügte er hinzu", "…, додавши, що …".
_REPORTING_JOIN = re.compile(
    r",\s+(?:and\s+|und\s+|і\s+|и\s+)?(?:adding|added|noting|stressing|fügte|ergänzte|betonte"
    r"|додав(?:ши)?|зазначив(?:ши)?|наголосив(?:ши)?|добавив|добавил|отметив|отметил|подчеркнув)\b"
    r"|;\s",
    re.IGNORECASE,
)


def propositions(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """Split a sentence that reports a strike and, joined by a reporting verb, that coordinates
    were passed on, into those two statements.

    Each part is then read on its own, so the strike keeps its sites and the notification claim
    names only what the sender passed on. Any other sentence is returned whole: "after the first
    attack we gave the Russian side the coordinates" is one statement (its attack bounds the claim).
    """
    start, end = span
    for join in _REPORTING_JOIN.finditer(text, start, end):
        first, second = tokens(text, start, join.start()), tokens(text, join.start(), end)
        if not (COORDINATES.find(second) and TRANSFER.find(second)):
            continue
        if COORDINATES.find(first) or not (ATTACK.find(first) or WEAPONS.find(first) or DAMAGE.find(first)):
            continue
        second_start = join.start() + 1 + len(text[join.start() + 1 : end]) - len(text[join.start() + 1 : end].lstrip())
        return [(start, join.start()), (second_start, end)]
    return [span]


@dataclass(frozen=True, slots=True)
class Phrase:
    """A vocabulary phrase found in a sentence, with whether it is negated."""

    label: str
    start: int
    end: int
    quote: str
    negated: bool = False


@dataclass
class ReportContext:
    """What the sentences read so far tell the next one.

    Attributes
    ----------
    people
        People named so far (their names are no places).
    voices
        Who speaks, and the people named with a state.
    owners
        Owners of the sites resolved so far, with how often.
    """

    people: People = field(default_factory=People)
    voices: Voices = field(default_factory=Voices)
    owners: Counter[str] = field(default_factory=Counter)

    @property
    def main_owner(self) -> str | None:
        """The owner whose sites the report names most."""
        return self.owners.most_common(1)[0][0] if self.owners else None


@dataclass
class Sentence:
    """What one sentence of a report says, with offsets into the report.

    ``dates`` are the dates that can date an event (not bounds such as "since 2022"; an
    absolute date wins over a relative one in the same sentence); ``all_dates`` are every
    date named. ``background`` is set when the sentence names a vague other time ("in the
    summer") and no date: it is about another event. ``voice`` is the state speaking.
    """

    start: int
    end: int
    text: str
    toks: list[Token]
    dates: list[DateMention] = field(default_factory=list)
    all_dates: list[DateMention] = field(default_factory=list)
    places: list[PlaceMention] = field(default_factory=list)
    weapons: list[Phrase] = field(default_factory=list)
    attacks: list[Phrase] = field(default_factory=list)
    damage: list[Phrase] = field(default_factory=list)
    casualties: list[Phrase] = field(default_factory=list)
    parties: list[tuple[str, Match]] = field(default_factory=list)
    diplomatic: list[Phrase] = field(default_factory=list)
    capitals: list[tuple[str, Match]] = field(default_factory=list)
    sites: list[SiteMention] = field(default_factory=list)
    voice: str | None = None
    coordinates: bool = False
    building: bool = False
    transfer: bool = False
    official: bool = False
    claim: bool = False
    quoted: bool = False
    background: bool = False
    paragraph: int = 0

    @property
    def is_notification(self) -> bool:
        """Whether the sentence says that coordinates were passed on."""
        return self.coordinates and self.transfer

    @property
    def is_strike(self) -> bool:
        """Whether the sentence reports a strike (an attack word or a weapon)."""
        return bool(self.attacks or self.weapons) or any(not d.negated for d in self.damage)


def _phrases(text: str, toks: Sequence[Token], matches: Sequence[Match], negations: Sequence[Match],
             bounds: Sequence[tuple[int, int]]) -> list[Phrase]:  # fmt: skip
    found = []
    for match in matches:
        clause = next(((a, b) for a, b in bounds if a <= match.start < b), (match.start, match.end))
        negated = match.label == "undamaged"
        for neg in negations:
            if not clause[0] <= neg.start < clause[1]:
                continue
            reach = 7 if toks[neg.first].text in _DETERMINER_NEGATION else 4
            late = (
                0 < neg.first - match.last <= 3
                and toks[neg.first].text in _LATE_NEGATION
                and "," not in text[match.end : neg.start]  # "Будівля пошкоджена, постраждалих немає"
            )
            if 0 < match.first - neg.last <= reach or late:
                negated = True
        found.append(Phrase(match.label, match.start, match.end, text[match.start : match.end], negated))
    return found


def response_dates(sentence: Sentence) -> set[int]:
    """Starts of the dates that belong to a response ("said on Saturday that …", "said at the
    conference on 14 February that …", "delivered a protest note on 25 April"), not to the
    strike the sentence tells of."""
    found = set()
    for verb in sentence.diplomatic:
        after = [t for t in sentence.toks if t.start >= verb.end]
        # The words from the verb to "that"/"dass"/"що"/"что" (or a colon or quote) are the speaking's.
        stop = next((t.start for t in after if t.text in _COMPLEMENTIZERS), None)
        quote = re.search(r"[:\"“„«]", sentence.text[verb.end - sentence.start :])
        if quote is not None:
            stop = min(stop or sentence.end, verb.end + quote.start())
        for mention in sentence.all_dates:
            a, b = sorted((verb.end, mention.start)) if verb.end <= mention.start else sorted((mention.end, verb.start))
            between = sentence.text[a - sentence.start : b - sentence.start]
            # '"… back in 2022," he said': a date inside a quote is not the day it was said.
            close = len(between.split()) <= 3 and not (mention.start < verb.start and re.search(r"[\"“”„«»,]", between))
            if close or (stop is not None and verb.end <= mention.start < stop and verb.label == "statement"):
                found.add(mention.start)
    return found


_COMPLEMENTIZERS = frozenset({"that", "dass", "що", "что", "чтобы", "як"})


def _event_dates(
    text: str, mentions: Sequence[DateMention], toks: Sequence[Token], responding: set[int]
) -> list[DateMention]:
    """The dates that date an event: no years, no bounds, no response's day; absolute days first."""
    events = []
    for mention in mentions:
        if not mention.is_event_date or (mention.start in responding and mention.precision != "night-of"):
            continue
        before = [t for t in toks if t.end <= mention.start]
        if before and before[-1].text in _BOUND_BEFORE and not fold(mention.quote).startswith(before[-1].text):
            continue
        events.append(mention)
    exact = [m for m in events if m.precision in ("day", "night-of") and not m.relative]
    if exact:
        events = [m for m in events if not m.relative or m.precision not in ("night-of", "day")]
        events = [m for m in events if m.precision != "month" or not any(m.day.year == e.day.year for e in exact)]
    return events


def _casualties(text: str, toks: Sequence[Token], phrases: list[Phrase]) -> list[Phrase]:
    """Casualty phrases; "постраждало" of a building is damage, of people a casualty."""
    kept = []
    people = [t.start for t in toks if PERSON_WORDS.find([t])]
    for phrase in phrases:
        if phrase.label == "affected":
            if not any(abs(p - phrase.start) <= 40 for p in people):
                continue
            phrase = Phrase("casualties", phrase.start, phrase.end, phrase.quote, phrase.negated)
        kept.append(phrase)
    return kept


def analyse(
    text: str,
    span: tuple[int, int],
    dates: Sequence[DateMention],
    resolver: SiteResolver,
    context: ReportContext,
    *,
    city: int | None,
    vague: Sequence[tuple[int, int]] = (),
    people_spans: Sequence[tuple[int, int]] = (),
    paragraph: int = 0,
) -> Sentence:
    """Analyse the sentence ``text[span[0]:span[1]]`` in the ``context`` of the sentences before it.

    ``vague`` are the spans of vague times of the report (:func:`~deconflict.extract.dates.vague_times`);
    ``people_spans`` spans a model tagged as people.
    """
    start, end = span
    toks = tokens(text, start, end)
    sentence = Sentence(start, end, text[start:end], toks, paragraph=paragraph)
    sentence.all_dates = [d for d in dates if start <= d.start < end]
    # A date phrase ("the night of 14 November") is no place and no weapon.
    date_spans = [(d.start, d.end) for d in sentence.all_dates]
    content = [t for t in toks if not any(a <= t.start < b for a, b in date_spans)]
    places = find_places(text, content)
    place_tokens = {i for i, t in enumerate(content) if any(p.start <= t.start < p.end for p in places)}
    context.people.spans = list(people_spans)
    person = {content[i].start for i in context.people.tokens(content, place_tokens)}
    sentence.places = [p for p in places if p.start not in person]
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
    sentence.casualties = _casualties(text, toks, _phrases(text, toks, CASUALTY.find(toks), negations, bounds))
    sentence.diplomatic = _phrases(text, toks, DIPLOMATIC.find(toks), negations, bounds)
    sentence.dates = _event_dates(text, sentence.all_dates, toks, response_dates(sentence))
    sentence.background = not sentence.dates and any(
        start <= a < end and not any(d.start <= a < d.end for d in sentence.all_dates) for a, _ in vague
    )
    sentence.coordinates = bool(COORDINATES.find(toks))
    sentence.transfer = bool(TRANSFER.find(toks))
    sentence.official = bool(OFFICIAL.find(toks))
    sentence.claim = bool(CLAIM.find(toks))
    sentence.quoted = bool(_QUOTED.search(sentence.text))
    sentence.parties = party_mentions(toks, sentence.places)
    # "В Москве ответили" (Moscow answered): capitals after a preposition, for statements.
    sentence.capitals = party_mentions(toks, sentence.places, loose=True)
    sentence.voice = context.voices.of(toks, sentence.parties)
    local_city = next((p.city_geonameid for p in sentence.places if p.kind == "city"), city)
    speaker = sentence.voice or context.voices.last or context.main_owner
    sentence.building = bool(BUILDING.find(toks))
    implicit = False
    if sentence.is_notification:
        # The sender of coordinates owns the sites it names ("Baku passed the coordinates of
        # the embassy"): the voice, else the first state named that is not the recipient.
        marks = {m.first for m in RECIPIENT_MARK.find(toks) if m.pattern in ("side", "seite", "сторон")}
        senders = [code for code, m in sentence.parties if m.last + 1 not in marks and m.first - 1 not in marks]
        if WE.find(toks):
            # "We gave Russia the coordinates": the sender speaks; the state named is the recipient.
            senders = []
        speaker, implicit = (sentence.voice or (senders[0] if senders else speaker)), True
    # Inside quoted words, "the embassy" is the speaking state's when it has one of that kind.
    quotes = [(start + m.start(), start + m.end()) for m in _QUOTE_SPAN.finditer(sentence.text)]
    sentence.sites = resolver.find(
        text, toks, city=local_city, speaker=speaker, implicit=implicit, places=sentence.places,
        quoted_voice=(sentence.voice, quotes) if sentence.voice and quotes else None,
    )  # fmt: skip
    context.owners.update(m.owner for m in sentence.sites if m.owner and m.site_id)
    return sentence
