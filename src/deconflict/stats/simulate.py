"""Simulated cities: strikes from a known intensity, sites, and planted targeting.

Used to check that the tests are calibrated (valid when nothing is targeted) and to measure
their power against planted targeting. Everything is in metres of a local projection
centred on ``centre_lonlat``, then expressed as lon/lat so the simulated data go through
exactly the code path real data take. All randomness comes from the ``rng`` argument.

The true intensity is a mixture of Gaussian hot spots and a uniform floor on a square
``[-half_width_m, half_width_m]^2``. Reported locations are the true ones plus an isotropic
normal error whose 95 % circle is the incident's ``uncertainty_m`` (the ``"normal"`` model),
so the true expected number of hits has a closed form (:meth:`CityIntensity.true_expected`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import chndtr
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from deconflict.geo import LocalProjection
from deconflict.match import NORMAL_95_SCALE, IncidentArray, SiteArray
from deconflict.stats.background import after_fraction

__all__ = ["CityIntensity", "SimulatedCity", "plant_targeting", "simulate_city"]

_DAY = 86_400.0


@dataclass(frozen=True)
class CityIntensity:
    """A known spatial density of true impact points (metres, local projection)."""

    half_width_m: float
    centres: NDArray[np.float64]  # (k, 2)
    sds_m: NDArray[np.float64]  # (k,)
    weights: NDArray[np.float64]  # (k,) hot-spot shares
    floor_share: float  # share uniform over the square

    @classmethod
    def random(cls, rng: np.random.Generator, *, half_width_m: float = 15_000.0, hotspots: int = 6,
               floor_share: float = 0.3) -> CityIntensity:  # fmt: skip
        """Hot spots well inside the square (centres within 60 %, sd 5–12 % of the width)."""
        w = half_width_m
        centres = rng.uniform(-0.6 * w, 0.6 * w, size=(hotspots, 2))
        sds = rng.uniform(0.05 * w, 0.12 * w, size=hotspots)
        weights = rng.dirichlet(np.full(hotspots, 2.0)) * (1 - floor_share)
        return cls(w, centres, sds, weights, floor_share)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``n`` true impact points."""
        comp = rng.choice(self.weights.size + 1, size=n, p=np.append(self.weights, self.floor_share))
        x = rng.uniform(-self.half_width_m, self.half_width_m, n)
        y = rng.uniform(-self.half_width_m, self.half_width_m, n)
        hot = comp < self.weights.size
        c = comp[hot]
        x[hot] = rng.normal(self.centres[c, 0], self.sds_m[c])
        y[hot] = rng.normal(self.centres[c, 1], self.sds_m[c])
        return x, y

    def true_expected(self, x: NDArray[np.float64], y: NDArray[np.float64], radius_m: NDArray[np.float64],
                      sigma_m: NDArray[np.float64]) -> NDArray[np.float64]:  # fmt: skip
        """Expected hits per strike, for sites at ``(x, y)`` and strikes with error ``sigma_m``.

        The observed score of a strike is its hit probability given the reported point, whose
        expectation is ``P(|X + e1 + e2 - site| <= r)`` (true point ``X``, two independent
        errors); for a hot spot this is a non-central chi-square CDF with variance
        ``sd^2 + 2 sigma^2``, for the floor ``pi r^2 / area`` (sites away from the edges).
        Returns an array of shape ``(sites, strikes)`` broadcast from the inputs.
        """
        xs, ys, r = (np.asarray(a, float)[:, None] for a in (x, y, radius_m))
        s2 = np.asarray(sigma_m, float)[None, :] ** 2
        out = self.floor_share * np.pi * r**2 / (2 * self.half_width_m) ** 2 + 0 * s2
        for (cx, cy), sd, w in zip(self.centres, self.sds_m, self.weights, strict=True):
            tau2 = sd**2 + 2 * s2
            out = out + w * chndtr(r**2 / tau2, 2.0, ((xs - cx) ** 2 + (ys - cy) ** 2) / tau2)
        return out


@dataclass(frozen=True, eq=False)
class SimulatedCity:
    """A simulated study: sites, incidents and the truth."""

    intensity: CityIntensity
    projection: LocalProjection
    sites: SiteArray
    incidents: IncidentArray
    study_area: BaseGeometry  # WGS84
    true_expected: NDArray[np.float64]  # per site, whole period
    true_expected_after: NDArray[np.float64]  # per site (0 when never notified)
    site_x: NDArray[np.float64]
    site_y: NDArray[np.float64]


def _times(n: int, days: float, rng: np.random.Generator) -> NDArray[np.float64]:
    """Strike times with waves: intensity ∝ 1 + 0.8 sin(2π t / 45 days), plus a trend."""
    out = np.empty(0)
    while out.size < n:
        t = rng.uniform(0, days * _DAY, 2 * n)
        keep = rng.uniform(0, 2.2, t.size) < 1 + 0.8 * np.sin(2 * np.pi * t / (45 * _DAY)) + 0.4 * t / (days * _DAY)
        out = np.concatenate([out, t[keep]])
    return out[:n]


