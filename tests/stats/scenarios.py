"""Null and targeted scenarios for the calibration tests (SYNTHETIC data; see simcity.py).

Each builder returns a :class:`simcity.Study` with at least 500 null sites and the true
expected hit scores. Seeded; about 5-30 s each to simulate and analyse on one core.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from shapely.geometry import box
from simcity import DAY, NORMAL95, START, Intensity, Records, Study, disk_sum_radii, make_sites, report_times

from deconflict.geo import LocalProjection

CENTRE = (36.2304, 49.9935)  # Kharkiv: a river city unlike the square test city of stats.simulate
DAYS = 300.0
RIVER_RECT = (-14_000.0, 14_000.0, -5_000.0, 5_000.0)


def river_city(rng: np.random.Generator, floor: float = 0.35) -> Intensity:
    """An elongated city: districts along a river, a uniform floor over a 28 x 10 km rectangle."""
    k = 6
    centres = np.column_stack([np.linspace(-10_000, 10_000, k) + rng.normal(0, 800, k), rng.normal(0, 1_500, k)])
    sds = rng.uniform(700, 2_000, k)
    weights = rng.dirichlet(np.full(k, 3.0)) * (1 - floor)
    return Intensity(centres, sds, weights, RIVER_RECT, floor)


def _sites_from(intensity: Intensity, n: int, rng: np.random.Generator, margin: float = 1_500.0):
    """Sites where strikes fall (drawn from the intensity), away from the floor's edges."""
    x0, x1, y0, y1 = intensity.rect
    xs, ys = [], []
    while sum(a.size for a in xs) < n:
        x, y = intensity.sample(4 * n, rng)
        ok = (x > x0 + margin) & (x < x1 - margin) & (y > y0 + margin) & (y < y1 - margin)
        xs.append(x[ok])
        ys.append(y[ok])
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def _notify(n: int, rng: np.random.Generator, share: float = 0.5) -> NDArray[np.float64]:
    notified = rng.random(n) < share
    return np.where(notified, START + rng.uniform(0.3, 0.7, n) * DAYS * DAY, np.nan)


def _after_truth(per_report: NDArray, times: NDArray, notified: NDArray) -> NDArray:
    """Sum over reports after each site's notification of their expected score (sites x reports)."""
    out = np.zeros(notified.size)
    ok = np.isfinite(notified)
    for k in np.flatnonzero(ok):
        out[k] = float(per_report[k] @ (times > notified[k] + 3600.0))
    return out


def _study(proj, records: Records, sx, sy, radius, notified, per_report, times, area=True) -> Study:
    sites = make_sites(proj, sx, sy, radius, notified)
    incidents = records.array(proj)
    true = per_report.sum(axis=1)
    after = _after_truth(per_report, times, notified)
    x0, x1, y0, y1 = RIVER_RECT
    study_area = proj.unproject_geometry(box(x0, y0, x1, y1)) if area else None
    return Study(proj, sites, incidents, study_area, true, after)


def _score_matrix(intensity: Intensity, sx, sy, radius: float, blur2: NDArray) -> NDArray:
    """(sites, reports) expected score, computed once per distinct blur."""
    values, index = np.unique(np.round(blur2, 3), return_inverse=True)
    cols = np.stack([intensity.score(sx, sy, radius, float(b)) for b in values], axis=1)
    return cols[:, index]


