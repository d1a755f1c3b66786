"""Units of testing: every site alone, and families of premises tested once.

An embassy, its consular section and its cultural centre — premises of one owner in one
building, or listed in one notification — are one **family**: a strike on the building hits
all of them, and counting it three times (or testing three times) would triple the evidence.
A family is tested as one hit region, the union of its members' hit regions, so a strike
counts once whatever the overlap; the multiplicity adjustment counts it as one test. Members
of one family must share the owner and the city. Each site is still analysed on its own
(secondary numbers); its headline is its family's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from deconflict.match import SiteArray, site_hit_regions

__all__ = ["Unit", "family_units"]


@dataclass(frozen=True)
class Unit:
    """A site or a family: what is matched and tested as one hit region."""

    key: str
    members: tuple[int, ...]
    site: int | None  # the site this unit reports (None for a family's own unit)
    family_key: str  # key of the unit whose headline the site takes
    lon: float
    lat: float
    x: float
    y: float
    radius_m: float
    footprint: BaseGeometry | None  # WGS84
    notified_end_s: float
    city: int | None
    kind: str
    city_name: str

    @property
    def is_family_head(self) -> bool:
        """Whether this unit carries a headline (a family, or a site in no family)."""
        return self.key == self.family_key


def _family_components(sites: SiteArray, sx: np.ndarray, sy: np.ndarray, site_city: np.ndarray,
                       reach: np.ndarray) -> np.ndarray:  # fmt: skip
    n = len(sites)
    rows, cols = [], []
    owners = sites.owner
    for i in range(n):
        if not owners[i]:
            continue
        same = np.flatnonzero((owners == owners[i]) & (site_city == site_city[i]) & (np.arange(n) > i))
        if same.size == 0:
            continue
        key = sites.family[i]
        by_key = same[(sites.family[same] == key)] if key else same[:0]
        touching = same[np.hypot(sx[same] - sx[i], sy[same] - sy[i]) <= reach[same] + reach[i]]
        for j in np.union1d(by_key, touching):
            rows.append(i)
            cols.append(int(j))
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return np.asarray(connected_components(graph, directed=False)[1])


def _region(region: BaseGeometry | None, x: float, y: float, radius_m: float) -> BaseGeometry:
    return region if region is not None else shapely.Point(x, y).buffer(max(radius_m, 0.5), quad_segs=32)


def family_units(sites: SiteArray, study: object) -> list[Unit]:
    """One unit per site, plus one per family of two or more premises."""
    proj = study.projection  # type: ignore[attr-defined]
    sx, sy = study.site_x, study.site_y  # type: ignore[attr-defined]
    site_city = study.site_city  # type: ignore[attr-defined]
    regions, reach = site_hit_regions(sites, proj)
    comp = _family_components(sites, sx, sy, site_city, reach)
    units: list[Unit] = []
    heads: dict[int, str] = {}
    for c in np.unique(comp):
        members = np.flatnonzero(comp == c)
        if members.size < 2:
            continue
        shapes = [_region(regions[k], float(sx[k]), float(sy[k]), float(sites.radius_m[k])) for k in members]
        union = shapely.union_all(shapes)
        cx, cy = union.centroid.x, union.centroid.y
        lon, lat = proj.unproject(np.array([cx]), np.array([cy]))
        ends = sites.notified_end_s[members]
        key = "family:" + "+".join(sorted(str(sites.ids[k]) for k in members))
        city = int(site_city[members[0]])
        first = int(members[0])
        notified = float(np.nanmax(ends)) if np.any(np.isfinite(ends)) else math.nan
        units.append(Unit(key, tuple(int(k) for k in members), None, key, float(lon[0]), float(lat[0]), float(cx),
                          float(cy), 0.0, proj.unproject_geometry(union), notified, None if city < 0 else city,
                          str(sites.kind[first]), str(sites.city[first])))  # fmt: skip
        for member in members:
            heads[int(member)] = key
    for k in range(len(sites)):
        key = f"site:{sites.ids[k]}"
        city = int(site_city[k])
        units.append(Unit(key, (k,), k, heads.get(k, key), float(sites.lon[k]), float(sites.lat[k]), float(sx[k]),
                          float(sy[k]), float(sites.radius_m[k]), sites.footprints[k], float(sites.notified_end_s[k]),
                          None if city < 0 else city, str(sites.kind[k]), str(sites.city[k])))  # fmt: skip
    return units
