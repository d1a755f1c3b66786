"""The application layer: matches, statistics and report data of a database, for every door.

The CLI, the REST API and the web UI call these functions and print what they return; none of
them computes, defaults or filters anything of its own. One set of defaults lives here
(:data:`DEFAULT_SEED`, :data:`DEFAULT_MIN_PROBABILITY`, :data:`MIN_COUNTED_INCIDENTS`, the
study area and bandwidth of :class:`AnalysisOptions`), and every function takes the caller's
:class:`~deconflict.access.Principal`: the computation always runs over the whole database (the
background needs every strike, control sites come from the whole registry), and the result is
then restricted to what the caller may see, coarsened where its view is coarse.

- :func:`match_database`: incident-site pairs with hit probabilities (:class:`MatchRecord`);
- :func:`analyze_database`: per-site statistics (:class:`AnalysisRun`);
- :func:`report_data`: everything a report shows (:class:`~deconflict.report.ReportData`).

A site's notification time is its earliest notification (by the end of its interval): "after
notification" counts from the latest moment the first notification can have happened.
Results are cached per database state (location, log size, counts) and options, so a report
and an analysis computed from the same state agree and cost one computation.
"""

from __future__ import annotations

import base64
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from shapely.geometry.base import BaseGeometry

from deconflict.access import (
    COARSE_GRID_DEG,
    IncidentViews,
    LocationView,
    Principal,
    coarsened_site,
    visible_notifications,
    visible_site,
)
from deconflict.db import Database
from deconflict.errors import InvalidInput, NotFound
from deconflict.ledger.note import note_signatures
from deconflict.limits import load_json, read_limited_text
from deconflict.match import IncidentInput, Match, SiteInput, match
from deconflict.model import Acknowledgement, Incident, Notification, Site
from deconflict.names import city_label
from deconflict.options import (
    DEFAULT_ALPHA,
    DEFAULT_MIN_PROBABILITY,
    DEFAULT_SEED,
    MIN_COUNTED_INCIDENTS,
    AnalysisOptions,
    parse_bandwidth,
)
from deconflict.progress import ProgressCallback
from deconflict.records import record_labels
from deconflict.stats import SensitivityCell, SiteResult, analyze_sites, attach_sensitivity, sensitivity_grid

if TYPE_CHECKING:
    from deconflict.report import LedgerState, OutsideTime, Period, ReportData, SensitivityPoint

T = TypeVar("T")

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_MIN_PROBABILITY",
    "DEFAULT_SEED",
    "MIN_COUNTED_INCIDENTS",
    "AnalysisOptions",
    "AnalysisRun",
    "MatchRecord",
    "analyze_database",
    "data_labels",
    "first_notifications",
    "incident_inputs",
    "load_study_area",
    "match_database",
    "parse_bandwidth",
    "report_data",
    "resolve_options",
    "site_inputs",
]


def resolve_options(db: Database, **overrides: Any) -> AnalysisOptions:
    """The database's analysis options (:meth:`Database.analysis_options`) with ``overrides`` applied.

    An override of ``None`` keeps the database's value: a door passes what the user gave.
    """
    import dataclasses

    given = {name: value for name, value in overrides.items() if value is not None}
    unknown = sorted(set(given) - {f.name for f in dataclasses.fields(AnalysisOptions)})
    if unknown:
        raise InvalidInput(f"unknown analysis option(s): {', '.join(unknown)}")
    base = db.analysis_options()
    if "study_area" in given and "study_area_label" not in given:
        given["study_area_label"] = None
    options = dataclasses.replace(base, **given)
    return options


# -- inputs -------------------------------------------------------------------------------------


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
                id=site.id,
                lat=site.lat,
                lon=site.lon,
                radius_m=site.radius_m,
                kind=site.kind,
                city=city_label(site.city, near=(site.lat, site.lon)),  # the city as a place (GeoNames)
                notified_at=None if notified is None else (notified.notified_at.start, notified.notified_at.end),
                footprint=wkt.loads(site.footprint_wkt) if site.footprint_wkt else None,
                owner=site.owner or "",
                family="" if notified is None else notified.id,
            )
        )
    return inputs


