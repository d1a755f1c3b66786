"""Hit probabilities of an uncertain impact point: circular sites, polygons, quadrature offsets."""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.special import chndtr, ndtr
from shapely.geometry.base import BaseGeometry

from deconflict.errors import InvalidInput
from deconflict.match._inputs import _TINY_M, UncertaintyModel
from deconflict.relevance import NORMAL_95_SCALE


def _normal_flag(model: UncertaintyModel | ArrayLike, shape: tuple[int, ...]) -> NDArray[np.bool_]:
    if isinstance(model, str):
        if model not in ("disk", "normal"):
            raise InvalidInput(f"unknown uncertainty model {model!r}; use 'disk' or 'normal'")
        return np.full(shape, model == "normal")
    arr = np.asarray(model)
    if arr.dtype == bool:
        return np.broadcast_to(arr, shape)
    bad = set(np.ravel(arr).tolist()) - {"disk", "normal"}
    if bad:
        raise InvalidInput(f"unknown uncertainty model(s) {sorted(map(str, bad))}")
    return np.broadcast_to(arr == "normal", shape)


def _lens_fraction(d: NDArray[np.float64], r: NDArray[np.float64], u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Fraction of the disk of radius ``u`` (centre at distance ``d``) inside radius ``r``."""
    out = np.zeros_like(d)
    ok = r > 0  # a zero-radius site has no area to hit
    # Centres so close that 2 d r underflows are concentric (it would be 0/0 below).
    inside = ok & ((d <= np.abs(r - u)) | (2.0 * d * np.minimum(r, u) == 0.0))
    out[inside] = (np.minimum(r, u)[inside] / u[inside]) ** 2
    part = ok & ~inside & (d < r + u)
    if np.any(part):
        dd, rr, uu = d[part], r[part], u[part]
        a1 = np.clip((dd**2 + rr**2 - uu**2) / (2 * dd * rr), -1.0, 1.0)
        a2 = np.clip((dd**2 + uu**2 - rr**2) / (2 * dd * uu), -1.0, 1.0)
        k = (-dd + rr + uu) * (dd + rr - uu) * (dd - rr + uu) * (dd + rr + uu)
        area = rr**2 * np.arccos(a1) + uu**2 * np.arccos(a2) - 0.5 * np.sqrt(np.maximum(k, 0))
        out[part] = area / (np.pi * uu**2)
    return np.clip(out, 0.0, 1.0)


def hit_probability(
    distance_m: ArrayLike,
    site_radius_m: ArrayLike,
    uncertainty_m: ArrayLike,
    model: UncertaintyModel | ArrayLike = "disk",
) -> NDArray[np.float64]:
    """Probability that the true impact lies within ``site_radius_m`` of a circular site.

    Parameters
    ----------
    distance_m
        Distance in metres from the reported impact point to the site's point.
    site_radius_m
        Hit radius of the site in metres.
    uncertainty_m
        Location uncertainty radius in metres (disk radius, or the 95 % circle of the normal).
    model
        ``"disk"``, ``"normal"``, or an array of them (or a boolean array, True = normal).

    Returns
    -------
    numpy.ndarray
        Probabilities in [0, 1], broadcast over the inputs. Zero uncertainty gives the
        indicator ``distance_m <= site_radius_m`` (and a zero radius is never hit).

    Raises
    ------
    InvalidInput
        On negative distances, radii or uncertainties, or an unknown model.
    """
    d, r, u = (np.asarray(a, dtype=float) for a in (distance_m, site_radius_m, uncertainty_m))
    d, r, u = np.broadcast_arrays(d, r, u)
    if np.any(d < 0) or np.any(r < 0) or np.any(u < 0):
        raise InvalidInput("distances, radii and uncertainties must be >= 0")
    shape = d.shape
    normal = np.ravel(_normal_flag(model, shape))
    return _hit_probability_1d(d.ravel(), r.ravel(), u.ravel(), normal).reshape(shape)


def _hit_probability_1d(
    d: NDArray[np.float64], r: NDArray[np.float64], u: NDArray[np.float64], normal: NDArray[np.bool_]
) -> NDArray[np.float64]:
    out = ((d <= r) & (r > 0)).astype(float)  # zero-uncertainty limit; r = 0 has no area
    u = np.where(u < _TINY_M, 0.0, u)
    disk = (~normal) & (u > 0)
    if np.any(disk):
        out[disk] = _lens_fraction(d[disk], r[disk], u[disk])
    # An error a million times smaller than the distances involved is the indicator too
    # (and keeps the squared ratios below overflow).
    nrm = normal & (u > 0) & (u * 1e6 > np.maximum(r, d))
    if np.any(nrm):
        sigma = u[nrm] / NORMAL_95_SCALE
        noncentrality = (d[nrm] / sigma) ** 2
        # chndtr is wrong for subnormal noncentralities (e.g. 1e-320 gives 0.629 for 0.632); below 1e-20
        # the central chi-square is exact to double precision anyway.
        noncentrality[noncentrality < 1e-20] = 0.0
        p = chndtr((r[nrm] / sigma) ** 2, 2.0, noncentrality)
        bad = np.isnan(p)  # chndtr gives up for noncentralities beyond ~5e10 (d > 2e5 sigma)
        if np.any(bad):  # there the Rice law is normal to within sigma / d < 5e-6
            p[bad] = ndtr((r[nrm][bad] - d[nrm][bad]) / sigma[bad])
        out[nrm] = np.clip(p, 0.0, 1.0)
    return out


_RINGS, _ANGLES = 24, 48
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def uncertainty_offsets(
    uncertainty_m: float, model: UncertaintyModel
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Deterministic quadrature ``(dx, dy, weight)`` of a location-error distribution.

    ``normal``: 24 equal-probability rings at their median radius x 48 angles (rotated by the
    golden ratio from ring to ring); ``disk``: the same construction for the uniform disk.
    Weights sum to 1. Zero uncertainty gives the single offset (0, 0).
    """
    if uncertainty_m <= 0:
        return np.zeros(1), np.zeros(1), np.ones(1)
    q = (np.arange(_RINGS) + 0.5) / _RINGS
    if model == "normal":
        rho = (uncertainty_m / NORMAL_95_SCALE) * np.sqrt(-2.0 * np.log1p(-q))
    else:
        rho = uncertainty_m * np.sqrt(q)
    theta = 2 * np.pi * (np.arange(_ANGLES)[None, :] / _ANGLES + _GOLDEN * np.arange(_RINGS)[:, None])
    dx = (rho[:, None] * np.cos(theta)).ravel()
    dy = (rho[:, None] * np.sin(theta)).ravel()
    return dx, dy, np.full(dx.size, 1.0 / dx.size)


def polygon_hit_probability(
    region: BaseGeometry,
    x: ArrayLike,
    y: ArrayLike,
    uncertainty_m: ArrayLike,
    model: UncertaintyModel | ArrayLike = "disk",
) -> NDArray[np.float64]:
    """Probability that the true impact falls in a (projected, metres) polygon ``region``.

    ``disk``: exact area fraction via shapely (disks drawn as 128-gons, area error < 0.05 %,
    and the fraction is taken of the 128-gon's own area). ``normal``: deterministic
    quadrature from :func:`uncertainty_offsets`. Zero uncertainty: point-in-polygon
    (boundary counts as inside).
    """
    x_a = np.atleast_1d(np.asarray(x, float))
    y_a = np.atleast_1d(np.asarray(y, float))
    u = np.broadcast_to(np.asarray(uncertainty_m, float), x_a.shape)
    normal = _normal_flag(model, x_a.shape)
    out = shapely.intersects_xy(region, x_a, y_a).astype(float)
    shapely.prepare(region)
    disk = (~normal) & (u > 0)
    if np.any(disk):
        disks = shapely.buffer(shapely.points(x_a[disk], y_a[disk]), u[disk], quad_segs=32)
        out[disk] = shapely.area(shapely.intersection(disks, region)) / shapely.area(disks)
    for k in np.flatnonzero(normal & (u > 0)):
        dx, dy, w = uncertainty_offsets(float(u[k]), "normal")
        out[k] = float(np.sum(w * shapely.contains_xy(region, x_a[k] + dx, y_a[k] + dy)))
    return np.clip(out, 0.0, 1.0)