def salvos(seed: int, n_attacks: int = 2_000, n_sites: int = 500) -> Study:
    """Attacks of 2-8 impacts spread 50-300 m (Gaussian sd), reported exactly or within 25 m."""
    rng = np.random.default_rng(seed)
    proj = LocalProjection(*CENTRE)
    inten = river_city(rng)
    cx, cy = inten.sample(n_attacks, rng)
    size = rng.integers(2, 9, n_attacks)
    spread = rng.uniform(50, 300, n_attacks)
    t_att = START + (np.floor(rng.uniform(0, DAYS, n_attacks)) * DAY + 22 * 3600 + rng.uniform(0, 5 * 3600, n_attacks))
    att = np.repeat(np.arange(n_attacks), size)
    tx = cx[att] + rng.normal(0, 1, att.size) * spread[att]
    ty = cy[att] + rng.normal(0, 1, att.size) * spread[att]
    unc = rng.choice([0.0, 25.0], att.size)
    t = t_att[att] + rng.uniform(0, 1_200, att.size)
    start, end = report_times(t, 0.4, rng)
    rec = Records()
    rec.add(tx, ty, unc, np.full(att.size, "normal", object), start, end, rng)
    sx, sy = _sites_from(inten, n_sites, rng)
    blur2 = spread[att] ** 2 + 2 * (unc / NORMAL95) ** 2
    per = _score_matrix(inten, sx, sy, 60.0, blur2)
    return _study(proj, rec, sx, sy, 60.0, _notify(n_sites, rng), per, t)


def duplicates(seed: int, n_strikes: int = 5_000, n_sites: int = 500) -> Study:
    """Each strike reported 1-3 times by different sources (independent 30 m errors)."""
    rng = np.random.default_rng(seed)
    proj = LocalProjection(*CENTRE)
    inten = river_city(rng)
    x, y = inten.sample(n_strikes, rng)
    copies = rng.choice([1, 2, 3], n_strikes, p=[0.5, 0.3, 0.2])
    idx = np.repeat(np.arange(n_strikes), copies)
    t_strike = START + np.floor(rng.uniform(0, DAYS, n_strikes)) * DAY + 23 * 3600 + rng.uniform(0, 4 * 3600, n_strikes)
    t = t_strike[idx]
    start, end = report_times(t, 0.5, rng)
    unc = np.full(idx.size, 30.0)
    rec = Records()
    rec.add(x[idx], y[idx], unc, np.full(idx.size, "normal", object), start, end, rng)
    sx, sy = _sites_from(inten, n_sites, rng)
    per = _score_matrix(inten, sx, sy, 60.0, np.full(idx.size, 2 * (30.0 / NORMAL95) ** 2))
    return _study(proj, rec, sx, sy, 60.0, _notify(n_sites, rng), per, t)


def hot_spots(seed: int, n_base: int = 4_000, n_spots: int = 40, per_spot: int = 15) -> Study:
    """Compact military hot spots (sd 40-80 m, 60-150 strikes each); sites 100-400 m away."""
    rng = np.random.default_rng(seed)
    proj = LocalProjection(*CENTRE)
    base = river_city(rng)
    hx, hy = _sites_from(base, n_spots, rng, margin=2_500.0)
    hsd = rng.uniform(40, 80, n_spots)
    hn = rng.integers(60, 151, n_spots)
    total = n_base + int(hn.sum())
    w_spots = hn / total
    inten = Intensity(np.vstack([base.centres, np.column_stack([hx, hy])]), np.concatenate([base.sds, hsd]),
                      np.concatenate([base.weights * n_base / total, w_spots]), base.rect,
                      base.floor_weight * n_base / total)  # fmt: skip
    x, y = inten.sample(total, rng)
    unc = rng.choice([0.0, 20.0], total)
    t = START + np.floor(rng.uniform(0, DAYS, total)) * DAY + 22 * 3600 + rng.uniform(0, 6 * 3600, total)
    start, end = report_times(t, 0.3, rng)
    rec = Records()
    rec.add(x, y, unc, np.full(total, "normal", object), start, end, rng)
    d = rng.uniform(100, 400, n_spots * per_spot)
    a = rng.uniform(0, 2 * np.pi, d.size)
    owner = np.repeat(np.arange(n_spots), per_spot)
    sx, sy = hx[owner] + d * np.cos(a), hy[owner] + d * np.sin(a)
    per = _score_matrix(inten, sx, sy, 50.0, 2 * (unc / NORMAL95) ** 2)
    return _study(proj, rec, sx, sy, 50.0, _notify(sx.size, rng), per, t)


