"""From analysed sentences to strikes: which sentences tell of one strike, and what it hit.

A dated strike sentence opens (or rejoins) the strike of its date; undated strike sentences
that follow add to it while they stay in its paragraph, or continue it in the next one when
they name no other time. A sentence about another time ("In the summer, the embassy was
damaged") joins no strike, so an embassy named in a background paragraph is no hit of
today's strike. A heading or lead before the first dated sentence belongs to the first
strike. A site named before all the dates of a sentence ("The embassy was hit on 21 August
and again on 14 November") was hit on each; "a third strike followed on 27 December" hit
what the strike before it hit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from deconflict.extract._text import clauses
from deconflict.extract.dates import DateMention
from deconflict.extract.places import PlaceMention, city_by_id, city_mention
from deconflict.extract.sentences import Phrase, Sentence
from deconflict.extract.sites import SiteMention
from deconflict.extract.vocab import FOLLOWED, GENERIC_WEAPONS, ORDINALS, SERIES, WEAPON_KIND
from deconflict.times import TimeSpan

__all__ = ["Evidence", "IncidentCandidate", "group_strikes", "incident_candidate"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """The words a field of a candidate was read from."""

    field: str
    span: tuple[int, int]
    quote: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {"field": self.field, "span": list(self.span), "quote": self.quote}


@dataclass(frozen=True, slots=True)
class IncidentCandidate:
    """A strike as a report tells it, waiting for a person to confirm it.

    Attributes
    ----------
    span, quote
        From the first to the last sentence the candidate was built from.
    time
        When, as a :class:`TimeSpan` (``night-of`` for "the night of 14 November"); a
        ``week`` ending on the report date when the text gives no date at all.
    place
        The most precise place named (a district, else a city), or None.
    weapons
        Canonical weapon names (:data:`~deconflict.extract.vocab.WEAPON_KIND`).
    damage, casualties
        Damage and casualty phrases that are not negated.
    sites_hit, sites_not_hit
        Registry site ids the text says were hit, or explicitly says were not.
    site_candidates
        Candidate lists of site mentions that stayed ambiguous.
    claimed_by
        Alpha-3 code of the party whose claim the whole account is, if it is one.
    """

    span: tuple[int, int]
    quote: str
    confidence: float
    source_sha256: str
    time: TimeSpan | None
    place: PlaceMention | None
    city: str | None
    district: str | None
    weapons: tuple[str, ...]
    kind: str | None
    damage: tuple[str, ...]
    casualties: tuple[str, ...]
    sites_hit: tuple[str, ...]
    sites_not_hit: tuple[str, ...]
    site_candidates: tuple[tuple[str, ...], ...]
    claimed_by: str | None
    evidence: tuple[Evidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "type": "incident",
            "span": list(self.span),
            "quote": self.quote,
            "confidence": self.confidence,
            "source_sha256": self.source_sha256,
            "time": self.time.to_text() if self.time else None,
            "time_precision": self.time.precision if self.time else None,
            "city": self.city,
            "district": self.district,
            "lat": self.place.lat if self.place else None,
            "lon": self.place.lon if self.place else None,
            "uncertainty_m": self.place.uncertainty_m if self.place else None,
            "weapons": list(self.weapons),
            "kind": self.kind,
            "damage": list(self.damage),
            "casualties": list(self.casualties),
            "sites_hit": list(self.sites_hit),
            "sites_not_hit": list(self.sites_not_hit),
            "site_candidates": [list(c) for c in self.site_candidates],
            "claimed_by": self.claimed_by,
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass
class _Draft:
    date: DateMention | None
    sentences: list[Sentence] = field(default_factory=list)
    weapons: list[Phrase] = field(default_factory=list)
    damage: list[Phrase] = field(default_factory=list)
    casualties: list[Phrase] = field(default_factory=list)
    places: list[PlaceMention] = field(default_factory=list)
    hit: dict[str, SiteMention] = field(default_factory=dict)
    not_hit: dict[str, SiteMention] = field(default_factory=dict)
    ambiguous: list[SiteMention] = field(default_factory=list)
    claim_only: bool = True

    def absorb(self, other: _Draft) -> None:
        """Take in a heading or lead told before the first dated sentence."""
        self.sentences[:0] = other.sentences
        self.weapons += other.weapons
        self.damage += other.damage
        self.casualties += other.casualties
        self.places[:0] = other.places
        for site_id, mention in other.hit.items():
            self.hit.setdefault(site_id, mention)
        for site_id, mention in other.not_hit.items():
            self.not_hit.setdefault(site_id, mention)


def _clause_status(text: str, sentence: Sentence, mention: SiteMention) -> bool | None:
    spans = clauses(text, sentence.start, sentence.end)
    clause = next(((a, b) for a, b in spans if a <= mention.start < b), (sentence.start, sentence.end))
    phrases = [p for p in sentence.damage + sentence.attacks if clause[0] <= p.start < clause[1]]
    if not phrases:
        return None
    # One negated phrase in the clause ("was hit but not damaged" aside) means not hit.
    return not any(p.negated for p in phrases)


def _key(mention: DateMention) -> tuple[date, str]:
    return (mention.day, mention.precision)


def _tells_strike(sentence: Sentence) -> bool:
    """A strike sentence that is neither a notification claim nor a summons or a protest about one."""
    if sentence.is_notification or not sentence.is_strike:
        return False
    reacting = any(p.label in ("summons", "protest_note") and not p.negated for p in sentence.diplomatic)
    return not reacting or bool(sentence.weapons)


_LOCATIVE = frozenset({"in", "im", "at", "у", "в", "auf", "на", "nach"})


def _located_city(sentence: Sentence) -> int:
    """The city a sentence says something happened in ("In Kharkiv, the consulate was damaged"), or 0.

    Only a sentence that tells of damage, casualties or a site hit can move a strike to
    another city; a city named in passing ("the Vienna Convention") cannot.
    """
    if not (sentence.sites or any(not p.negated for p in sentence.damage + sentence.casualties)):
        return 0
    for place in sentence.places:
        if place.kind != "city":
            continue
        index = next((i for i, t in enumerate(sentence.toks) if t.start == place.start), None)
        if index == 0 or (index is not None and sentence.toks[index - 1].text in _LOCATIVE):
            return place.city_geonameid
    return 0


def _adds_detail(sentence: Sentence) -> bool:
    """An undated sentence that adds to the strike told before it: casualties, damage, a district."""
    reacting = any(p.label in ("summons", "protest_note") for p in sentence.diplomatic)
    return not (reacting or sentence.is_notification or sentence.dates) and bool(
        sentence.casualties or sentence.damage or any(p.kind == "district" for p in sentence.places)
    )


class _Grouping:
    def __init__(self, text: str) -> None:
        self.text = text
        self.drafts: dict[tuple[date, str, int] | None, _Draft] = {}
        self.current: _Draft | None = None
        self.main: _Draft | None = None
        self.last_site: SiteMention | None = None
        self.last_hits: list[SiteMention] = []

    def _draft(self, mention: DateMention, city: int = 0) -> _Draft:
        key = (mention.day, mention.precision, city)
        if key not in self.drafts:
            self.drafts[key] = _Draft(mention)
        draft = self.drafts[key]
        if self.main is None:
            self.main = draft
        return draft

    def _dated(self, sentence: Sentence) -> dict[int, _Draft]:
        """The draft of each event date of the sentence (keyed by the date's offset)."""
        city = self._city_of(sentence)
        return {m.start: self._draft(m, city) for m in sentence.dates}

    def _city_of(self, sentence: Sentence) -> int:
        city = _located_city(sentence)
        return city if city and self.current is not None and self._other_city(self.current, city) else 0

    @staticmethod
    def _other_city(draft: _Draft, city: int) -> bool:
        known = [p.city_geonameid for p in draft.places if p.kind == "city"]
        return bool(known) and city != known[0]

    def _targets(self, sentence: Sentence, dated: dict[int, _Draft], offset: int, fallback: _Draft) -> list[_Draft]:
        if not sentence.dates:
            return [fallback]
        before = [d for d in sentence.dates if d.start <= offset]
        if (
            not before
            and len(sentence.dates) > 1
            and not any(m.start > sentence.dates[0].start for m in sentence.sites if m.site_id)
        ):
            # "The embassy was hit on 21 August and again on 14 November": hit on each date.
            return list({id(d): d for d in dated.values()}.values())
        mention = before[-1] if before else sentence.dates[0]
        return [dated[mention.start]]

    def add(self, sentence: Sentence) -> None:
        if sentence.background:
            self.current = None
            return
        if not _tells_strike(sentence):
            if sentence.dates and not sentence.is_strike:
                self.current = None
            elif self.current is not None and _adds_detail(sentence):
                self._add_phrases(sentence, {}, self._continuing(sentence))
            return
        dated = self._dated(sentence)
        if dated:
            self.current = dated[sentence.dates[-1].start]
        elif self.current is None:
            # An undated strike only counts when the sentence says what or where, and of one strike:
            # "the embassy was hit three times" counts a series.
            if not (sentence.weapons or sentence.places or sentence.sites) or SERIES.find(sentence.toks):
                return
            self.current = self.drafts.setdefault(None, _Draft(None))
        else:
            self.current = self._continuing(sentence)
        self._add_phrases(sentence, dated, self.current)

    def _continuing(self, sentence: Sentence) -> _Draft:
        """The strike an undated sentence continues: the one told just before, unless that one
        is an older strike told in another paragraph (then the report's main strike)."""
        current = self.current
        assert current is not None
        city = _located_city(sentence)
        if city and current.date is not None and self._other_city(current, city):
            return self._draft(current.date, city)
        main = self.main
        if (
            main is not None
            and main is not current
            and current.date is not None
            and main.date is not None
            and current.date.day < main.date.day
            and current.sentences
            and current.sentences[-1].paragraph != sentence.paragraph
        ):
            return main
        return current

    def _add_phrases(self, sentence: Sentence, dated: dict[int, _Draft], current: _Draft) -> None:
        def target(offset: int) -> _Draft:
            return self._targets(sentence, dated, offset, current)[0]

        for phrase in sentence.weapons:
            target(phrase.start).weapons.append(phrase)
        for phrase in sentence.damage:
            if not phrase.negated and phrase.label == "damage":
                target(phrase.start).damage.append(phrase)
        for phrase in sentence.casualties:
            if not phrase.negated:
                target(phrase.start).casualties.append(phrase)
        for place in sentence.places:
            target(place.start).places.append(place)
        hits: list[SiteMention] = []
        for mention in sentence.sites:
            targets = self._targets(sentence, dated, mention.start, current)
            if mention.site_id is None:
                targets[0].ambiguous.append(mention)
                continue
            status = _clause_status(self.text, sentence, mention)
            for draft in targets:
                if status is True:
                    draft.hit.setdefault(mention.site_id, mention)
                elif status is False:
                    draft.not_hit.setdefault(mention.site_id, mention)
            if status is True:
                hits.append(mention)
        resolved = [m for m in sentence.sites if m.site_id]
        if resolved:
            self.last_site = resolved[-1]
        elif sentence.dates and self.last_hits and (FOLLOWED.find(sentence.toks) or ORDINALS.find(sentence.toks)):
            # "A third strike followed in the night of 27 December": on what the one before hit.
            for mention in self.last_hits:
                current.hit.setdefault(mention.site_id or "", mention)
        elif sentence.building:
            self._building(sentence, current)
        if hits:
            self.last_hits = hits
        for draft in {id(d): d for d in [*dated.values(), current]}.values():
            draft.sentences.append(sentence)
            draft.claim_only = draft.claim_only and sentence.claim

    def _building(self, sentence: Sentence, draft: _Draft) -> None:
        # "The building was damaged": the site named just before.
        site = self.last_site
        if site is None or not site.site_id:
            return
        if any(not p.negated for p in sentence.damage if p.label == "damage"):
            draft.hit.setdefault(site.site_id, site)
        elif any(p.negated for p in sentence.damage):
            draft.not_hit.setdefault(site.site_id, site)

    def result(self) -> list[_Draft]:
        undated = self.drafts.pop(None, None)
        dated = [d for d in self.drafts.values() if d.sentences]
        if undated is not None and undated.sentences and dated:
            first = min(dated, key=lambda d: min(s.start for s in d.sentences))
            first.absorb(undated)
        elif undated is not None and undated.sentences:
            dated.append(undated)
        return _merge_coarse(dated)


def _merge_coarse(drafts: list[_Draft]) -> list[_Draft]:
    """A heading's "last week" and the body's "last Wednesday" are one strike: a week or month
    that holds a finer strike with the same site or city is folded into it."""
    kept = []
    for draft in drafts:
        coarse = draft.date is not None and draft.date.precision in ("week", "month")
        finer = [
            d
            for d in drafts
            if d is not draft and d.date is not None and d.date.precision in ("day", "night-of") and coarse
            and _within(d.date.day, draft.date) and _related(d, draft)
        ]  # fmt: skip
        if finer:
            finer[0].absorb(draft)
        else:
            kept.append(draft)
    return kept


def _within(day: date, coarse: DateMention | None) -> bool:
    if coarse is None:
        return False
    if coarse.precision == "week":
        return coarse.day <= day < coarse.day + timedelta(days=7)
    return (day.year, day.month) == (coarse.day.year, coarse.day.month)


def _related(fine: _Draft, coarse: _Draft) -> bool:
    if set(fine.hit) & set(coarse.hit):
        return True
    cities = {p.city_geonameid for p in coarse.places}
    return not coarse.hit and (not cities or bool(cities & {p.city_geonameid for p in fine.places}))


def group_strikes(text: str, sentences: Sequence[Sentence]) -> list[_Draft]:
    """Group the analysed ``sentences`` of ``text`` into strikes (see the module docstring)."""
    grouping = _Grouping(text)
    for sentence in sentences:
        grouping.add(sentence)
    return grouping.result()


def _weapons(phrases: Iterable[Phrase]) -> tuple[str, ...]:
    names = list(dict.fromkeys(p.label for p in phrases))
    return tuple(n for n in names if not (GENERIC_WEAPONS.get(n, frozenset()) & set(names)))


def _kind(weapons: Sequence[str]) -> str | None:
    kinds = {WEAPON_KIND[w] for w in weapons}
    for kind in ("debris", "missile", "drone", "bomb", "artillery"):
        if kind in kinds:
            return kind
    return None


def _place(draft: _Draft, fallback: PlaceMention | None, site_cities: Mapping[str, int | None]) -> PlaceMention | None:
    districts = [p for p in draft.places if p.kind == "district"]
    cities = [p for p in draft.places if p.kind == "city"]
    hit_cities = Counter(c for s in draft.hit if (c := site_cities.get(s)) is not None)
    if hit_cities:
        # The strike is where the sites it hit are: "an embassy in Kyiv" told at "the Munich conference".
        city = hit_cities.most_common(1)[0][0]
        local = [p for p in districts if p.city_geonameid == city] or [p for p in cities if p.city_geonameid == city]
        if local:
            return local[0]
        if fallback is not None and fallback.city_geonameid == city:
            return fallback
        known = city_by_id(city)
        mention = next(m for s, m in draft.hit.items() if site_cities.get(s) == city)
        if known is not None:
            return city_mention(known, mention.start, mention.end, mention.quote)
    if districts:
        return districts[0]
    return cities[0] if cities else fallback


def incident_candidate(
    draft: _Draft,
    text: str,
    *,
    report_date: date | None,
    fallback_place: PlaceMention | None,
    local: ZoneInfo | None,
    sha: str,
    claimers: Counter[str],
    site_cities: Mapping[str, int | None],
    city_names: Mapping[int, str],
) -> IncidentCandidate:
    """The :class:`IncidentCandidate` of one grouped strike."""
    place = _place(draft, fallback_place, site_cities)
    districts = [p for p in draft.places if p.kind == "district"]
    city_name = None
    if place is not None:
        city_name = place.name if place.kind == "city" else city_names.get(place.city_geonameid, "Kyiv")
    zone = local or (ZoneInfo(place.timezone) if place and place.timezone else ZoneInfo("UTC"))
    evidence: list[Evidence] = []
    if draft.date is not None:
        span: TimeSpan | None = draft.date.to_span(zone)
        evidence.append(Evidence("time", (draft.date.start, draft.date.end), draft.date.quote))
    elif report_date is not None:
        # No date in the text: the strike happened in the week up to the report.
        span = TimeSpan(
            datetime.combine(report_date - timedelta(days=6), time(0), tzinfo=zone).astimezone(ZoneInfo("UTC")),
            datetime.combine(report_date + timedelta(days=1), time(0), tzinfo=zone).astimezone(ZoneInfo("UTC")),
            "week",
        )
    else:
        span = None
    if place is not None:
        evidence.append(Evidence("place", (place.start, place.end), place.quote))
    for phrase in draft.weapons:
        evidence.append(Evidence("weapon", (phrase.start, phrase.end), phrase.quote))
    for phrase in draft.damage:
        evidence.append(Evidence("damage", (phrase.start, phrase.end), phrase.quote))
    for phrase in draft.casualties:
        evidence.append(Evidence("casualties", (phrase.start, phrase.end), phrase.quote))
    for site_id, mention in draft.hit.items():
        evidence.append(Evidence(f"site_hit:{site_id}", (mention.start, mention.end), mention.quote))
    weapons = _weapons(draft.weapons)
    claimed_by = claimers.most_common(1)[0][0] if draft.claim_only and claimers else None
    confidence = 0.35 + 0.2 * (draft.date is not None) + 0.15 * (place is not None)
    confidence += 0.1 * bool(weapons) + 0.1 * bool(draft.damage or draft.hit)
    confidence -= 0.2 * (claimed_by is not None)
    start = min(s.start for s in draft.sentences)
    end = max(s.end for s in draft.sentences)
    district = districts[0].name if districts and (place is None or place.kind == "district") else None
    return IncidentCandidate(
        (start, end), text[start:end], round(max(min(confidence, 0.95), 0.05), 2), sha, span,
        place, city_name, district, weapons, _kind(weapons),
        tuple(dict.fromkeys(p.quote for p in draft.damage)),
        tuple(dict.fromkeys(p.quote for p in draft.casualties)),
        tuple(draft.hit), tuple(s for s in draft.not_hit if s not in draft.hit),
        tuple(dict.fromkeys(m.candidates for m in draft.ambiguous)), claimed_by, tuple(evidence),
    )  # fmt: skip