def incident_inputs(incidents: Sequence[Incident]) -> list[IncidentInput]:
    """The statistics' view of incidents (every incident; uncounted ones are flagged, not dropped)."""
    return [
        IncidentInput(
            id=i.id,
            lat=i.lat,
            lon=i.lon,
            uncertainty_m=i.uncertainty_m,
            time=(i.time.start, i.time.end),
            uncertainty_model=i.uncertainty_model,  # type: ignore[arg-type]
            confidence=i.confidence,
            status=i.status,
        )
        for i in incidents
    ]


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
    """A WGS84 study-area polygon from a GeoJSON (geometry, Feature or FeatureCollection) or WKT file.

    Raises
    ------
    NotFound, InvalidInput
        When the file is missing or is not a valid (Multi)Polygon; ``where`` is the file.
    """
    if path is None:
        return None
    from shapely import wkt
    from shapely.errors import ShapelyError
    from shapely.geometry import shape
    from shapely.ops import unary_union

    text = read_limited_text(path, what="study area file")
    try:
        if text.lstrip().startswith("{"):
            document = load_json(text, where=str(path))
            if document.get("type") == "FeatureCollection":
                geometry = unary_union([shape(f["geometry"]) for f in document["features"]])
            elif document.get("type") == "Feature":
                geometry = shape(document["geometry"])
            else:
                geometry = shape(document)
        else:
            geometry = wkt.loads(text)
    except (ValueError, KeyError, TypeError, AttributeError, ShapelyError) as exc:
        raise InvalidInput(f"not a GeoJSON or WKT polygon: {exc}", where=str(path)) from None
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty or not geometry.is_valid:
        raise InvalidInput("the study area must be a valid Polygon or MultiPolygon", where=str(path))
    return geometry


# -- the cache ----------------------------------------------------------------------------------

_CACHE: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


def _state(db: Database) -> tuple[Any, ...]:
    """What identifies the data a result was computed from: every write is a log entry."""
    return db.location, db.store.log_size(), db.store.count_sites(), db.store.count_incidents()


def _cached(what: str, db: Database, options: AnalysisOptions, compute: Callable[[], T]) -> T:
    key = (what, *_state(db), *options.key())
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]  # type: ignore[no-any-return,unused-ignore]
    value = compute()
    with _CACHE_LOCK:
        _CACHE[key] = value
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return value


def _all_sites(db: Database) -> list[Site]:
    return [hit.site for hit in db.sites.list()]


def _visible_ids(db: Database, principal: Principal, site_ids: Sequence[str]) -> dict[str, LocationView]:
    """``{site_id: view}`` of the sites the caller may see, or of the requested ones (refused if unseen)."""
    principal.require_registry()
    if site_ids:
        return {site_id: visible_site(db, principal, site_id)[1] for site_id in site_ids}
    views: dict[str, LocationView] = {}
    for site in _all_sites(db):
        view = principal.site_view(site)
        if view is not None:
            views[site.id] = view
    return views


# -- matches ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchRecord:
    """A candidate hit with the incident it concerns, as every door prints it."""

    match: Match
    incident: Incident

    def to_json(self) -> dict[str, Any]:
        """:meth:`Match.to_json` plus the incident's time, provenance and whether it counts."""
        return {
            **self.match.to_json(),
            "incident_time": self.incident.time.to_text(),
            "provenance": self.incident.provenance,
            "counted": self.incident.counted,
        }


def _phase(progress: ProgressCallback | None, phase: str, total: int | None = None) -> Callable[[int], None]:
    """Report the start of ``phase`` now; the returned function reports its end with a count."""
    if progress is not None:
        progress(phase, 0, total)

    def done(count: int) -> None:
        if progress is not None:
            progress(phase, count, count)

    return done


def _all_matches(db: Database, options: AnalysisOptions, progress: ProgressCallback | None = None) -> list[MatchRecord]:
    def compute() -> list[MatchRecord]:
        finish = _phase(progress, "reading")
        sites = _all_sites(db)
        incidents = db.incidents.list()
        finish(len(incidents))
        if not sites or not incidents:
            return []
        by_id = {i.id: i for i in incidents}
        finish = _phase(progress, "matching", len(sites))
        found = match(site_inputs(sites, {}), incident_inputs(incidents), min_probability=options.min_probability)
        found.sort(key=lambda m: (m.site_id, -m.probability, m.incident_id))
        finish(len(sites))
        return [MatchRecord(m, by_id[m.incident_id]) for m in found]

    return _cached("match", db, options, compute)


