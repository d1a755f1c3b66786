"""The study: projected sites and incidents, attack events, and one background per city.

A kernel that spans two cities 400 km apart says nothing about either. Unless a study area is
given, counted incidents are split into **cities**: connected groups of occupied 5 km cells
(8-neighbourhood, so reports less than ~5–10 km apart join), and every city gets its own
background, attack events and timing. A site is tested against the city whose study area
contains it. A city with fewer than :data:`MIN_BACKGROUND_EVENTS` attack events is not tested:
below that, neither the bandwidth nor a site's expected count can be estimated (the
cross-validated bandwidth of a dozen points spans the whole city, and a site's expectation is
then the city average, wrong by a factor of several wherever strikes concentrate). Between that
and :data:`SMALL_BACKGROUND_EVENTS` the results carry a warning.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.ndimage import label
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from deconflict.errors import InvalidInput
from deconflict.geo import LocalProjection
from deconflict.match import NORMAL_95_SCALE, NORMAL_REACH_SIGMAS, IncidentArray, SiteArray
from deconflict.stats.background import BackgroundIntensity, BandwidthMethod, after_fraction, fit_background
from deconflict.stats.events import AttackEvents, AttackScale, estimate_attack_scale, group_attacks
from deconflict.stats.exposure import SCORE_LEVELS, SiteExposure, _region_exposure, hole_fraction_interpolant

__all__ = ["MIN_BACKGROUND_EVENTS", "SMALL_BACKGROUND_EVENTS", "City", "RingTiming", "Study", "prepare_study"]

MIN_BACKGROUND_EVENTS = 30
SMALL_BACKGROUND_EVENTS = 200
CITY_CELL_M = 5_000.0
RING_M = (300.0, 1_500.0)


def uncertainty_groups(
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
            medians = np.array([np.median(u[sel][b == j]) if np.any(b == j) else 0.0 for j in range(edges.size - 1)])
            u[sel] = medians[b]
    keys = np.stack([u, normal.astype(float)], axis=1)
    uniq, index = np.unique(keys, axis=0, return_inverse=True)
    groups = [(float(a), "normal" if b else "disk") for a, b in uniq]
    return groups, np.ravel(index).astype(np.int64)


@dataclass(frozen=True)
class RingTiming:
    """Attack events in a site's neighbourhood ring before / after a date, and the city's share."""

    before: float
    after: float
    city_share: float


@dataclass(frozen=True, eq=False)
class City:
    """One background: its incidents, attack events, uncertainty groups and timing."""

    name: str
    background: BackgroundIntensity
    members: NDArray[np.int64]  # incident indices of the background's points, in its order
    background_index: NDArray[np.int64]  # incident index -> background point (-1 if not in it)
    groups: list[tuple[float, str]]
    shares: NDArray[np.float64]
    events: AttackEvents
    start_s: NDArray[np.float64]
    end_s: NDArray[np.float64]
    warnings: tuple[str, ...]
    group_of: NDArray[np.int64]  # per background point, its uncertainty group
    _share_cache: dict[tuple[float, float | None], float] = field(default_factory=dict)

    def group_for(self, incidents: NDArray[np.int64], uncertainty_m: NDArray, normal: NDArray) -> NDArray[np.int64]:
        """Uncertainty group of each incident (the nearest group of its model when not in the background)."""
        own = self.background_index[incidents]
        out = np.where(own >= 0, self.group_of[np.maximum(own, 0)], -1)
        for k in np.flatnonzero(out < 0):
            same = [g for g, (u, m) in enumerate(self.groups) if (m == "normal") == bool(normal[k])] or list(
                range(len(self.groups))
            )
            out[k] = min(same, key=lambda g: abs(self.groups[g][0] - float(uncertainty_m[k])))
        return np.asarray(out, np.int64)

    @property
    def testable(self) -> bool:
        """Whether the background is large enough to test sites against."""
        return self.events.n_events >= MIN_BACKGROUND_EVENTS

    @functools.cached_property
    def event_weight(self) -> NDArray[np.float64]:
        """Per background point, 1 / size of its attack event (each event weighs 1)."""
        return np.asarray(1.0 / self.events.sizes[self.events.event_of])

    @functools.cached_property
    def event_times(self) -> NDArray[np.float64]:
        """Mid-time of every attack event."""
        mid = 0.5 * (self.start_s + self.end_s)
        sums = np.bincount(self.events.event_of, weights=mid, minlength=self.events.n_events)
        return np.asarray(sums / np.maximum(self.events.sizes, 1))

    @functools.cached_property
    def sorted_event_times(self) -> NDArray[np.float64]:
        """:attr:`event_times` in increasing order."""
        return np.sort(self.event_times)

    def event_centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Centroid and mid-time of every attack event."""
        size = np.maximum(self.events.sizes, 1)
        pts = self.background.points
        x = np.bincount(self.events.event_of, weights=pts[:, 0], minlength=self.events.n_events) / size
        y = np.bincount(self.events.event_of, weights=pts[:, 1], minlength=self.events.n_events) / size
        return np.asarray(x), np.asarray(y), self.event_times

    def city_share(self, t_s: float, until_s: float | None = None) -> float:
        """Share of the city's attack events after ``t_s`` (among those ending by ``until_s``)."""
        key = (t_s, until_s)
        if key not in self._share_cache:
            w = self.event_weight
            if until_s is not None:
                w = w * (self.end_s <= until_s)
            a = after_fraction(self.start_s, self.end_s, t_s)
            self._share_cache[key] = float(np.sum(w * a) / max(float(np.sum(w)), 1e-12))
        return self._share_cache[key]

    def ring(self, x: float, y: float) -> NDArray[np.int64]:
        """Background points 300–1,500 m from ``(x, y)``: the neighbourhood of the local design."""
        idx = np.asarray(self.background.tree.query_ball_point([x, y], RING_M[1]), dtype=np.int64)
        pts = self.background.points[idx]
        d = np.hypot(pts[:, 0] - x, pts[:, 1] - y) if idx.size else np.zeros(0)
        return idx[d >= RING_M[0]]

    def ring_timing(self, ring: NDArray[np.int64], t_s: float, until_s: float | None = None) -> RingTiming:
        """Attack events of a ring (:meth:`ring`) before and after ``t_s`` (event-weighted)."""
        idx = ring
        w = self.event_weight[idx]
        if until_s is not None:
            w = w * (self.end_s[idx] <= until_s)
        a = after_fraction(self.start_s[idx], self.end_s[idx], t_s)
        return RingTiming(float(np.sum(w * (1 - a))), float(np.sum(w * a)), self.city_share(t_s, until_s))

    def effective_events(
        self, kernel: tuple[NDArray[np.int64], NDArray[np.float64]], incidents: NDArray[np.int64],
        probs: NDArray[np.float64],
    ) -> float:  # fmt: skip
        """Effective number of independent attack events behind the kernel estimate at a point.

        ``(sum_e K_e)**2 / sum_e K_e**2`` with ``K_e`` the kernel weight of event ``e``'s reports
        at the point (the site's own possible hits down-weighted by their hit probability): the
        inverse relative variance of the estimate under a Poisson process of events.
        """
        idx, values = kernel
        if idx.size == 0:
            return 1.0
        own = self.background_index[incidents]
        keep = np.full(self.members.size, 1.0)
        ok = own >= 0
        np.minimum.at(keep, own[ok], 1.0 - probs[ok])
        values = values * keep[idx]
        per_event = np.bincount(self.events.event_of[idx], weights=values)
        total = float(per_event.sum())
        square = float(np.sum(per_event**2))
        return max(total**2 / square, 1.0) if square > 0 else 1.0

    def region_exposure(
        self, region: BaseGeometry, x: float, y: float, points: NDArray[np.int64], weights: NDArray[np.float64]
    ) -> SiteExposure:
        """Exposure of a footprint or family region, own hits left out softly."""
        bg = self.background
        r_eq = math.sqrt(max(region.area, 1.0) / math.pi)
        hs, mix = bg.bandwidth_mix(x, y, points, weights)
        minx, miny, maxx, maxy = region.bounds
        corner = max(abs(minx - x), abs(maxx - x)) + max(abs(miny - y), abs(maxy - y))
        reach = max(u * (NORMAL_REACH_SIGMAS / NORMAL_95_SCALE if m == "normal" else 1.0) for u, m in self.groups)
        hole_at = hole_fraction_interpolant(corner + 1.5 * reach, r_eq, hs, self.groups, self.shares, mix)

        def lam(px: NDArray[np.float64], py: NDArray[np.float64]) -> NDArray[np.float64]:
            value = bg.intensity(px, py)
            if points.size:
                value = value - bg.contributions(points, weights, px, py)
            hole = hole_at(np.hypot(px - x, py - y))
            return np.maximum(value, 0.0) / np.maximum(1.0 - hole, 0.1)

        return _region_exposure(lam, region, self.groups, SCORE_LEVELS)