def moving_front(seed: int, n_before: int = 4_000, n_after: int = 4_000, n_sites: int = 500) -> Study:
    """After the notification date the strikes move into the sites' district (non-separable)."""
    rng = np.random.default_rng(seed)
    proj = LocalProjection(*CENTRE)
    west = river_city(rng)
    district = np.array([[7_000.0, 500.0]])
    east = Intensity(np.vstack([west.centres, district]), np.append(west.sds, 1_800.0),
                     np.append(west.weights * 0.55, 0.45), west.rect, west.floor_weight * 0.55)  # fmt: skip
    t0 = START + 150 * DAY
    xb, yb = west.sample(n_before, rng)
    xa, ya = east.sample(n_after, rng)
    tb = START + np.floor(rng.uniform(0, 150, n_before)) * DAY + 22 * 3600 + rng.uniform(0, 6 * 3600, n_before)
    ta = t0 + np.floor(rng.uniform(1, 150, n_after)) * DAY + 22 * 3600 + rng.uniform(0, 6 * 3600, n_after)
    x, y, t = np.concatenate([xb, xa]), np.concatenate([yb, ya]), np.concatenate([tb, ta])
    unc = rng.choice([0.0, 30.0], t.size)
    start, end = report_times(t, 0.3, rng)
    rec = Records()
    rec.add(x, y, unc, np.full(t.size, "normal", object), start, end, rng)
    sx = rng.normal(7_000, 1_500, n_sites)
    sy = np.clip(rng.normal(500, 1_500, n_sites), -3_500, 3_500)
    notified = t0 + rng.uniform(-2, 2, n_sites) * DAY
    blur2 = 2 * (unc / NORMAL95) ** 2
    before = _score_matrix(west, sx, sy, 60.0, blur2) * (t < t0)
    after = _score_matrix(east, sx, sy, 60.0, blur2) * (t >= t0)
    return _study(proj, rec, sx, sy, 60.0, notified, before + after, t)


def rate_tripled(seed: int, n_before: int = 2_000, n_after: int = 6_000, n_sites: int = 500) -> Study:
    """Three times the strike rate after the (common) notification period; same places."""
    rng = np.random.default_rng(seed)
    proj = LocalProjection(*CENTRE)
    inten = river_city(rng)
    t0 = START + 150 * DAY
    n = n_before + n_after
    x, y = inten.sample(n, rng)
    day = np.concatenate([rng.uniform(0, 150, n_before), rng.uniform(150, 300, n_after)])
    t = START + np.floor(day) * DAY + 22 * 3600 + rng.uniform(0, 6 * 3600, n)
    unc = rng.choice([0.0, 30.0], n)
    start, end = report_times(t, 0.3, rng)
    rec = Records()
    rec.add(x, y, unc, np.full(n, "normal", object), start, end, rng)
    sx, sy = _sites_from(inten, n_sites, rng)
    notified = t0 + rng.uniform(-20, 20, n_sites) * DAY
    per = _score_matrix(inten, sx, sy, 60.0, 2 * (unc / NORMAL95) ** 2)
    return _study(proj, rec, sx, sy, 60.0, notified, per, t)


