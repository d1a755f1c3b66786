"""Space–time permutation scan and the separability check, by Monte Carlo over resampled cities.

**Space–time permutation scan** (Kulldorff, Heffernan, Hartman, Assunção & Mostashari 2005,
the SaTScan model). Cylinders are circles of radius 250, 500 and 1,000 m around the tested
units (notified first, at most ``max_centres``) times windows of consecutive periods (the
study time cut into ``n_periods`` periods of equal numbers of attack events, windows up to half
of it). Under the null that where and when attacks happen are independent (separability),
a cylinder's expected count is ``n_circle * n_window / N``; the statistic is Poisson's
generalised likelihood ratio for an excess, maximised over cylinders. Its null distribution
comes from **resampled cities**: the attack events keep their places and their periods are
permuted (each attack moves whole: a salvo stays a salvo). The p-value is
``(1 + #resamples at least as extreme) / (1 + resamples)``.

**Separability check.** The same resamples give the null distribution of the deviance of the
(2 km cell x period) table of attack events from its independence fit; a small p-value says
the spatial pattern changed in time, which the city-wide before/after tests assume it does not
(the headline takes each site's timing from its own neighbourhood and is not affected).

**Per site**, the likelihood ratio of the site's own cylinder after its notification, against
the same resamples: ``p_site`` (this cylinder) and ``p_site_adjusted`` (against the maximum over
all cylinders: family-wise over the scan).

**Engines.** The resampling is a pure function of ``(data, SeedSequence child, count)``
(:func:`resample_task`); :func:`run_resamples` runs those tasks in-process (``engine="local"``)
or on ``dask.distributed`` (``engine="dask"``: a ``LocalCluster`` by default, or any scheduler
address), with identical results for the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from deconflict.errors import InvalidInput

__all__ = [
    "Engine",
    "ScanData",
    "ScanResult",
    "build_scan_data",
    "resample_task",
    "run_resamples",
    "scan_statistics",
]

Engine = Literal["local", "dask"]
SCAN_RADII_M = (250.0, 500.0, 1_000.0)
CELL_M = 2_000.0


@dataclass(frozen=True, eq=False)
class ScanData:
    """Everything a resample needs (picklable: sent once to every worker)."""

    membership: sparse.csr_matrix  # (cylinders' circles x events), 0/1
    circle_unit: NDArray[np.int64]  # unit index of each circle
    event_period: NDArray[np.int64]
    n_periods: int
    windows: NDArray[np.int64]  # (w, 2): first and last period of each window
    event_cell: NDArray[np.int64]
    n_cells: int
    unit_window: NDArray[np.int64]  # per unit: the window after its notification (-1: none)


@dataclass(frozen=True)
class ScanResult:
    """The scan of one city: most likely cluster, separability, per-unit p-values."""

    statistic: float
    pvalue: float
    cluster_unit: int
    cluster_radius_m: float
    cluster_window: tuple[int, int]
    separability_statistic: float
    separability_pvalue: float
    unit_pvalue: dict[int, float]
    unit_pvalue_adjusted: dict[int, float]
    resamples: int


def _glr(c: NDArray[np.float64], e: NDArray[np.float64], total: float) -> NDArray[np.float64]:
    """Poisson log-likelihood ratio of an excess in a cylinder (0 where c <= e)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = np.where(c > 0, c * np.log(c / e), 0.0)
        rest = np.where(total - c > 0, (total - c) * np.log((total - c) / (total - e)), 0.0)
    return np.where(c > e, inside + rest, 0.0)


def _glr_matrix(data: ScanData, event_period: NDArray[np.int64]) -> NDArray[np.float64]:
    """Likelihood ratio of every cylinder (circles x windows) for one assignment of periods."""
    n = event_period.size
    m = data.membership
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
    # circles x periods: one bincount over the membership's entries (exact integer counts; a
    # sparse product with a one-hot matrix did the same with ~3x the memory traffic)
    counts = np.bincount(rows * data.n_periods + event_period[m.indices], minlength=m.shape[0] * data.n_periods)
    counts = counts.reshape(m.shape[0], data.n_periods).astype(float)
    cum = np.concatenate([np.zeros((counts.shape[0], 1)), np.cumsum(counts, axis=1)], axis=1)
    per_period = np.bincount(event_period, minlength=data.n_periods).astype(float)
    cum_total = np.concatenate([[0.0], np.cumsum(per_period)])
    first, last = data.windows[:, 0], data.windows[:, 1] + 1
    c = cum[:, last] - cum[:, first]
    expected = np.maximum(cum[:, -1:] * (cum_total[last] - cum_total[first])[None, :] / max(n, 1), 1e-12)
    return _glr(c, expected, float(n))


