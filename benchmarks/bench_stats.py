"""Benchmark: the robust per-site statistics (change test, per-site cost, hot-spot site, scale, dask).

Usage: python benchmarks/bench_stats.py [--incidents 1000000] [--sites 10000] [--resamples 999]
       [--skip-scale] [--skip-dask]

Figures (CPU seconds from ``time.process_time`` unless said; SYNTHETIC data):

1. the conditional change test at 400-13,000 candidate reports (the old trinomial recursion
   took 0.44 s at 400 and 3.44 s at 800: cubic);
2. a notified site in a hot spot with ~13,000 candidate reports, analysed alone (beyond the
   background fit);
3. the per-site cost of ``analyze_sites`` beyond the background fit (100,000 incidents, 2,000 sites);
4. the robust analysis (headline, local design, families, scan with ``--resamples`` resampled
   cities) of ``--incidents`` x ``--sites``, wall and CPU;
5. the resampling step in-process vs on a 2-worker dask ``LocalCluster`` (wall seconds).

Writes benchmarks/results/stats.md.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from deconflict.geo import LocalProjection
from deconflict.match import IncidentArray, SiteArray
from deconflict.stats import analyze_sites, conditional_change_test
from deconflict.stats.cities import prepare_study
from deconflict.stats.scan import build_scan_data, run_resamples
from deconflict.stats.sites import _analyze

CENTRE = (30.5234, 50.4501)
DAY = 86_400.0
START = 1_700_000_000.0


def city(n: int, n_sites: int, rng: np.random.Generator, hot: int = 0) -> tuple[SiteArray, IncidentArray]:
    """A 40 x 40 km city: 10 districts, a floor, uncertainties 0-500 m; ``hot`` reports in one 300 m spot."""
    proj = LocalProjection(*CENTRE)
    centres = rng.uniform(-15_000, 15_000, (10, 2))
    comp = rng.integers(0, 11, n)
    x = np.where(comp < 10, rng.normal(centres[comp % 10, 0], 2_000), rng.uniform(-20_000, 20_000, n))
    y = np.where(comp < 10, rng.normal(centres[comp % 10, 1], 2_000), rng.uniform(-20_000, 20_000, n))
    if hot:
        x[:hot], y[:hot] = rng.normal(0, 300, hot), rng.normal(0, 300, hot)
    unc = rng.choice([0.0, 50.0, 200.0, 500.0], n)
    t = START + np.floor(rng.uniform(0, 365, n)) * DAY + rng.uniform(0, 6 * 3600, n)
    lon, lat = proj.unproject(x, y)
    incidents = IncidentArray.from_arrays(lon, lat, unc, t, t, model="normal")
    sx, sy = rng.uniform(-15_000, 15_000, (2, n_sites))
    if hot:
        sx[0], sy[0] = 0.0, 0.0
    slon, slat = proj.unproject(sx, sy)
    notified = np.where(rng.random(n_sites) < 0.3, START + 180 * DAY, np.nan)
    sites = SiteArray.from_arrays(slon, slat, 50.0, kind="embassy", city="Bench", notified_start_s=notified,
                                  notified_end_s=notified + 3600)  # fmt: skip
    return sites, incidents


def cpu(fn):  # type: ignore[no-untyped-def]
    t0, w0 = time.process_time(), time.perf_counter()
    value = fn()
    return value, time.process_time() - t0, time.perf_counter() - w0


def change_rows(rng: np.random.Generator) -> list[str]:
    rows = []
    for n in (400, 800, 3_000, 13_000):
        pb, pa = rng.uniform(0, 0.01, n), rng.uniform(0, 0.01, n)
        pa[: n // 2] = 0.0
        pb[n // 2 + 20 :] = 0.0  # 20 reports straddle the notification
        _, c, _ = cpu(lambda pb=pb, pa=pa: conditional_change_test(pb, pa, 1.0, 2.0))
        rows.append(f"| change test, {n:,} candidate reports | {c:.3f} s |")
    return rows


def per_site(rng: np.random.Generator) -> tuple[str, str]:
    sites, incidents = city(100_000, 2_000, rng)
    study, fit, _ = cpu(lambda: prepare_study(sites, incidents, rng=np.random.default_rng(1)))
    _, c, w = cpu(lambda: _analyze(study, 1.0, 1e-6, np.random.default_rng(2), None))
    return (f"| background fit (cities, events, cv bandwidth), 100,000 incidents | {fit:.1f} s |",
            f"| per site beyond the fit (100,000 incidents, 2,000 sites) | {1000 * c / 2000:.1f} ms CPU "
            f"({w:.0f} s wall in all) |")  # fmt: skip


def hot_site(rng: np.random.Generator) -> str:
    sites, incidents = city(250_000, 50, rng, hot=70_000)  # ~30,000 candidate reports on the hot site
    study = prepare_study(sites, incidents, rng=np.random.default_rng(1))
    only = {str(sites.ids[0])}
    results, c, _ = cpu(lambda: _analyze(study, 1.0, 1e-6, np.random.default_rng(2), only))
    n = len(results[0].matched_incidents) if results else 0
    return f"| notified site in a hot spot, {n:,} candidate reports, alone | {c:.2f} s |"


def scale(args: argparse.Namespace, rng: np.random.Generator) -> str:
    sites, incidents = city(args.incidents, args.sites, rng)
    _, c, w = cpu(lambda: analyze_sites(sites, incidents, rng=np.random.default_rng(3), resamples=args.resamples))
    return (f"| robust analysis, {args.incidents:,} incidents x {args.sites:,} sites, {args.resamples} resampled "
            f"cities | {c:.0f} s CPU, {w:.0f} s wall |")  # fmt: skip


def dask_rows(rng: np.random.Generator, resamples: int) -> list[str]:
    n = 200_000
    x, y = rng.uniform(-20_000, 20_000, (2, n))
    t = rng.uniform(0, 365 * DAY, n)
    cx, cy = rng.uniform(-15_000, 15_000, (2, 2_000))
    data = build_scan_data(x, y, t, cx, cy, np.full(2_000, 180 * DAY))
    _, _, local = cpu(lambda: run_resamples(data, resamples, 7, engine="local"))
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        run_resamples(data, 20, 7, engine="dask", scheduler=cluster.scheduler_address, batch=10)  # warm up
        _, _, remote = cpu(
            lambda: run_resamples(data, resamples, 7, engine="dask", scheduler=cluster.scheduler_address)
        )
    return [
        f"| {resamples} resampled cities (200,000 events, 6,000 cylinders), in-process | {local:.1f} s wall |",
        f"| the same on a 2-worker dask LocalCluster | {remote:.1f} s wall ({local / remote:.2f}x) |",
    ]


def load() -> str:
    """The machine's load while measuring (the 2 cores are shared)."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--sites", type=int, default=10_000)
    ap.add_argument("--resamples", type=int, default=999)
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = ["| what | figure |", "|---|---|", *change_rows(rng), *per_site(rng), hot_site(rng)]
    print("\n".join(rows), flush=True)
    if not args.skip_dask:
        rows += dask_rows(rng, args.resamples)
        print("\n".join(rows[-2:]), flush=True)
    if not args.skip_scale:
        rows.append(scale(args, rng))
        print(rows[-1], flush=True)
    out = Path(__file__).resolve().parent / "results" / "stats.md"
    text = "# Robust statistics (SYNTHETIC data)\n\n" + "\n".join(rows) + f"\n\nMeasured under {load()}.\n"
    out.write_text(text, encoding="utf-8")
    print("written", out)


if __name__ == "__main__":
    main()
