"""From a database to matches, statistics and report data (the library behind match/analyze/report).

:func:`match_database` and :func:`analyze_database` read the sites, the incidents that count
(confirmed status, not discounted) and the notifications of a :class:`~deconflict.db.Database`,
and call :mod:`deconflict.match` and :mod:`deconflict.stats`. A site's notification time is its
earliest notification (by the end of its interval): "after notification" counts from the latest
moment the first notification can have happened.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from shapely.geometry.base import BaseGeometry

from deconflict.db import Database
from deconflict.errors import InvalidInput, NotFound
from deconflict.ledger.note import note_signatures
from deconflict.match import IncidentInput, Match, SiteInput, match
from deconflict.model import Incident, Notification, Site
from deconflict.stats import SensitivityCell, SiteResult, analyze_sites

__all__ = [
    "AnalysisRun",
    "analyze_database",
    "data_labels",
    "first_notifications",
    "incident_inputs",
    "load_study_area",
    "match_database",
    "report_data",
    "site_inputs",
]


def first_notifications(db: Database) -> dict[str, Notification]:
    """Each site's earliest notification (by the end of its interval)."""
    first: dict[str, Notification] = {}
    for notification, _ in db.notifications.list():
        for site_id in notification.site_ids:
            known = first.get(site_id)
            if known is None or notification.notified_at.end < known.notified_at.end:
                first[site_id] = notification
    return first


def site_inputs(sites: Sequence[Site], first: dict[str, Notification]) -> list[SiteInput]:
    """The statistics' view of sites (with their first notification interval)."""
    from shapely import wkt

    inputs = []
    for site in sites:
        notified = first.get(site.id)
        inputs.append(
            SiteInput(
                id=site.id, lat=site.lat, lon=site.lon, radius_m=site.radius_m, kind=site.kind, city=site.city or "",
                notified_at=None if notified is None else (notified.notified_at.start, notified.notified_at.end),
                footprint=wkt.loads(site.footprint_wkt) if site.footprint_wkt else None,
                owner=site.owner or "", family="" if notified is None else notified.id,
            )
        )  # fmt: skip
    return inputs


def incident_inputs(incidents: Sequence[Incident]) -> list[IncidentInput]:
    """The statistics' view of incidents (every incident; uncounted ones are flagged, not dropped)."""
    return [
        IncidentInput(
            id=i.id, lat=i.lat, lon=i.lon, uncertainty_m=i.uncertainty_m, time=(i.time.start, i.time.end),
            uncertainty_model=i.uncertainty_model,  # type: ignore[arg-type]
            confidence=i.confidence, status=i.status,
        )
        for i in incidents
    ]  # fmt: skip


def data_labels(incidents: Sequence[Incident], sites: Sequence[Site]) -> list[str]:
    """Warnings every output carries: synthetic incidents, approximate sites, unverified records."""
    labels = []
    synthetic = sum(1 for i in incidents if (i.provenance or "").lower() == "synthetic")
    if synthetic:
        labels.append(f"SYNTHETIC data: {synthetic} of {len(incidents)} incidents are simulated, not real strikes")
    approximate = [s.id for s in sites if s.approximate]
    if approximate:
        labels.append(f"APPROXIMATE locations: {', '.join(approximate)}")
    unverified = sum(1 for i in incidents if i.status == "unverified")
    if unverified:
        labels.append(f"{unverified} unverified incidents are not counted (confirm them to count them)")
    return labels


def load_study_area(path: str | Path | None) -> BaseGeometry | None:
    """A WGS84 study-area polygon from a GeoJSON (geometry, Feature or FeatureCollection) or WKT file."""
    if path is None:
        return None
    from shapely import wkt
    from shapely.errors import ShapelyError
    from shapely.geometry import shape
    from shapely.ops import unary_union

    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound("study area file does not exist", where=str(path)) from None
    try:
        if text.lstrip().startswith("{"):
            document = json.loads(text)
            if document.get("type") == "FeatureCollection":
                geometry = unary_union([shape(f["geometry"]) for f in document["features"]])
            elif document.get("type") == "Feature":
                geometry = shape(document["geometry"])
            else:
                geometry = shape(document)
        else:
            geometry = wkt.loads(text)
    except (ValueError, KeyError, TypeError, ShapelyError) as exc:
        raise InvalidInput(f"not a GeoJSON or WKT polygon: {exc}", where=str(path)) from None
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty or not geometry.is_valid:
        raise InvalidInput("the study area must be a valid Polygon or MultiPolygon", where=str(path))
    return geometry