@dataclass(frozen=True, eq=False)
class Study:
    """Projected inputs, attack scale and the cities' backgrounds of one analysis."""

    sites: SiteArray
    incidents: IncidentArray
    projection: LocalProjection
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    site_x: NDArray[np.float64]
    site_y: NDArray[np.float64]
    reach: NDArray[np.float64]
    scale: AttackScale
    cities: list[City]
    site_city: NDArray[np.int64]  # -1: outside every city's study area
    bandwidth_m: float | str | None
    peer_scores: dict[int, tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]] = field(
        default_factory=dict
    )

    @functools.cached_property
    def incident_tree(self) -> cKDTree:
        """k-d tree of every incident's projected point."""
        return cKDTree(np.column_stack([self.x, self.y]))

    def with_bandwidth_factor(self, factor: float, rng: np.random.Generator) -> Study:
        """The same study with every city's pilot bandwidth multiplied by ``factor``."""
        cities = [
            _fit_city(self, c.name, c.members, c.background.study_area, c.background.bandwidth_m * factor, rng, True)
            for c in self.cities
        ]
        return self.fresh(cities=cities)

    def fresh(self, **changes: object) -> Study:
        """A copy with its own per-analysis state (the peer scores), sharing the fitted
        backgrounds and the incidents' k-d tree (so that analyses of one study never share state)."""
        copy = dataclasses.replace(self, peer_scores={}, **changes)  # type: ignore[arg-type]
        if "incident_tree" in self.__dict__:
            copy.__dict__["incident_tree"] = self.__dict__["incident_tree"]
        return copy

    def unnotified_peers(self, unit: object) -> list[tuple[float, float]]:
        """(before, after) attack scores of non-notified premises of the unit's kind nearby."""
        from deconflict.stats.events import event_scores

        x, y = unit.x, unit.y  # type: ignore[attr-defined]
        t_n = float(unit.notified_end_s)  # type: ignore[attr-defined]
        kind = unit.kind  # type: ignore[attr-defined]
        s = self.sites
        same = (~s.notified) & (s.kind == kind) & (self.site_city == (unit.city if unit.city is not None else -2))  # type: ignore[attr-defined]
        near = same & (np.hypot(self.site_x - x, self.site_y - y) <= RING_M[1])
        chosen = np.flatnonzero(near) if np.any(near) else np.flatnonzero(same)
        keys = [int(k) for k in chosen if int(k) in self.peer_scores]
        if not keys:
            return []
        # all peers at once: their events relabelled apart, one pass over their reports
        parts = [self.peer_scores[k] for k in keys]
        sizes = [int(lab.max()) + 1 if lab.size and lab.max() >= 0 else 0 for _, _, lab in parts]
        offsets = np.cumsum([0, *sizes])
        probs = np.concatenate([p for p, _, _ in parts])
        inc = np.concatenate([i for _, i, _ in parts])
        labels = np.concatenate(
            [np.where(lab >= 0, lab + off, -1) for (_, _, lab), off in zip(parts, offsets[:-1], strict=True)]
        )
        owner = np.repeat(np.arange(len(parts)), [p.size for p, _, _ in parts])
        frac = after_fraction(self.incidents.start_s[inc], self.incidents.end_s[inc], t_n)
        scores = event_scores(probs, labels)
        after = event_scores(probs * frac, labels)
        event_owner = np.zeros(scores.size, np.int64)
        ok = labels >= 0
        event_owner[labels[ok]] = owner[ok]
        total = np.bincount(event_owner, weights=scores, minlength=len(parts))
        late = np.bincount(event_owner, weights=after, minlength=len(parts))
        return [(float(t - a), float(a)) for t, a in zip(total, late, strict=True)]