def scan_statistics(data: ScanData, event_period: NDArray[np.int64]) -> NDArray[np.float64]:
    """``[max GLR, separability deviance, GLR of each unit's after-window]`` for one assignment."""
    n = event_period.size
    glr = _glr_matrix(data, event_period)
    units = np.zeros(data.unit_window.size)
    window = data.unit_window[data.circle_unit]
    if glr.size and np.any(window >= 0):
        own = np.where(window >= 0, glr[np.arange(glr.shape[0]), np.maximum(window, 0)], 0.0)
        np.maximum.at(units, data.circle_unit, own)
    table = np.bincount(data.event_cell * data.n_periods + event_period, minlength=data.n_cells * data.n_periods)
    table = table.reshape(data.n_cells, data.n_periods).astype(float)
    fit = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / max(n, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        deviance = 2.0 * float(np.sum(np.where(table > 0, table * np.log(table / fit), 0.0)))
    return np.concatenate([[float(glr.max()) if glr.size else 0.0, deviance], units])


def resample_task(data: ScanData, seed: np.random.SeedSequence, count: int) -> NDArray[np.float64]:
    """``count`` resampled cities (event periods permuted), one row of statistics each.

    A pure function of its arguments: the same ``seed`` gives the same rows on any engine.
    """
    rng = np.random.default_rng(seed)
    rows = [scan_statistics(data, rng.permutation(data.event_period)) for _ in range(count)]
    return np.asarray(rows)


def _batches(resamples: int, batch: int) -> list[int]:
    full, rest = divmod(resamples, batch)
    return [batch] * full + ([rest] if rest else [])


def run_resamples(
    data: ScanData,
    resamples: int,
    seed: int | np.random.SeedSequence,
    *,
    engine: Engine = "local",
    scheduler: str | None = None,
    batch: int = 50,
    progress: Callable[[int], None] | None = None,
) -> NDArray[np.float64]:
    """All resamples, in task order: ``(resamples, statistics)``.

    Parameters
    ----------
    engine
        ``"local"`` runs the tasks in this process; ``"dask"`` submits them to
        ``dask.distributed`` (``pip install 'deconflict[dask]'``): to ``scheduler`` (an address
        such as ``tcp://10.0.0.5:8786``, e.g. a dask-jobqueue or Kubernetes cluster) or to a
        ``LocalCluster`` started for the call.
    batch
        Resamples per task; the seed of task ``k`` is the ``k``-th child of ``seed``.
    progress
        Called with the number of resamples of every finished task.
    """
    if resamples < 1:
        raise InvalidInput("resamples must be >= 1", where="resamples")
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    sizes = _batches(resamples, batch)
    children = root.spawn(len(sizes))
    note = progress or (lambda count: None)
    if engine == "local":
        parts = []
        for child, size in zip(children, sizes, strict=True):
            parts.append(resample_task(data, child, size))
            note(size)
    elif engine == "dask":
        parts = _run_dask(data, children, sizes, scheduler, note)
    else:
        raise InvalidInput(f"unknown engine {engine!r}; use 'local' or 'dask'", where="engine")
    return np.vstack(parts)


def _run_dask(
    data: ScanData, children: Sequence[np.random.SeedSequence], sizes: Sequence[int], scheduler: str | None,
    note: Callable[[int], None],
) -> list[NDArray[np.float64]]:  # fmt: skip
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InvalidInput("the dask engine needs dask.distributed: pip install 'deconflict[dask]'") from None
    cluster = None if scheduler is not None else LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
    try:
        with Client(scheduler if scheduler is not None else cluster) as client:
            shared = client.scatter(data, broadcast=True)
            futures = client.map(resample_task, [shared] * len(sizes), list(children), list(sizes), pure=False)
            order = {f.key: k for k, f in enumerate(futures)}
            parts: list[NDArray[np.float64] | None] = [None] * len(futures)
            for future, part in as_completed(futures, with_results=True):
                k = order[future.key]
                parts[k] = part
                note(sizes[k])
            return [p for p in parts if p is not None]
    finally:
        if cluster is not None:
            cluster.close()


def _periods(times: NDArray[np.float64], n_periods: int) -> NDArray[np.int64]:
    edges = np.quantile(times, np.linspace(0, 1, n_periods + 1)[1:-1])
    return np.searchsorted(edges, times, side="right").astype(np.int64)


def build_scan_data(
    event_x: NDArray[np.float64],
    event_y: NDArray[np.float64],
    event_time: NDArray[np.float64],
    centres_x: NDArray[np.float64],
    centres_y: NDArray[np.float64],
    notified_s: NDArray[np.float64],
    *,
    n_periods: int = 12,
    radii_m: Sequence[float] = SCAN_RADII_M,
) -> ScanData:
    """Cylinders, periods and cells for a city's attack events and tested centres."""
    from scipy.spatial import cKDTree

    n_periods = int(max(2, min(n_periods, event_time.size // 5)))
    period = _periods(event_time, n_periods)
    edges = np.quantile(event_time, np.linspace(0, 1, n_periods + 1))
    half = max(1, n_periods // 2)
    windows = np.array([(a, b) for a in range(n_periods) for b in range(a, min(n_periods, a + half))], np.int64)
    unit_window = np.full(centres_x.size, -1, np.int64)
    for k, t in enumerate(notified_s):
        if math.isfinite(t) and t < edges[-1]:
            first = int(np.searchsorted(edges[1:-1], t, side="right"))
            match = np.flatnonzero((windows[:, 0] == first) & (windows[:, 1] == min(n_periods - 1, first + half - 1)))
            unit_window[k] = int(match[0]) if match.size else -1
    tree = cKDTree(np.column_stack([event_x, event_y]))
    rows, cols, circle_unit = [], [], []
    circle = 0
    for r in radii_m:
        hits = tree.query_ball_point(np.column_stack([centres_x, centres_y]), r)
        for k, members in enumerate(hits):
            rows.append(np.full(len(members), circle, np.int64))
            cols.append(np.asarray(members, np.int64))
            circle_unit.append(k)
            circle += 1
    row = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    col = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    membership = sparse.csr_matrix((np.ones(row.size), (row, col)), shape=(circle, event_x.size))
    cx = np.floor((event_x - event_x.min()) / CELL_M).astype(np.int64)
    cy = np.floor((event_y - event_y.min()) / CELL_M).astype(np.int64)
    _, cell = np.unique(cx * (int(cy.max()) + 1) + cy, return_inverse=True)
    return ScanData(membership, np.asarray(circle_unit, np.int64), period, n_periods, windows,
                    np.ravel(cell).astype(np.int64), int(cell.max()) + 1, unit_window)  # fmt: skip


def scan(
    data: ScanData,
    *,
    resamples: int = 999,
    seed: int | np.random.SeedSequence = 0,
    engine: Engine = "local",
    scheduler: str | None = None,
    radii_m: Sequence[float] = SCAN_RADII_M,
    progress: Callable[[int], None] | None = None,
) -> ScanResult:
    """The observed scan and its Monte-Carlo p-values over ``resamples`` resampled cities."""
    observed = scan_statistics(data, data.event_period)
    null = run_resamples(data, resamples, seed, engine=engine, scheduler=scheduler, progress=progress)
    count = null.shape[0]

    def mc(value: float, column: NDArray[np.float64]) -> float:
        return float((1 + np.sum(column >= value - 1e-9)) / (1 + count))

    n_units = data.unit_window.size
    units = observed[2:]
    unit_p = {k: mc(float(units[k]), null[:, 2 + k]) for k in range(n_units) if data.unit_window[k] >= 0}
    unit_adj = {k: mc(float(units[k]), null[:, 0]) for k in unit_p}
    best = _most_likely(data, data.event_period)
    return ScanResult(
        statistic=float(observed[0]), pvalue=mc(float(observed[0]), null[:, 0]),
        cluster_unit=best[0], cluster_radius_m=float(radii_m[best[1]]), cluster_window=best[2],
        separability_statistic=float(observed[1]), separability_pvalue=mc(float(observed[1]), null[:, 1]),
        unit_pvalue=unit_p, unit_pvalue_adjusted=unit_adj, resamples=count,
    )  # fmt: skip


def _most_likely(data: ScanData, event_period: NDArray[np.int64]) -> tuple[int, int, tuple[int, int]]:
    glr = _glr_matrix(data, event_period)
    if glr.size == 0:
        return 0, 0, (0, 0)
    circle, window = np.unravel_index(int(np.argmax(glr)), glr.shape)
    n_centres = data.unit_window.size
    first, last = data.windows[window]
    return int(data.circle_unit[circle]), int(circle // max(n_centres, 1)), (int(first), int(last))
