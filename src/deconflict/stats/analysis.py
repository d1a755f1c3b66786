"""Per-site intentionality statistics: observed vs expected hits, before and after notification.

:func:`analyze_sites` ties the pieces together: matching (:mod:`deconflict.match`), the
leave-site-out background (:mod:`deconflict.stats.background`) and the exact tests
(:mod:`deconflict.stats.tests`). Each :class:`SiteResult` lists the assumptions behind its
numbers, renders the JSON the CLI prints (:meth:`SiteResult.to_json`) and one plain sentence
(:meth:`SiteResult.sentence`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from deconflict.errors import InvalidInput
from deconflict.geo import LocalProjection
from deconflict.match import (
    NORMAL_95_SCALE,
    NORMAL_REACH_SIGMAS,
    IncidentArray,
    IncidentInput,
    SiteArray,
    SiteInput,
    match_arrays,
    site_hit_regions,
)
from deconflict.stats.background import (
    BackgroundIntensity,
    BandwidthMethod,
    after_fraction,
    fit_background,
)
from deconflict.stats.exposure import SCORE_LEVELS, SiteExposure, site_exposure
from deconflict.stats.tests import (
    benjamini_hochberg,
    compound_poisson_tail_test,
    conditional_change_test,
    control_rank_test,
    holm,
    poisson_tail_test,
)

__all__ = ["ANALYSIS_ASSUMPTIONS", "SensitivityCell", "SiteResult", "analyze_sites", "sensitivity_grid"]

ANALYSIS_ASSUMPTIONS: tuple[str, ...] = (
    "No targeting (null hypothesis): strikes fall independently, with the spatial intensity "
    "of all other strikes in the study area (kernel estimate, site's surroundings left out).",
    "Space and time are separable: where strikes fall does not change between periods; "
    "a period's exposure is its share of all strikes.",
    "Counted incidents: confidence other than 'discounted' and status confirmed (or not given); "
    "each report is one strike (duplicates must be merged beforehand: 'deconflict incidents duplicates' "
    "proposes them, 'incidents merge' records one incident).",
    "A hit is a true impact inside the site's hit region (radius_m around the point or the "
    "footprint); location errors follow the incident's uncertainty model.",
    "Expected hits are computed on the same basis as observed ones: the background's "
    "reported strikes with their uncertainty, scored by the same hit probability.",
    "'After notification' means after the END of the notification interval (conservative).",
    "An incident known only to a time interval is spread uniformly over it.",
    "p_value: Poisson upper tail of the hits given the expected count; uncertain hits are "
    "averaged over which reports were true hits. p_value_score weighs the hit score against "
    "the background's distribution of hit scores instead.",
    "Primary test: after notification for notified sites, whole period otherwise; "
    "p_adjusted is Holm's adjustment over all sites analysed, p_adjusted_bh Benjamini-Hochberg.",
)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _one_in(p: float) -> str:
    if p <= 0:
        return "less than 1 in 10^15"
    n = 1.0 / p
    digits = max(0, math.floor(math.log10(n)) - 1)
    return f"about 1 in {round(n, -digits):,.0f}"


@dataclass(frozen=True)
class SiteResult:
    """Statistics for one site. ``p_value*`` fields are ``None`` where undefined.

    * ``p_value`` / ``p_value_after``: Poisson upper tail of the observed hits (whole period /
      after notification) given their expected number. With certain hits (``k`` of them) exactly
      ``P(X >= k)``, ``X ~ Poisson(expected)``; with uncertain hits that tail averaged over the
      Poisson–binomial distribution of the true count (:func:`~deconflict.stats.poisson_tail_test`).
      Conservative and explainable: these are the numbers to quote; the sentence, ``p_primary``,
      ``p_adjusted`` (Holm) and ``p_adjusted_bh`` use them. ``mid_p_value*`` and
      ``randomized_p_value*`` are the mid-p and randomised versions of the same test.
    * ``p_value_score`` / ``p_value_after_score``: compound-Poisson test of the hit score
      ``sum p_i`` (:func:`~deconflict.stats.compound_poisson_tail_test`). More powerful when
      locations are uncertain; depends on the background's distribution of hit scores. Equal to
      the Poisson tail with certain hits.
    * ``p_value_change``: conditional binomial test of the post-notification share of hits.
    """

    site_id: str
    kind: str
    city: str
    radius_m: float
    bandwidth_m: float
    exclusion_radius_m: float
    notified_at: float | None  # end of the notification interval, epoch seconds
    observed: float
    expected: float
    p_value: float
    mid_p_value: float
    randomized_p_value: float
    observed_after: float | None
    expected_after: float | None
    p_value_after: float | None
    mid_p_value_after: float | None
    randomized_p_value_after: float | None
    p_value_score: float
    mid_p_value_score: float
    randomized_p_value_score: float
    p_value_after_score: float | None
    mid_p_value_after_score: float | None
    randomized_p_value_after_score: float | None
    rate_ratio: float | None
    rate_ratio_ci: tuple[float | None, float | None] | None
    p_value_change: float | None
    p_value_control: float | None
    p_value_control_randomized: float | None
    n_controls: int
    p_primary: float
    p_adjusted: float
    p_adjusted_bh: float
    matched_incidents: tuple[tuple[str, float], ...]
    certain_counts: bool
    assumptions: tuple[str, ...] = ANALYSIS_ASSUMPTIONS

    def flagged(self, alpha: float = 0.05) -> bool:
        """Whether the adjusted primary p-value is at most ``alpha``."""
        return self.p_adjusted <= alpha

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (non-finite numbers become ``null``)."""
        ci = self.rate_ratio_ci
        return {
            "site_id": self.site_id,
            "kind": self.kind,
            "city": self.city,
            "radius_m": self.radius_m,
            "bandwidth_m": self.bandwidth_m,
            "observed": self.observed,
            "expected": self.expected,
            "p_value": self.p_value,
            "mid_p_value": self.mid_p_value,
            "notified_at": None if self.notified_at is None else _iso(self.notified_at),
            "observed_after": _num(self.observed_after),
            "expected_after": _num(self.expected_after),
            "p_value_after": _num(self.p_value_after),
            "p_value_score": _num(self.p_value_score),
            "p_value_after_score": _num(self.p_value_after_score),
            "rate_ratio": _num(self.rate_ratio),
            "rate_ratio_ci": None if ci is None else [_num(ci[0]), _num(ci[1])],
            "p_value_change": _num(self.p_value_change),
            "p_value_control": _num(self.p_value_control),
            "p_value_control_randomized": _num(self.p_value_control_randomized),
            "n_controls": self.n_controls,
            "p_adjusted": _num(self.p_adjusted),
            "p_adjusted_bh": _num(self.p_adjusted_bh),
            "matched_incidents": [{"incident_id": i, "probability": p} for i, p in self.matched_incidents],
            "assumptions": list(self.assumptions),
        }

    def sentence(self) -> str:
        """One plain-language sentence about the primary test."""
        after = self.notified_at is not None and self.observed_after is not None
        obs = self.observed_after if after else self.observed
        exp = self.expected_after if after else self.expected
        p = self.p_value_after if after else self.p_value
        assert obs is not None and exp is not None and p is not None
        count = f"{round(obs)}" if self.certain_counts else f"{obs:.1f} probable"
        noun = "hit" if self.certain_counts and round(obs) == 1 else "hits"
        when = " after notification" if after else ""
        where = f"elsewhere in {self.city}" if self.city else "elsewhere in the study area"
        head = f"{count} {noun}{when} where {exp:.2g} were expected"
        if p >= 0.05:
            return f"{head}: a probability of {p:.2f} if strikes fell as they did {where}, consistent with chance."
        return f"{head}: a probability of {_one_in(p)} if strikes fell as they did {where}."


