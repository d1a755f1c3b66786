"""Per-site intentionality statistics: the pipeline behind :func:`analyze_sites`.

1. **Backgrounds per city** (:mod:`deconflict.stats.cities`): counted incidents are split into
   cities (single linkage at 10 km) unless a study area is given; each city gets its own
   adaptive kernel background, so no kernel spans two cities. Cities with fewer than
   :data:`MIN_BACKGROUND_EVENTS` attack events are not tested (the sites get a reason).
2. **Attack events** (:mod:`deconflict.stats.events`): reports of one attack count once.
3. **Per unit** (a site, or a family of premises tested once): expected hits and the score
   measure with the unit's own possible hits left out softly (:mod:`deconflict.stats.exposure`),
   the effective number of attack events behind that estimate, the neighbourhood's timing
   after notification, and every test (:mod:`deconflict.stats.significance`).
4. **Across units**: Holm / Benjamini–Hochberg over families, the exchangeable control rank,
   the per-state test, the tipping point, the sensitivity range.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats
from shapely.geometry.base import BaseGeometry

from deconflict.errors import InvalidInput
from deconflict.geo import LocalProjection
from deconflict.match import (
    IncidentArray,
    IncidentInput,
    MatchTable,
    SiteArray,
    SiteInput,
    match_arrays,
    site_hit_regions,
)
from deconflict.progress import ProgressCallback, report_steps
from deconflict.stats.background import BandwidthMethod, after_fraction
from deconflict.stats.cities import (
    MIN_BACKGROUND_EVENTS,
    City,
    Study,
    prepare_study,
)
from deconflict.stats.events import event_scores, site_events
from deconflict.stats.exposure import SCORE_LEVELS, SiteExposure, radial_table, soft_exposure
from deconflict.stats.families import Unit, family_units
from deconflict.stats.results import Headline, SensitivityCell, SiteResult, SpaceTimeScan, StateTest
from deconflict.stats.scan import Engine, build_scan_data, scan
from deconflict.stats.significance import (
    AttackScoreResult,
    ChangeTestResult,
    LocalContrastResult,
    PoissonTestResult,
    _averaged_tail,
    _beta_binomial_upper,
    attack_score_test,
    benjamini_hochberg,
    compound_poisson_tail_test,
    compound_tail,
    conditional_change_test,
    control_rank_test,
    holm,
    joint_period_pmf,
    local_contrast_test,
    poisson_tail_test,
)

__all__ = [
    "MIN_BACKGROUND_EVENTS",
    "analyze_sites",
    "analyze_study",
    "attach_sensitivity",
    "sensitivity_grid",
    "study_sensitivity",
    "tipping_point",
]

RING_M = (300.0, 1_500.0)  # the neighbourhood of the local before/after design
PRIOR_EVENTS = 5.0  # pseudo-events at the city-wide after-share that stabilise a quiet ring
PLACEBO_QUANTILES = (0.2, 0.4, 0.6, 0.8)
ALPHA_TIPPING = 0.05
MAX_SCAN_CENTRES = 2_000  # per city: notified sites first
_SEPARABILITY_WARNING = (
    "space and time are not separable in this city (the pattern of attacks changed over time; "
    "permutation p = {p:.2g} over {n} resampled cities): the city-wide before/after numbers are unreliable; "
    "the headline takes each site's timing from its own neighbourhood"
)
OWN_FLOOR = 1e-3  # own reports less likely than this to be hits are not worth leaving out
_METHOD_WHOLE = "attack-score test against the city background (compound negative binomial)"
_METHOD_AFTER = "attack-score test after notification, neighbourhood-timed background (compound negative binomial)"


@dataclass(frozen=True)
class _UnitNumbers:
    """Everything computed for one unit (site or family)."""

    expected: float
    measure: NDArray[np.float64]
    size: float
    measures: tuple[NDArray[np.float64], ...]
    whole: PoissonTestResult
    whole_score: PoissonTestResult
    attacks: AttackScoreResult
    after: PoissonTestResult | None = None
    after_score: PoissonTestResult | None = None
    attacks_after: AttackScoreResult | None = None
    measure_after: NDArray[np.float64] | None = None
    size_after: float = math.inf
    change: ChangeTestResult | None = None
    local: LocalContrastResult | None = None
    probs: NDArray[np.float64] | None = None
    incidents: NDArray[np.int64] | None = None
    site_scores_before: NDArray[np.float64] | None = None
    site_scores_after: NDArray[np.float64] | None = None

    @property
    def primary(self) -> AttackScoreResult:
        return self.attacks_after if self.attacks_after is not None else self.attacks

    @property
    def primary_measure(self) -> NDArray[np.float64]:
        return self.measure_after if self.measure_after is not None else self.measure

    @property
    def primary_size(self) -> float:
        return self.size_after if self.attacks_after is not None else self.size


def _as_arrays(
    sites: Sequence[SiteInput] | SiteArray, incidents: Sequence[IncidentInput] | IncidentArray
) -> tuple[SiteArray, IncidentArray]:
    s = sites if isinstance(sites, SiteArray) else SiteArray.from_records(list(sites))
    i = incidents if isinstance(incidents, IncidentArray) else IncidentArray.from_records(list(incidents))
    return s, i


def analyze_sites(
    sites: Sequence[SiteInput] | SiteArray,
    incidents: Sequence[IncidentInput] | IncidentArray,
    *,
    rng: np.random.Generator,
    study_area: BaseGeometry | None = None,
    bandwidth_m: float | BandwidthMethod | None = None,
    exclusion_radius_m: float | None = None,
    radius_scale: float = 1.0,
    projection: LocalProjection | None = None,
    min_probability: float = 1e-6,
    attack_distance_m: float | None = None,
    attack_window_s: float | None = None,
    sensitivity_sites: Sequence[str] = (),
    bandwidth_factors: Sequence[float] = (0.5, 1.0, 2.0),
    radius_factors: Sequence[float] = (0.5, 1.0, 2.0),
    resamples: int = 199,
    engine: Engine = "local",
    scheduler: str | None = None,
) -> list[SiteResult]:
    """Observed vs expected hits, the headline and every secondary test, for every site.

    Parameters
    ----------
    sites, incidents
        Records or columns (see :mod:`deconflict.match`).
    rng
        Seeded generator (randomised p-values, the control rank, subsampling).
    study_area
        WGS84 polygon: one background over it. Default: one background per city (incidents
        split by single linkage at 10 km, each city's hull buffered by a bandwidth).
    bandwidth_m
        Pilot kernel bandwidth in metres or a rule: ``"cv"`` (default), ``"scott"``,
        ``"silverman"``; kernels then adapt to the local density.
    exclusion_radius_m
        Ignored (kept for compatibility): a site's own possible hits are left out in
        proportion to their hit probability, with no radius and no cap.
    radius_scale
        Multiplies every site's hit radius.
    projection
        Local projection (default: centred on all sites and incidents).
    min_probability
        Matches below this probability are ignored.
    attack_distance_m, attack_window_s
        Override the estimated spread and window of one attack (:mod:`deconflict.stats.events`).
    sensitivity_sites
        Sites whose headline is recomputed over ``bandwidth_factors`` × ``radius_factors``
        (the backgrounds are refitted once per bandwidth factor; only these sites' families
        are re-analysed); fills :attr:`SiteResult.sensitivity` and ``headline.range``.
    resamples
        Resampled cities for the space–time permutation scan and the separability check
        (:mod:`deconflict.stats.scan`; 0: skip them). 999 for a filing.
    engine, scheduler
        Where the resamples run: ``"local"`` (in-process) or ``"dask"`` (a ``LocalCluster``,
        or the dask scheduler at ``scheduler``); the results are identical for the same seed.

    Returns
    -------
    list of SiteResult
        In the order of ``sites``.

    Raises
    ------
    InvalidInput
        On invalid inputs, or when no city has :data:`MIN_BACKGROUND_EVENTS` attack events.
    """
    del exclusion_radius_m
    s_arr, i_arr = _as_arrays(sites, incidents)
    if len(s_arr) == 0:
        return []
    study = prepare_study(s_arr, i_arr, rng=rng, study_area=study_area, bandwidth_m=bandwidth_m,
                          projection=projection, attack_distance_m=attack_distance_m,
                          attack_window_s=attack_window_s)  # fmt: skip
    results = analyze_study(study, rng=rng, radius_scale=radius_scale, min_probability=min_probability,
                            resamples=resamples, engine=engine, scheduler=scheduler)  # fmt: skip
    if sensitivity_sites:
        cells = _sensitivity(study, set(sensitivity_sites), bandwidth_factors, radius_factors, min_probability, rng)
        results = [_with_range(r, cells.get(r.site_id, ())) for r in results]
    return results


def analyze_study(
    study: Study,
    *,
    rng: np.random.Generator,
    radius_scale: float = 1.0,
    min_probability: float = 1e-6,
    resamples: int = 199,
    engine: Engine = "local",
    scheduler: str | None = None,
    progress: ProgressCallback | None = None,
) -> list[SiteResult]:
    """:func:`analyze_sites` on a prepared study (:func:`~deconflict.stats.cities.prepare_study`).

    ``analyze_sites(sites, incidents, rng=rng, ...)`` is ``prepare_study(sites, incidents,
    rng=rng, ...)`` followed by this call with the same generator; keeping the study lets
    :func:`study_sensitivity` reuse its fitted backgrounds and bandwidths. ``progress``
    (:mod:`deconflict.progress`) hears the phases ``"statistics"`` (units: tested sites and
    families) and ``"resampling"`` (resampled cities, every city's together).
    """
    if radius_scale <= 0:
        raise InvalidInput("radius_scale must be > 0", where="radius_scale")
    scan_seed = np.random.SeedSequence(int(rng.integers(2**63)))
    results = _analyze(study, radius_scale, min_probability, rng, None, progress)
    if resamples > 0:
        results = _with_scans(study, results, resamples, scan_seed, engine, scheduler, progress)
    return results


def _analyze(
    study: Study, radius_scale: float, min_probability: float, rng: np.random.Generator, only: set[str] | None,
    progress: ProgressCallback | None = None,
) -> list[SiteResult]:  # fmt: skip
    study = study.fresh()  # this analysis's own peer scores: a prepared study is never modified
    s_arr = study.sites
    if radius_scale != 1.0:
        s_arr = dataclasses.replace(s_arr, radius_m=s_arr.radius_m * radius_scale)
    units = family_units(s_arr, study)
    if only is not None:
        keep = {u.key for u in units if any(str(s_arr.ids[k]) in only for k in u.members)}
        units = [u for u in units if u.key in keep]
    numbers = _all_unit_numbers(study, s_arr, units, min_probability, rng, progress)
    return _finish(study, s_arr, units, numbers, rng)


def _all_unit_numbers(
    study: Study, s_arr: SiteArray, units: list[Unit], min_probability: float, rng: np.random.Generator,
    progress: ProgressCallback | None = None,
) -> dict[str, _UnitNumbers | None]:  # fmt: skip
    """Matches once for all units, then each unit's numbers."""
    unit_sites = SiteArray.from_arrays(
        [u.lon for u in units], [u.lat for u in units], [u.radius_m for u in units],
        ids=[u.key for u in units], footprints=[u.footprint for u in units],
    )  # fmt: skip
    table = _match_near(study, unit_sites, min_probability)
    bounds = np.searchsorted(table.site_index, np.arange(len(units) + 1))
    regions, _ = site_hit_regions(unit_sites, study.projection)
    tables: dict[tuple[int, float], object] = {}
    out: dict[str, _UnitNumbers | None] = {}
    i_arr = study.incidents
    for k, unit in enumerate(units):  # every site's attack events, for the comparison with peers
        if unit.site is None:
            continue
        inc, probs = table.incident_index[bounds[k] : bounds[k + 1]], table.probability[bounds[k] : bounds[k + 1]]
        labels = site_events(probs, study.x[inc], study.y[inc], i_arr.start_s[inc], i_arr.end_s[inc],
                             study.reach[inc], study.scale)  # fmt: skip
        study.peer_scores[unit.site] = (probs, inc, labels)
    tick = report_steps(progress, "statistics", len(units), step=max(1, min(100, len(units) // 50)))
    for k, unit in enumerate(units):
        tick(k)
        city = study.cities[unit.city] if unit.city is not None else None
        if city is None or not city.testable:
            out[unit.key] = None
            continue
        sel = slice(bounds[k], bounds[k + 1])
        out[unit.key] = _unit_numbers(study, city, unit, regions[k], table.incident_index[sel],
                                      table.probability[sel], tables, rng)  # fmt: skip
    tick(len(units), final=True)
    return out


def _match_near(study: Study, unit_sites: SiteArray, min_probability: float) -> MatchTable:
    """Matches of the units, among the incidents that can reach one of them (projected once)."""
    i_arr = study.incidents
    ux, uy = study.projection.project(unit_sites.lon, unit_sites.lat)
    _, unit_reach = site_hit_regions(unit_sites, study.projection)
    reach = float(unit_reach.max(initial=0.0)) + float(study.reach.max(initial=0.0)) + 1.0
    near = study.incident_tree.query_ball_point(np.column_stack([ux, uy]), reach)
    sub = np.unique(np.concatenate([np.asarray(n, np.int64) for n in near])) if len(near) else np.zeros(0, np.int64)
    sub = sub[i_arr.counted[sub]]
    if sub.size == len(i_arr):
        return match_arrays(unit_sites, i_arr, projection=study.projection, min_probability=min_probability,
                            counted_only=True, incident_xy=(study.x, study.y))  # fmt: skip
    part = dataclasses.replace(
        i_arr, ids=i_arr.ids[sub], lon=i_arr.lon[sub], lat=i_arr.lat[sub], uncertainty_m=i_arr.uncertainty_m[sub],
        normal=i_arr.normal[sub], start_s=i_arr.start_s[sub], end_s=i_arr.end_s[sub],
        confidence=i_arr.confidence[sub], status=i_arr.status[sub],
    )  # fmt: skip
    table = match_arrays(unit_sites, part, projection=study.projection, min_probability=min_probability,
                         counted_only=True, incident_xy=(study.x[sub], study.y[sub]))  # fmt: skip
    return MatchTable(table.site_index, sub[table.incident_index], table.distance_m, table.probability)


def _unit_exposure(
    city: City, unit: Unit, region: BaseGeometry | None, inc: NDArray[np.int64], probs: NDArray[np.float64],
    tables: dict, kernel: tuple[NDArray[np.int64], NDArray[np.float64]],
) -> SiteExposure:  # fmt: skip
    own = city.background_index[inc]
    ok = (own >= 0) & (probs >= OWN_FLOOR)
    points, weights = own[ok], probs[ok]
    if region is not None:
        return city.region_exposure(region, unit.x, unit.y, points, weights)
    key = (unit.city or 0, round(float(unit.radius_m), 6))
    table = tables.get(key)
    if table is None:
        table = radial_table(unit.radius_m, city.groups, city.background.cell_m)
        tables[key] = table
    return soft_exposure(city.background, unit.x, unit.y, radius_m=unit.radius_m, groups=city.groups,
                         shares=city.shares, table=table, own_points=points,
                         own_probabilities=weights, kernel=kernel)  # fmt: skip


def _unit_numbers(
    study: Study, city: City, unit: Unit, region: BaseGeometry | None, inc: NDArray[np.int64],
    probs: NDArray[np.float64], tables: dict, rng: np.random.Generator,
) -> _UnitNumbers:  # fmt: skip
    kernel = city.background.kernel_weights_at(unit.x, unit.y)
    exposure = _unit_exposure(city, unit, region, inc, probs, tables, kernel)
    expected = float(exposure.expected @ city.shares)
    measure = city.shares @ exposure.score_measure
    size = city.effective_events(kernel, inc, probs)
    i_arr = study.incidents
    labels = site_events(probs, study.x[inc], study.y[inc], i_arr.start_s[inc], i_arr.end_s[inc],
                         study.reach[inc], study.scale)  # fmt: skip
    scores = event_scores(probs, labels)
    measures = _candidate_measures(study, city, exposure, inc, probs)
    attacks, chosen = _least_significant(scores, measures, size, expected, rng)
    numbers = _UnitNumbers(
        expected=expected, measure=chosen, measures=tuple(measures), size=size,
        whole=poisson_tail_test(probs, expected, rng=rng),
        whole_score=compound_poisson_tail_test(probs, measure, expected=expected, rng=rng),
        attacks=attacks,
        probs=probs, incidents=inc,
    )  # fmt: skip
    if not math.isfinite(unit.notified_end_s):
        return numbers
    return _after_numbers(study, city, unit, numbers, labels, rng)


def _candidate_measures(
    study: Study, city: City, exposure: SiteExposure, inc: NDArray[np.int64], probs: NDArray[np.float64]
) -> list[NDArray[np.float64]]:
    """Score measures the headline is tested against: the city's mix of precisions, and each
    precision of the site's own strong candidate reports (hit probability >= 0.1).

    Hits on notable buildings are reported more precisely than strikes on empty ground, so the
    city's mix of precisions alone must not be the yardstick (two exactly located hits would be
    judged against a background of vague reports, which rarely score 1). The headline takes the
    largest p-value over these measures. The expected count is the same under each (a location
    error moves mass, it does not create it); only the distribution of scores differs.
    """
    measures = [np.asarray(city.shares @ exposure.score_measure)]
    strong = probs >= 0.1
    if np.any(strong):
        i_arr = study.incidents
        groups = city.group_for(inc[strong], i_arr.uncertainty_m[inc[strong]], i_arr.normal[inc[strong]])
        measures += [np.asarray(exposure.score_measure[g]) for g in np.unique(groups)[:6]]
    return measures


def _least_significant(
    scores: NDArray[np.float64], measures: list[NDArray[np.float64]], size: float, expected: float,
    rng: np.random.Generator,
) -> tuple[AttackScoreResult, NDArray[np.float64]]:  # fmt: skip
    """The attack-score test under each measure; the largest p-value and its measure."""
    state = rng.bit_generator.state
    best: tuple[AttackScoreResult, NDArray[np.float64]] | None = None
    for measure in measures:
        rng.bit_generator.state = state  # one uniform tie-breaker, whichever measure wins
        result = attack_score_test(scores, measure, size=size, expected=expected, rng=rng)
        if best is None or result.pvalue > best[0].pvalue:
            best = (result, measure)
    assert best is not None
    return best


def _event_after(probs: NDArray, labels: NDArray, frac: NDArray) -> tuple[NDArray, NDArray]:
    """Per event: its score and the probability-weighted share of its time after notification."""
    scores = event_scores(probs, labels)
    ok = labels >= 0
    num = np.bincount(labels[ok], weights=(probs * frac)[ok], minlength=scores.size).astype(float)
    den = np.bincount(labels[ok], weights=probs[ok], minlength=scores.size).astype(float)
    share = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return scores, share


def _after_numbers(
    study: Study, city: City, unit: Unit, numbers: _UnitNumbers, labels: NDArray[np.int64],
    rng: np.random.Generator,
) -> _UnitNumbers:  # fmt: skip
    assert numbers.probs is not None and numbers.incidents is not None
    probs, inc = numbers.probs, numbers.incidents
    i_arr = study.incidents
    t_n = float(unit.notified_end_s)
    frac = after_fraction(i_arr.start_s[inc], i_arr.end_s[inc], t_n)
    neighbourhood = city.ring(unit.x, unit.y)
    ring = city.ring_timing(neighbourhood, t_n)
    share_local = (ring.after + PRIOR_EVENTS * ring.city_share) / (ring.before + ring.after + PRIOR_EVENTS)
    rel_var = (1.0 - share_local) / max(share_local * (ring.before + ring.after + PRIOR_EVENTS + 1.0), 1e-12)
    size_after = 1.0 / (1.0 / numbers.size + rel_var)
    exp_after = numbers.expected * share_local
    scores_after = event_scores(probs * frac, labels)
    attacks_after, measure_after = _least_significant(
        scores_after, [m * share_local for m in numbers.measures], size_after, exp_after, rng
    )
    scores, ev_share = _event_after(probs, labels, frac)
    exp_before_city = numbers.expected * (1.0 - ring.city_share)
    exp_after_city = numbers.expected * ring.city_share
    local = local_contrast_test(scores * (1 - ev_share), scores * ev_share, ring.before, ring.after)
    versus, n_peers = _versus_unnotified(study, unit, scores * (1 - ev_share), scores * ev_share)
    local = dataclasses.replace(local, placebo_pvalues=_placebos(study, city, neighbourhood, probs, inc, labels, t_n),
                                pvalue_vs_unnotified=versus, n_unnotified=n_peers)  # fmt: skip
    return dataclasses.replace(
        numbers,
        after=poisson_tail_test(probs * frac, exp_after, rng=rng),
        after_score=compound_poisson_tail_test(probs * frac, measure_after, expected=exp_after, rng=rng),
        attacks_after=attacks_after,
        measure_after=measure_after, size_after=size_after,
        change=conditional_change_test(probs * (1 - frac), probs * frac, exp_before_city, exp_after_city),
        local=local, site_scores_before=scores * (1 - ev_share), site_scores_after=scores_after,
    )  # fmt: skip


def _placebos(
    study: Study, city: City, neighbourhood: NDArray, probs: NDArray, inc: NDArray, labels: NDArray, t_n: float
) -> tuple[float, ...]:
    """The local contrast at dates without a notification, in the period before it."""
    i_arr = study.incidents
    ordered = city.sorted_event_times
    before = ordered[: int(np.searchsorted(ordered, t_n, side="left"))]
    if before.size < 20:
        return ()
    out = []
    keep = i_arr.end_s[inc] <= t_n
    for t_p in np.quantile(before, PLACEBO_QUANTILES).tolist():
        frac = after_fraction(i_arr.start_s[inc], i_arr.end_s[inc], t_p)
        scores, share = _event_after(probs * keep, labels, frac)
        ring = city.ring_timing(neighbourhood, t_p, until_s=t_n)
        out.append(local_contrast_test(scores * (1 - share), scores * share, ring.before, ring.after).pvalue)
    return tuple(out)


def _versus_unnotified(study: Study, unit: Unit, before: NDArray, after: NDArray) -> tuple[float | None, int]:
    """The site's after-share of hits against non-notified premises of its kind nearby."""
    peers = study.unnotified_peers(unit)
    if not peers:
        return None, 0
    peer_before = sum(b for b, _ in peers)
    peer_after = sum(a for _, a in peers)
    joint = joint_period_pmf(before, after)
    return _averaged_tail(joint, _beta_binomial_upper(peer_after, peer_before)), len(peers)


def tipping_point(
    measure: NDArray[np.float64], observed_level: int, size: float, alpha: float = ALPHA_TIPPING
) -> float | None:
    """How many times higher the background must be for the attack-score p-value to reach ``alpha``."""
    if compound_tail(measure, observed_level, size=size)[0] >= alpha:
        return None

    def gap(log_f: float) -> float:
        return math.log(compound_tail(measure * math.exp(log_f), observed_level, size=size)[0] + 1e-300) - math.log(
            alpha
        )

    hi = 1.0
    while gap(hi) < 0 and hi < 40:
        hi *= 2
    if gap(hi) < 0:
        return math.exp(hi)
    return float(math.exp(optimize.brentq(gap, 0.0, hi, xtol=1e-4)))


def _observed_level(result: AttackScoreResult, scores: NDArray | None) -> int:
    return round(result.statistic * SCORE_LEVELS) if scores is None else int(np.sum(np.rint(scores * SCORE_LEVELS)))


def _headlines(
    study: Study, s_arr: SiteArray, units: list[Unit], numbers: dict[str, _UnitNumbers | None]
) -> dict[str, Headline]:
    """Headline per family: primary attack-score test, Holm over families, tipping point."""
    families = [u for u in units if u.is_family_head]
    pvals = np.array([np.nan if numbers[u.key] is None else numbers[u.key].primary.pvalue for u in families])  # type: ignore[union-attr]
    adjusted = holm(pvals)
    n_tested = int(np.sum(np.isfinite(pvals)))
    out: dict[str, Headline] = {}
    for unit, adj in zip(families, adjusted, strict=True):
        num = numbers[unit.key]
        city = study.cities[unit.city] if unit.city is not None else None
        warnings = tuple(city.warnings) if city is not None else ("outside every city's background",)
        family = tuple(str(s_arr.ids[k]) for k in unit.members)
        if num is None:
            out[unit.key] = Headline(None, None, "not tested", "", math.nan, 0, math.nan, None, family=family,
                                     n_tested=n_tested, warnings=warnings)  # fmt: skip
            continue
        test = num.primary
        scores = num.site_scores_after if test is num.attacks_after else None
        level = _observed_level(test, scores)
        out[unit.key] = Headline(
            p_value=test.pvalue, adjusted=float(adj),
            method=_METHOD_AFTER if num.attacks_after is not None else _METHOD_WHOLE,
            period="after notification" if num.attacks_after is not None else "whole period",
            observed=test.statistic, at_least=test.at_least, expected=test.expected,
            expected_interval=_gamma_interval(test.expected, test.size),
            tipping_point=tipping_point(num.primary_measure, level, num.primary_size),
            family=family, n_tested=n_tested, warnings=warnings,
        )  # fmt: skip
    return out


def _gamma_interval(mean: float, size: float) -> tuple[float, float]:
    if not math.isfinite(size):
        return mean, mean
    return float(stats.gamma.ppf(0.05, size, scale=mean / size)), float(stats.gamma.ppf(0.95, size, scale=mean / size))


def _finish(
    study: Study, s_arr: SiteArray, units: list[Unit], numbers: dict[str, _UnitNumbers | None], rng: np.random.Generator
) -> list[SiteResult]:
    headlines = _headlines(study, s_arr, units, numbers)
    heads = {u.key: u for u in units if u.is_family_head}
    bh_keys = [k for k in heads if headlines[k].p_value is not None]
    bh = dict(zip(bh_keys, benjamini_hochberg([float(headlines[k].p_value or 1.0) for k in bh_keys]), strict=True))
    stat = {k: -float(numbers[k].primary.randomized_pvalue) for k in bh_keys}  # type: ignore[union-attr]
    by_group: dict[tuple[object, object], list[str]] = {}
    for f, head in heads.items():
        if f in stat:
            by_group.setdefault((head.kind, head.city_name), []).append(f)
    results = []
    for unit in units:
        if unit.site is None:
            continue
        k = unit.site
        num = numbers[unit.key]
        family_key = unit.family_key
        peers = [stat[f] for f in by_group.get((unit.kind, unit.city_name), ()) if f != family_key]
        control = control_rank_test(stat.get(family_key, math.nan), peers, rng=rng)
        results.append(_site_result(study, s_arr, k, unit, num, headlines[family_key], bh.get(family_key, math.nan),
                                    control))  # fmt: skip
    order = {str(s): n for n, s in enumerate(s_arr.ids)}
    states = _state_tests(s_arr, heads, numbers)
    results = [dataclasses.replace(r, state=states.get(r.owner)) if r.notified_at is not None else r for r in results]
    return sorted(results, key=lambda r: order[r.site_id])


def _state_tests(
    s_arr: SiteArray, heads: dict[str, Unit], numbers: dict[str, _UnitNumbers | None]
) -> dict[str, StateTest]:
    """Per owner state, one test over all its notified premises (families counted once) after notification.

    The attack scores add up; so do independent compound negative binomials' measures, and the
    Gamma shape of the sum's mean is ``(sum mu)**2 / sum(mu**2 / size)``.
    """
    by_owner: dict[str, list[tuple[NDArray[np.float64], int, float, float, float]]] = {}
    for key, unit in heads.items():
        num = numbers[key]
        owner = str(s_arr.owner[unit.members[0]])
        if not owner or num is None or num.attacks_after is None or num.measure_after is None:
            continue
        level = _observed_level(num.attacks_after, num.site_scores_after)
        row = (num.measure_after, level, num.attacks_after.expected, num.size_after, num.attacks_after.statistic)
        by_owner.setdefault(owner, []).append(row)
    out = {}
    for owner, rows in by_owner.items():
        measure = np.sum(np.stack([r[0] for r in rows]), axis=0)
        total_level = int(np.sum([r[1] for r in rows]))
        means = np.array([r[2] for r in rows])
        sizes = np.array([r[3] for r in rows])
        spread = float(np.sum(means**2 / sizes))
        size = float(means.sum() ** 2 / spread) if spread > 0 else math.inf
        tail, _ = compound_tail(measure, total_level, size=size)
        observed = float(np.sum([r[4] for r in rows]))
        nums = rows
        out[owner] = StateTest(owner, len(nums), observed, float(means.sum()), tail)
    return out


def _site_result(
    study: Study, s_arr: SiteArray, k: int, unit: Unit, num: _UnitNumbers | None, headline: Headline,
    p_bh: float, control: object,
) -> SiteResult:  # fmt: skip
    nan_test = PoissonTestResult(math.nan, math.nan, math.nan, math.nan, math.nan)
    probs = np.zeros(0) if num is None or num.probs is None else num.probs
    inc = np.zeros(0, np.int64) if num is None or num.incidents is None else num.incidents
    notified = math.isfinite(float(s_arr.notified_end_s[k]))
    city = study.cities[unit.city] if unit.city is not None else None
    return SiteResult(
        site_id=str(s_arr.ids[k]), kind=str(s_arr.kind[k]), city=str(s_arr.city[k]), owner=str(s_arr.owner[k]),
        radius_m=float(s_arr.radius_m[k]),
        bandwidth_m=math.nan if city is None else float(city.background.bandwidth_m),
        notified_at=float(s_arr.notified_end_s[k]) if notified and num is not None else None,
        whole=nan_test if num is None else num.whole, whole_score=nan_test if num is None else num.whole_score,
        attacks=None if num is None else num.attacks,
        after=None if num is None else num.after, after_score=None if num is None else num.after_score,
        attacks_after=None if num is None else num.attacks_after,
        change=None if num is None else num.change, local=None if num is None else num.local,
        control=control,  # type: ignore[arg-type]
        headline=headline, p_adjusted_bh=float(p_bh),
        matched_incidents=tuple((str(study.incidents.ids[i]), float(p)) for i, p in zip(inc, probs, strict=True)),
        certain_counts=bool(np.all((probs < 1e-6) | (probs > 1 - 1e-6))),
    )  # fmt: skip


def _with_scans(
    study: Study, results: list[SiteResult], resamples: int, seed: np.random.SeedSequence, engine: Engine,
    scheduler: str | None, progress: ProgressCallback | None = None,
) -> list[SiteResult]:  # fmt: skip
    """The space–time scan of every city; each site gets its cylinder's p-values and the city's check."""
    by_id = {r.site_id: r for r in results}
    out = dict(by_id)
    scanned = [c for c, city in enumerate(study.cities) if city.testable and np.any(study.site_city == c)]
    tick = report_steps(progress if scanned else None, "resampling", resamples * len(scanned), step=1)
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        tick(done)

    for c, (city, child) in enumerate(zip(study.cities, seed.spawn(len(study.cities)), strict=True)):
        members = [k for k in range(len(study.sites)) if study.site_city[k] == c]
        if not city.testable or not members:
            continue
        members.sort(key=lambda k: (not math.isfinite(float(study.sites.notified_end_s[k])), k))
        members = members[:MAX_SCAN_CENTRES]
        ex, ey, et = city.event_centres()
        data = build_scan_data(ex, ey, et, study.site_x[members], study.site_y[members],
                               study.sites.notified_end_s[members])  # fmt: skip
        result = scan(data, resamples=resamples, seed=child, engine=engine, scheduler=scheduler, progress=advance)
        for j, k in enumerate(members):
            site = by_id[str(study.sites.ids[k])]
            view = SpaceTimeScan(result.unit_pvalue.get(j), result.unit_pvalue_adjusted.get(j), result.pvalue,
                                 result.separability_pvalue, result.resamples)  # fmt: skip
            headline = site.headline
            if result.separability_pvalue <= 0.05:
                headline = dataclasses.replace(headline, warnings=(*headline.warnings, _SEPARABILITY_WARNING.format(
                    p=result.separability_pvalue, n=result.resamples)))  # fmt: skip
            out[site.site_id] = dataclasses.replace(site, scan=view, headline=headline)
    tick(done, final=True)
    return [out[r.site_id] for r in results]


def attach_sensitivity(results: Sequence[SiteResult], cells: Sequence[SensitivityCell]) -> list[SiteResult]:
    """The results with their sensitivity cells and ``headline.range`` filled in (from :func:`sensitivity_grid`)."""
    by_site: dict[str, list[SensitivityCell]] = {}
    for cell in cells:
        by_site.setdefault(cell.site_id, []).append(cell)
    return [_with_range(r, by_site[r.site_id]) if r.site_id in by_site else r for r in results]


def _with_range(result: SiteResult, cells: Sequence[SensitivityCell]) -> SiteResult:
    ps = [c.headline_p_value for c in cells if c.headline_p_value is not None]
    if not ps:
        return dataclasses.replace(result, sensitivity=tuple(cells))
    headline = dataclasses.replace(result.headline, range=(float(min(ps)), float(max(ps))))
    return dataclasses.replace(result, sensitivity=tuple(cells), headline=headline)


def _sensitivity(
    study: Study, wanted: set[str], bandwidth_factors: Sequence[float], radius_factors: Sequence[float],
    min_probability: float, rng: np.random.Generator, progress: ProgressCallback | None = None,
) -> dict[str, list[SensitivityCell]]:  # fmt: skip
    """Headline p over the grid for the wanted sites only (one refit per bandwidth factor)."""
    cells: dict[str, list[SensitivityCell]] = {}
    tick = report_steps(progress, "sensitivity", len(bandwidth_factors) * len(radius_factors), step=1)
    done = 0
    for bf in bandwidth_factors:
        scaled = study if bf == 1.0 else study.with_bandwidth_factor(bf, rng)
        for rf in radius_factors:
            tick(done)
            done += 1
            for r in _analyze(scaled, rf, min_probability, rng, wanted):
                if r.site_id not in wanted:
                    continue
                cells.setdefault(r.site_id, []).append(SensitivityCell(
                    r.site_id, r.bandwidth_m, r.radius_m, r.observed, r.expected, r.p_value,
                    r.observed_after, r.expected_after, r.p_value_after, r.headline.p_value,
                ))  # fmt: skip
    tick(done, final=True)
    return cells


def sensitivity_grid(
    sites: Sequence[SiteInput] | SiteArray,
    incidents: Sequence[IncidentInput] | IncidentArray,
    *,
    rng: np.random.Generator,
    bandwidth_factors: Sequence[float] = (0.5, 1.0, 2.0),
    radius_factors: Sequence[float] = (0.5, 1.0, 2.0),
    bandwidth_m: float | BandwidthMethod | None = None,
    site_ids: Sequence[str] | None = None,
    study_area: BaseGeometry | None = None,
    projection: LocalProjection | None = None,
    min_probability: float = 1e-6,
) -> list[SensitivityCell]:
    """The headline (and secondary numbers) over a grid of bandwidth and hit-radius multipliers.

    Only ``site_ids`` (default: every site) are re-analysed, with their families; the
    backgrounds are fitted once per bandwidth factor. Prefer ``analyze_sites(...,
    sensitivity_sites=...)``, which reuses the main analysis's fit.
    """
    s_arr, i_arr = _as_arrays(sites, incidents)
    if len(s_arr) == 0:
        return []
    study = prepare_study(s_arr, i_arr, rng=rng, study_area=study_area, bandwidth_m=bandwidth_m,
                          projection=projection)  # fmt: skip
    wanted = [str(s) for s in s_arr.ids] if site_ids is None else list(site_ids)
    return study_sensitivity(study, wanted, rng=rng, bandwidth_factors=bandwidth_factors,
                             radius_factors=radius_factors, min_probability=min_probability)  # fmt: skip


def study_sensitivity(
    study: Study,
    site_ids: Sequence[str],
    *,
    rng: np.random.Generator,
    bandwidth_factors: Sequence[float] = (0.5, 1.0, 2.0),
    radius_factors: Sequence[float] = (0.5, 1.0, 2.0),
    min_probability: float = 1e-6,
    progress: ProgressCallback | None = None,
) -> list[SensitivityCell]:
    """:func:`sensitivity_grid` on a prepared study: its fitted bandwidths are reused.

    Only ``site_ids`` (with their families) are re-analysed. With ``rng`` in the state that
    :func:`~deconflict.stats.cities.prepare_study` left it in, the cells are those of
    ``sensitivity_grid(sites, incidents, rng=...)`` with the generator's original state.
    """
    cells = _sensitivity(study, set(site_ids), bandwidth_factors, radius_factors, min_probability, rng, progress)
    return [c for s in study.sites.ids if str(s) in cells for c in cells[str(s)]]
