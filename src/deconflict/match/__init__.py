"""Incident ↔ site matching: could this incident have hit this site, and how likely?

A site is hit when the true impact point of an incident falls inside the site's *hit
region*: the disk of radius ``radius_m`` around the site's point or, when the site has a
footprint polygon, the footprint buffered by ``radius_m``. The reported location of an
incident is uncertain, in one of two documented ways:

``"disk"``
    The true impact is uniformly distributed in the disk of radius ``uncertainty_m`` around
    the reported point (a "500 m circle"). The hit probability is the exact fraction of that
    disk's area that lies inside the hit region (a lens area for circular sites; a shapely
    intersection area, with 128-gon disks, for footprints).
``"normal"``
    The error is an isotropic bivariate normal whose 95 % circle has radius ``uncertainty_m``
    (``sigma = uncertainty_m / sqrt(chi2.ppf(0.95, 2))``). For a circular site at distance
    ``d`` the hit probability is a Rice / non-central chi-square CDF,
    ``ncx2.cdf((r/sigma)**2, 2, (d/sigma)**2)``. For footprints it is a deterministic
    stratified quadrature (24 equal-probability rings x 48 angles), so no randomness enters.
    Candidate pairs are searched up to ``5 sigma`` beyond the hit region; the probability
    beyond that is below 4e-6 and is treated as zero.

With ``uncertainty_m == 0`` both models reduce to the indicator "the point is inside the hit
region". Distances are Euclidean in a local azimuthal-equidistant projection (metres), see
:mod:`deconflict.geo`. Candidate pairs come from dual k-d tree searches
(:meth:`scipy.spatial.cKDTree.sparse_distance_matrix`), one per pair of reach classes;
each pair's distance is then recomputed, ``sqrt(dx*dx + dy*dy)``, and compared with that
pair's own reach, so the candidates are exactly the pairs a brute-force comparison would
find. Projection, searches and probabilities run on a few threads (PROJ, scipy and numpy
release the GIL); a million incidents against a hundred thousand sites takes about a second
or two.

ACLED geo-precision codes map to uncertainty radii by :data:`ACLED_GEO_PRECISION_RADIUS_M`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree
from scipy.special import chndtr, ndtr
from shapely.geometry.base import BaseGeometry

from deconflict.errors import InvalidInput
from deconflict.geo import LocalProjection, _thread_map, validate_lonlat

__all__ = [
    "ACLED_GEO_PRECISION_RADIUS_M",
    "CONFIDENCE_LEVELS",
    "NORMAL_95_SCALE",
    "NORMAL_REACH_SIGMAS",
    "IncidentArray",
    "IncidentInput",
    "Match",
    "MatchTable",
    "SiteArray",
    "SiteInput",
    "hit_probability",
    "match",
    "match_arrays",
    "polygon_hit_probability",
    "site_hit_regions",
    "uncertainty_offsets",
]

UncertaintyModel = Literal["disk", "normal"]

#: ``sqrt(chi2.ppf(0.95, 2))``: radius of the 95 % circle of a standard bivariate normal.
NORMAL_95_SCALE: float = math.sqrt(-2.0 * math.log(0.05))
#: Candidate search reach for the normal model, in standard deviations (mass beyond < 4e-6).
NORMAL_REACH_SIGMAS: float = 5.0
_TINY_M = 1e-9  # uncertainties below a nanometre are treated as exact

#: Uncertainty radius (metres, ``"disk"`` model) for ACLED ``geo_precision`` codes.
#: 1 = the exact town or coordinates were reported: a city district, 2 km.
#: 2 = "near" a town or a part of a region: the town and its surroundings, 15 km.
#: 3 = only a larger region (oblast / province): 50 km. Such reports cannot place a strike
#: on a building; they add almost nothing to any site's observed count, and that is the point.
ACLED_GEO_PRECISION_RADIUS_M: dict[int, float] = {1: 2_000.0, 2: 15_000.0, 3: 50_000.0}

#: Confidence grades; ``"discounted"`` incidents are kept in the record but never counted.
CONFIDENCE_LEVELS: tuple[str, ...] = ("confirmed", "fair", "weak", "contested", "discounted")
_COUNTED_STATUS: tuple[str | None, ...] = (None, "", "confirmed")


def _epoch_s(value: datetime, where: str) -> float:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput("datetime must be timezone-aware (UTC)", where=where)
    return value.timestamp()


@dataclass(frozen=True)
class SiteInput:
    """A protected site as the statistics see it.

    Attributes
    ----------
    id, lat, lon
        Identifier and WGS84 point.
    radius_m
        Hit radius in metres around the point (or around the footprint when given).
    kind, city
        Used to choose comparable control sites.
    notified_at
        ``(start, end)`` of the notification, tz-aware; ``None`` if never notified. The
        notification time may be uncertain: "after notification" always means after ``end``.
    footprint
        Optional WGS84 (lon, lat) shapely polygon of the building or compound.
    """

    id: str
    lat: float
    lon: float
    radius_m: float = 50.0
    kind: str = ""
    city: str = ""
    notified_at: tuple[datetime, datetime] | None = None
    footprint: BaseGeometry | None = None


@dataclass(frozen=True)
class IncidentInput:
    """A reported strike.

    Attributes
    ----------
    id, lat, lon
        Identifier and reported WGS84 point.
    uncertainty_m
        Location uncertainty radius in metres (see the module docstring for its meaning).
    time
        ``(start, end)`` interval within which the strike happened, tz-aware.
    uncertainty_model
        ``"disk"`` or ``"normal"``.
    confidence
        One of :data:`CONFIDENCE_LEVELS`; ``"discounted"`` is never counted.
    status
        ``None`` or ``"confirmed"`` are counted; anything else (``"unverified"``) is not.
    """

    id: str
    lat: float
    lon: float
    uncertainty_m: float
    time: tuple[datetime, datetime]
    uncertainty_model: UncertaintyModel = "disk"
    confidence: str = "confirmed"
    status: str | None = None


def _as_1d(values: ArrayLike, n: int, name: str, dtype: type = float) -> NDArray[np.generic]:
    arr: NDArray[np.generic] = np.asarray(values, dtype=dtype)
    if arr.ndim == 0:
        arr = np.full(n, arr.item(), dtype=dtype)
    if arr.shape != (n,):
        raise InvalidInput(f"{name} must have length {n}, got shape {arr.shape}", where=name)
    return arr


@dataclass(frozen=True, eq=False)
class SiteArray:
    """Sites as columns (the form every computation uses). Times are UTC epoch seconds."""

    ids: NDArray[np.object_]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    radius_m: NDArray[np.float64]
    kind: NDArray[np.object_]
    city: NDArray[np.object_]
    notified_start_s: NDArray[np.float64]  # NaN when never notified
    notified_end_s: NDArray[np.float64]
    footprints: tuple[BaseGeometry | None, ...]

    def __len__(self) -> int:
        return int(self.lon.size)

    @property
    def notified(self) -> NDArray[np.bool_]:
        """Whether each site was ever notified."""
        return np.isfinite(self.notified_end_s)

    @classmethod
    def from_arrays(
        cls,
        lon: ArrayLike,
        lat: ArrayLike,
        radius_m: ArrayLike = 50.0,
        *,
        ids: Sequence[str] | None = None,
        kind: ArrayLike = "",
        city: ArrayLike = "",
        notified_start_s: ArrayLike = np.nan,
        notified_end_s: ArrayLike = np.nan,
        footprints: Sequence[BaseGeometry | None] | None = None,
    ) -> SiteArray:
        """Build and validate site columns; scalars broadcast.

        Raises
        ------
        InvalidInput
            On bad coordinates, a negative radius, a notification end before its start, or
            a footprint that is not a polygon.
        """
        lon_a, lat_a = validate_lonlat(np.ravel(lon), np.ravel(lat), where="sites")
        n = lon_a.size
        radius = _as_1d(radius_m, n, "radius_m").astype(float)
        if np.any(~np.isfinite(radius)) or np.any(radius < 0):
            raise InvalidInput("radius_m must be finite and >= 0", where="sites.radius_m")
        start = _as_1d(notified_start_s, n, "notified_start_s").astype(float)
        end = _as_1d(notified_end_s, n, "notified_end_s").astype(float)
        if np.any(np.isfinite(start) != np.isfinite(end)) or np.any(end < start):
            raise InvalidInput("notification interval must be (start <= end) or absent",
                               where="sites.notified_at")  # fmt: skip
        fps = tuple(footprints) if footprints is not None else (None,) * n
        if len(fps) != n:
            raise InvalidInput(f"footprints must have length {n}", where="sites.footprint")
        for k, fp in enumerate(fps):
            if fp is not None and fp.geom_type not in ("Polygon", "MultiPolygon"):
                raise InvalidInput("footprint must be a polygon", where=f"sites[{k}].footprint")
        id_arr = np.array(list(ids) if ids is not None else [str(k) for k in range(n)], object)
        return cls(
            ids=_as_1d(id_arr, n, "ids", object).astype(object),
            lon=lon_a, lat=lat_a, radius_m=radius,
            kind=_as_1d(kind, n, "kind", object).astype(object),
            city=_as_1d(city, n, "city", object).astype(object),
            notified_start_s=start, notified_end_s=end, footprints=fps,
        )  # fmt: skip

    @classmethod
    def from_records(cls, sites: Sequence[SiteInput]) -> SiteArray:
        """Columns from :class:`SiteInput` records."""
        start, end = [], []
        for k, s in enumerate(sites):
            if s.notified_at is None:
                start.append(np.nan)
                end.append(np.nan)
            else:
                where = f"sites[{k}].notified_at"
                start.append(_epoch_s(s.notified_at[0], where))
                end.append(_epoch_s(s.notified_at[1], where))
        return cls.from_arrays(
            [s.lon for s in sites], [s.lat for s in sites], [s.radius_m for s in sites],
            ids=[s.id for s in sites],
            kind=np.array([s.kind for s in sites], object),
            city=np.array([s.city for s in sites], object),
            notified_start_s=start, notified_end_s=end,
            footprints=[s.footprint for s in sites],
        )  # fmt: skip


@dataclass(frozen=True, eq=False)
class IncidentArray:
    """Incidents as columns. Times are UTC epoch seconds; ``normal`` is the model flag."""

    ids: NDArray[np.object_]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    uncertainty_m: NDArray[np.float64]
    normal: NDArray[np.bool_]
    start_s: NDArray[np.float64]
    end_s: NDArray[np.float64]
    confidence: NDArray[np.object_]
    status: NDArray[np.object_]
    counted: NDArray[np.bool_] = field(init=False)

    def __post_init__(self) -> None:
        ok_conf = self.confidence != "discounted"
        ok_status = np.array([s in _COUNTED_STATUS for s in self.status], dtype=bool)
        object.__setattr__(self, "counted", ok_conf & ok_status)

    def __len__(self) -> int:
        return int(self.lon.size)

    @classmethod
    def from_arrays(
        cls,
        lon: ArrayLike,
        lat: ArrayLike,
        uncertainty_m: ArrayLike,
        start_s: ArrayLike,
        end_s: ArrayLike | None = None,
        *,
        model: UncertaintyModel | ArrayLike = "disk",
        ids: Sequence[str] | None = None,
        confidence: ArrayLike = "confirmed",
        status: ArrayLike | None = None,
    ) -> IncidentArray:
        """Build and validate incident columns; scalars broadcast.

        Raises
        ------
        InvalidInput
            On bad coordinates, negative or non-finite uncertainty, an unknown model or
            confidence grade, or a time interval that ends before it starts.
        """
        lon_a, lat_a = validate_lonlat(np.ravel(lon), np.ravel(lat), where="incidents")
        n = lon_a.size
        unc = _as_1d(uncertainty_m, n, "uncertainty_m").astype(float)
        if np.any(~np.isfinite(unc)) or np.any(unc < 0):
            raise InvalidInput("uncertainty_m must be finite and >= 0",
                               where="incidents.uncertainty_m")  # fmt: skip
        models = _as_1d(np.asarray(model, dtype=object), n, "uncertainty_model", object)
        bad = set(models.tolist()) - {"disk", "normal"}
        if bad:
            raise InvalidInput(f"unknown uncertainty model(s) {sorted(map(str, bad))}; "
                               "use 'disk' or 'normal'", where="incidents.uncertainty_model")  # fmt: skip
        start = _as_1d(start_s, n, "start_s").astype(float)
        end = start.copy() if end_s is None else _as_1d(end_s, n, "end_s").astype(float)
        if np.any(~np.isfinite(start)) or np.any(~np.isfinite(end)) or np.any(end < start):
            raise InvalidInput("time interval must be finite with start <= end",
                               where="incidents.time")  # fmt: skip
        conf = _as_1d(np.asarray(confidence, dtype=object), n, "confidence", object)
        bad = set(conf.tolist()) - set(CONFIDENCE_LEVELS)
        if bad:
            raise InvalidInput(f"unknown confidence grade(s) {sorted(map(str, bad))}",
                               where="incidents.confidence")  # fmt: skip
        stat = np.empty(n, dtype=object)
        if status is None or isinstance(status, str):
            stat[:] = status
        else:
            stat[:] = list(np.ravel(np.asarray(status, object)))
        id_arr = np.array(list(ids) if ids is not None else [str(k) for k in range(n)], object)
        return cls(
            ids=_as_1d(id_arr, n, "ids", object).astype(object), lon=lon_a, lat=lat_a,
            uncertainty_m=unc, normal=models == "normal", start_s=start, end_s=end,
            confidence=conf.astype(object), status=stat,
        )  # fmt: skip

    @classmethod
    def from_records(cls, incidents: Sequence[IncidentInput]) -> IncidentArray:
        """Columns from :class:`IncidentInput` records."""
        start = [_epoch_s(i.time[0], f"incidents[{k}].time") for k, i in enumerate(incidents)]
        end = [_epoch_s(i.time[1], f"incidents[{k}].time") for k, i in enumerate(incidents)]
        return cls.from_arrays(
            [i.lon for i in incidents], [i.lat for i in incidents],
            [i.uncertainty_m for i in incidents], start, end,
            model=np.array([i.uncertainty_model for i in incidents], object),
            ids=[i.id for i in incidents],
            confidence=np.array([i.confidence for i in incidents], object),
            status=np.array([i.status for i in incidents], object),
        )  # fmt: skip


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
        p = chndtr((r[nrm] / sigma) ** 2, 2.0, (d[nrm] / sigma) ** 2)
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


@dataclass(frozen=True)
class Match:
    """One candidate hit: incident ``incident_id`` could have hit site ``site_id``."""

    site_id: str
    incident_id: str
    distance_m: float
    probability: float


@dataclass(frozen=True, eq=False)
class MatchTable:
    """All candidate hits as columns: indices into the site and incident arrays."""

    site_index: NDArray[np.int64]
    incident_index: NDArray[np.int64]
    distance_m: NDArray[np.float64]
    probability: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.site_index.size)


def _incident_reach(incidents: IncidentArray) -> NDArray[np.float64]:
    reach = incidents.uncertainty_m.copy()
    reach[incidents.normal] *= NORMAL_REACH_SIGMAS / NORMAL_95_SCALE
    return reach


def _bins(values: NDArray[np.float64], max_bins: int = 12, tolerance: float = 0.1) -> NDArray[np.int64]:
    """Group values into at most ``max_bins`` bins of similar magnitude.

    A few distinct values: those within ``tolerance`` (+1 m) of the smallest of their bin
    share it (one k-d tree search instead of two, for a few per cent more candidates).
    Otherwise log-spaced quantile bins.
    """
    uniq = np.unique(values)
    if uniq.size <= 4 * max_bins:
        group = np.zeros(uniq.size, np.int64)
        g, start = 0, float(uniq[0])
        for k, v in enumerate(uniq.tolist()):
            if v > start * (1.0 + tolerance) + 1.0:
                g, start = g + 1, v
            group[k] = g
        if g < max_bins:
            return group[np.searchsorted(uniq, values)]
    edges = np.quantile(np.log1p(values), np.linspace(0, 1, max_bins + 1)[1:-1])
    return np.searchsorted(np.unique(edges), np.log1p(values)).astype(np.int64)


def site_hit_regions(
    sites: SiteArray, projection: LocalProjection
) -> tuple[list[BaseGeometry | None], NDArray[np.float64]]:
    """Projected hit regions of footprint sites (None for circular ones) and each site's reach.

    The reach is the largest distance from the site's point to its hit region, i.e. its
    radius for a circular site.
    """
    sx, sy = projection.project(sites.lon, sites.lat)
    return _site_hit_regions(sites, projection, sx, sy)


def _site_hit_regions(
    sites: SiteArray, projection: LocalProjection, sx: NDArray[np.float64], sy: NDArray[np.float64]
) -> tuple[list[BaseGeometry | None], NDArray[np.float64]]:
    regions: list[BaseGeometry | None] = [None] * len(sites)
    reach = sites.radius_m.copy()
    for k in [k for k, fp in enumerate(sites.footprints) if fp is not None]:
        fp = sites.footprints[k]
        assert fp is not None
        poly = projection.project_geometry(fp)
        if sites.radius_m[k] > 0:
            poly = poly.buffer(float(sites.radius_m[k]), quad_segs=16)
        regions[k] = poly
        bx = np.asarray(shapely.get_coordinates(poly))
        reach[k] = float(np.max(np.hypot(bx[:, 0] - sx[k], bx[:, 1] - sy[k])))
    return regions, reach


def _distance(dx: NDArray[np.float64], dy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Euclidean distance of projected differences (4x faster than ``np.hypot``; no overflow
    is possible at the scale of a study area)."""
    out: NDArray[np.float64] = np.sqrt(dx * dx + dy * dy)
    return out


