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
from numpy.typing import NDArray

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


def _why(a: Incident, b: Incident, distance_m: float) -> str:
    return (
        f"{a.id} and {b.id}: {distance_m:,.0f} m apart (uncertainties {a.uncertainty_m:,.0f} m and "
        f"{b.uncertainty_m:,.0f} m), times overlap"
    )


def _classes(values: NDArray[np.float64], edges: Sequence[float]) -> NDArray[np.int64]:
    return np.searchsorted(np.asarray(edges), values, side="left")


def _codes(values: Sequence[str | None]) -> NDArray[np.int64]:
    """Integer codes of normalised texts; 0 for none (compatible with anything)."""
    table: dict[str, int] = {}
    return np.array([table.setdefault(v.strip().lower(), len(table) + 1) if v else 0 for v in values], dtype=np.int64)


_UNCERTAINTY_EDGES = (0.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_000.0, MAX_UNCERTAINTY_M)
_HALF_SPAN_EDGES_S = (0.0, 1_800.0, 3 * 3_600.0, 6 * 3_600.0, 12 * 3_600.0, 24 * 3_600.0)


def _candidate_pairs(xyz: NDArray[np.float64], mid: NDArray[np.float64], half: NDArray[np.float64],
                     unc: NDArray[np.float64]) -> NDArray[np.int64]:  # fmt: skip
    """Index pairs that may overlap in time and lie within their uncertainties (a superset).

    Reports are put in classes of uncertainty and of interval length; for each pair of classes a
    box query (Chebyshev distance on position and scaled time) with the classes' largest reaches
    finds the candidates, so a few vague reports do not widen the search for all.
    """
    from scipy.spatial import cKDTree

    u_class, h_class = _classes(unc, _UNCERTAINTY_EDGES), _classes(half, _HALF_SPAN_EDGES_S)
    groups: dict[tuple[int, int], NDArray[np.int64]] = {}
    for key in sorted(set(zip(u_class.tolist(), h_class.tolist(), strict=True))):
        groups[key] = np.flatnonzero((u_class == key[0]) & (h_class == key[1]))
    found: list[NDArray[np.int64]] = []
    keys = list(groups)
    for a, key_a in enumerate(keys):
        for key_b in keys[a:]:
            ia, ib = groups[key_a], groups[key_b]
            space = float(unc[ia].max() + unc[ib].max() + DUPLICATE_SLACK_M)
            time_reach = float(half[ia].max() + half[ib].max())
            scale = space / time_reach if time_reach > 0 else 0.0
            if scale == 0.0:  # instants: the same second only
                scale, space = 1.0, max(space, 1e-6)
            pa = np.column_stack([xyz[ia], mid[ia] * scale])
            pb = np.column_stack([xyz[ib], mid[ib] * scale])
            tree_a, tree_b = cKDTree(pa), cKDTree(pb)
            matrix = tree_a.sparse_distance_matrix(tree_b, space * (1 + 1e-9), p=np.inf, output_type="ndarray")
            if len(matrix):
                pairs = np.column_stack([ia[matrix["i"]], ib[matrix["j"]]])
                found.append(pairs[pairs[:, 0] < pairs[:, 1]] if key_a == key_b else pairs)
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.sort(np.concatenate(found), axis=1)
    return np.unique(pairs, axis=0)


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
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    lat = np.array([i.lat for i in eligible])
    lon = np.array([i.lon for i in eligible])
    phi, lam = np.radians(lat), np.radians(lon)
    xyz = np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)]) * _EARTH_RADIUS_M
    start = np.array([i.time.start.timestamp() for i in eligible])
    end = np.array([i.time.end.timestamp() for i in eligible])
    unc = np.array([i.uncertainty_m for i in eligible])
    pairs = _candidate_pairs(xyz, (start + end) / 2, (end - start) / 2, unc)
    a, b = pairs[:, 0], pairs[:, 1]
    keep = (start[a] <= end[b]) & (start[b] <= end[a])
    kinds, weapons = _codes([i.kind for i in eligible]), _codes([i.weapon for i in eligible])
    keep &= (kinds[a] == 0) | (kinds[b] == 0) | (kinds[a] == kinds[b])
    keep &= (weapons[a] == 0) | (weapons[b] == 0) | (weapons[a] == weapons[b])
    entries = np.array([-1 if batch.get(i.id) is None else int(batch[i.id]) for i in eligible])  # type: ignore[arg-type]
    keep &= (entries[a] < 0) | (entries[a] != entries[b])
    urls = _codes([i.source.url for i in eligible])
    keep &= (urls[a] == 0) | (urls[a] != urls[b])
    a, b = a[keep], b[keep]
    distance = geodesic_distance_m(lon[a], lat[a], lon[b], lat[b])
    close = distance <= unc[a] + unc[b] + DUPLICATE_SLACK_M
    a, b, distance = a[close], b[close], distance[close]
    if len(a) == 0:
        return []
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(eligible), len(eligible)))
    _, labels = connected_components(graph, directed=False)
    members: dict[int, list[int]] = {}
    for k in np.unique(np.concatenate([a, b])).tolist():
        members.setdefault(int(labels[k]), []).append(k)
    reasons: dict[int, list[str]] = {}
    for i, j, d in zip(a.tolist(), b.tolist(), distance.tolist(), strict=True):
        reasons.setdefault(int(labels[i]), []).append(_why(eligible[i], eligible[j], d))
    found = [
        DuplicateGroup(
            tuple(sorted(eligible[k].id for k in ks)),
            min((eligible[k] for k in ks), key=_precision_key).id,
            sorted(reasons.get(label, [])),
        )
        for label, ks in members.items()
        if len(ks) > 1
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