def _components(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
    """City of each point: connected occupied 5 km cells (8-neighbourhood)."""
    if x.size == 0:
        return np.zeros(0, np.int64)
    ix = np.floor((x - x.min()) / CITY_CELL_M).astype(np.int64)
    iy = np.floor((y - y.min()) / CITY_CELL_M).astype(np.int64)
    grid = np.zeros((int(iy.max()) + 1, int(ix.max()) + 1), dtype=bool)
    grid[iy, ix] = True
    labels, _ = label(grid, structure=np.ones((3, 3)))
    return np.asarray(labels[iy, ix] - 1, np.int64)


def _reach(incidents: IncidentArray) -> NDArray[np.float64]:
    return incidents.uncertainty_m * np.where(incidents.normal, NORMAL_REACH_SIGMAS / NORMAL_95_SCALE, 1.0)


def _fit_city(
    study: Study, name: str, members: NDArray[np.int64], area: BaseGeometry | None,
    bandwidth: float | str | None, rng: np.random.Generator, adaptive: bool = True,
) -> City:  # fmt: skip
    x, y = study.x[members], study.y[members]
    inc = study.incidents
    if area is not None:
        inside = shapely.contains_xy(area, x, y)
        members, x, y = members[inside], x[inside], y[inside]
    events = group_attacks(x, y, inc.start_s[members], inc.end_s[members], study.reach[members], study.scale)
    bg = fit_background(x, y, study_area=area, bandwidth_m="cv" if bandwidth is None else bandwidth,  # type: ignore[arg-type]
                        rng=rng, adaptive=adaptive, events=events.event_of)  # fmt: skip
    if bg.points.shape[0] != members.size:  # the default area is the buffered hull: all inside
        raise AssertionError("background points must be the city's incidents")
    index = np.full(len(inc), -1, np.int64)
    index[members] = np.arange(members.size)
    groups, group_of = uncertainty_groups(inc.uncertainty_m[members], inc.normal[members])
    shares = np.bincount(group_of, minlength=len(groups)) / max(members.size, 1)
    warnings = []
    if events.n_events < MIN_BACKGROUND_EVENTS:
        warnings.append(f"background of {events.n_events} attack events in this city is below the minimum of "
                        f"{MIN_BACKGROUND_EVENTS}: too few to estimate where strikes fall by chance")  # fmt: skip
    elif events.n_events < SMALL_BACKGROUND_EVENTS:
        warnings.append(f"small background: {events.n_events} attack events (fewer than {SMALL_BACKGROUND_EVENTS});"
                        " expected counts are uncertain and the p-values wide")  # fmt: skip
    return City(name, bg, members, index, groups, np.asarray(shares, float), events, inc.start_s[members],
                inc.end_s[members], tuple(warnings), group_of)  # fmt: skip


def prepare_study(
    sites: SiteArray,
    incidents: IncidentArray,
    *,
    rng: np.random.Generator,
    study_area: BaseGeometry | None = None,
    bandwidth_m: float | BandwidthMethod | None = None,
    projection: LocalProjection | None = None,
    attack_distance_m: float | None = None,
    attack_window_s: float | None = None,
) -> Study:
    """Project, estimate the attack scale, split into cities and fit their backgrounds.

    Raises
    ------
    InvalidInput
        When no city has :data:`MIN_BACKGROUND_EVENTS` attack events.
    """
    proj = projection or LocalProjection.from_points(
        np.concatenate([sites.lon, incidents.lon]), np.concatenate([sites.lat, incidents.lat])
    )
    ix, iy = proj.project(incidents.lon, incidents.lat)
    sx, sy = proj.project(sites.lon, sites.lat)
    counted = np.flatnonzero(incidents.counted)
    if counted.size < 2:
        raise InvalidInput(f"only {counted.size} counted incidents: too few to estimate a background")
    scale = estimate_attack_scale(ix[counted], iy[counted], incidents.start_s[counted], incidents.end_s[counted],
                                  rng=rng)  # fmt: skip
    if attack_distance_m is not None or attack_window_s is not None:
        scale = AttackScale(scale.distance_m if attack_distance_m is None else float(attack_distance_m),
                            scale.window_s if attack_window_s is None else float(attack_window_s), False)  # fmt: skip
    study = Study(sites, incidents, proj, ix, iy, sx, sy, _reach(incidents), scale, [], np.full(len(sites), -1),
                  bandwidth_m)  # fmt: skip
    if study_area is not None:
        area = proj.project_geometry(study_area)
        pieces = [("study area", counted, area)]
    else:
        comp = _components(ix[counted], iy[counted])
        pieces = [(f"city {c + 1}", counted[comp == c], None) for c in range(int(comp.max()) + 1)]
        pieces = [p for p in pieces if p[1].size >= 2]
    cities = [_fit_city(study, name, members, area, bandwidth_m, rng) for name, members, area in pieces]
    if not any(c.testable for c in cities):
        most = max((c.events.n_events for c in cities), default=0)
        raise InvalidInput(
            f"background too small: {most} attack events (minimum {MIN_BACKGROUND_EVENTS}); with fewer, "
            "where strikes fall by chance cannot be estimated — import more incidents of the area"
        )
    site_city = np.full(len(sites), -1, np.int64)
    for c, city in enumerate(cities):
        inside = shapely.contains_xy(city.background.study_area, sx, sy) & (site_city < 0)
        site_city[inside] = c
    return dataclasses.replace(study, cities=cities, site_city=site_city)
