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
import copy
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
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
from deconflict.ledger.guard import guard_state
from deconflict.ledger.note import note_signatures
from deconflict.match import IncidentArray, IncidentInput, Match, SiteArray, SiteInput, match
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
from deconflict.stats import (
    SensitivityCell,
    SiteResult,
    Study,
    analyze_study,
    attach_sensitivity,
    prepare_study,
    study_sensitivity,
)
from deconflict.stats.scan import Engine

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
    "BriefFiles",
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
    "write_brief",
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


def data_labels(incidents: Iterable[Incident], sites: Sequence[Site]) -> list[str]:
    """Warnings every output carries: synthetic incidents, approximate sites, unverified records.

    ``incidents`` is read once (a stream such as ``db.incidents.iter()`` is never held in memory).
    """
    labels = []
    total = synthetic = unverified = 0
    for incident in incidents:
        total += 1
        synthetic += (incident.provenance or "").lower() == "synthetic"
        unverified += incident.status == "unverified"
    if synthetic:
        labels.append(f"SYNTHETIC data: {synthetic} of {total} incidents are simulated, not real strikes")
    approximate = [s.id for s in sites if s.approximate]
    if approximate:
        labels.append(f"APPROXIMATE locations: {', '.join(approximate)}")
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

    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound("study area file does not exist", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the study area: {exc}", where=str(path)) from None
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
    records = [r for r in _all_matches(db, options, progress) if r.match.site_id in views]
    if not caller.is_admin:  # an owner's exact rows stay within its capped reach; coarse rows are rounded
        exact = _within_caller_reach(db, caller, [r for r in records if views[r.match.site_id] == "exact"])
        kept = {(r.match.site_id, r.match.incident_id) for r in exact}
        records = [
            r for r in records if views[r.match.site_id] != "exact" or (r.match.site_id, r.match.incident_id) in kept
        ]
    rows = []
    for record in records:
        view = views[record.match.site_id]
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


def _within_caller_reach(db: Database, caller: Principal, records: list[MatchRecord]) -> list[MatchRecord]:
    """The records whose incident lies within the caller's capped reach of the site (:meth:`Principal.reach_cap_m`):
    a site stored with a larger radius than its owner may set does not widen what the owner reads."""
    from deconflict.relevance import could_hit

    by_site: dict[str, list[int]] = {}
    for position, record in enumerate(records):
        by_site.setdefault(record.match.site_id, []).append(position)
    keep = np.zeros(len(records), dtype=bool)
    for site_id, positions in by_site.items():
        site = db.sites.get(site_id)
        mask = could_hit(site, [records[k].incident for k in positions], reach_cap_m=caller.reach_cap_m(site))
        keep[np.asarray(positions)[mask]] = True
    return [record for record, kept in zip(records, keep, strict=True) if kept]


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
    study: Study  # kept: the sensitivity grid reuses its fitted backgrounds
    after_fit: np.random.Generator  # the generator as the fit left it (the sensitivity starts from it)


def _compute(
    db: Database,
    options: AnalysisOptions,
    progress: ProgressCallback | None = None,
    engine: Engine = "local",
    scheduler: str | None = None,
) -> _Computed:
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
        rng = np.random.default_rng(options.seed)
        finish = _phase(progress, "background", len(incident_in))
        study = prepare_study(SiteArray.from_records(site_in), IncidentArray.from_records(incident_in), rng=rng,
                              bandwidth_m=options.bandwidth_m, study_area=area)  # fmt: skip
        finish(len(incident_in))
        after_fit = copy.deepcopy(rng)
        results = analyze_study(study, rng=rng, engine=engine, scheduler=scheduler, progress=progress)
        return _Computed(results, sites, first, labels, study, after_fit)

    return _cached("analysis", db, options, compute)


def _sensitivity(
    db: Database,
    options: AnalysisOptions,
    computed: _Computed,
    site_ids: set[str],
    progress: ProgressCallback | None = None,
) -> list[SensitivityCell]:
    def compute() -> list[SensitivityCell]:
        rng = copy.deepcopy(computed.after_fit)
        return study_sensitivity(computed.study, sorted(site_ids), rng=rng, progress=progress)

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
    unverified: bool = False,
    engine: Engine = "local",
    scheduler: str | None = None,
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
        Called with the phases (reading, background, statistics, resampling, sensitivity), see
        :mod:`deconflict.progress`.
    unverified
        Go on when the database differs from its log, the warning first among the ``labels``.
    engine, scheduler
        Where the resampled cities of the scan run: ``"local"`` (this process) or ``"dask"``
        (a 2-worker ``LocalCluster``, or the ``dask.distributed`` scheduler at ``scheduler``,
        e.g. ``tcp://10.0.0.5:8786``); the numbers are the same on either.

    Raises
    ------
    VerificationError
        When the database differs from its log (:func:`deconflict.ledger.guard.guard_state`).
    InvalidInput
        When there are no sites, fewer than :data:`MIN_COUNTED_INCIDENTS` counted incidents, no
        site inside the study area, or a requested site lies outside it.
    NotFound
        For a requested site that does not exist or that the caller may not see.
    """
    warning = guard_state(db.store, unverified=unverified)
    options = options or AnalysisOptions()
    caller = principal or Principal.local()
    views = _visible_ids(db, caller, site_ids)
    computed = _compute(db, options, progress, engine, scheduler)
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
        labels=([warning] if warning else []) + list(computed.labels),
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
    title: str | None = None,
    site_ids: Sequence[str] | None = None,
    analysis: bool = True,
    notes: Sequence[str] = (),
    progress: ProgressCallback | None = None,
    unverified: bool = False,
) -> ReportData:
    """Everything a report of ``db`` shows, as the caller may see it.

    Parameters
    ----------
    options
        Default: the database's stored options (:meth:`Database.analysis_options`).
    title
        Default: the database's stored report title (:meth:`Database.report_defaults`).
    site_ids
        The featured sites (timelines, sensitivity grid); default: the database's stored ones,
        else the notified sites.
    analysis
        False for a map and timeline only (no statistics).
    notes
        Extra notes shown at the top of the report, after the database's stored ones.
    unverified
        Go on when the database differs from its log, the warning first among the notes (else
        :class:`~deconflict.errors.VerificationError`).

    When the statistics cannot be computed (too few incidents), the report says so in its
    notes instead of failing; a requested site outside the study area is refused. The
    report's "About this analysis" box (:attr:`ReportData.about`) names the seed, study area
    and options used, so the same command on the same database makes the same report.
    """
    from deconflict.report import ReportData

    warning = guard_state(db.store, unverified=unverified)
    defaults = db.report_defaults()
    options = options or db.analysis_options()
    site_ids = list(defaults.site_ids if site_ids is None else site_ids)
    caller = principal or Principal.local()
    views = _visible_ids(db, caller, site_ids)
    all_incidents = db.incidents.list()
    shown = _shown_records(db, caller, all_incidents)
    report_notes: list[str] = []
    featured = list(site_ids) or sorted({s for n in shown.notifications for s in n.site_ids if s in views})
    run = None
    if analysis:
        try:
            run = _report_run(db, options, caller, site_ids, featured, progress, unverified)
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
        title=title or defaults.title,
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
        notes=([warning] if warning else [])
        + list(defaults.notes)
        + [label for label in labels if not label.startswith(("SYNTHETIC", "APPROXIMATE"))]
        + report_notes
        + ledger_notes
        + list(notes),
        study_area_wkt=None if options.study_area is None else options.study_area.wkt,
        study_area_label=options.study_area_label,
        guarantees=_guarantees(db, options, caller),
        highlighted=[] if run is None else [r.site_id for r in run.highlighted()],
        about=_about(db, options, run, featured, all_incidents, ledger),
    )


def _report_run(
    db: Database,
    options: AnalysisOptions,
    caller: Principal,
    site_ids: Sequence[str],
    featured: Sequence[str],
    progress: ProgressCallback | None,
    unverified: bool = False,
) -> AnalysisRun:
    """Every visible site's statistics, with the sensitivity grid of the featured ones.

    The report leads with the featured, notified and flagged sites but lists them all (one
    sortable table), so the statistics cover every site and the grid only the featured.
    """
    import dataclasses

    every = analyze_database(db, options, caller, progress=progress, unverified=unverified)
    analysed = set(every.sites)
    if site_ids:
        # refuses a site outside the study area
        analyze_database(db, options, caller, site_ids=site_ids, unverified=unverified)
    wanted = [s for s in featured if s in analysed]
    if not wanted:
        return every
    grid = analyze_database(
        db, options, caller, site_ids=wanted, sensitivity=True, progress=progress, unverified=unverified
    )
    with_grid = {r.site_id: r for r in grid.results}
    results = [with_grid.get(r.site_id, r) for r in every.results]
    return dataclasses.replace(every, results=results, sensitivity=grid.sensitivity)


def _about(
    db: Database,
    options: AnalysisOptions,
    run: AnalysisRun | None,
    featured: Sequence[str],
    incidents: Sequence[Incident],
    ledger: LedgerState | None,
) -> list[tuple[str, str]]:
    """The report's "About this analysis" box: what the numbers were computed from and with."""
    from deconflict._version import __version__

    stored = db.analysis_options()
    area = options.study_area
    if area is None:
        area_text = "the buffered hull of the incidents (the default)"
    else:
        west, south, east, north = area.bounds
        area_text = (
            f"{options.study_area_label or 'as given'}: {south:.4f}°N to {north:.4f}°N, {west:.4f}°E to {east:.4f}°E"
        )
    bandwidths = sorted({r.bandwidth_m for r in run.results}) if run is not None else []
    if isinstance(options.bandwidth_m, float | int):
        bandwidth = f"{options.bandwidth_m:,.0f} m (as given)"
    else:
        rule = options.bandwidth_m or "cv"
        chosen = ", ".join(f"{b:,.0f} m" for b in bandwidths[:3]) or "—"
        bandwidth = f"chosen by {'cross-validation' if rule == 'cv' else rule}: {chosen}"
    counted = sum(1 for i in incidents if i.counted)
    rows = [
        ("Seed", f"{options.seed} (random draws of the p-values; the same seed and data give the same numbers)"),
        ("Study area", area_text),
        ("Background bandwidth", bandwidth),
        ("Flagged at", f"adjusted p ≤ {options.alpha:g} (Holm over the sites or families tested)"),
        ("Possible hits listed from", f"P(hit) ≥ {options.min_probability:g}"),
        ("Featured sites", ", ".join(featured) or "none"),
        ("Data", f"{db.store.count_sites():,} sites, {len(incidents):,} incidents ({counted:,} counted)"),
    ]
    if ledger is not None:
        rows.append(("Log", f"{ledger.origin}, checkpoint of {ledger.size:,} entries, root {ledger.root_hash_b64}"))
    rows.append(("Software", f"deconflict {__version__}"))
    if options.key() == stored.key():
        reproduce = "deconflict report --out report.html on this database (it stores these options)"
    else:
        area_key = None if area is None else area.wkb_hex
        stored_key = None if stored.study_area is None else stored.study_area.wkb_hex
        reproduce = f"deconflict report --out report.html --seed {options.seed}" + (
            " --study-area FILE (the area above)" if area_key != stored_key else ""
        )
    rows.append(("Reproduce", reproduce))
    return rows


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


# -- the brief ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BriefFiles:
    """What :func:`write_brief` wrote: the brief (HTML or PDF) and the evidence bundles beside it."""

    path: Path
    bundles: list[Path]
    fingerprints: dict[str, str]
    notes: list[str]


def write_brief(
    db: Database,
    site_ids: Sequence[str],
    out_path: str | Path,
    options: AnalysisOptions | None = None,
    principal: Principal | None = None,
    *,
    lang: str = "en",
    progress: ProgressCallback | None = None,
    browser: Any = None,
    unverified: bool = False,
) -> BriefFiles:
    """Write the brief on ``site_ids`` to ``out_path`` (``.html`` or ``.pdf``) with its evidence bundles.

    Each site's evidence bundle is written beside the brief as ``<stem>.evidence-<site>.zip``;
    the brief names its SHA-256 fingerprint, so the recipient can check that the file they hold
    is the one the brief describes (:mod:`deconflict.report.brief`). ``browser``: a running
    :func:`deconflict.report.chromium` to print the PDF with (default: start one).
    ``unverified``: as for :func:`report_data` (a database that differs from its log is refused).

    Raises
    ------
    InvalidInput
        Without a site, for an unknown language or an output that is neither ``.html`` nor ``.pdf``.
    NotFound
        For a site that does not exist or that the caller may not see.
    """
    import hashlib
    import tempfile

    from deconflict.fileio import atomic_write_bytes, atomic_write_text
    from deconflict.guarantees.evidence import bundle_for
    from deconflict.ledger.outside import witness_policy
    from deconflict.report import render_pdf
    from deconflict.report.brief import BriefBundle, render_brief, translations

    if not site_ids:
        raise InvalidInput("a brief needs at least one site", where="--site")
    target = Path(out_path)
    if target.suffix.lower() not in (".html", ".pdf"):
        raise InvalidInput(f"the brief is written as .html or .pdf, got {target.name!r}", where="--out")
    translations(lang)  # refuse an unknown language before any work
    caller = principal or Principal.local()
    data = report_data(db, options, caller, site_ids=list(site_ids), progress=progress, unverified=unverified)
    bundles: list[BriefBundle] = []
    paths: list[Path] = []
    if data.ledger is not None:
        policy = witness_policy(db.ledger)
        for site_id in site_ids:
            payload = bundle_for(db, site_id, principal=caller, policy=policy, unverified=unverified)
            path = target.with_name(f"{target.stem}.evidence-{site_id}.zip")
            atomic_write_bytes(path, payload)
            paths.append(path)
            bundles.append(BriefBundle(site_id, path.name, hashlib.sha256(payload).hexdigest(), len(payload)))
    html = render_brief(data, list(site_ids), bundles, lang=lang)
    if target.suffix.lower() == ".html":
        atomic_write_text(target, html)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            page = Path(scratch) / "brief.html"
            page.write_text(html, encoding="utf-8")
            render_pdf(page, target, browser=browser)
    return BriefFiles(target, paths, {b.site_id: b.sha256 for b in bundles}, list(data.notes))
