"""From a report's text to candidate records: incidents, site mentions, claims, responses.

:func:`extract_report` is the whole pipeline for one text; :func:`extract_paths` reads files
and folders; :func:`to_incidents` turns candidates into unverified
:class:`~deconflict.model.Incident` records for review.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from deconflict.errors import NotFound
from deconflict.extract._text import clauses, tokens
from deconflict.extract._text import sentences as split_sentences
from deconflict.extract.claims import (
    DiplomaticResponse,
    NotificationClaim,
    find_notifications,
    find_responses,
)
from deconflict.extract.dates import DateMention, find_dates
from deconflict.extract.places import PlaceMention, find_places
from deconflict.extract.reader import Report, read_report
from deconflict.extract.sentences import Phrase, Sentence, analyse
from deconflict.extract.sites import SiteMention, SiteResolver
from deconflict.extract.vocab import GENERIC_WEAPONS, WEAPON_KIND
from deconflict.model import Incident, Site, Source
from deconflict.times import TimeSpan

__all__ = [
    "REPORT_SUFFIXES",
    "Evidence",
    "ExtractionResult",
    "IncidentCandidate",
    "extract_paths",
    "extract_report",
    "to_incidents",
]

#: File suffixes :func:`extract_paths` reads from a folder.
REPORT_SUFFIXES: tuple[str, ...] = (".txt", ".text", ".md", ".html", ".htm")


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


@dataclass(frozen=True, slots=True)
class ExtractionResult:
    """Everything proposed from one report, each candidate pointing back at its words."""

    source_sha256: str
    report_date: date | None
    text: str
    incidents: tuple[IncidentCandidate, ...]
    site_mentions: tuple[SiteMention, ...]
    notifications: tuple[NotificationClaim, ...]
    responses: tuple[DiplomaticResponse, ...]
    path: str | None = None
    timezone: str = "UTC"
    places: tuple[PlaceMention, ...] = field(default=(), repr=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (without the full text)."""
        return {
            "source_sha256": self.source_sha256,
            "path": self.path,
            "report_date": self.report_date.isoformat() if self.report_date else None,
            "timezone": self.timezone,
            "incidents": [c.to_json() for c in self.incidents],
            "site_mentions": [m.to_json() for m in self.site_mentions],
            "notifications": [c.to_json() for c in self.notifications],
            "responses": [r.to_json() for r in self.responses],
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


def _clause_status(text: str, sentence: Sentence, mention: SiteMention) -> bool | None:
    spans = clauses(text, sentence.start, sentence.end)
    clause = next(((a, b) for a, b in spans if a <= mention.start < b), (sentence.start, sentence.end))
    phrases = [p for p in sentence.damage + sentence.attacks if clause[0] <= p.start < clause[1]]
    if not phrases:
        return None
    # One negated phrase in the clause ("was hit but not damaged" aside) means not hit.
    return not any(p.negated for p in phrases)


def _nearest_date(sentence: Sentence, offset: int) -> DateMention | None:
    before = [d for d in sentence.dates if d.start <= offset]
    return before[-1] if before else (sentence.dates[0] if sentence.dates else None)


def _key(mention: DateMention) -> tuple[date, str]:
    return (mention.day, mention.precision)


def _group(text: str, sentences: Sequence[Sentence]) -> list[_Draft]:
    """Group sentences into strikes: a dated strike sentence opens (or rejoins) a strike;
    undated sentences that follow add to it; a dated sentence about something else ends it."""
    drafts: dict[tuple[date, str] | None, _Draft] = {}
    current: _Draft | None = None
    last_site: SiteMention | None = None
    for sentence in sentences:
        if sentence.is_notification or (sentence.diplomatic and not sentence.weapons):
            continue
        if sentence.dates:
            if not sentence.is_strike:
                current = None
                continue
            for mention in sentence.dates:
                drafts.setdefault(_key(mention), _Draft(mention))
            current = drafts[_key(sentence.dates[-1])]
        elif sentence.is_strike and current is None:
            # An undated strike only counts when the sentence says what or where.
            if not (sentence.weapons or sentence.places):
                continue
            current = drafts.setdefault(None, _Draft(None))
        if current is None:
            continue
        fallback = current

        def target(offset: int, sentence: Sentence = sentence, fallback: _Draft = fallback) -> _Draft:
            mention = _nearest_date(sentence, offset)
            return drafts[_key(mention)] if mention else fallback

        involved = [drafts[_key(m)] for m in sentence.dates] or [current]
        for phrase in sentence.weapons:
            target(phrase.start).weapons.append(phrase)
        for phrase in sentence.damage:
            if not phrase.negated and phrase.label == "damage":
                target(phrase.start).damage.append(phrase)
        for phrase in sentence.casualties:
            if not phrase.negated:
                target(phrase.start).casualties.append(phrase)
        if sentence.is_strike:
            for place in sentence.places:
                target(place.start).places.append(place)
        for site_mention in sentence.sites:
            draft = target(site_mention.start)
            if site_mention.site_id is None:
                draft.ambiguous.append(site_mention)
                continue
            status = _clause_status(text, sentence, site_mention)
            if status is True:
                draft.hit.setdefault(site_mention.site_id, site_mention)
            elif status is False:
                draft.not_hit.setdefault(site_mention.site_id, site_mention)
        resolved = [m for m in sentence.sites if m.site_id]
        if resolved:
            last_site = resolved[-1]
        elif sentence.building and last_site is not None and last_site.site_id:
            # "The building was damaged": the site named just before.
            if any(not p.negated for p in sentence.damage if p.label == "damage"):
                current.hit.setdefault(last_site.site_id, last_site)
            elif any(p.negated for p in sentence.damage):
                current.not_hit.setdefault(last_site.site_id, last_site)
        for draft in {id(d): d for d in involved}.values():
            draft.sentences.append(sentence)
            draft.claim_only = draft.claim_only and sentence.claim
    undated = drafts.pop(None, None)
    dated = [d for d in drafts.values() if d.sentences]
    if undated is not None and undated.sentences and dated:
        # A headline before the dated account ("Attack on Kyiv") belongs to the first strike.
        first = dated[0]
        first.sentences[:0] = undated.sentences
        first.weapons += undated.weapons
        first.damage += undated.damage
        first.casualties += undated.casualties
        first.places[:0] = undated.places
        for site_id, site_mention in undated.hit.items():
            first.hit.setdefault(site_id, site_mention)
    elif undated is not None and undated.sentences:
        dated.append(undated)
    return dated


def _weapons(phrases: Iterable[Phrase]) -> tuple[str, ...]:
    names = list(dict.fromkeys(p.label for p in phrases))
    return tuple(n for n in names if not (GENERIC_WEAPONS.get(n, frozenset()) & set(names)))


def _kind(weapons: Sequence[str]) -> str | None:
    kinds = {WEAPON_KIND[w] for w in weapons}
    for kind in ("debris", "missile", "drone", "bomb", "artillery"):
        if kind in kinds:
            return kind
    return None


def _candidate(
    draft: _Draft,
    text: str,
    *,
    report_date: date | None,
    fallback_place: PlaceMention | None,
    local: ZoneInfo | None,
    sha: str,
    claimers: Counter[str],
) -> IncidentCandidate:
    districts = [p for p in draft.places if p.kind == "district"]
    cities = [p for p in draft.places if p.kind == "city"]
    place = districts[0] if districts else (cities[0] if cities else fallback_place)
    city_name = None
    if place is not None:
        city_name = place.name if place.kind == "city" else "Kyiv"
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
    return IncidentCandidate(
        (start, end), text[start:end], round(max(min(confidence, 0.95), 0.05), 2), sha, span,
        place, city_name, districts[0].name if districts else None, weapons, _kind(weapons),
        tuple(dict.fromkeys(p.quote for p in draft.damage)),
        tuple(dict.fromkeys(p.quote for p in draft.casualties)),
        tuple(draft.hit), tuple(s for s in draft.not_hit if s not in draft.hit),
        tuple(dict.fromkeys(m.candidates for m in draft.ambiguous)), claimed_by, tuple(evidence),
    )  # fmt: skip


def extract_report(
    text: str,
    *,
    sites: Sequence[Site],
    report_date: date | None = None,
    source_sha256: str | None = None,
    local: ZoneInfo | None = None,
    path: str | None = None,
) -> ExtractionResult:
    """Propose incidents, site mentions, notification claims and responses from one report.

    Parameters
    ----------
    text
        The report's plain text (see :func:`~deconflict.extract.reader.read_report` for HTML).
    sites
        The registry the site mentions are resolved against.
    report_date
        Publication date; relative dates ("last night") and dates without a year need it.
    source_sha256
        SHA-256 of the source document; the SHA-256 of ``text`` (UTF-8) when None.
    local
        Timezone of dates without a time; when None, that of the city the strike is in
        (GeoNames), else UTC.
    """
    sha = source_sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    resolver = SiteResolver(sites)
    dates = find_dates(text, report_date)
    spans = split_sentences(text)
    all_places = find_places(text, tokens(text))
    main_place = all_places[0] if all_places else None
    main_city = main_place.city_geonameid if main_place else None
    owners: Counter[str] = Counter()
    analysed: list[Sentence] = []
    for span in spans:
        speaker = owners.most_common(1)[0][0] if owners else None
        sentence = analyse(text, span, dates, resolver, city=main_city, speaker=speaker)
        owners.update(m.owner for m in sentence.sites if m.owner and m.site_id)
        analysed.append(sentence)
    claimers: Counter[str] = Counter(code for s in analysed if s.claim for code, _ in s.parties if code not in owners)
    zone_name = local.key if local else (main_place.timezone if main_place and main_place.timezone else "UTC")
    zone = local or ZoneInfo(zone_name)
    strike_places = [p for s in analysed if s.is_strike and not s.diplomatic for p in s.places if p.kind == "city"]
    fallback = strike_places[0] if strike_places else main_place
    incidents = [
        _candidate(d, text, report_date=report_date, fallback_place=fallback, local=local, sha=sha, claimers=claimers)
        for d in _group(text, analysed)
    ]
    incidents.sort(key=lambda c: (c.time.start if c.time else datetime.max.replace(tzinfo=zone), c.span))
    strikes = [(c.span[0], c.time) for c in incidents if c.time is not None and c.time.precision != "week"]
    notifications = find_notifications(
        analysed,
        strikes=strikes,
        report_date=report_date,
        local=zone,
        default_sender=owners.most_common(1)[0][0] if owners else None,
        source_sha256=sha,
    )
    responses = find_responses(analysed, report_date=report_date, source_sha256=sha)
    mentions = tuple(m for s in analysed for m in s.sites)
    return ExtractionResult(
        sha, report_date, text, tuple(incidents), mentions, tuple(notifications), tuple(responses),
        path, zone_name, tuple(all_places),
    )  # fmt: skip


def _report_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in REPORT_SUFFIXES and p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            raise NotFound("no such report file or folder", where=str(path))
    return files


def extract_paths(
    paths: Iterable[str | Path],
    *,
    sites: Sequence[Site],
    default_date: date | None = None,
    local: ZoneInfo | None = None,
) -> list[ExtractionResult]:
    """Run :func:`extract_report` on report files and on every report file inside folders.

    Raises
    ------
    NotFound
        When a path does not exist.
    InvalidInput
        When a file is not text.
    """
    results = []
    for file in _report_files(paths):
        report: Report = read_report(file, default_date=default_date)
        results.append(
            extract_report(
                report.text, sites=sites, report_date=report.report_date,
                source_sha256=report.sha256, local=local, path=str(file),
            )
        )  # fmt: skip
    return results


def to_incidents(result: ExtractionResult, *, id_prefix: str = "x") -> list[Incident]:
    """Unverified :class:`~deconflict.model.Incident` records for the candidates of ``result``.

    Candidates without a time or a place are left out (they cannot be placed on the map
    or the timeline); they stay visible in the extraction output. Each record has
    ``status='unverified'``, ``provenance='extracted'``, the report's SHA-256 as source and
    the quoted words in ``notes``, so a reviewer sees what the record rests on.
    """
    incidents = []
    for number, candidate in enumerate(result.incidents, start=1):
        if candidate.time is None or candidate.place is None:
            continue
        confidence = "contested" if candidate.claimed_by else ("fair" if candidate.confidence >= 0.8 else "weak")
        notes = f"span {candidate.span[0]}-{candidate.span[1]}: {candidate.quote}"
        if candidate.sites_hit:
            notes += f" | sites hit: {', '.join(candidate.sites_hit)}"
        incidents.append(
            Incident(
                id=f"{id_prefix}-{result.source_sha256[:12]}-{number}",
                time=candidate.time,
                lat=candidate.place.lat,
                lon=candidate.place.lon,
                uncertainty_m=candidate.place.uncertainty_m,
                kind=candidate.kind,
                weapon=", ".join(candidate.weapons) or None,
                confidence=confidence,
                source=Source(url=result.path, sha256=result.source_sha256),
                notes=notes[:2000],
                provenance="extracted",
                status="unverified",
            )
        )
    return incidents
