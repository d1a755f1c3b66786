"""Import and near-query speed.

1. Import N incidents from CSV with ``deconflict incidents import`` (library call, durable, one
   transaction, ledger entry included) vs the ``sqlite3`` shell's own ``.import`` of the same file
   into a plain table on the same machine.
2. ``sites list --near LAT,LON --within METRES`` over 100,000 sites: median and p95 per query.

Usage: python benchmarks/bench_import.py [--rows 1000000] [--sites 100000]
Writes benchmarks/results/import.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import deconflict
from deconflict.model import Site

RESULTS = Path(__file__).resolve().parent / "results"


def write_incidents_csv(path: Path, rows: int, rng: np.random.Generator) -> None:
    lats = rng.uniform(50.35, 50.55, rows)
    lons = rng.uniform(30.30, 30.75, rows)
    days = rng.integers(0, 700, rows)
    uncertainty = rng.choice([50, 100, 250, 500], rows)
    base = np.datetime64("2024-01-01")
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,time,time_precision,lat,lon,uncertainty_m,kind,confidence\n")
        for i in range(rows):
            day = str(base + int(days[i]))
            handle.write(f"b{i},{day},night-of,{lats[i]:.6f},{lons[i]:.6f},{uncertainty[i]},missile,fair\n")


def bench_import(rows: int, work: Path) -> dict[str, float]:
    rng = np.random.default_rng(1)
    csv_path = work / "incidents.csv"
    write_incidents_csv(csv_path, rows, rng)
    ours = work / "ours.db"
    db = deconflict.init(ours, timezone="Europe/Kyiv")
    start = time.perf_counter()
    db.incidents.import_file(csv_path)
    ours_s = time.perf_counter() - start
    db.close()
    sqlite_bin = shutil.which("sqlite3")
    if sqlite_bin is None:
        sys.exit("sqlite3 shell not found: run 'bash scripts/install-system-deps.sh' (installs sqlite3)")
    theirs = work / "sqlite.db"
    script = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;\n"
        "CREATE TABLE incidents (id TEXT, time TEXT, time_precision TEXT, lat REAL, lon REAL, "
        "uncertainty_m REAL, kind TEXT, confidence TEXT);\n"
        f".import --csv --skip 1 {csv_path} incidents\n"
    )
    start = time.perf_counter()
    subprocess.run([sqlite_bin, str(theirs)], input=script, text=True, check=True, capture_output=True)
    sqlite_s = time.perf_counter() - start
    return {"rows": rows, "ours_s": ours_s, "sqlite_s": sqlite_s}


def bench_near(n_sites: int, work: Path, queries: int = 200) -> dict[str, float]:
    rng = np.random.default_rng(2)
    path = work / "sites.db"
    db = deconflict.init(path)
    lats = rng.uniform(44.0, 52.0, n_sites)
    lons = rng.uniform(22.0, 40.0, n_sites)
    db.sites.add_many(
        [
            Site(id=f"s{i}", name=f"Site {i}", kind="other", owner="UKR", lat=float(a), lon=float(b), city="Kyiv")
            for i, (a, b) in enumerate(zip(lats, lons, strict=True))
        ]
    )
    times = []
    found = []
    for _ in range(queries):
        centre = (float(rng.uniform(45, 51)), float(rng.uniform(23, 39)))
        start = time.perf_counter()
        hits = db.sites.list(near=centre, within_m=10_000)
        times.append(time.perf_counter() - start)
        found.append(len(hits))
    db.close()
    times.sort()
    return {
        "sites": n_sites,
        "median_ms": statistics.median(times) * 1e3,
        "p95_ms": times[int(0.95 * len(times))] * 1e3,
        "mean_hits": float(np.mean(found)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        work = Path(tmp)
        imported = bench_import(args.rows, work)
        near = bench_near(args.sites, work)
    ratio = imported["ours_s"] / imported["sqlite_s"]
    table = "\n".join(
        [
            "| benchmark | deconflict | baseline | ratio (ours / baseline) | goal |",
            "|---|---|---|---|---|",
            f"| import {imported['rows']:,} incidents from CSV | {imported['ours_s']:.1f} s "
            f"({imported['rows'] / imported['ours_s']:,.0f} rows/s) | sqlite3 `.import` {imported['sqlite_s']:.1f} s "
            f"({imported['rows'] / imported['sqlite_s']:,.0f} rows/s) | {ratio:.1f}x slower | at most 2x |",
            f"| `sites list --near` within 10 km, {near['sites']:,} sites | median {near['median_ms']:.1f} ms, "
            f"p95 {near['p95_ms']:.1f} ms ({near['mean_hits']:.0f} hits on average) | — | — | under 50 ms |",
        ]
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "import.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