def simulate_city(
    rng: np.random.Generator,
    *,
    n_strikes: int = 20_000,
    n_sites: int = 1_000,
    site_radius_m: float = 75.0,
    uncertainties_m: tuple[float, ...] = (0.0, 100.0, 300.0),
    days: float = 365.0,
    notified_share: float = 0.5,
    night_share: float = 0.3,
    start_s: float = 1_640_995_200.0,  # 2022-01-01T00:00Z
    centre_lonlat: tuple[float, float] = (30.5234, 50.4501),
    intensity: CityIntensity | None = None,
    kinds: tuple[str, ...] = ("embassy", "hospital", "school"),
) -> SimulatedCity:
    """A city with strikes from a known intensity and no targeting at all.

    Sites are uniform in the inner 80 % of the square (away from the edges), a share of them
    notified at a random time in the middle 60 % of the period (interval of one day). A share
    of strikes is only known to a 12-hour night; the rest to the second.
    """
    inten = intensity or CityIntensity.random(rng)
    w = inten.half_width_m
    proj = LocalProjection(*centre_lonlat)
    tx, ty = inten.sample(n_strikes, rng)
    unc = rng.choice(np.asarray(uncertainties_m, float), size=n_strikes)
    sigma = unc / NORMAL_95_SCALE
    rx, ry = tx + rng.normal(0, 1, n_strikes) * sigma, ty + rng.normal(0, 1, n_strikes) * sigma
    t = _times(n_strikes, days, rng)
    night = rng.random(n_strikes) < night_share
    s_time = start_s + np.where(night, t - rng.uniform(0, 12 * 3600, n_strikes), t)
    e_time = np.where(night, s_time + 12 * 3600, s_time)
    lon, lat = proj.unproject(rx, ry)
    incidents = IncidentArray.from_arrays(lon, lat, unc, s_time, e_time, model="normal",
                                          ids=[f"I{k}" for k in range(n_strikes)])  # fmt: skip

    sx = rng.uniform(-0.8 * w, 0.8 * w, n_sites)
    sy = rng.uniform(-0.8 * w, 0.8 * w, n_sites)
    notified = rng.random(n_sites) < notified_share
    n_start = np.where(notified, start_s + rng.uniform(0.2, 0.8, n_sites) * days * _DAY, np.nan)
    slon, slat = proj.unproject(sx, sy)
    sites = SiteArray.from_arrays(slon, slat, site_radius_m, ids=[f"S{k}" for k in range(n_sites)],
                                  kind=rng.choice(np.asarray(kinds, object), n_sites), city="Simcity",
                                  notified_start_s=n_start, notified_end_s=n_start + _DAY)  # fmt: skip
    sig_values, sig_index = np.unique(sigma, return_inverse=True)
    per = inten.true_expected(sx, sy, np.full(n_sites, site_radius_m), sig_values)  # (sites, sigmas)
    true_total = per @ np.bincount(sig_index, minlength=sig_values.size)
    true_after = np.zeros(n_sites)
    for k in np.flatnonzero(notified):
        frac = after_fraction(s_time, e_time, float(n_start[k] + _DAY))
        true_after[k] = float(per[k] @ np.bincount(sig_index, weights=frac, minlength=sig_values.size))
    area = box(-w, -w, w, w)
    return SimulatedCity(inten, proj, sites, incidents, proj.unproject_geometry(area), true_total,
                         true_after, sx, sy)  # fmt: skip


def plant_targeting(
    city: SimulatedCity,
    site_indices: NDArray[np.int64],
    rng: np.random.Generator,
    *,
    hits_per_site: int = 2,
    uncertainty_m: float = 100.0,
) -> IncidentArray:
    """Incidents with ``hits_per_site`` extra strikes on each given (notified) site.

    Each planted strike's true impact is uniform in the site's hit disk, at a time uniform
    between the end of notification and the end of the period; it is reported with a normal
    error of the given 95 % radius. Returns the original incidents plus the planted ones.
    """
    inc = city.incidents
    idx = np.repeat(np.asarray(site_indices, np.int64), hits_per_site)
    n = idx.size
    r = city.sites.radius_m[idx] * np.sqrt(rng.random(n))
    a = rng.uniform(0, 2 * np.pi, n)
    sigma = uncertainty_m / NORMAL_95_SCALE
    x = city.site_x[idx] + r * np.cos(a) + rng.normal(0, sigma, n)
    y = city.site_y[idx] + r * np.sin(a) + rng.normal(0, sigma, n)
    t_end = float(np.max(inc.end_s))
    t = city.sites.notified_end_s[idx] + rng.random(n) * (t_end - city.sites.notified_end_s[idx])
    lon, lat = city.projection.unproject(x, y)
    planted = IncidentArray.from_arrays(lon, lat, uncertainty_m, t, t, model="normal",
                                        ids=[f"P{k}" for k in range(n)])  # fmt: skip
    return IncidentArray.from_arrays(
        np.concatenate([inc.lon, planted.lon]), np.concatenate([inc.lat, planted.lat]),
        np.concatenate([inc.uncertainty_m, planted.uncertainty_m]),
        np.concatenate([inc.start_s, planted.start_s]), np.concatenate([inc.end_s, planted.end_s]),
        model=np.where(np.concatenate([inc.normal, planted.normal]), "normal", "disk").astype(object),
        ids=list(inc.ids) + list(planted.ids),
    )  # fmt: skip
