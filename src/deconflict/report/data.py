"""What a report shows: :class:`ReportData`, and its conversion to the JSON the page reads.

A report is a pure function of a :class:`ReportData`; the library fills it from a database
and an analysis (sites, incidents, notifications, matches, per-site statistics, the ledger's
checkpoint). Nothing here reads a database, so a report can be rebuilt from a saved state.

Labelling rules (applied on the map, in the timeline and in every table):

- an :class:`~deconflict.model.Incident` whose ``provenance`` is ``"synthetic"`` is SYNTHETIC;
- a :class:`~deconflict.model.Site` with ``approximate=True`` has an APPROXIMATE location.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deconflict.match import Match
from deconflict.model import Acknowledgement, Incident, Notification, Site, owner_name
from deconflict.times import TimeSpan, format_utc

__all__ = [
    "Cosignature",
    "LedgerState",
    "OutsideTime",
    "Period",
    "ReportData",
    "SensitivityPoint",
    "is_approximate",
    "is_synthetic",
    "provenance_of",
    "report_json",
]


@dataclass(frozen=True)
class Period:
    """Observed and expected hits of one site in one period (e.g. before / after notification)."""

    site_id: str
    start: datetime
    end: datetime
    observed: float
    expected: float


@dataclass(frozen=True)
class SensitivityPoint:
    """One cell of a site's sensitivity grid: the p-value under one bandwidth and hit radius."""

    site_id: str
    bandwidth_m: float
    hit_radius_m: float
    p_value: float


@dataclass(frozen=True)
class Cosignature:
    """A witness's cosignature line on a checkpoint (shown; bundles verify them)."""

    name: str
    key_id: str
    timestamp: int | None


@dataclass(frozen=True)
class OutsideTime:
    """For one notification or acknowledgement: its claimed time and the first outside proof of recording."""

    kind: str
    record_id: str
    log_index: int
    claimed: str | None
    first_time: str | None
    vouched_by: str | None
    gap: str
    statement: str


@dataclass(frozen=True)
class LedgerState:
    """The log's latest signed checkpoint as the report shows it."""

    origin: str
    size: int
    root_hash_b64: str
    checkpoint_note: str
    verifier_key: str
    cosignatures: tuple[Cosignature, ...] = ()
    outside_times: tuple[OutsideTime, ...] = ()


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows.

    Attributes
    ----------
    title
        Heading of the report.
    generated_at
        When the report was made (timezone-aware).
    sites, incidents, notifications
        The records shown on the map, in the timeline and in the tables.
    acknowledgements
        Acknowledgements of the notifications shown.
    matches
        Incident–site pairs that may be hits (:class:`~deconflict.match.Match`).
    analysis
        One dict per site as printed by ``deconflict analyze --json`` plus ``sentence``
        (plain language) and ``flagged`` (bool): ``site_id``, ``observed``, ``expected``,
        ``p_value``, ``notified_at`` (ISO text or None), ``observed_after``,
        ``expected_after``, ``p_value_after``, ``rate_ratio``, ``rate_ratio_ci``,
        ``p_value_change``, ``p_value_control``, ``p_adjusted``, ``assumptions``.
    sensitivity
        The sensitivity grids of the featured sites.
    periods
        Expected vs observed hits per period and site.
    ledger
        The log's latest signed checkpoint, or None.
    notes
        Data provenance notes shown at the top, e.g. "background strikes are SYNTHETIC".
    study_area_wkt
        Optional WGS84 (Multi)Polygon drawn as the study area outline (offline basemap).
    study_area_label
        What that outline is, e.g. "Study area: a box around Kyiv (not the city boundary)".
    timezone
        The database's IANA timezone: every time is shown in it, with its precision
        (:func:`deconflict.times.format_span`).
    guarantees
        Commitments (with their compliance ``status`` and acknowledgement deadline), movements
        (routes drawn on the map) and alerts, as their ``to_json`` (:mod:`deconflict.guarantees`):
        ``{"commitments": [...], "movements": [...], "alerts": [...]}``; None when there are none.
    highlighted
        The site ids the text and tables lead with, most significant first
        (:meth:`deconflict.analysis.AnalysisRun.highlighted`: notified, flagged, near-flagged or
        hit); the other sites are one sortable table (HTML) and one summary line (PDF).
    about
        The "About this analysis" box: ``(what, value)`` pairs naming the seed, study area,
        options and database state the numbers were computed from, and how to reproduce them.
    """

    title: str
    generated_at: datetime
    sites: list[Site]
    incidents: list[Incident]
    notifications: list[Notification] = field(default_factory=list)
    acknowledgements: list[Acknowledgement] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    analysis: list[dict[str, Any]] = field(default_factory=list)
    sensitivity: list[SensitivityPoint] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    ledger: LedgerState | None = None
    notes: list[str] = field(default_factory=list)
    study_area_wkt: str | None = None
    study_area_label: str | None = None
    timezone: str = "UTC"
    guarantees: dict[str, Any] | None = None
    highlighted: list[str] = field(default_factory=list)
    about: list[tuple[str, str]] = field(default_factory=list)


def is_synthetic(incident: Incident) -> bool:
    """Whether ``incident`` is simulated (provenance ``synthetic``) and must be labelled so."""
    return (incident.provenance or "").strip().lower() == "synthetic"


def provenance_of(incident: Incident) -> str:
    """The incident's provenance as shown: ``synthetic`` for every synthetic spelling, else as given."""
    return "synthetic" if is_synthetic(incident) else (incident.provenance or "unspecified")