def match_database(
    db: Database,
    options: AnalysisOptions | None = None,
    principal: Principal | None = None,
    *,
    site_ids: Sequence[str] = (),
    progress: ProgressCallback | None = None,
) -> list[MatchRecord]:
    """Every incident-site pair with a hit probability of at least ``options.min_probability``.

    Sorted by site, then by descending probability. Only pairs of sites the caller may see are
    returned; for sites it sees coarsened, the distance is rounded to the kilometre.

    Raises
    ------
    NotFound
        For a requested site that does not exist or that the caller may not see.
    """
    options = options or AnalysisOptions()
    caller = principal or Principal.local()
    views = _visible_ids(db, caller, site_ids)
    rows = []
    for record in _all_matches(db, options, progress):
        view = views.get(record.match.site_id)
        if view is None:
            continue
        if view != "exact":
            coarse = Match(
                record.match.site_id,
                record.match.incident_id,
                float(round(record.match.distance_m, -3)),
                record.match.probability,
            )
            record = MatchRecord(coarse, record.incident)
        rows.append(record)
    return rows


# -- statistics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisRun:
    """The statistics of a database, with what they rest on.

    Attributes
    ----------
    results
        One :class:`~deconflict.stats.SiteResult` per analysed site the caller may see.
    sites, notifications
        The analysed sites by id, and each one's first notification.
    labels
        Warnings every output carries (SYNTHETIC data, APPROXIMATE locations, ...).
    options
        The options the numbers were computed with (seed, study area, bandwidth, alpha).
    sensitivity
        The bandwidth x hit-radius grid of the requested sites (empty unless asked for).
    """

    results: list[SiteResult]
    sites: dict[str, Site]
    notifications: dict[str, Notification]
    labels: list[str]
    options: AnalysisOptions
    sensitivity: list[SensitivityCell] = field(default_factory=list)

    @property
    def seed(self) -> int:
        """The seed the numbers were computed with."""
        return self.options.seed

    def to_json(self, result: SiteResult, alpha: float | None = None) -> dict[str, Any]:
        """One site's JSON, with its name, owner, sentence, flag and the data labels."""
        level = self.options.alpha if alpha is None else alpha
        site = self.sites[result.site_id]
        data = result.to_json()
        notification = self.notifications.get(result.site_id)
        data.update(
            name=site.name,
            owner=site.owner,
            approximate_location=site.approximate,
            notified_at=None if notification is None else notification.notified_at.end.isoformat(),
            notified_interval=None if notification is None else notification.notified_at.to_text(),
            notified_to=None if notification is None else notification.recipient,
            sentence=result.sentence(),
            flagged=result.flagged(level),
            data_labels=self.labels,
            seed=self.seed,
        )
        return data

    def highlighted(self) -> list[SiteResult]:
        """The sites worth a reader's attention, most significant first: notified, flagged, near-flagged or hit.

        Every door shows these first (the CLI's table, the report's text); the rest are in the
        full listing (``--json``, the API).
        """
        level = max(self.options.alpha, 0.2)
        chosen = [r for r in self.results if r.notified_at is not None or r.p_adjusted <= level or r.observed >= 0.5]
        return sorted(chosen, key=lambda r: (math.isnan(r.p_adjusted), r.p_adjusted, r.site_id))

    def rows(self) -> list[dict[str, Any]]:
        """Every site's JSON (as ``deconflict analyze --json`` and ``/api/v1/analysis`` print it)."""
        rows = [self.to_json(r) for r in self.results]
        if self.sensitivity:
            for row in rows:
                row["sensitivity"] = [
                    {
                        "bandwidth_m": c.bandwidth_m,
                        "hit_radius_m": c.radius_m,
                        "p_value": c.p_value,
                        "p_value_after": c.p_value_after,
                        "headline_p_value": c.headline_p_value,
                    }
                    for c in self.sensitivity
                    if c.site_id == row["site_id"]
                ]
        return rows


