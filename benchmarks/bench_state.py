"""What the state check costs: `check_state` (the guard before every analysis) at N incidents.

Compares the check with what any analysis does first anyway, reading every incident from the
store, on the same SQLite database. The guard runs the check once per change of the database
(it keeps its result per open store); a command-line run pays it every time.

Usage: python benchmarks/bench_state.py [--incidents 200000] [--sites 1000]
Writes benchmarks/results/state.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import deconflict
from deconflict.ledger.guard import guard_state
from deconflict.ledger.state import check_state
from deconflict.store.base import IncidentQuery

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--sites", type=int, default=1_000)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        work = Path(tmp)
        sites = work / "sites.csv"
        lines = ["id,name,kind,owner,lat,lon"]
        lines += [f"s{i},Site {i},embassy,AZE,{50.4 + rng.random() / 10:.6f},{30.4 + rng.random() / 5:.6f}"
                  for i in range(args.sites)]  # fmt: skip
        sites.write_text("\n".join(lines) + "\n", encoding="utf-8")
        incidents = work / "incidents.csv"
        lines = ["id,time,lat,lon,uncertainty_m"]
        lines += [f"i{i},2025-{1 + i % 12:02d}-{1 + i % 28:02d},{50.4 + rng.random() / 10:.6f},"
                  f"{30.4 + rng.random() / 5:.6f},{rng.integers(0, 500)}" for i in range(args.incidents)]  # fmt: skip
        incidents.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with deconflict.init(work / "state.db") as db:
            db.sites.import_file(sites, force=True)
            db.incidents.import_file(incidents, force=True)
            db.notifications.notify(["s0"], to="RUS", at="2025-01-01")
            start = time.perf_counter()
            report = check_state(db.store)
            check_s = time.perf_counter() - start
            start = time.perf_counter()
            count = sum(1 for _ in db.store.iter_incidents(IncidentQuery()))
            read_s = time.perf_counter() - start
            guard_state(db.store)
            start = time.perf_counter()
            guard_state(db.store)
            cached_s = time.perf_counter() - start
    assert count == args.incidents
    table = [
        "| what | time |",
        "|---|---|",
        f"| `check_state` ({args.incidents:,} incidents, {args.sites:,} sites; {report.total:,} rows in "
        f"{len(report.rows)} tables) | {check_s:.2f} s |",
        f"| reading every incident from the store (what an analysis does first) | {read_s:.2f} s |",
        f"| the guard again on an unchanged database (cached) | {cached_s * 1000:.2f} ms |",
    ]
    text = "\n".join(table) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "state.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