def uncertain(seed: int, model: str, n_strikes: int = 12_000, n_sites: int = 500) -> Study:
    """Reports with 100-2,000 m location uncertainty (ACLED-like), in one of the two models."""
    rng = np.random.default_rng(seed)
    proj = LocalProjection(*CENTRE)
    inten = river_city(rng)
    x, y = inten.sample(n_strikes, rng)
    levels = np.array([100.0, 300.0, 700.0, 1_000.0, 2_000.0])
    unc = rng.choice(levels, n_strikes)
    t = START + np.floor(rng.uniform(0, DAYS, n_strikes)) * DAY + 22 * 3600 + rng.uniform(0, 6 * 3600, n_strikes)
    start, end = report_times(t, 0.5, rng)
    rec = Records()
    rec.add(x, y, unc, np.full(n_strikes, model, object), start, end, rng)
    sx, sy = _sites_from(inten, n_sites, rng, margin=3_000.0)
    radius = 75.0
    if model == "normal":
        per = _score_matrix(inten, sx, sy, radius, 2 * (unc / NORMAL95) ** 2)
    else:
        cols = {}
        ang = 2 * np.pi * (np.arange(16) + 0.5) / 16
        for u in levels:  # E over the sum of the two disk errors: 24 radii x 16 angles
            rad = disk_sum_radii(u)
            ox, oy = (rad[:, None] * np.cos(ang)).ravel(), (rad[:, None] * np.sin(ang)).ravel()
            cols[u] = np.mean([inten.score(sx + dx, sy + dy, radius, 0.0) for dx, dy in zip(ox, oy, strict=True)],
                              axis=0)  # fmt: skip
        per = np.stack([cols[u] for u in unc], axis=1)
    return _study(proj, rec, sx, sy, radius, _notify(n_sites, rng), per, t)