@dataclass(frozen=True)
class _Computed:
    results: list[SiteResult]
    sites: list[Site]
    first: dict[str, Notification]
    labels: list[str]
    site_in: list[SiteInput]
    incident_in: list[IncidentInput]


def _compute(db: Database, options: AnalysisOptions, progress: ProgressCallback | None = None) -> _Computed:
    def compute() -> _Computed:
        finish = _phase(progress, "reading")
        sites = _all_sites(db)
        incidents = db.incidents.list()
        finish(len(incidents))
        counted = sum(1 for i in incidents if i.counted)
        if not sites:
            raise InvalidInput("no sites to analyse (import sites first)")
        if counted < MIN_COUNTED_INCIDENTS:
            raise InvalidInput(
                f"only {counted} counted incidents: too few to estimate a background "
                f"(at least {MIN_COUNTED_INCIDENTS} are needed)"
            )
        labels = data_labels(incidents, sites) + record_labels(db, incidents)
        area = options.study_area
        if area is not None:
            from shapely import contains_xy

            inside = contains_xy(area, [s.lon for s in sites], [s.lat for s in sites])
            outside = sum(1 for ok in inside if not ok)
            if outside:
                labels.append(f"{outside} site(s) outside the study area were not analysed")
            sites = [s for s, ok in zip(sites, inside, strict=True) if ok]
            if not sites:
                raise InvalidInput("no site lies inside the study area")
        first = first_notifications(db)
        site_in, incident_in = site_inputs(sites, first), incident_inputs(incidents)
        finish = _phase(progress, "statistics", len(sites))
        results = analyze_sites(
            site_in,
            incident_in,
            rng=np.random.default_rng(options.seed),
            bandwidth_m=options.bandwidth_m,
            study_area=area,
        )
        finish(len(sites))
        return _Computed(results, sites, first, labels, site_in, incident_in)

    return _cached("analysis", db, options, compute)


def _sensitivity(
    db: Database,
    options: AnalysisOptions,
    computed: _Computed,
    site_ids: set[str],
    progress: ProgressCallback | None = None,
) -> list[SensitivityCell]:
    def compute() -> list[SensitivityCell]:
        finish = _phase(progress, "sensitivity", len(site_ids))
        cells = sensitivity_grid(
            computed.site_in,
            computed.incident_in,
            rng=np.random.default_rng(options.seed),
            bandwidth_m=options.bandwidth_m,
            study_area=options.study_area,
            site_ids=sorted(site_ids),
        )
        finish(len(site_ids))
        return cells

    cells = _cached("sensitivity:" + ",".join(sorted(site_ids)), db, options, compute)
    return [c for c in cells if c.site_id in site_ids]


def analyze_database(
    db: Database,
    options: AnalysisOptions | None = None,
    principal: Principal | None = None,
    *,
    site_ids: Sequence[str] = (),
    sensitivity: bool = False,
    progress: ProgressCallback | None = None,
) -> AnalysisRun:
    """The intentionality statistics of every site of ``db`` that the caller may see.

    Parameters
    ----------
    options
        Seed, study area, bandwidth, alpha (default :class:`AnalysisOptions`).
    principal
        The caller (default: the local user, who sees everything).
    site_ids
        Only these sites (all sites are analysed; the background and control sites need them).
    sensitivity
        Also compute the bandwidth x hit-radius grid, for ``site_ids`` or, when none are
        given, for the notified sites.
    progress
        Called with the phases (reading, statistics, sensitivity), see :mod:`deconflict.progress`.

    Raises
    ------
    InvalidInput
        When there are no sites, fewer than :data:`MIN_COUNTED_INCIDENTS` counted incidents, no
        site inside the study area, or a requested site lies outside it.
    NotFound
        For a requested site that does not exist or that the caller may not see.
    """
    options = options or AnalysisOptions()
    caller = principal or Principal.local()
    views = _visible_ids(db, caller, site_ids)
    computed = _compute(db, options, progress)
    analysed = {s.id for s in computed.sites}
    outside = sorted(set(site_ids) - analysed)
    if outside:
        raise InvalidInput(f"site(s) outside the study area cannot be tested: {', '.join(outside)}")
    results = [r for r in computed.results if r.site_id in views]
    cells: list[SensitivityCell] = []
    if sensitivity:
        wanted = set(site_ids) or {s for s, n in computed.first.items() if s in analysed and s in views}
        cells = _sensitivity(db, options, computed, wanted, progress)
        results = attach_sensitivity(results, cells)
    return AnalysisRun(
        results=results,
        sites={s.id: s for s in computed.sites if s.id in views},
        notifications={s: n for s, n in computed.first.items() if s in views},
        labels=list(computed.labels),
        options=options,
        sensitivity=cells,
    )


