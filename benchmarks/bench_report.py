"""How big a report is, how fast it is written, and how fast it opens in Chromium.

Two measurements (issues #18 and #19):

1. **A million incidents**: a report of the 79 Kyiv sites and ``--incidents`` (default
   1,000,000) synthetic incidents (uniform over the study area, seeded), rendered with
   :func:`deconflict.report.render_html`: its size and the time to open it.
2. **What the CLI writes**: a database of ``--cli-sites`` (default 1,000) sites and
   ``--cli-incidents`` (default 100,000) incidents; ``deconflict report --out`` is timed as a
   process (matching, statistics, figures and the HTML), then the file is opened.

Open time is the time from navigation start to ``window.__reportReady`` (set by the page once
the map has drawn every layer, binned or not), read from ``performance.now()`` in the page, so
browser start-up is excluded and the whole load, parse, decode and first draw are in; median of
``--runs`` fresh tabs of one offline Chromium.

Run: ``.venv/bin/python benchmarks/bench_report.py [--incidents 1000000] [--cli-incidents 100000]
[--cli-sites 1000] [--runs 5]``. Writes ``benchmarks/results/report.md`` and prints the same table.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from deconflict.demo import KYIV_BOUNDS, build_demo_database
from deconflict.model import Incident, Site
from deconflict.report import ReportData, chromium, render_html
from deconflict.times import TimeSpan

RESULTS = Path(__file__).parent / "results" / "report.md"
SEED = 20251114


def synthetic_incidents(n: int, seed: int = SEED) -> list[Incident]:
    """``n`` synthetic night strikes spread over Kyiv's bounding box across two years."""
    rng = np.random.default_rng(seed)
    min_lat, max_lat, min_lon, max_lon = KYIV_BOUNDS
    lat = rng.uniform(min_lat, max_lat, n)
    lon = rng.uniform(min_lon, max_lon, n)
    nights = rng.integers(0, 730, n)
    uncertainty = rng.choice([100.0, 250.0, 500.0], n)
    start = datetime(2024, 1, 1, 16, 0, tzinfo=UTC)
    return [
        Incident(
            id=f"bench-{k:07d}",
            time=TimeSpan(
                start + timedelta(days=int(nights[k])), start + timedelta(days=int(nights[k]), hours=12), "night-of"
            ),
            lat=float(lat[k]),
            lon=float(lon[k]),
            uncertainty_m=float(uncertainty[k]),
            kind="missile or drone (synthetic)",
            provenance="synthetic",
        )
        for k in range(n)
    ]


def kyiv_sites(work: Path) -> list[Site]:
    db, _ = build_demo_database(work / "demo")
    try:
        return [hit.site for hit in db.sites.list()]
    finally:
        db.close()


def synthetic_sites(n: int, seed: int = SEED + 1) -> list[Site]:
    """``n`` sites spread over the study area (kinds and owners cycled)."""
    rng = np.random.default_rng(seed)
    min_lat, max_lat, min_lon, max_lon = KYIV_BOUNDS
    kinds = ("embassy", "hospital", "school", "humanitarian", "heritage")
    owners = ("AZE", "DEU", "FRA", "POL", "TUR", "UKR")
    return [
        Site(
            f"bench-site-{k:04d}",
            f"Synthetic site {k}",
            kinds[k % len(kinds)],
            owners[k % len(owners)],
            float(rng.uniform(min_lat, max_lat)),
            float(rng.uniform(min_lon, max_lon)),
            radius_m=50.0,
        )
        for k in range(n)
    ]


def build_million(n: int, work: Path) -> tuple[Path, float, float]:
    """Write the report of ``n`` incidents; return its path, the render time (s) and its size (MB)."""
    data = ReportData(
        title=f"Benchmark: {n:,} synthetic incidents",
        generated_at=datetime.now(UTC),
        sites=kyiv_sites(work),
        incidents=synthetic_incidents(n),
        notes=[f"All {n:,} incidents are SYNTHETIC (benchmark)."],
    )
    started = time.perf_counter()
    html = render_html(data)
    render_s = time.perf_counter() - started
    path = work / "report-million.html"
    path.write_text(html, encoding="utf-8")
    return path, render_s, path.stat().st_size / 1e6


