"""`evidence export` of one site at N incidents: whole process (CLI) and library call.

The database holds N incidents spread over Kyiv (one import, one batch entry) plus a handful of
city-level reports (20 km uncertainty) 60 km away, which concern no site in the city but used to
widen every site's search radius. One embassy-sized site in the centre is committed and
notified; its bundle holds the incidents whose reach overlaps its own. The command is run as a
child process (wall clock, CPU time, peak RSS), then the library call is timed in-process;
the bundle is verified offline. Baseline: the goal (under 30 s at 1,000,000 incidents).

Usage: python benchmarks/bench_bundle.py [--incidents 1000000]
Writes benchmarks/results/bundle.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import deconflict
from deconflict.ledger.bundle import build_bundle, verify_bundle
from deconflict.model import Site

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _process import run_measured

RESULTS = Path(__file__).resolve().parent / "results"
HERE = Path(__file__).resolve().parent


def write_incidents(path: Path, rows: int, rng: np.random.Generator) -> None:
    from bench_import import write_incidents_csv

    write_incidents_csv(path, rows, rng)
    with path.open("a", encoding="utf-8") as handle:
        for i in range(5):  # city-level reports far from the site: they concern no one here
            handle.write(f"far{i},2024-05-0{i + 1},day,50.95,31.30,20000,drone,weak\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=HERE) as tmp:
        work = Path(tmp)
        csv_path = work / "incidents.csv"
        write_incidents(csv_path, args.incidents, np.random.default_rng(1))
        path = work / "bundle.db"
        db = deconflict.init(path, timezone="Europe/Kyiv")
        db.sites.add(Site(id="embassy", name="Embassy", kind="embassy", owner="AZE", lat=50.45, lon=30.52,
                          radius_m=50.0))  # fmt: skip
        db.notifications.notify(["embassy"], to="RUS", at="2024-01-01T12:00Z")
        db.incidents.import_file(csv_path)
        db.ledger.sign_checkpoint()
        vkey = db.ledger.verifier_key
        db.close()

        cli = Path(sys.executable).parent / "deconflict"
        export = [str(cli), "--db", str(path), "evidence", "export", "embassy", "--out", str(work / "b.zip")]
        cli_s, cli_cpu, peak_mb = run_measured(export)

        db = deconflict.open(path)
        start, cpu = time.perf_counter(), time.process_time()
        data = build_bundle(db.ledger, "embassy")
        library_s, library_cpu = time.perf_counter() - start, time.process_time() - cpu
        report = verify_bundle(data, vkey)
        db.close()
    bundled = next((s for s in report.statements if "incident record(s)" in s), "0 incident record(s)")
    count = int(bundled.split(" ", 1)[0])
    goal = 30.0  # seconds, at 1,000,000 incidents
    table = "\n".join(
        [
            "| measure | deconflict | goal | ratio (ours / goal) |",
            "|---|---|---|---|",
            f"| `evidence export` of a site at {args.incidents:,} incidents ({count:,} bundled), whole process "
            f"| {cli_s:.1f} s wall, {cli_cpu:.1f} CPU-s, peak RSS {peak_mb:,.0f} MB | under {goal:.0f} s at 1,000,000 "
            f"| {cli_s / goal:.2f} |",
            f"| the library call `build_bundle` | {library_s:.2f} s wall, {library_cpu:.2f} CPU-s | — | — |",
        ]
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bundle.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
