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
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from deconflict.errors import NotFound
from deconflict.extract._text import sentences as split_sentences
from deconflict.extract.dates import find_dates, vague_times
from deconflict.extract.notifications import NotificationClaim, find_notifications
from deconflict.extract.people import natasha_people
from deconflict.extract.places import KYIV_GEONAMEID, PlaceMention, lookup_city
from deconflict.extract.publication import find_furniture, mask, publication_date
from deconflict.extract.reader import Report, read_report
from deconflict.extract.responses import DiplomaticResponse, find_responses
from deconflict.extract.sentences import ReportContext, Sentence, analyse, propositions
from deconflict.extract.sites import SiteMention, SiteResolver
from deconflict.extract.strikes import Evidence, IncidentCandidate, group_strikes, incident_candidate
from deconflict.model import Incident, Site, Source

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


def extract_report(
    text: str,
    *,
    sites: Sequence[Site],
    report_date: date | None = None,
    source_sha256: str | None = None,
    local: ZoneInfo | None = None,
    path: str | None = None,
    use_model: bool = True,
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
        When None, it is read from the text (a dateline, a time stamp, the page's address:
        :func:`~deconflict.extract.publication.publication_date`).
    source_sha256
        SHA-256 of the source document; the SHA-256 of ``text`` (UTF-8) when None.
    local
        Timezone of dates without a time; when None, that of the city the strike is in
        (GeoNames), else UTC.
    use_model
        Whether to use the Russian NER model of the ``ru-ner`` extra (natasha) when it is
        installed, to tell people from places in Russian text.
    """
    sha = source_sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    furniture = find_furniture(text)
    report_date = report_date or publication_date(text, furniture)
    story = mask(text, furniture)
    resolver = SiteResolver(sites)
    dates = find_dates(story, report_date)
    vague = vague_times(story)
    people = natasha_people(story) if use_model else []
    spans = [part for span in split_sentences(story) for part in propositions(story, span)]
    context = ReportContext()
    analysed: list[Sentence] = []
    for span in spans:
        city = next((p.city_geonameid for s in analysed for p in s.places if p.kind == "city"), None)
        paragraph = story.count("\n", 0, span[0])
        sentence = analyse(
            story, span, dates, resolver, context, city=city, vague=vague, people_spans=people, paragraph=paragraph
        )
        analysed.append(sentence)
    all_places = [p for s in analysed for p in s.places]
    main_place = all_places[0] if all_places else None
    owners = context.owners
    claimers: Counter[str] = Counter(code for s in analysed if s.claim for code, _ in s.parties if code not in owners)
    strike_places = [p for s in analysed if s.is_strike and not s.diplomatic for p in s.places if p.kind == "city"]
    fallback = strike_places[0] if strike_places else main_place
    # Dates without a time are read where the strikes are (a heading's "Moscow" is no strike's place).
    home = fallback or main_place
    zone_name = local.key if local else (home.timezone if home and home.timezone else "UTC")
    zone = local or ZoneInfo(zone_name)
    site_cities = {site.id: _city_id(site) for site in sites}
    city_names = {p.city_geonameid: p.name for p in all_places if p.kind == "city"}
    city_names.setdefault(KYIV_GEONAMEID, "Kyiv")
    incidents = [
        incident_candidate(
            d, story, report_date=report_date, fallback_place=fallback, local=local, sha=sha, claimers=claimers,
            site_cities=site_cities, city_names=city_names,
        )
        for d in group_strikes(story, analysed)
    ]  # fmt: skip
    incidents.sort(key=lambda c: (c.time.start if c.time else datetime.max.replace(tzinfo=zone), c.span))
    strikes = [(c.span[0], c.time) for c in incidents if c.time is not None and c.time.precision != "week"]
    notifications = find_notifications(
        analysed,
        strikes=strikes,
        report_date=report_date,
        local=zone,
        default_sender=context.main_owner,
        source_sha256=sha,
    )
    responses = find_responses(analysed, report_date=report_date, source_sha256=sha)
    mentions = tuple(m for s in analysed for m in s.sites)
    return ExtractionResult(
        sha, report_date, text, tuple(incidents), mentions, tuple(notifications), tuple(responses),
        path, zone_name, tuple(all_places),
    )  # fmt: skip


def _city_id(site: Site) -> int | None:
    city = lookup_city(site.city) if site.city else None
    return city.geonameid if city else None


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