# -- report data --------------------------------------------------------------------------------


def _ledger_state(db: Database) -> tuple[LedgerState | None, list[str]]:
    """The latest signed checkpoint as the report shows it, and a note when the log outgrew it."""
    from deconflict.report import Cosignature, LedgerState

    try:
        latest = db.ledger.latest_checkpoint()
    except NotFound:
        return None, ["No checkpoint has been signed yet: sign one with 'deconflict log checkpoint'."]
    checkpoint = latest.checkpoint
    # Shown, not verified: the evidence bundle's verifier checks cosignatures.
    cosignatures = tuple(
        Cosignature(
            s.name,
            f"{s.key_id:08x}",
            int.from_bytes(s.signature[:8], "big") if len(s.signature) >= 8 else None,
        )
        for s in note_signatures(latest.note)
        if s.name != checkpoint.origin
    )
    state = LedgerState(
        origin=checkpoint.origin,
        size=checkpoint.size,
        root_hash_b64=base64.b64encode(checkpoint.root_hash).decode(),
        checkpoint_note=latest.note,
        verifier_key=db.ledger.verifier_key,
        cosignatures=cosignatures,
        outside_times=_outside_times(db),
    )
    newer = db.ledger.size - checkpoint.size
    notes = [f"{newer} log entries are newer than the latest signed checkpoint."] if newer > 0 else []
    return state, notes


def _outside_times(db: Database) -> tuple[OutsideTime, ...]:
    """Per notification and acknowledgement: claimed time, first TSA or witness time, the gap (ledger.outside)."""
    from deconflict.ledger.outside import describe_gap
    from deconflict.report import OutsideTime
    from deconflict.times import format_utc

    return tuple(
        OutsideTime(
            kind=t.kind,
            record_id=t.record_id,
            log_index=t.index,
            claimed=t.claimed,
            first_time=None if t.first is None else format_utc(t.first.at),
            vouched_by=None
            if t.first is None
            else ("TSA " if t.first.kind == "timestamp" else "witness ") + t.first.by,
            gap=describe_gap(t.gap) if t.first is not None else "no outside proof",
            statement=t.sentence(),
        )
        for t in db.ledger.entry_times()
    )


def _periods(run: AnalysisRun, incidents: Sequence[Incident]) -> list[Period]:
    """Observed and expected hits before and after each notified site's first notification."""
    from deconflict.report import Period

    start = min((i.time.start for i in incidents), default=None)
    end = max((i.time.end for i in incidents), default=None)
    periods: list[Period] = []
    for r in run.results:
        notification = run.notifications.get(r.site_id)
        if notification is None or start is None or end is None or r.expected_after is None:
            continue
        cut = notification.notified_at.end
        before = r.observed - (r.observed_after or 0.0)
        periods.append(Period(r.site_id, start, cut, before, r.expected - r.expected_after))
        periods.append(Period(r.site_id, cut, end, r.observed_after or 0.0, r.expected_after))
    return periods


@dataclass(frozen=True)
class _Shown:
    """The records a caller sees, coarsened where its view is coarse."""

    sites: list[Site]
    incidents: list[Incident]
    notifications: list[Notification]
    acknowledgements: list[Acknowledgement]
    coarse: bool


def _shown_records(db: Database, caller: Principal, all_incidents: list[Incident]) -> _Shown:
    sites = []
    coarse = False
    for site in _all_sites(db):
        view = caller.site_view(site)
        if view == "exact":
            sites.append(site)
        elif view == "coarse":
            sites.append(coarsened_site(site))
            coarse = True
    incidents = IncidentViews(db, caller).shown(all_incidents)
    coarse = coarse or any(shown is not original for shown, original in zip(incidents, all_incidents, strict=True))
    notifications = [n for n, _ in visible_notifications(db, caller)]
    readable = {n.id for n in notifications}
    acknowledgements = [a for a, _ in db.notifications.acknowledgements() if a.notification_id in readable]
    return _Shown(sites, incidents, notifications, acknowledgements, coarse)