def build_cli(n_incidents: int, n_sites: int, work: Path) -> tuple[Path, float, float]:
    """A database of ``n_sites`` and ``n_incidents`` imported as a user would (CSV through the CLI);
    time ``deconflict report`` on it (a process)."""
    import csv

    sites_csv, incidents_csv = work / "sites.csv", work / "incidents.csv"
    with sites_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "kind", "owner", "lat", "lon", "radius_m"])
        for s in synthetic_sites(n_sites):
            writer.writerow([s.id, s.name, s.kind, s.owner, s.lat, s.lon, s.radius_m])
    with incidents_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "time", "time_precision", "lat", "lon", "uncertainty_m", "kind", "provenance"])
        for i in synthetic_incidents(n_incidents):
            when = f"{i.time.start.isoformat()}/{i.time.end.isoformat()}"
            writer.writerow([i.id, when, "night-of", i.lat, i.lon, i.uncertainty_m, i.kind, i.provenance])
    program = str(Path(sys.executable).with_name("deconflict"))
    command = [program, "--db", str(work / "bench.db"), "--key-file", str(work / "bench.key")]
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "env": {**os.environ, "COLUMNS": "120"}}
    subprocess.run([*command, "init", "--timezone", "Europe/Kyiv"], **quiet)  # type: ignore[call-overload]
    subprocess.run([*command, "sites", "import", str(sites_csv)], **quiet)  # type: ignore[call-overload]
    subprocess.run([*command, "incidents", "import", str(incidents_csv)], **quiet)  # type: ignore[call-overload]
    out = work / "report-cli.html"
    started = time.perf_counter()
    # --unverified: on main of 2026-12-02 a 100,000-row CSV import leaves the log check refusing the
    # report ("incidents_rtree ... missing or elsewhere"); the check still runs and is timed.
    subprocess.run([*command, "report", "--unverified", "--out", str(out)], **quiet)  # type: ignore[call-overload]
    return out, time.perf_counter() - started, out.stat().st_size / 1e6


def measure(path: Path, runs: int) -> list[dict[str, float]]:
    """Open the report ``runs`` times in fresh tabs of one offline Chromium; timings in ms."""
    from deconflict.report import PageEvents

    results = []
    with chromium() as browser:
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            events = PageEvents.watch(page)
            page.goto(path.resolve().as_uri(), timeout=120_000)
            page.wait_for_selector("html[data-report-ready=true]", state="attached", timeout=120_000)
            timing = page.evaluate(
                "(() => { const n = performance.getEntriesByType('navigation')[0];"
                " return {ready: window.__reportReadyAt, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd,"
                " stats: window.__reportStats}; })()"
            )
            if events.errors or timing["stats"]["incidentMarkers"] == 0:
                raise SystemExit(f"the report did not load cleanly: {events.errors} {timing['stats']}")
            results.append(timing)
            page.close()
    return results


def chromium_version() -> str:
    from deconflict.report import find_chromium

    out = subprocess.run([find_chromium(), "--version"], capture_output=True, text=True, check=False).stdout
    return out.strip() or "unknown"


def open_rows(timings: list[dict[str, float]]) -> list[tuple[str, str]]:
    # Open = the map has drawn and the document has finished parsing, whichever is later.
    ready = [max(t["ready"], t["dcl"]) for t in timings]
    stats = timings[0]["stats"]
    return [
        (
            "incidents on the map (binned where dense)",
            f"{stats['incidentMarkers']:,} ({'binned' if stats['incidentsBinned'] else 'points'} at opening)",
        ),
        ("sites on the map (clustered)", f"{stats['siteMarkers']:,}"),
        ("possible hits drawn", f"{stats['hitLines']:,}"),
        ("DOMContentLoaded, median", f"{statistics.median(t['dcl'] for t in timings):,.0f} ms"),
        (
            f"**open time** (navigation start → map drawn), median of {len(ready)}",
            f"**{statistics.median(ready):,.0f} ms**",
        ),
        ("open time, fastest / slowest", f"{min(ready):,.0f} / {max(ready):,.0f} ms"),
    ]


def table(rows: list[tuple[str, str]]) -> str:
    return "\n".join(["| measure | value |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--cli-incidents", type=int, default=100_000)
    parser.add_argument("--cli-sites", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sections = []
    with tempfile.TemporaryDirectory(prefix="deconflict-bench-") as tmp:
        work = Path(tmp)
        path, render_s, size_mb = build_million(args.incidents, work)
        rows = [("HTML file size", f"{size_mb:,.1f} MB (goal < 60 MB)"), ("render_html (Python)", f"{render_s:.1f} s")]
        rows += open_rows(measure(path, args.runs))
        sections.append(
            f"## {args.incidents:,} incidents × 79 sites (render_html)\n\n{table(rows)}\n\nGoal: opens in under 3 s."
        )
        print(sections[-1], flush=True)
        path.unlink()
        if not args.cli_incidents:
            return
        path, write_s, size_mb = build_cli(args.cli_incidents, args.cli_sites, work)
        rows = [
            (
                "`deconflict report --out` (a process: matching, statistics, figures, HTML)",
                f"{write_s:.1f} s (goal < 60 s)",
            ),
            ("HTML file size", f"{size_mb:,.1f} MB"),
        ]
        rows += open_rows(measure(path, args.runs))
        sections.append(
            f"## {args.cli_incidents:,} incidents × {args.cli_sites:,} sites (the CLI)\n\n{table(rows)}\n\nGoal: written in "
            "under 60 s, opens in under 3 s."
        )
    text = (
        "# Reports: size, write time, open time\n\n`benchmarks/bench_report.py`: synthetic incidents uniform over the "
        "Kyiv study area (seeded), opened in headless Chromium (offline, fresh tab each run, browser start-up "
        "excluded). Open time is `performance.now()` when the page sets `window.__reportReady` after the map has "
        "drawn (or at DOMContentLoaded, if that is later).\n\n"
        + "\n\n".join(sections)
        + f"\n\nMachine: {platform.machine()}, {platform.system()} {platform.release()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {chromium_version()}; {datetime.now(UTC):%Y-%m-%d}.\n"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
