"""Attack events: reports of one attack (a salvo, one strike reported twice) grouped together.

One attack night puts several impacts within tens to hundreds of metres of each other, and
one strike is often reported by several sources. Counting reports as independent hits makes
the Poisson tail far too small (a salvo that lands on a site brings several "hits" at once).
The statistics therefore count **attack events**:

* **Linkage.** Two reports belong to the same event when their time intervals are at most
  ``window_s`` apart (overlapping intervals are 0 apart) and their reported points at most
  ``distance_m`` plus both uncertainty radii apart; events are the connected components
  (single linkage). Reports known only to more than two windows (a week, a month) are
  linked at a site (:func:`site_events`) but not city-wide.
* **Scale estimated from the data** (:func:`estimate_attack_scale`, overridable). Pairs of
  reports close in time (gap <= 12 h) are compared with pairs of the same area 3–60 days
  apart: the excess of close-in-time pairs at short distances is the salvo's spread;
  ``distance_m`` is where 90 % of that excess is reached (clipped to 50–1,500 m; 0 when no
  excess shows: then only reports whose uncertainty circles touch are linked). The window is
  where 90 % of the excess of short time gaps among pairs within ``distance_m`` is reached,
  compared with the rate of gaps of 3–30 days (clipped to 30 min – 6 h, 3 h by default).
  Intervals longer than the window (a night, a day) link only when they overlap, so
  consecutive nights of daily reports do not chain into one event; a city-wide component
  wider than any salvo goes back to one event per report.
* **At a site** (:func:`site_events`) the candidate reports with a hit probability of at
  least 0.005 (the score lattice) are grouped the same way; the event's score is the largest
  hit probability of its reports, which bounds the event's chance of scoring by its reports'
  (a union bound) whatever the dependence within the event.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

__all__ = ["AttackEvents", "AttackScale", "estimate_attack_scale", "group_attacks", "site_events"]

_HOUR = 3600.0
_DAY = 86_400.0
DEFAULT_DISTANCE_M = 300.0
DEFAULT_WINDOW_S = 3 * _HOUR
NO_SALVO_DISTANCE_M = 0.0  # no excess of close pairs: link only reports whose uncertainty circles touch
_DISTANCE_RANGE = (50.0, 1_500.0)
_WINDOW_RANGE = (0.5 * _HOUR, 6 * _HOUR)
#: Reports with a hit probability below this cannot move the score lattice (1/100).
SCORE_FLOOR = 0.005


@dataclass(frozen=True)
class AttackScale:
    """How far and how long one attack spreads, and whether that was estimated."""

    distance_m: float
    window_s: float
    estimated: bool
    close_pairs: int = 0


@dataclass(frozen=True, eq=False)
class AttackEvents:
    """City-wide attack events: ``event_of[i]`` is report ``i``'s event (0..n_events-1)."""

    event_of: NDArray[np.int64]
    n_events: int
    scale: AttackScale

    @functools.cached_property
    def sizes(self) -> NDArray[np.int64]:
        """Number of reports per event."""
        return np.bincount(self.event_of, minlength=self.n_events).astype(np.int64)


def _gap(start_i: NDArray, end_i: NDArray, start_j: NDArray, end_j: NDArray) -> NDArray[np.float64]:
    return np.maximum(0.0, np.maximum(start_j - end_i, start_i - end_j))


def _same_window(start_i: NDArray, end_i: NDArray, start_j: NDArray, end_j: NDArray, window_s: float) -> NDArray:
    """Whether two reports can be one attack in time: intervals that overlap, or short ones (at
    most a window long) at most a window apart. Long intervals that only touch (two consecutive
    nights or days) do not link, so daily reports do not chain a month into one event."""
    signed = np.maximum(start_j - end_i, start_i - end_j)
    short = ((end_i - start_i) <= window_s) & ((end_j - start_j) <= window_s)
    return (signed < 0) | (short & (signed <= window_s)) | ((signed == 0) & (start_i == end_i) & (start_j == end_j))