def match_database(db: Database, *, min_probability: float = 1e-3) -> list[Match]:
    """Every incident–site pair with a hit probability of at least ``min_probability``."""
    sites = [hit.site for hit in db.sites.list()]
    incidents = db.incidents.list()
    if not sites or not incidents:
        return []
    return match(site_inputs(sites, {}), incident_inputs(incidents), min_probability=min_probability)


@dataclass(frozen=True)
class AnalysisRun:
    """The statistics of a database, with what they rest on."""

    results: list[SiteResult]
    sites: dict[str, Site]
    notifications: dict[str, Notification]
    labels: list[str]
    seed: int
    sensitivity: list[SensitivityCell]

    def to_json(self, result: SiteResult, alpha: float = 0.05) -> dict[str, Any]:
        """One site's JSON, with its name, owner, sentence, flag and the data labels."""
        site = self.sites[result.site_id]
        data = result.to_json()
        notification = self.notifications.get(result.site_id)
        data.update(
            name=site.name, owner=site.owner, approximate_location=site.approximate,
            notified_at=None if notification is None else notification.notified_at.end.isoformat(),
            notified_interval=None if notification is None else notification.notified_at.to_text(),
            notified_to=None if notification is None else notification.recipient,
            sentence=result.sentence(), flagged=result.flagged(alpha), data_labels=self.labels, seed=self.seed,
        )  # fmt: skip
        return data


def analyze_database(
    db: Database,
    *,
    seed: int = 0,
    bandwidth_m: float | Literal["scott", "silverman", "cv"] | None = None,
    study_area: BaseGeometry | None = None,
    sensitivity_sites: Sequence[str] = (),
    require_sites: Sequence[str] = (),
) -> AnalysisRun:
    """Run the intentionality statistics over every site of ``db``.

    Parameters
    ----------
    seed
        Seed of the ``numpy.random.Generator`` used for randomised p-values and tie-breaking;
        the same seed and data give the same numbers.
    bandwidth_m
        Kernel bandwidth in metres or ``"cv"`` (default), ``"scott"``, ``"silverman"``.
    study_area
        WGS84 polygon of the study area (default: buffered hull of the incidents).
    sensitivity_sites
        Sites for which to compute the bandwidth × hit-radius sensitivity grid.
    require_sites
        Sites the caller asks about: refused (not silently dropped) when outside the study area.

    Raises
    ------
    InvalidInput
        When there are no sites or no counted incidents to analyse.
    """
    sites = [hit.site for hit in db.sites.list()]
    incidents = db.incidents.list()
    counted = [i for i in incidents if i.counted]
    if not sites:
        raise InvalidInput("no sites to analyse (import sites first)")
    if len(counted) < 10:
        raise InvalidInput(f"only {len(counted)} counted incidents: too few to estimate a background")
    labels = data_labels(incidents, sites)
    if study_area is not None:
        from shapely import contains_xy

        inside = contains_xy(study_area, [s.lon for s in sites], [s.lat for s in sites])
        outside = [s.id for s, ok in zip(sites, inside, strict=True) if not ok]
        wanted_outside = sorted(set(outside) & set(sensitivity_sites) | set(outside) & set(require_sites))
        if wanted_outside:
            raise InvalidInput(f"site(s) outside the study area cannot be tested: {', '.join(wanted_outside)}")
        if outside:
            labels.append(f"{len(outside)} site(s) outside the study area were not analysed")
        sites = [s for s, ok in zip(sites, inside, strict=True) if ok]
        if not sites:
            raise InvalidInput("no site lies inside the study area")
    first = first_notifications(db)
    rng = np.random.default_rng(seed)
    kwargs: dict[str, Any] = {"study_area": study_area}
    site_in, incident_in = site_inputs(sites, first), incident_inputs(incidents)
    results = analyze_sites(site_in, incident_in, rng=rng, bandwidth_m=bandwidth_m,
                            sensitivity_sites=sensitivity_sites, **kwargs)  # fmt: skip
    cells: list[SensitivityCell] = [c for r in results for c in r.sensitivity]
    return AnalysisRun(results, {s.id: s for s in sites}, first, labels, seed, cells)