def _sensitivity_points(run: AnalysisRun | None, featured: Sequence[str]) -> list[SensitivityPoint]:
    """The sensitivity grid of the featured sites: the headline p-value."""
    from deconflict.report import SensitivityPoint

    if run is None:
        return []
    return [
        SensitivityPoint(
            c.site_id, c.bandwidth_m, c.radius_m, math.nan if c.headline_p_value is None else c.headline_p_value
        )
        for c in run.sensitivity
        if c.site_id in set(featured)
    ]


def report_data(
    db: Database,
    options: AnalysisOptions | None = None,
    principal: Principal | None = None,
    *,
    title: str = "deconflict report",
    site_ids: Sequence[str] = (),
    analysis: bool = True,
    notes: Sequence[str] = (),
    progress: ProgressCallback | None = None,
) -> ReportData:
    """Everything a report of ``db`` shows, as the caller may see it.

    Parameters
    ----------
    site_ids
        The featured sites (timelines, sensitivity grid); default: the notified sites.
    analysis
        False for a map and timeline only (no statistics).
    notes
        Extra notes shown at the top of the report.

    When the statistics cannot be computed (too few incidents), the report says so in its
    notes instead of failing; a requested site outside the study area is refused.
    """
    from deconflict.report import ReportData

    options = options or AnalysisOptions()
    caller = principal or Principal.local()
    views = _visible_ids(db, caller, site_ids)
    all_incidents = db.incidents.list()
    shown = _shown_records(db, caller, all_incidents)
    report_notes: list[str] = []
    featured = list(site_ids) or sorted({s for n in shown.notifications for s in n.site_ids if s in views})
    run = None
    if analysis:
        try:
            run = analyze_database(
                db, options, caller, site_ids=site_ids, sensitivity=bool(featured), progress=progress
            )
        except InvalidInput as exc:
            if site_ids:
                raise
            report_notes.append(f"Statistics are not shown: {exc.message}")
    ledger, ledger_notes = _ledger_state(db)
    if shown.coarse:
        report_notes.append(
            f"Locations outside this token's scope are shown at the centre of their {COARSE_GRID_DEG}° grid "
            "cell (about 1 km); distances to such sites are rounded to the kilometre."
        )
    labels = data_labels(all_incidents, _all_sites(db)) + record_labels(db, all_incidents)
    return ReportData(
        timezone=db.timezone.key,
        title=title,
        generated_at=datetime.now(UTC),
        sites=shown.sites,
        incidents=shown.incidents,
        notifications=shown.notifications,
        acknowledgements=shown.acknowledgements,
        matches=[m.match for m in match_database(db, options, caller, progress=progress)],
        analysis=[] if run is None else run.rows(),
        sensitivity=_sensitivity_points(run, featured),
        periods=[] if run is None else _periods(run, all_incidents),
        ledger=ledger,
        notes=[label for label in labels if not label.startswith(("SYNTHETIC", "APPROXIMATE"))]
        + report_notes
        + ledger_notes
        + list(notes),
        study_area_wkt=None if options.study_area is None else options.study_area.wkt,
        study_area_label=options.study_area_label,
        guarantees=_guarantees(db, options, caller),
    )


def _guarantees(db: Database, options: AnalysisOptions, caller: Principal) -> dict[str, Any] | None:
    """Commitments with their compliance status, movements and alerts, as the caller may see them."""
    from deconflict.guarantees.compliance import compliance
    from deconflict.guarantees.movements import movement_json

    commitments = [
        {**entry.record.to_json(), "status": entry.status, "hits": len(entry.hits)}
        for entry in compliance(db, principal=caller, options=options)
    ]
    movements = [movement_json(m, db.movements.log_index(m.id)) for m in db.movements.list(principal=caller)]
    alerts = [a.to_json() for a in db.alerts.list(principal=caller)] if caller.owners or caller.is_admin else []
    if not (commitments or movements or alerts):
        return None
    return {"commitments": commitments, "movements": movements, "alerts": alerts}