def estimate_attack_scale(
    x: ArrayLike,
    y: ArrayLike,
    start_s: ArrayLike,
    end_s: ArrayLike,
    *,
    rng: np.random.Generator | None = None,
    max_reports: int = 5_000,
) -> AttackScale:
    """Estimate the spatial spread and the time window of one attack from close pairs.

    See the module docstring for the method. ``rng`` subsamples when there are more than
    ``max_reports`` reports (default generator seeded 0).
    """
    xa, ya = np.ravel(np.asarray(x, float)), np.ravel(np.asarray(y, float))
    sa, ea = np.ravel(np.asarray(start_s, float)), np.ravel(np.asarray(end_s, float))
    short = (ea - sa) <= _DAY
    idx = np.flatnonzero(short)
    if idx.size > max_reports:
        idx = (rng or np.random.default_rng(0)).choice(idx, max_reports, replace=False)
    if idx.size < 30:
        return AttackScale(DEFAULT_DISTANCE_M, DEFAULT_WINDOW_S, False)
    tree = cKDTree(np.column_stack([xa[idx], ya[idx]]))
    pairs = tree.query_pairs(_DISTANCE_RANGE[1], output_type="ndarray")
    if pairs.shape[0] == 0:
        return AttackScale(DEFAULT_DISTANCE_M, DEFAULT_WINDOW_S, False)
    i, j = idx[pairs[:, 0]], idx[pairs[:, 1]]
    dist = np.hypot(xa[i] - xa[j], ya[i] - ya[j])
    gap = _gap(sa[i], ea[i], sa[j], ea[j])
    same = gap <= 12 * _HOUR
    cross = (gap >= 3 * _DAY) & (gap <= 60 * _DAY)
    distance = _distance_scale(dist, same, cross)
    window = _window_scale(dist, gap, distance)
    estimated = distance is not None or window is not None
    return AttackScale(
        NO_SALVO_DISTANCE_M if distance is None else distance,
        DEFAULT_WINDOW_S if window is None else window,
        estimated,
        int(np.sum(same)),
    )


def _distance_scale(dist: NDArray, same: NDArray, cross: NDArray) -> float | None:
    n_same, n_cross = int(same.sum()), int(cross.sum())
    if n_same < 10 or n_cross < 10:
        return None
    edges = np.linspace(0.0, _DISTANCE_RANGE[1], 61)
    h_same = np.histogram(dist[same], edges)[0].astype(float)
    h_cross = np.histogram(dist[cross], edges)[0].astype(float) * n_same / n_cross
    excess = np.cumsum(h_same - h_cross)
    top = float(excess.max())
    # An excess of close-in-time close pairs beyond chance (3 Poisson standard errors).
    if top <= 3.0 * np.sqrt(max(float(np.cumsum(h_cross)[int(np.argmax(excess))]), 1.0)):
        return None
    at = int(np.flatnonzero(excess >= 0.9 * top)[0])
    return float(np.clip(edges[at + 1], *_DISTANCE_RANGE))


def _window_scale(dist: NDArray, gap: NDArray, distance: float | None) -> float | None:
    near = dist <= (DEFAULT_DISTANCE_M if distance is None else distance)
    g = gap[near]
    background = (g >= 3 * _DAY) & (g <= 30 * _DAY)
    if g.size < 10 or background.sum() < 10:
        return None
    rate = float(background.sum()) / (27 * _DAY)  # pairs per second of gap, far from attacks
    grid = np.array([0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 9, 12]) * _HOUR
    excess = np.array([float(np.sum(g <= t)) - rate * t for t in grid])
    top = float(excess.max())
    if top <= 3.0 * np.sqrt(max(rate * grid[-1], 1.0)):
        return None
    at = int(np.flatnonzero(excess >= 0.9 * top)[0])
    return float(np.clip(grid[at], *_WINDOW_RANGE))


def _link(
    x: NDArray, y: NDArray, start: NDArray, end: NDArray, reach: NDArray, scale: AttackScale
) -> NDArray[np.int64]:
    """Connected components of the linkage graph (see the module docstring)."""
    n = x.size
    if n == 0:
        return np.zeros(0, np.int64)
    if n <= 64:  # one site's candidates: all pairs at once, labels spread to a fixed point
        linked = (np.hypot(x[:, None] - x, y[:, None] - y) <= scale.distance_m + reach[:, None] + reach) & (
            _same_window(start[:, None], end[:, None], start, end, scale.window_s)
        )
        labels = np.arange(n)
        while True:
            spread = np.where(linked, labels[None, :], n).min(axis=1)
            if np.array_equal(spread, labels):
                break
            labels = spread
        return np.unique(labels, return_inverse=True)[1].astype(np.int64)
    mid = 0.5 * (start + end)
    half = 0.5 * (end - start)
    span = scale.window_s + 2.0 * float(half.max()) if n else scale.window_s
    radius = scale.distance_m + 2.0 * float(reach.max())
    tscale = radius / max(span, 1.0)
    tree = cKDTree(np.column_stack([x, y, mid * tscale]))
    pairs = tree.query_pairs(radius, p=np.inf, output_type="ndarray")
    if pairs.shape[0]:
        i, j = pairs[:, 0], pairs[:, 1]
        ok = (np.hypot(x[i] - x[j], y[i] - y[j]) <= scale.distance_m + reach[i] + reach[j]) & _same_window(
            start[i], end[i], start[j], end[j], scale.window_s
        )
        i, j = i[ok], j[ok]
    else:
        i = j = np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(i.size), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, np.int64)