def small_towns(seed: int, n_towns: int = 5, sites_per_town: int = 100) -> Study:
    """Five towns 60 km apart with 100-300 strikes each (one background per town)."""
    rng = np.random.default_rng(seed)
    proj = LocalProjection(*CENTRE)
    rec = Records()
    xs, ys, times = [], [], []
    n_total = 0
    parts = []
    for k in range(n_towns):
        ox = (k - n_towns // 2) * 60_000.0
        hot = rng.integers(1, 3)
        centres = np.column_stack([ox + rng.normal(0, 1_200, hot), rng.normal(0, 1_200, hot)])
        inten = Intensity(centres, rng.uniform(600, 1_500, hot), rng.dirichlet(np.ones(hot)) * 0.6,
                          (ox - 4_000, ox + 4_000, -4_000, 4_000), 0.4)  # fmt: skip
        n = int(rng.integers(100, 301))
        x, y = inten.sample(n, rng)
        t = START + np.floor(rng.uniform(0, DAYS, n)) * DAY + 22 * 3600 + rng.uniform(0, 6 * 3600, n)
        unc = rng.choice([0.0, 50.0], n)
        start, end = report_times(t, 0.3, rng)
        rec.add(x, y, unc, np.full(n, "normal", object), start, end, rng)
        sx, sy = _sites_from(inten, sites_per_town, rng, margin=1_000.0)
        parts.append((inten, sx, sy, unc, n_total, n))
        xs.append(sx)
        ys.append(sy)
        times.append(t)
        n_total += n
    sx_all, sy_all = np.concatenate(xs), np.concatenate(ys)
    per = np.zeros((sx_all.size, n_total))
    row = 0
    for inten, sx, sy, unc, offset, n in parts:
        per[row : row + sx.size, offset : offset + n] = _score_matrix(inten, sx, sy, 80.0, 2 * (unc / NORMAL95) ** 2)
        row += sx.size
    notified = _notify(sx_all.size, rng)
    return _study(proj, rec, sx_all, sy_all, 80.0, notified, per, np.concatenate(times), area=False)


def edge_sites(seed: int, n_strikes: int = 8_000, n_sites: int = 500) -> Study:
    """A busy district on the study area's edge; sites 60-600 m inside the edge, exact reports."""
    rng = np.random.default_rng(seed)
    proj = LocalProjection(*CENTRE)
    base = river_city(rng)
    edge = RIVER_RECT[1]
    inten = Intensity(np.vstack([base.centres, [[edge, 0.0]]]), np.append(base.sds, 2_500.0),
                      np.append(base.weights * 0.6, 0.4 * (1 - base.floor_weight) + 0.0), base.rect,
                      base.floor_weight * 0.6 + 0.4 * base.floor_weight)  # fmt: skip
    inten = Intensity(inten.centres, inten.sds, inten.weights / (inten.weights.sum() + inten.floor_weight),
                      inten.rect, inten.floor_weight / (inten.weights.sum() + inten.floor_weight))  # fmt: skip
    x, y = inten.sample(n_strikes, rng)
    x0, x1, y0, y1 = RIVER_RECT
    inside = (x > x0) & (x < x1) & (y > y0) & (y < y1)
    t = START + np.floor(rng.uniform(0, DAYS, n_strikes)) * DAY + 22 * 3600 + rng.uniform(0, 6 * 3600, n_strikes)
    x, y, t = x[inside], y[inside], t[inside]
    start, end = report_times(t, 0.3, rng)
    rec = Records()
    rec.add(x, y, np.zeros(x.size), np.full(x.size, "disk", object), start, end, rng)
    sx = edge - rng.uniform(60, 600, n_sites)
    sy = rng.uniform(-4_000, 4_000, n_sites)
    # Expected hits per drawn strike (the disk lies inside the area), scaled to the strikes kept.
    per_draw = inten.score(sx, sy, 50.0, 0.0)
    per = np.outer(per_draw, np.ones(x.size)) * (n_strikes / x.size)
    return _study(proj, rec, sx, sy, 50.0, _notify(n_sites, rng), per, t)


def with_targeting(study: Study, targets: NDArray[np.int64], hits: int, error_m: float, seed: int) -> Study:
    """Plant ``hits`` extra attacks after notification on each target (uniform in the hit disk)."""
    from deconflict.match import IncidentArray

    rng = np.random.default_rng(seed)
    proj = study.projection
    sx, sy = proj.project(study.sites.lon, study.sites.lat)
    idx = np.repeat(targets, hits)
    r = study.sites.radius_m[idx] * np.sqrt(rng.random(idx.size))
    a = rng.uniform(0, 2 * np.pi, idx.size)
    sigma = error_m / NORMAL95
    x = sx[idx] + r * np.cos(a) + rng.normal(0, sigma, idx.size)
    y = sy[idx] + r * np.sin(a) + rng.normal(0, sigma, idx.size)
    t_end = float(np.max(study.incidents.end_s))
    t_n = study.sites.notified_end_s[idx]
    # distinct nights: spread the planted attacks over the period after notification
    frac = (np.tile(np.arange(hits), targets.size) + rng.uniform(0.1, 0.9, idx.size)) / hits
    t = t_n + DAY + frac * (t_end - t_n - 2 * DAY)
    lon, lat = proj.unproject(x, y)
    inc = study.incidents
    model = np.where(inc.normal, "normal", "disk").astype(object)
    merged = IncidentArray.from_arrays(
        np.concatenate([inc.lon, lon]), np.concatenate([inc.lat, lat]),
        np.concatenate([inc.uncertainty_m, np.full(idx.size, error_m)]),
        np.concatenate([inc.start_s, t]), np.concatenate([inc.end_s, t]),
        model=np.concatenate([model, np.full(idx.size, "normal", object)]),
        ids=list(inc.ids) + [f"P{k}" for k in range(idx.size)],
    )  # fmt: skip
    return Study(proj, study.sites, merged, study.study_area, study.true_expected, study.true_expected_after)


def power_city(seed: int, n_sites: int = 500) -> Study:
    """The base for the power goals: 500 notified 50 m sites in a river city of 8,000 strikes."""
    rng = np.random.default_rng(seed)
    proj = LocalProjection(*CENTRE)
    inten = river_city(rng)
    n = 8_000
    x, y = inten.sample(n, rng)
    t = START + np.floor(rng.uniform(0, DAYS, n)) * DAY + 22 * 3600 + rng.uniform(0, 6 * 3600, n)
    unc = rng.choice([0.0, 50.0, 200.0], n)
    start, end = report_times(t, 0.3, rng)
    rec = Records()
    rec.add(x, y, unc, np.full(n, "normal", object), start, end, rng)
    sx, sy = _sites_from(inten, n_sites, rng)
    notified = START + rng.uniform(0.3, 0.6, n_sites) * DAYS * DAY
    per = _score_matrix(inten, sx, sy, 50.0, 2 * (unc / NORMAL95) ** 2)
    return _study(proj, rec, sx, sy, 50.0, notified, per, t)