def _cosignatures(note: str, own_name: str) -> list[dict[str, Any]]:
    """Witness signature lines of a checkpoint (shown, not verified: the bundle verifier checks them)."""
    return [
        {"name": s.name, "key_id": f"{s.key_id:08x}",
         "timestamp": int.from_bytes(s.signature[:8], "big") if len(s.signature) >= 8 else None}
        for s in note_signatures(note)
        if s.name != own_name
    ]  # fmt: skip


def report_data(
    db: Database,
    run: AnalysisRun | None,
    *,
    title: str = "deconflict report",
    matches: Sequence[Match] = (),
    study_area: BaseGeometry | None = None,
    study_area_label: str | None = None,
    alpha: float = 0.05,
    notes: Sequence[str] = (),
) -> Any:
    """A :class:`~deconflict.report.ReportData` for ``db`` (and an analysis, if any)."""
    from deconflict.report import ReportData

    sites = [hit.site for hit in db.sites.list()]
    incidents = db.incidents.list()
    notifications = [n for n, _ in db.notifications.list()]
    acknowledgements = [
        {"notification_id": a.notification_id, "recipient": a.recipient, "at": a.at, "reference": a.reference}
        for a, _ in db.notifications.acknowledgements()
    ]
    ledger_info = None
    try:
        latest = db.ledger.latest_checkpoint()
    except NotFound:
        latest = None
    if latest is not None:
        checkpoint = latest.checkpoint
        ledger_info = {
            "origin": checkpoint.origin, "size": checkpoint.size,
            "root_hash_b64": base64.b64encode(checkpoint.root_hash).decode(), "checkpoint_note": latest.note,
            "verifier_key": db.ledger.verifier_key, "cosignatures": _cosignatures(latest.note, checkpoint.origin),
        }  # fmt: skip
    analysis, periods, sensitivity = [], [], []
    if run is not None:
        analysis = [run.to_json(r, alpha) for r in run.results]
        start = min((i.time.start for i in incidents), default=None)
        end = max((i.time.end for i in incidents), default=None)
        for r in run.results:
            notification = run.notifications.get(r.site_id)
            if notification is None or start is None or end is None or r.expected_after is None:
                continue
            cut = notification.notified_at.end
            periods.append({"site_id": r.site_id, "period_start": start, "period_end": cut,
                            "observed": r.observed - (r.observed_after or 0.0),
                            "expected": r.expected - r.expected_after})  # fmt: skip
            periods.append({"site_id": r.site_id, "period_start": cut, "period_end": end,
                            "observed": r.observed_after, "expected": r.expected_after})  # fmt: skip
        sensitivity = [
            {"site_id": c.site_id, "bandwidth_m": c.bandwidth_m, "hit_radius_m": c.radius_m,
             "p_value": c.headline_p_value}
            for c in run.sensitivity
        ]  # fmt: skip
    return ReportData(
        title=title, generated_at=datetime.now(UTC), sites=sites, incidents=incidents, notifications=notifications,
        acknowledgements=acknowledgements,
        matches=[{"incident_id": m.incident_id, "site_id": m.site_id, "hit_probability": m.probability,
                  "distance_m": m.distance_m} for m in matches],
        analysis=analysis, sensitivity=sensitivity, periods=periods, ledger=ledger_info,
        notes=[label for label in data_labels(incidents, sites) if not label.startswith(("SYNTHETIC", "APPROXIMATE"))]
        + list(notes),
        study_area_wkt=None if study_area is None else study_area.wkt,
        study_area_label=study_area_label,
    )  # fmt: skip