def _group_by_bin(bins: NDArray[np.int64], use: NDArray[np.bool_]) -> list[NDArray[np.intp]]:
    """Indices of the used entries, one ascending array per occupied bin (bins are < 127)."""
    key = np.where(use, bins, -1).astype(np.int8)  # 8-bit keys: numpy sorts them by radix
    order = np.argsort(key, kind="stable")
    cuts = np.searchsorted(key[order], np.arange(-1, int(key.max(initial=-1)) + 1), side="right")
    return [g for g in np.split(order, cuts[:-1])[1:] if g.size]


def _argsort_site_index(si: NDArray[np.intp], n_sites: int) -> NDArray[np.intp]:
    """``np.argsort(si, kind="stable")`` by 16-bit radix passes (several times faster)."""
    if n_sites <= 1 << 16:
        return np.argsort(si.astype(np.uint16), kind="stable")
    order = np.argsort((si & 0xFFFF).astype(np.uint16), kind="stable")
    shift = 16
    while n_sites > 1 << shift:
        digit = ((si >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit[order], kind="stable")]
        shift += 16
    return order


def match_arrays(
    sites: SiteArray,
    incidents: IncidentArray,
    *,
    projection: LocalProjection | None = None,
    min_probability: float = 1e-6,
    counted_only: bool = False,
    workers: int | None = None,
) -> MatchTable:
    """Every (site, incident) pair whose hit probability is at least ``min_probability``.

    A pair is a candidate when the projected distance between the site's and the incident's
    points is at most the site's reach (its radius, or the farthest point of its buffered
    footprint) plus the incident's reach (``uncertainty_m`` for the disk model,
    ``5 sigma`` for the normal one). Every candidate gets its exact hit probability; with
    ``min_probability=0`` the result is exactly the set of candidates.

    Parameters
    ----------
    sites, incidents
        Columnar inputs.
    projection
        Local projection; by default one centred on all sites and incidents.
    min_probability
        Pairs below this probability are dropped.
    counted_only
        Skip incidents that statistics do not count (discounted, unverified).
    workers
        Threads for projecting, the k-d tree searches and the probabilities (default
        :func:`deconflict.geo.default_workers`). The result does not depend on it.

    Returns
    -------
    MatchTable
        Grouped by site index (ascending); distances are ``sqrt(dx*dx + dy*dy)`` of the
        projected coordinate differences (site minus incident).
    """
    if projection is None:
        projection = LocalProjection.from_points(
            np.concatenate([sites.lon, incidents.lon]), np.concatenate([sites.lat, incidents.lat])
        )
    empty = MatchTable(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    if len(sites) == 0 or len(incidents) == 0:
        return empty
    sx, sy = projection.project(sites.lon, sites.lat, workers=workers)
    ix, iy = projection.project(incidents.lon, incidents.lat, workers=workers)
    regions, site_reach = _site_hit_regions(sites, projection, sx, sy)
    has_region = np.array([r is not None for r in regions], dtype=bool)
    any_region = bool(has_region.any())
    inc_reach = _incident_reach(incidents)
    use = incidents.counted if counted_only else np.ones(len(incidents), bool)
    s_groups = _group_by_bin(_bins(site_reach), np.ones(len(sites), bool))
    i_groups = _group_by_bin(_bins(inc_reach), use)
    if not i_groups:
        return empty
    n_sites = len(sites)

    def local(g: NDArray[np.intp], *cols: NDArray[np.generic]) -> tuple[NDArray[np.generic], ...]:
        return tuple(np.ascontiguousarray(c[g]) for c in cols)

    def tree(job: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]) -> cKDTree:
        x, y, g = job
        return cKDTree(np.column_stack([x[g], y[g]]), balanced_tree=False)

    built = list(_thread_map(tree, [(sx, sy, g) for g in s_groups] + [(ix, iy, g) for g in i_groups], workers))
    s_trees, i_trees = built[: len(s_groups)], built[len(s_groups) :]
    # Per-group columns, so that the per-pair gathers stay within small arrays.
    s_cols = [local(g, site_reach, sites.radius_m, has_region) for g in s_groups]
    i_cols = [local(g, inc_reach, incidents.uncertainty_m, incidents.normal) for g in i_groups]

    def pairs(
        job: tuple[int, int],
    ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
        a, b = job
        (s_reach, s_radius, s_region), (i_reach, i_unc, i_normal) = s_cols[a], i_cols[b]
        reach = float(s_reach.max() + i_reach.max())
        # Search slightly beyond the reach, then keep exactly ``distance <= reach`` per pair.
        found = s_trees[a].sparse_distance_matrix(i_trees[b], reach * (1 + 1e-9) + 1e-9, output_type="ndarray")
        fi, fj = found["i"], found["j"]  # np.take: much faster than fancy indexing here
        delta = np.take(s_trees[a].data, fi, axis=0) - np.take(i_trees[b].data, fj, axis=0)
        dist = _distance(delta[:, 0], delta[:, 1])
        if np.ptp(s_reach) > 0 or np.ptp(i_reach) > 0:
            keep = dist <= np.take(s_reach, fi) + np.take(i_reach, fj)
        else:
            keep = dist <= reach
        if not keep.all():
            at = np.flatnonzero(keep)
            fi, fj, dist = np.take(fi, at), np.take(fj, at), np.take(dist, at)
        si = np.take(s_groups[a], fi)
        order = _argsort_site_index(si, n_sites)  # sorted runs merge fast below
        fi, fj, si, dist = np.take(fi, order), np.take(fj, order), np.take(si, order), np.take(dist, order)
        prob = _hit_probability_1d(dist, np.take(s_radius, fi), np.take(i_unc, fj), np.take(i_normal, fj))
        keep = prob >= min_probability
        if any_region:
            keep |= np.take(s_region, fi)  # footprint probabilities are computed below
        ii = np.take(i_groups[b], fj)
        if keep.all():
            return si, ii, dist, prob
        at = np.flatnonzero(keep)
        return np.take(si, at), np.take(ii, at), np.take(dist, at), np.take(prob, at)

    jobs = [(a, b) for a in range(len(s_groups)) for b in range(len(i_groups))]
    # Biggest searches first (about |S| |I| reach^2) balances the threads; output order is fixed.
    size = [s_groups[a].size * i_groups[b].size * (s_cols[a][0].max() + i_cols[b][0].max() + 1.0) ** 2 for a, b in jobs]
    jobs = [jobs[k] for k in np.argsort(size, kind="stable")[::-1]]
    parts = list(_thread_map(pairs, jobs, workers))
    si = np.concatenate([p[0] for p in parts])
    ii = np.concatenate([p[1] for p in parts])
    dist = np.concatenate([p[2] for p in parts])
    prob = np.concatenate([p[3] for p in parts])
    # Each part is sorted by site: the stable (tim)sort merges the runs; parts are in a fixed
    # order, so the result does not depend on the threads.
    order = np.argsort(si, kind="stable")
    si, ii, dist, prob = _thread_map(lambda v: np.take(v, order), (si, ii, dist, prob), workers)
    if any_region:
        at = np.flatnonzero(has_region[si])  # contiguous runs, one per footprint site
        if at.size:
            ks, first = np.unique(si[at], return_index=True)
            for k, sel in zip(ks, np.split(at, first[1:]), strict=True):
                region = regions[int(k)]
                assert region is not None
                prob[sel] = polygon_hit_probability(
                    region, ix[ii[sel]], iy[ii[sel]], incidents.uncertainty_m[ii[sel]],
                    incidents.normal[ii[sel]],
                )  # fmt: skip
            keep = np.flatnonzero(prob >= min_probability)
            si, ii, dist, prob = si[keep], ii[keep], dist[keep], prob[keep]
    return MatchTable(si.astype(np.int64, copy=False), ii.astype(np.int64, copy=False), dist, prob)


def match(
    sites: Sequence[SiteInput] | SiteArray,
    incidents: Sequence[IncidentInput] | IncidentArray,
    *,
    min_probability: float = 1e-6,
    projection: LocalProjection | None = None,
) -> list[Match]:
    """Candidate hits as :class:`Match` records (see :func:`match_arrays`).

    Raises
    ------
    InvalidInput
        On invalid sites or incidents.
    """
    s = sites if isinstance(sites, SiteArray) else SiteArray.from_records(list(sites))
    i = incidents if isinstance(incidents, IncidentArray) else IncidentArray.from_records(
        list(incidents))  # fmt: skip
    table = match_arrays(s, i, projection=projection, min_probability=min_probability)
    return [
        Match(str(s.ids[a]), str(i.ids[b]), float(d), float(p))
        for a, b, d, p in zip(
            table.site_index,
            table.incident_index,
            table.distance_m,
            table.probability,
            strict=True,
        )
    ]
