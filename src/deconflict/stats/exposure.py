"""A site's exposure to the background: expected hits and the distribution of hit scores.

Under "no targeting" every strike lands where strikes land elsewhere (the background
intensity of *reported* locations, :mod:`deconflict.stats.background`) and is scored with
the hit probability :mod:`deconflict.match` gives a reported location. For a site and an
uncertainty group ``(uncertainty_m, model)`` this module computes

* the **expected score** ``∫ intensity(y) · P(hit | reported at y) dy`` (expected hits), and
* the **score measure**: the expected number of background strikes whose score, rounded to
  the lattice ``1 / levels``, equals each level. The sum of scores is then compound Poisson
  with this measure, which gives an exact test of the observed score
  (:func:`deconflict.stats.tests.compound_poisson_tail_test`). With certain hits (scores 0
  or 1) it is the ordinary Poisson count.

Circular sites use the radial profile of the intensity (its mean over 32 directions at each
distance, composite Simpson on segments split where the hit probability has kinks).
Footprint sites integrate over a grid covering the hit region and its reach.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.special import chndtr
from shapely.geometry.base import BaseGeometry

from deconflict.match import (
    NORMAL_95_SCALE,
    NORMAL_REACH_SIGMAS,
    hit_probability,
    polygon_hit_probability,
    uncertainty_offsets,
)
from deconflict.stats.background import BackgroundIntensity

__all__ = [
    "SCORE_LEVELS",
    "SiteExposure",
    "hit_integrals",
    "hole_fraction",
    "hole_fraction_interpolant",
    "radial_table",
    "site_exposure",
    "soft_exposure",
]

_MIN_REMAINING = 0.1

#: Lattice of hit scores: a score is rounded to a multiple of ``1 / SCORE_LEVELS``.
SCORE_LEVELS = 100

Intensity = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]


@dataclass(frozen=True)
class SiteExposure:
    """Per uncertainty group: expected hits and the measure of rounded hit scores.

    ``expected[g]`` and ``score_measure[g, j]`` are for the case where *all* background
    strikes had group ``g``'s uncertainty; weight them by the groups' shares.
    """

    expected: NDArray[np.float64]  # (groups,)
    score_measure: NDArray[np.float64]  # (groups, levels + 1); column 0 = score rounds to 0


def _reach(u: float, model: str) -> float:
    return u * NORMAL_REACH_SIGMAS / NORMAL_95_SCALE if model == "normal" else u


def _simpson_segments(breaks: NDArray[np.float64], per: int = 32) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    nodes, weights = [], []
    base = np.ones(per + 1)
    base[1:-1:2], base[2:-1:2] = 4.0, 2.0
    for a, b in itertools.pairwise(breaks):
        if b <= a:
            continue
        nodes.append(np.linspace(a, b, per + 1))
        weights.append(base * (b - a) / (3 * per))
    return np.concatenate(nodes), np.concatenate(weights)


def _histogram(scores: NDArray[np.float64], mass: NDArray[np.float64], levels: int) -> NDArray[np.float64]:
    idx = np.clip(np.rint(scores * levels).astype(np.int64), 0, levels)
    return np.bincount(idx, weights=mass, minlength=levels + 1).astype(np.float64)


def site_exposure(
    background: BackgroundIntensity,
    site_x: float,
    site_y: float,
    *,
    radius_m: float,
    groups: list[tuple[float, str]],
    region: BaseGeometry | None = None,
    levels: int = SCORE_LEVELS,
) -> SiteExposure:
    """Expected hits and score measure of one site for each uncertainty group (nothing left out).

    Parameters
    ----------
    background
        Fitted background intensity (projected metres).
    site_x, site_y
        Site point in the same projection.
    radius_m
        Hit radius (ignored when ``region`` is given: the region is the hit region).
    groups
        ``(uncertainty_m, model)`` pairs.
    region
        Projected hit region for footprint sites.
    For the analysis, where the site's own possible hits are left out, see :func:`soft_exposure`.
    levels
        Score lattice size.
    """
    cx, cy = float(site_x), float(site_y)

    def lam(px: NDArray[np.float64], py: NDArray[np.float64]) -> NDArray[np.float64]:
        return background.intensity(px, py)

    if region is not None:
        return _region_exposure(lam, region, groups, levels)
    n = len(groups)
    r = float(radius_m)
    if r <= 0 or n == 0:
        return SiteExposure(np.zeros(n), np.zeros((n, levels + 1)))
    breaks = [0.0, r]
    for u, model in groups:
        if u > 0 and model == "normal":
            s = u / NORMAL_95_SCALE
            breaks += [r + k * s for k in (-3, -2, -1, 1, 2, 3, 5)]
        elif u > 0:
            breaks += [abs(r - u), r + u]
    top = r + max(_reach(u, m) for u, m in groups)
    rho, w_rho = _simpson_segments(np.unique(np.clip(np.asarray(breaks), 0.0, top)))
    # The intensity is smooth on the scale of the bandwidth: sample its ring means on a
    # coarse radial grid and interpolate.
    coarse = np.linspace(0.0, top, max(16, int(np.ceil(top / (background.bandwidth_m / 8))) + 1))
    theta = 2 * np.pi * (np.arange(32) + 0.5) / 32
    ring = lam(cx + coarse[:, None] * np.cos(theta), cy + coarse[:, None] * np.sin(theta)).mean(axis=1)
    mass = 2 * np.pi * w_rho * rho * np.interp(rho, coarse, ring)
    expected = np.zeros(n)
    measure = np.zeros((n, levels + 1))
    for k, (u, model) in enumerate(groups):
        g = hit_probability(rho, r, u, model)
        expected[k] = float(np.sum(mass * g))
        measure[k] = _histogram(g, mass, levels)
    return SiteExposure(expected, measure)


@dataclass(frozen=True)
class _RadialTable:
    """Quadrature nodes and hit probabilities shared by every site of one hit radius."""

    rho: NDArray[np.float64]  # fine nodes
    weights: NDArray[np.float64]  # 2 pi rho w_rho (area weights)
    coarse: NDArray[np.float64]  # radii at which the intensity is sampled
    hit: NDArray[np.float64]  # (groups, nodes) hit probability
    level: NDArray[np.int64]  # (groups, nodes) score lattice index


def radial_table(
    radius_m: float, groups: list[tuple[float, str]], cell_m: float, levels: int = SCORE_LEVELS
) -> _RadialTable:
    """Nodes and hit probabilities for a circular site of ``radius_m`` (cache per radius)."""
    r = float(radius_m)
    breaks = [0.0, r]
    for u, model in groups:
        if u > 0 and model == "normal":
            s = u / NORMAL_95_SCALE
            breaks += [r + k * s for k in (-3, -2, -1, 1, 2, 3, 5)]
        elif u > 0:
            breaks += [abs(r - u), r + u]
    top = r + max(_reach(u, m) for u, m in groups)
    rho, w_rho = _simpson_segments(np.unique(np.clip(np.asarray(breaks), 0.0, top)))
    coarse = np.linspace(0.0, top, max(16, int(np.ceil(top / (2.0 * cell_m))) + 1))
    hit = np.stack([hit_probability(rho, r, u, model) for u, model in groups])
    level = np.clip(np.rint(hit * levels).astype(np.int64), 0, levels)
    return _RadialTable(rho, 2 * np.pi * w_rho * rho, coarse, hit, level)


def _hole_components(
    bandwidth_m: float | NDArray[np.float64], groups: list[tuple[float, str]], shares: NDArray[np.float64],
    bandwidth_shares: NDArray[np.float64] | None,
) -> list[tuple[float, float]]:  # fmt: skip
    """``(tau**2, weight)`` of every (uncertainty group, kernel bandwidth) pair of the hole fraction."""
    hs = np.atleast_1d(np.asarray(bandwidth_m, float))
    mix = np.ones(hs.size) / hs.size if bandwidth_shares is None else np.asarray(bandwidth_shares, float)
    out = []
    for (u, model), share in zip(groups, shares, strict=True):
        sigma2 = (u / NORMAL_95_SCALE) ** 2 if model == "normal" else u**2 / 4.0
        out += [(float(h**2 + sigma2), float(share * weight)) for h, weight in zip(hs, mix, strict=True)]
    return out


def hole_fraction(
    distance_m: NDArray[np.float64], radius_m: float, bandwidth_m: float | NDArray[np.float64],
    groups: list[tuple[float, str]], shares: NDArray[np.float64],
    bandwidth_shares: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:  # fmt: skip
    """Expected share of the kernel sum at a point that comes from reports scoring on the site.

    ``E[sum_i p_i K(x - y_i)] = lambda * int p(y) K(x - y) dy``; for a Gaussian kernel and a
    normal location error this is a non-central chi-square CDF with variance
    ``h**2 + sigma**2`` (a uniform disk error is matched by its variance, ``u**2 / 4`` per axis).
    """
    d = np.ravel(np.asarray(distance_m, float))
    out = np.zeros(d.size)
    order = np.argsort(d, kind="stable")
    d_sorted = d[order]
    d2 = d_sorted**2
    for tau2, weight in _hole_components(bandwidth_m, groups, shares, bandwidth_shares):
        # Beyond r + 10 tau the term is below Phi(-10) < 1e-23: skipped (points sorted by distance)
        n = int(np.searchsorted(d_sorted, radius_m + 10.0 * np.sqrt(tau2), side="right"))
        out[:n] += weight * chndtr(radius_m**2 / tau2, 2.0, d2[:n] / tau2)
    result = np.empty(d.size)
    result[order] = out
    return result.reshape(np.shape(distance_m))


def hole_fraction_interpolant(
    max_distance_m: float, radius_m: float, bandwidth_m: float | NDArray[np.float64],
    groups: list[tuple[float, str]], shares: NDArray[np.float64],
    bandwidth_shares: NDArray[np.float64] | None = None,
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:  # fmt: skip
    """:func:`hole_fraction` as a function of distance, for many evaluations at one site.

    Cubic Hermite interpolation between exact values and exact derivatives
    (``dF/dlambda = -(F_2 - F_4) / 2`` for the non-central chi-square CDF) on nodes
    ``tau_min / 40`` apart: the interpolation error is below 1e-9 (a footprint's exposure is
    evaluated at ~10^4 points per uncertainty group; the exact sum cost seconds per site).
    """
    from scipy.interpolate import CubicHermiteSpline

    parts = _hole_components(bandwidth_m, groups, shares, bandwidth_shares)
    step = float(np.sqrt(min(t for t, _ in parts))) / 40.0
    nodes = int(np.ceil((max_distance_m + step) / step)) + 2
    if nodes * len(parts) > 4_000_000:  # very narrow kernels over a wide area: the exact sum is cheaper

        def exact(distance: NDArray[np.float64]) -> NDArray[np.float64]:
            return hole_fraction(distance, radius_m, bandwidth_m, groups, shares, bandwidth_shares)

        return exact
    d = np.linspace(0.0, max_distance_m + step, nodes)
    value, slope = np.zeros(d.size), np.zeros(d.size)
    for tau2, weight in parts:
        x, lam = radius_m**2 / tau2, d**2 / tau2
        f2, f4 = chndtr(x, 2.0, lam), chndtr(x, 4.0, lam)
        value += weight * f2
        slope += weight * (-(f2 - f4) * d / tau2)
    spline = CubicHermiteSpline(d, value, slope)

    def hole(distance: NDArray[np.float64]) -> NDArray[np.float64]:
        dist = np.asarray(distance, float)
        out = np.asarray(spline(np.minimum(dist, d[-1])))
        far = dist > d[-1]
        if np.any(far):  # outside the table: exact
            out[far] = hole_fraction(dist[far], radius_m, bandwidth_m, groups, shares, bandwidth_shares)
        return out

    return hole


def soft_exposure(
    background: BackgroundIntensity,
    site_x: float,
    site_y: float,
    *,
    radius_m: float,
    groups: list[tuple[float, str]],
    shares: NDArray[np.float64],
    table: _RadialTable,
    own_points: NDArray[np.int64],
    own_probabilities: NDArray[np.float64],
    levels: int = SCORE_LEVELS,
    kernel: tuple[NDArray[np.int64], NDArray[np.float64]] | None = None,
) -> SiteExposure:
    """Expected hits and score measure of a circular site with its own hits left out softly.

    Every background report that may have hit the site is removed with its hit probability as
    weight (``own_points`` index the background's points), and the kernel mass those reports
    would carry under the null is removed from the normalisation (:func:`hole_fraction`), so
    the estimate is unbiased where the intensity is locally smooth, at any location
    uncertainty (no exclusion radius, no cap) and a hot spot next to the site stays in its
    background.
    """
    cx, cy = float(site_x), float(site_y)
    theta = 2 * np.pi * (np.arange(32) + 0.5) / 32
    px = cx + table.coarse[:, None] * np.cos(theta)
    py = cy + table.coarse[:, None] * np.sin(theta)
    lam = background.intensity(px, py)
    if own_points.size:
        lam = lam - background.contributions(own_points, own_probabilities, px, py)
    hs, mix = background.bandwidth_mix(cx, cy, own_points, own_probabilities, kernel)
    hole = hole_fraction(table.coarse, radius_m, hs, groups, shares, mix)
    ring = np.maximum(lam, 0.0).mean(axis=1) / np.maximum(1.0 - hole, _MIN_REMAINING)
    mass = table.weights * np.interp(table.rho, table.coarse, ring)
    n = len(groups)
    expected = table.hit @ mass
    measure = np.zeros((n, levels + 1))
    for k in range(n):
        measure[k] = np.bincount(table.level[k], weights=mass, minlength=levels + 1)
    return SiteExposure(np.asarray(expected, float), measure)


def _region_exposure(
    lam: Intensity, region: BaseGeometry, groups: list[tuple[float, str]], levels: int
) -> SiteExposure:
    n = len(groups)
    expected = np.zeros(n)
    measure = np.zeros((n, levels + 1))
    minx, miny, maxx, maxy = region.bounds
    # Expected hits: the intensity averaged over the location error, integrated over the region.
    step = max(np.sqrt(region.area / 150.0), 0.5)
    gx, gy = np.meshgrid(np.arange(minx, maxx + step, step), np.arange(miny, maxy + step, step))
    pieces = shapely.intersection(shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + step, gy.ravel() + step), region)
    areas = shapely.area(pieces)
    keep = areas > 0
    cent = shapely.get_coordinates(shapely.centroid(pieces[keep]))
    for k, (u, model) in enumerate(groups):
        dx, dy, w = uncertainty_offsets(u, "normal" if model == "normal" else "disk")
        vals = lam(cent[:, 0:1] + dx[None, :], cent[:, 1:2] + dy[None, :])
        expected[k] = float(np.sum(areas[keep] * (vals @ w)))
        # Score measure on a 60 x 60 grid around the region, rescaled to the expected score.
        reach = _reach(u, model)
        xs = np.linspace(minx - reach, maxx + reach, 61)
        ys = np.linspace(miny - reach, maxy + reach, 61)
        cell = (xs[1] - xs[0]) * (ys[1] - ys[0])
        gx_c, gy_c = np.meshgrid(0.5 * (xs[1:] + xs[:-1]), 0.5 * (ys[1:] + ys[:-1]))
        px, py = gx_c.ravel(), gy_c.ravel()
        g = polygon_hit_probability(region, px, py, np.full(px.size, u), model)
        m = lam(px, py) * cell
        hist = _histogram(g, m, levels)
        score = float(np.sum(np.arange(levels + 1) / levels * hist))
        if score > 0:
            hist[1:] *= expected[k] / score
        measure[k] = hist
    return SiteExposure(expected, measure)


def hit_integrals(
    background: BackgroundIntensity,
    site_x: float,
    site_y: float,
    *,
    radius_m: float,
    groups: list[tuple[float, str]],
    region: BaseGeometry | None = None,
) -> NDArray[np.float64]:
    """Expected hits per uncertainty group (``site_exposure(...).expected``)."""
    return site_exposure(background, site_x, site_y, radius_m=radius_m, groups=groups, region=region).expected
