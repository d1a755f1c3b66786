"""An independent simulator of wartime strike records, for calibration tests (tests only).

Written apart from the estimator (it shares only the lon/lat projection and the input
record types): the true expected hit scores are computed in closed form from the generating
intensity (Gaussian components and a uniform floor, convolved with the salvo spread and both
location errors: a non-central chi-square CDF), or by deterministic quadrature where no closed
form exists (uniform-disk location errors, the floor near an edge). Cities are unlike the one
of ``deconflict.stats.simulate``: elongated river cities, front lines, compact military hot
spots, several small towns far apart.

Everything is in metres around a centre, converted to lon/lat so the data take the code path
real data take. All randomness comes from the ``rng`` argument. SYNTHETIC data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.special import chndtr, ndtr
from shapely.geometry.base import BaseGeometry

from deconflict.geo import LocalProjection
from deconflict.match import IncidentArray, SiteArray

DAY = 86_400.0
NORMAL95 = float(np.sqrt(-2.0 * np.log(0.05)))  # 95 % radius / sigma of a bivariate normal
START = 1_700_000_000.0


@dataclass(frozen=True)
class Intensity:
    """Density of attack centres: Gaussian components plus a uniform floor on a rectangle."""

    centres: NDArray[np.float64]  # (k, 2)
    sds: NDArray[np.float64]  # (k,)
    weights: NDArray[np.float64]  # (k,), plus floor_weight sums to 1
    rect: tuple[float, float, float, float]  # floor rectangle x0, x1, y0, y1
    floor_weight: float

    def sample(self, n: int, rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        comp = rng.choice(self.weights.size + 1, size=n, p=np.append(self.weights, self.floor_weight))
        x0, x1, y0, y1 = self.rect
        x, y = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
        hot = comp < self.weights.size
        c = comp[hot]
        x[hot] = rng.normal(self.centres[c, 0], self.sds[c])
        y[hot] = rng.normal(self.centres[c, 1], self.sds[c])
        return x, y

    def score(self, sx: NDArray, sy: NDArray, r: float, blur2: NDArray | float) -> NDArray[np.float64]:
        """E[hit score] per report for sites at (sx, sy): the density blurred by a normal of
        variance ``blur2`` per axis integrated over the disk of radius ``r``."""
        sx, sy = np.asarray(sx, float), np.asarray(sy, float)
        out = self.floor_weight * _floor_disk(sx, sy, r, self.rect, blur2)
        for (cx, cy), sd, w in zip(self.centres, self.sds, self.weights, strict=True):
            tau2 = sd**2 + blur2
            out = out + w * chndtr(r**2 / tau2, 2.0, ((sx - cx) ** 2 + (sy - cy) ** 2) / tau2)
        return np.asarray(out)


def _floor_disk(sx: NDArray, sy: NDArray, r: float, rect: tuple[float, float, float, float], blur2) -> NDArray:
    """P(uniform point on the rectangle, blurred, lands in the disk): 60-point disk quadrature."""
    x0, x1, y0, y1 = rect
    area = (x1 - x0) * (y1 - y0)
    k = np.arange(60)
    rho = r * np.sqrt((k + 0.5) / 60)
    ang = k * 2.399963  # golden-angle spiral: equal-area nodes on the disk
    px = sx[..., None] + rho * np.cos(ang)
    py = sy[..., None] + rho * np.sin(ang)
    tau = np.sqrt(np.maximum(blur2, 1e-9))
    inside = (ndtr((x1 - px) / tau) - ndtr((x0 - px) / tau)) * (ndtr((y1 - py) / tau) - ndtr((y0 - py) / tau))
    return np.pi * r**2 * inside.mean(axis=-1) / area


def disk_sum_radii(u: float, n: int = 24) -> NDArray[np.float64]:
    """Quantiles of |e1 + e2| for two independent uniform errors in disks of radius ``u``."""
    g = np.random.default_rng(12345)  # fixed: a deterministic quadrature, not simulation noise
    a = u * np.sqrt(g.random(200_000)) * np.exp(2j * np.pi * g.random(200_000))
    b = u * np.sqrt(g.random(200_000)) * np.exp(2j * np.pi * g.random(200_000))
    return np.quantile(np.abs(a + b), (np.arange(n) + 0.5) / n)


@dataclass
class Records:
    """Reports being built: true points, reported points, errors, times, attack ids."""

    tx: list[NDArray] = field(default_factory=list)
    ty: list[NDArray] = field(default_factory=list)
    rx: list[NDArray] = field(default_factory=list)
    ry: list[NDArray] = field(default_factory=list)
    unc: list[NDArray] = field(default_factory=list)
    model: list[NDArray] = field(default_factory=list)
    start: list[NDArray] = field(default_factory=list)
    end: list[NDArray] = field(default_factory=list)

    def add(self, tx, ty, unc, model, start, end, rng: np.random.Generator) -> None:
        n = tx.size
        sigma = unc / NORMAL95
        ex, ey = rng.normal(0, 1, n) * sigma, rng.normal(0, 1, n) * sigma
        disk = model == "disk"
        rad = unc[disk] * np.sqrt(rng.random(disk.sum()))
        ang = rng.uniform(0, 2 * np.pi, disk.sum())
        ex[disk], ey[disk] = rad * np.cos(ang), rad * np.sin(ang)
        for lst, v in ((self.tx, tx), (self.ty, ty), (self.rx, tx + ex), (self.ry, ty + ey), (self.unc, unc),
                       (self.model, model), (self.start, start), (self.end, end)):  # fmt: skip
            lst.append(np.asarray(v))

    def array(self, projection: LocalProjection, prefix: str = "I") -> IncidentArray:
        rx, ry = np.concatenate(self.rx), np.concatenate(self.ry)
        lon, lat = projection.unproject(rx, ry)
        return IncidentArray.from_arrays(
            lon, lat, np.concatenate(self.unc), np.concatenate(self.start), np.concatenate(self.end),
            model=np.concatenate(self.model).astype(object), ids=[f"{prefix}{k}" for k in range(rx.size)],
        )  # fmt: skip


def report_times(t: NDArray, night_share: float, rng: np.random.Generator) -> tuple[NDArray, NDArray]:
    """Exact to the minute, or only to the night interval (18:00-06:00) containing it."""
    night = rng.random(t.size) < night_share
    day0 = START + np.floor((t - START - 18 * 3600) / DAY) * DAY + 18 * 3600
    start = np.where(night, day0, t - 60)
    end = np.where(night, day0 + 12 * 3600, t + 60)
    return start, end


@dataclass(frozen=True)
class Study:
    """A simulated null study and its truth."""

    projection: LocalProjection
    sites: SiteArray
    incidents: IncidentArray
    study_area: BaseGeometry | None  # WGS84, or None for the default (per-city) areas
    true_expected: NDArray[np.float64]  # per site, reports, whole period
    true_expected_after: NDArray[np.float64]  # per site (0 if not notified)


def make_sites(proj: LocalProjection, sx, sy, radius_m, notified_at, kind="embassy", city="Simtown", prefix="S"):
    n = np.asarray(sx).size
    lon, lat = proj.unproject(np.asarray(sx, float), np.asarray(sy, float))
    start = np.asarray(notified_at, float)
    return SiteArray.from_arrays(lon, lat, radius_m, ids=[f"{prefix}{k}" for k in range(n)], kind=kind, city=city,
                                 notified_start_s=start, notified_end_s=start + 3600.0)  # fmt: skip