def _groups(
    unc: NDArray[np.float64], normal: NDArray[np.bool_], max_groups: int = 24
) -> tuple[list[tuple[float, str]], NDArray[np.int64]]:
    """Group incidents by (uncertainty, model); quantise uncertainties if there are many."""
    u = unc.copy()
    for flag in (False, True):
        sel = normal == flag
        vals = np.unique(u[sel])
        if vals.size > max_groups // 2:
            edges = np.unique(np.quantile(u[sel], np.linspace(0, 1, max_groups // 2 + 1)))
            b = np.clip(np.searchsorted(edges, u[sel], side="right") - 1, 0, edges.size - 2)
            medians = np.array([np.median(u[sel][b == j]) if np.any(b == j) else 0.0
                                for j in range(edges.size - 1)])  # fmt: skip
            u[sel] = medians[b]
    keys = np.stack([u, normal.astype(float)], axis=1)
    uniq, index = np.unique(keys, axis=0, return_inverse=True)
    groups = [(float(a), "normal" if b else "disk") for a, b in uniq]
    return groups, np.ravel(index).astype(np.int64)


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
    background: BackgroundIntensity | None = None,
) -> list[SiteResult]:
    """Observed vs expected hits and their tests, for every site.

    Parameters
    ----------
    sites, incidents
        Records or columns (see :mod:`deconflict.match`).
    rng
        Seeded generator for the randomised p-values and control-rank tie-breaking.
    study_area
        WGS84 polygon; default: convex hull of the counted incidents, buffered by a bandwidth.
    bandwidth_m
        Pilot kernel bandwidth in metres or a rule: ``"cv"`` (default, likelihood
        cross-validation; the setting validated in ``tests/stats/test_stats_calibration.py``),
        ``"scott"``, ``"silverman"``. Kernels then adapt to the local density.
    exclusion_radius_m
        Leave-site-out radius; default: the site's reach plus the 95th percentile of the
        incidents' uncertainty reach (capped at 1.5 bandwidths by the background).
    radius_scale
        Multiplies every site's hit radius (for sensitivity analysis).
    projection
        Local projection (default: centred on all sites and incidents).
    min_probability
        Matches below this probability are ignored.
    background
        A pre-fitted background (in ``projection``'s metres); overrides the bandwidth options.

    Returns
    -------
    list of SiteResult
        In the order of ``sites``.

    Raises
    ------
    InvalidInput
        On invalid inputs or fewer than two counted incidents in the study area.
    """
    s_arr, i_arr = _as_arrays(sites, incidents)
    if len(s_arr) == 0:
        return []
    if radius_scale <= 0:
        raise InvalidInput("radius_scale must be > 0", where="radius_scale")
    if radius_scale != 1.0:
        s_arr = dataclasses.replace(s_arr, radius_m=s_arr.radius_m * radius_scale)
    proj = projection or LocalProjection.from_points(
        np.concatenate([s_arr.lon, i_arr.lon]), np.concatenate([s_arr.lat, i_arr.lat])
    )
    ix, iy = proj.project(i_arr.lon, i_arr.lat)
    sx, sy = proj.project(s_arr.lon, s_arr.lat)
    counted = i_arr.counted
    if background is None:
        area = None if study_area is None else proj.project_geometry(study_area)
        background = fit_background(ix[counted], iy[counted], study_area=area,
                                    bandwidth_m="cv" if bandwidth_m is None else bandwidth_m, rng=rng)  # fmt: skip
    in_area = counted & shapely.contains_xy(background.study_area, ix, iy)
    n_area = int(in_area.sum())
    groups, group_of = _groups(i_arr.uncertainty_m[in_area], i_arr.normal[in_area])
    share_total = np.bincount(group_of, minlength=len(groups)) / n_area
    start_a, end_a = i_arr.start_s[in_area], i_arr.end_s[in_area]
    regions, site_reach = site_hit_regions(s_arr, proj)
    reach = i_arr.uncertainty_m[counted] * np.where(i_arr.normal[counted], NORMAL_REACH_SIGMAS / NORMAL_95_SCALE, 1.0)
    reach95 = float(np.quantile(reach, 0.95)) if reach.size else 0.0
    table = match_arrays(s_arr, i_arr, projection=proj, min_probability=min_probability, counted_only=True)
    bounds = np.searchsorted(table.site_index, np.arange(len(s_arr) + 1))
    after_cache: dict[float, NDArray[np.float64]] = {}
    a_levels = np.arange(1, 11) / 10.0  # after-fractions quantised to tenths for the null

    rows: list[dict[str, Any]] = []
    for k in range(len(s_arr)):
        excl = site_reach[k] + reach95 if exclusion_radius_m is None else exclusion_radius_m
        exposure = site_exposure(background, float(sx[k]), float(sy[k]), radius_m=float(s_arr.radius_m[k]),
                                 groups=groups, region=regions[k], exclusion_radius_m=float(excl))  # fmt: skip
        expected = float(exposure.expected @ share_total)
        sel = slice(bounds[k], bounds[k + 1])
        inc = table.incident_index[sel]
        probs = table.probability[sel]
        row: dict[str, Any] = {
            "k": k, "expected": expected, "probs": probs, "inc": inc,
            "excl": background.effective_exclusion_m(float(excl)),
            "whole": poisson_tail_test(probs, expected, rng=rng),
            "whole_score": compound_poisson_tail_test(probs, share_total @ exposure.score_measure,
                                                      expected=expected, rng=rng),
        }  # fmt: skip
        t_n = float(s_arr.notified_end_s[k])
        if math.isfinite(t_n):
            if t_n not in after_cache:
                level = np.rint(after_fraction(start_a, end_a, t_n) * 10).astype(np.int64)
                w = np.zeros((len(groups), 11))
                np.add.at(w, (group_of, level), 1.0 / n_area)
                after_cache[t_n] = w
            w_after = after_cache[t_n]
            exp_after = float(exposure.expected @ (w_after[:, 1:] @ a_levels))
            frac = after_fraction(i_arr.start_s[inc], i_arr.end_s[inc], t_n)
            row["expected_after"] = exp_after
            row["after"] = poisson_tail_test(probs * frac, exp_after, rng=rng)
            row["after_score"] = compound_poisson_tail_test(probs * frac, _after_measure(exposure, w_after),
                                                            expected=exp_after, rng=rng)  # fmt: skip
            row["change"] = conditional_change_test(probs * (1 - frac), probs * frac, expected - exp_after, exp_after)
        rows.append(row)
    return _finish(s_arr, i_arr, rows, background.bandwidth_m, rng)


def _after_measure(exposure: SiteExposure, w_after: NDArray[np.float64]) -> NDArray[np.float64]:
    """Score measure of the strikes after notification.

    A strike that is after notification with probability ``a`` (a night straddling it)
    contributes the score ``a * p``; ``w_after[g, m]`` is the share of strikes of group ``g``
    with ``a`` rounded to ``m / 10``.
    """
    levels = SCORE_LEVELS
    out = np.zeros(levels + 1)
    idx = np.arange(levels + 1)
    for m in range(1, 11):
        col = w_after[:, m]
        if not np.any(col > 0):
            continue
        measure = col @ exposure.score_measure
        if m == 10:
            out += measure
        else:
            out += np.bincount(np.rint(idx * m / 10).astype(np.int64), weights=measure, minlength=levels + 1)
    return out


def _finish(
    s_arr: SiteArray, i_arr: IncidentArray, rows: list[dict[str, Any]], bandwidth: float,
    rng: np.random.Generator,
) -> list[SiteResult]:  # fmt: skip
    z = np.array([(r["whole"].statistic - r["expected"]) / math.sqrt(max(r["expected"], 1e-12)) for r in rows])
    primary = np.array([r["after"].pvalue if "after" in r else r["whole"].pvalue for r in rows])
    p_holm, p_bh = holm(primary), benjamini_hochberg(primary)
    groups: dict[tuple[str, str], list[int]] = {}
    for k in range(len(rows)):
        groups.setdefault((str(s_arr.kind[k]), str(s_arr.city[k])), []).append(k)
    results = []
    for k, r in enumerate(rows):
        peers = [j for j in groups[(str(s_arr.kind[k]), str(s_arr.city[k]))] if j != k]
        ctrl = control_rank_test(float(z[k]), z[peers], rng=rng)
        after, change = r.get("after"), r.get("change")
        score, after_score = r["whole_score"], r.get("after_score")
        probs = r["probs"]
        results.append(SiteResult(
            site_id=str(s_arr.ids[k]), kind=str(s_arr.kind[k]), city=str(s_arr.city[k]),
            radius_m=float(s_arr.radius_m[k]), bandwidth_m=float(bandwidth),
            exclusion_radius_m=float(r["excl"]),
            notified_at=float(s_arr.notified_end_s[k]) if after is not None else None,
            observed=r["whole"].statistic, expected=r["expected"], p_value=r["whole"].pvalue,
            mid_p_value=r["whole"].mid_pvalue, randomized_p_value=r["whole"].randomized_pvalue,
            observed_after=None if after is None else after.statistic,
            expected_after=None if after is None else after.expected,
            p_value_after=None if after is None else after.pvalue,
            mid_p_value_after=None if after is None else after.mid_pvalue,
            randomized_p_value_after=None if after is None else after.randomized_pvalue,
            p_value_score=score.pvalue, mid_p_value_score=score.mid_pvalue,
            randomized_p_value_score=score.randomized_pvalue,
            p_value_after_score=None if after_score is None else after_score.pvalue,
            mid_p_value_after_score=None if after_score is None else after_score.mid_pvalue,
            randomized_p_value_after_score=None if after_score is None else after_score.randomized_pvalue,
            rate_ratio=None if change is None else change.rate_ratio,
            rate_ratio_ci=None if change is None else (change.rate_ratio_low, change.rate_ratio_high),
            p_value_change=None if change is None else change.pvalue,
            p_value_control=None if ctrl.n_controls == 0 else ctrl.pvalue_conservative,
            p_value_control_randomized=None if ctrl.n_controls == 0 else ctrl.pvalue, n_controls=ctrl.n_controls,
            p_primary=float(primary[k]), p_adjusted=float(p_holm[k]), p_adjusted_bh=float(p_bh[k]),
            matched_incidents=tuple((str(i_arr.ids[i]), float(p)) for i, p in zip(r["inc"], probs, strict=True)),
            certain_counts=bool(np.all((probs < 1e-6) | (probs > 1 - 1e-6))),
        ))  # fmt: skip
    return results


@dataclass(frozen=True)
class SensitivityCell:
    """One site's numbers under one (bandwidth, hit radius) setting."""

    site_id: str
    bandwidth_m: float
    radius_m: float
    observed: float
    expected: float
    p_value: float
    observed_after: float | None
    expected_after: float | None
    p_value_after: float | None


def sensitivity_grid(
    sites: Sequence[SiteInput] | SiteArray,
    incidents: Sequence[IncidentInput] | IncidentArray,
    *,
    rng: np.random.Generator,
    bandwidth_factors: Sequence[float] = (0.5, 1.0, 2.0),
    radius_factors: Sequence[float] = (0.5, 1.0, 2.0),
    bandwidth_m: float | BandwidthMethod | None = None,
    **kwargs: Any,
) -> list[SensitivityCell]:
    """Re-run :func:`analyze_sites` over a grid of bandwidth and hit-radius multipliers.

    The base bandwidth is ``bandwidth_m`` (a number or rule, as in :func:`analyze_sites`);
    other keyword arguments are passed on.
    """
    s_arr, i_arr = _as_arrays(sites, incidents)
    proj = kwargs.pop("projection", None) or LocalProjection.from_points(
        np.concatenate([s_arr.lon, i_arr.lon]), np.concatenate([s_arr.lat, i_arr.lat])
    )
    ix, iy = proj.project(i_arr.lon[i_arr.counted], i_arr.lat[i_arr.counted])
    area = kwargs.get("study_area")
    base = fit_background(ix, iy, study_area=None if area is None else proj.project_geometry(area),
                          bandwidth_m="cv" if bandwidth_m is None else bandwidth_m, rng=rng).bandwidth_m  # fmt: skip
    cells = []
    for bf in bandwidth_factors:
        for rf in radius_factors:
            res = analyze_sites(s_arr, i_arr, rng=rng, bandwidth_m=base * bf, radius_scale=rf,
                                projection=proj, **kwargs)  # fmt: skip
            cells += [SensitivityCell(r.site_id, r.bandwidth_m, r.radius_m, r.observed, r.expected, r.p_value,
                                      r.observed_after, r.expected_after, r.p_value_after)
                      for r in res]  # fmt: skip
    return cells