def is_approximate(site: Site) -> bool:
    """Whether ``site``'s location is approximate and must be labelled so."""
    return bool(site.approximate)


def iso(value: datetime | str | None) -> str | None:
    """ISO 8601 UTC text of a datetime (text passes through unchanged)."""
    if value is None or isinstance(value, str):
        return value
    return format_utc(value)


def span_json(span: TimeSpan) -> dict[str, Any]:
    """A :class:`TimeSpan` as ``{"start", "end", "precision"}`` with ISO UTC text."""
    return {"start": format_utc(span.start), "end": format_utc(span.end), "precision": span.precision}


def notified_sites(data: ReportData) -> dict[str, list[Notification]]:
    """Notifications per site id, earliest first."""
    by_site: dict[str, list[Notification]] = {}
    for notification in sorted(data.notifications, key=lambda n: n.notified_at.start):
        for site_id in notification.site_ids:
            by_site.setdefault(site_id, []).append(notification)
    return by_site


def _incident_columns(incidents: list[Incident]) -> dict[str, Any]:
    """Incidents as columns (compact JSON; 100,000 incidents are a few megabytes)."""
    provenances: list[str] = []
    provenance_index: dict[str, int] = {}
    columns: dict[str, list[Any]] = {k: [] for k in ("id", "lat", "lon", "unc", "t0", "t1", "prov", "kind")}
    for incident in incidents:
        provenance = provenance_of(incident)
        if provenance not in provenance_index:
            provenance_index[provenance] = len(provenances)
            provenances.append(provenance)
        columns["id"].append(incident.id)
        columns["lat"].append(round(incident.lat, 6))
        columns["lon"].append(round(incident.lon, 6))
        columns["unc"].append(round(incident.uncertainty_m, 1))
        columns["t0"].append(int(incident.time.start.timestamp()))
        columns["t1"].append(int(incident.time.end.timestamp()))
        columns["prov"].append(provenance_index[provenance])
        columns["kind"].append(incident.kind or "")
    return {"provenances": provenances, "synthetic": [p == "synthetic" for p in provenances], **columns}


def report_json(data: ReportData) -> dict[str, Any]:
    """The JSON document embedded in the report (the page's only data source).

    Sites and matches are lists of objects; incidents are columns (``id``, ``lat``, ``lon``,
    ``unc`` metres, ``t0``/``t1`` epoch seconds, ``prov`` index into ``provenances``), which
    keeps a report with 100,000 incidents small and fast to parse.
    """
    notified = notified_sites(data)
    incidents_by_id = {incident.id: incident for incident in data.incidents}
    sites = []
    for site in data.sites:
        first = notified.get(site.id, [])
        sites.append(
            {
                "id": site.id,
                "name": site.name,
                "kind": site.kind,
                "owner": site.owner,
                "owner_name": owner_name(site.owner),
                "lat": site.lat,
                "lon": site.lon,
                "radius_m": site.radius_m,
                "approximate": is_approximate(site),
                "notified_at": span_json(first[0].notified_at) if first else None,
                "notified_to": first[0].recipient if first else None,
            }
        )
    matches = [
        {**m.to_json(), "synthetic": is_synthetic(incidents_by_id[m.incident_id])}
        for m in data.matches
        if m.incident_id in incidents_by_id
    ]
    return {
        "title": data.title,
        "generated_at": iso(data.generated_at),
        "notes": list(data.notes),
        "sites": sites,
        "incidents": _incident_columns(data.incidents),
        "matches": matches,
        "notifications": [
            {
                "id": n.id,
                "site_ids": list(n.site_ids),
                "recipient": n.recipient,
                "notified_at": span_json(n.notified_at),
                "channel": n.channel,
                "reference": n.reference,
            }
            for n in data.notifications
        ],
        "acknowledgements": [
            {
                "notification_id": a.notification_id,
                "recipient": a.recipient,
                "at": span_json(a.at),
                "reference": a.reference,
            }
            for a in data.acknowledgements
        ],
        "analysis": data.analysis,
        "sensitivity": [dataclasses.asdict(c) for c in data.sensitivity],
        "periods": [
            {
                "site_id": p.site_id,
                "period_start": iso(p.start),
                "period_end": iso(p.end),
                "observed": p.observed,
                "expected": p.expected,
            }
            for p in data.periods
        ],
        "ledger": None if data.ledger is None else dataclasses.asdict(data.ledger),
        "study_area": _study_area_geojson(data.study_area_wkt),
        "study_area_label": data.study_area_label,
        "guarantees": data.guarantees or {"commitments": [], "movements": [], "alerts": []},
    }


def _study_area_geojson(wkt: str | None) -> dict[str, Any] | None:
    if not wkt:
        return None
    from shapely import wkt as shapely_wkt
    from shapely.geometry import mapping

    geometry: dict[str, Any] = mapping(shapely_wkt.loads(wkt))
    return geometry
