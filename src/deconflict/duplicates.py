"""Duplicate reports of one strike: proposing groups, and building the merged incident.

The statistics assume each incident is one strike. When several sources report the same
strike (a news agency, ACLED, a ministry's list), it would count two or three times; that
inflates both the background and a site's hits. :func:`find_duplicates` proposes groups of
reports that may be one strike; :func:`merged_incident` builds the one incident a merge
records (:meth:`deconflict.db.Incidents.merge`).

Two reports are candidates when:

- their time intervals overlap (an instant is a zero-length interval);
- their points are no further apart than the sum of their uncertainties plus
  :data:`DUPLICATE_SLACK_M` (the distance is geodesic);
- their kinds and weapons are compatible (equal, or one of them not given);
- they come from different sources: two records of one import batch are taken as distinct
  events (whoever compiled the batch de-duplicated it; a salvo is several impacts).

Reports too vague to tell apart (an interval longer than :data:`MAX_SPAN` or an uncertainty
above :data:`MAX_UNCERTAINTY_M`) are never proposed. Candidates are grouped transitively.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import numpy as np

from deconflict.geo import geodesic_distance_m
from deconflict.model import Incident, Source

__all__ = [
    "DUPLICATE_SLACK_M",
    "MAX_SPAN",
    "MAX_UNCERTAINTY_M",
    "DuplicateGroup",
    "find_duplicates",
    "merge_warnings",
    "merged_incident",
]

#: Added to the sum of two reports' uncertainties (a point given to the nearest address, a pin).
DUPLICATE_SLACK_M = 100.0
#: Reports whose time interval is longer than this are too vague to be called duplicates.
MAX_SPAN = timedelta(days=2)
#: Reports whose location is less precise than this are too vague to be called duplicates.
MAX_UNCERTAINTY_M = 5_000.0
_EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Reports that may be one strike, with the one a merge would keep (the most precise)."""

    incident_ids: tuple[str, ...]
    keep: str
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The group as JSON (``incidents duplicates --json`` and the API)."""
        return {"incident_ids": list(self.incident_ids), "keep": self.keep, "reasons": self.reasons}


def _precision_key(incident: Incident) -> tuple[float, float, str]:
    return (incident.uncertainty_m, (incident.time.end - incident.time.start).total_seconds(), incident.id)


def _compatible(a: str | None, b: str | None) -> bool:
    return not a or not b or a.strip().lower() == b.strip().lower()


def _distinct_sources(a: Incident, b: Incident, batch: dict[str, int | None]) -> bool:
    if batch.get(a.id) is not None and batch.get(a.id) == batch.get(b.id):
        return False
    return not (a.source.url and a.source.url == b.source.url)


def _why(a: Incident, b: Incident, distance_m: float) -> str:
    return (
        f"{a.id} and {b.id}: {distance_m:,.0f} m apart (uncertainties {a.uncertainty_m:,.0f} m and "
        f"{b.uncertainty_m:,.0f} m), times overlap"
    )


def find_duplicates(
    incidents: Sequence[Incident], batches: dict[str, int | None] | None = None
) -> list[DuplicateGroup]:
    """Groups of reports that may be one strike (see the module's rules), largest first.

    Parameters
    ----------
    incidents
        The incidents in force.
    batches
        Each incident's log entry (its import batch); two reports of one batch are not proposed.
    """
    batch = batches or {}
    eligible = [i for i in incidents if i.uncertainty_m <= MAX_UNCERTAINTY_M and i.time.end - i.time.start <= MAX_SPAN]
    if len(eligible) < 2:
        return []
    from scipy.spatial import cKDTree

    lat = np.radians([i.lat for i in eligible])
    lon = np.radians([i.lon for i in eligible])
    xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]) * _EARTH_RADIUS_M
    reach = 2 * MAX_UNCERTAINTY_M + DUPLICATE_SLACK_M
    # Time as a fourth axis, scaled so that MAX_SPAN is `reach` metres: the box query (p=inf) then
    # yields every pair whose intervals can overlap and whose points can be within their uncertainties.
    start = np.array([i.time.start.timestamp() for i in eligible])
    end = np.array([i.time.end.timestamp() for i in eligible])
    scale = reach / MAX_SPAN.total_seconds()
    points = np.column_stack([xyz, (start + end) / 2 * scale])
    pairs = cKDTree(points).query_pairs(reach, p=np.inf, output_type="ndarray")
    parent = list(range(len(eligible)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    reasons: dict[int, list[str]] = {}
    for i, j in pairs:
        a, b = eligible[i], eligible[j]
        if a.time.end < b.time.start or b.time.end < a.time.start:
            continue
        if not (_compatible(a.kind, b.kind) and _compatible(a.weapon, b.weapon) and _distinct_sources(a, b, batch)):
            continue
        distance = float(geodesic_distance_m(a.lon, a.lat, b.lon, b.lat))
        if distance > a.uncertainty_m + b.uncertainty_m + DUPLICATE_SLACK_M:
            continue
        ri, rj = root(int(i)), root(int(j))
        if ri != rj:
            parent[rj] = ri
            reasons.setdefault(ri, []).extend(reasons.pop(rj, []))
        reasons.setdefault(ri, []).append(_why(a, b, distance))
    groups: dict[int, list[Incident]] = {}
    for k in range(len(eligible)):
        groups.setdefault(root(k), []).append(eligible[k])
    found = [
        DuplicateGroup(
            tuple(sorted(i.id for i in members)), min(members, key=_precision_key).id, sorted(reasons.get(key, []))
        )
        for key, members in groups.items()
        if len(members) > 1
    ]
    return sorted(found, key=lambda g: (-len(g.incident_ids), g.incident_ids))


def merge_warnings(members: Sequence[Incident]) -> list[str]:
    """Why ``members`` may not be one strike: times that do not overlap, points beyond their uncertainties."""
    warnings = []
    for k, a in enumerate(members):
        for b in members[k + 1 :]:
            if a.time.end < b.time.start or b.time.end < a.time.start:
                warnings.append(f"{a.id} and {b.id} do not overlap in time ({a.time.to_text()}, {b.time.to_text()})")
            distance = float(geodesic_distance_m(a.lon, a.lat, b.lon, b.lat))
            if distance > a.uncertainty_m + b.uncertainty_m + DUPLICATE_SLACK_M:
                warnings.append(
                    f"{a.id} and {b.id} are {distance:,.0f} m apart, beyond their uncertainties "
                    f"({a.uncertainty_m:,.0f} m and {b.uncertainty_m:,.0f} m)"
                )
            if not (_compatible(a.kind, b.kind) and _compatible(a.weapon, b.weapon)):
                warnings.append(f"{a.id} and {b.id} report different kinds or weapons")
    return warnings


def merged_incident(members: Sequence[Incident], keep: str | None = None) -> Incident:
    """The one incident that several reports describe.

    The kept report (``keep``, default the most precise) gives the id, kind, weapon, confidence,
    notes, provenance and status; the location is the most precise one (smallest uncertainty),
    the time the most precise one (shortest interval); every other report's sources are added to
    ``more_sources`` (each once).
    """
    kept = next(m for m in members if m.id == keep) if keep else min(members, key=_precision_key)
    place = min(members, key=lambda m: (m.uncertainty_m, m.id != kept.id))
    when = min(members, key=lambda m: (m.time.end - m.time.start, m.id != kept.id))
    seen = set(kept.sources)
    more = list(kept.more_sources)
    for member in members:
        for source in member.sources:
            if source not in seen and source != Source():
                seen.add(source)
                more.append(source)
    return replace(
        kept,
        lat=place.lat,
        lon=place.lon,
        uncertainty_m=place.uncertainty_m,
        uncertainty_model=place.uncertainty_model,
        time=when.time,
        kind=kept.kind or next((m.kind for m in members if m.kind), None),
        weapon=kept.weapon or next((m.weapon for m in members if m.weapon), None),
        more_sources=tuple(more),
    )