def _split_chains(labels: NDArray[np.int64], x: NDArray, y: NDArray, scale: AttackScale) -> NDArray[np.int64]:
    """Undo single linkage's chaining: a component wider than any salvo (more than
    ``max(3 * distance_m, 1 km)`` from its centroid) goes back to one event per report.

    City-wide events only weigh the background's variance, the neighbourhood counts and the scan;
    the site's own attacks are grouped at the site (:func:`site_events`), so splitting here never
    lets a salvo count twice on a site.
    """
    if labels.size == 0:
        return labels
    n = int(labels.max()) + 1
    size = np.bincount(labels, minlength=n)
    cx = np.bincount(labels, weights=x, minlength=n) / size
    cy = np.bincount(labels, weights=y, minlength=n) / size
    spread = np.zeros(n)
    np.maximum.at(spread, labels, np.hypot(x - cx[labels], y - cy[labels]))
    wide = spread > max(3.0 * scale.distance_m, 1_000.0)
    if not np.any(wide):
        return labels
    out = labels.copy()
    split = wide[labels]
    out[split] = n + np.arange(int(split.sum()))
    return np.unique(out, return_inverse=True)[1].astype(np.int64)


def group_attacks(
    x: ArrayLike,
    y: ArrayLike,
    start_s: ArrayLike,
    end_s: ArrayLike,
    reach_m: ArrayLike,
    scale: AttackScale,
) -> AttackEvents:
    """Group reports into city-wide attack events (reports longer than two windows stay alone)."""
    xa, ya = np.ravel(np.asarray(x, float)), np.ravel(np.asarray(y, float))
    sa, ea = np.ravel(np.asarray(start_s, float)), np.ravel(np.asarray(end_s, float))
    reach = np.ravel(np.asarray(reach_m, float))
    n = xa.size
    event_of = np.full(n, -1, np.int64)
    short = (ea - sa) <= 2 * max(scale.window_s, 12 * _HOUR)
    labels = _split_chains(_link(xa[short], ya[short], sa[short], ea[short], reach[short], scale),
                           xa[short], ya[short], scale)  # fmt: skip
    event_of[short] = labels
    count = int(labels.max()) + 1 if labels.size else 0
    rest = np.flatnonzero(~short)
    event_of[rest] = count + np.arange(rest.size)
    return AttackEvents(event_of, count + rest.size, scale)


def site_events(
    probabilities: ArrayLike,
    x: ArrayLike,
    y: ArrayLike,
    start_s: ArrayLike,
    end_s: ArrayLike,
    reach_m: ArrayLike,
    scale: AttackScale,
) -> NDArray[np.int64]:
    """Event labels of one site's candidate reports (``-1`` below the score floor).

    Long intervals are linked too here: a strike reported once to the night and once to the
    month counts once at the site.
    """
    p = np.ravel(np.asarray(probabilities, float))
    labels = np.full(p.size, -1, np.int64)
    keep = np.flatnonzero(p >= SCORE_FLOOR)
    if keep.size == 0:
        return labels
    xa, ya = np.ravel(np.asarray(x, float))[keep], np.ravel(np.asarray(y, float))[keep]
    sa, ea = np.ravel(np.asarray(start_s, float))[keep], np.ravel(np.asarray(end_s, float))[keep]
    reach = np.ravel(np.asarray(reach_m, float))[keep]
    labels[keep] = _link(xa, ya, sa, ea, reach, scale)
    return labels


def event_scores(probabilities: ArrayLike, labels: ArrayLike, weights: ArrayLike | None = None) -> NDArray[np.float64]:
    """Per event, the largest (weighted) hit probability of its reports."""
    p = np.ravel(np.asarray(probabilities, float))
    lab = np.ravel(np.asarray(labels, np.int64))
    w = p if weights is None else p * np.ravel(np.asarray(weights, float))
    ok = lab >= 0
    if not np.any(ok):
        return np.zeros(0)
    out = np.zeros(int(lab[ok].max()) + 1)
    np.maximum.at(out, lab[ok], w[ok])
    return out
