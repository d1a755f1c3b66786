"""How fast a report with 100,000 incidents opens in Chromium.

Builds a report of the 79 Kyiv sites and 100,000 synthetic incidents (uniform over the
study area, seeded), writes it, and opens it in headless Chromium (offline) several times.
The figure is the time from navigation start to ``window.__reportReady`` (set by the page
once the map has drawn every layer), read from ``performance.now()`` in the page, so
browser start-up is excluded and the whole load, parse, JSON decode and first draw are in.

Run: ``.venv/bin/python benchmarks/bench_report.py [--incidents 100000] [--runs 5]``.
Writes ``benchmarks/results/report.md`` and prints the same table.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from deconflict.demo import KYIV_BOUNDS, build_demo_database
from deconflict.model import Incident
from deconflict.report import ReportData, chromium, render_html
from deconflict.times import TimeSpan

RESULTS = Path(__file__).parent / "results" / "report.md"


def synthetic_incidents(n: int, seed: int = 20251114) -> list[Incident]:
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
            id=f"bench-{k:06d}",
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


def build(n: int, work: Path) -> tuple[Path, float, float]:
    """Write the report; return its path, the render time (s) and the file size (MB)."""
    db, _ = build_demo_database(work / "demo")
    try:
        sites = [hit.site for hit in db.sites.list()]
    finally:
        db.close()
    data = ReportData(
        title=f"Benchmark: {n:,} synthetic incidents",
        generated_at=datetime.now(UTC),
        sites=sites,
        incidents=synthetic_incidents(n),
        notes=[f"All {n:,} incidents are SYNTHETIC (benchmark)."],
    )
    started = time.perf_counter()
    html = render_html(data)
    render_s = time.perf_counter() - started
    path = work / "report.html"
    path.write_text(html, encoding="utf-8")
    return path, render_s, path.stat().st_size / 1e6


def measure(path: Path, runs: int) -> list[dict[str, float]]:
    """Open the report ``runs`` times in fresh tabs of one offline Chromium; timings in ms."""
    from deconflict.report import PageEvents

    results = []
    with chromium() as browser:
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            events = PageEvents.watch(page)
            page.goto(path.resolve().as_uri(), timeout=60_000)
            page.wait_for_function("window.__reportReady === true", timeout=60_000, polling=10)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deconflict-bench-") as tmp:
        path, render_s, size_mb = build(args.incidents, Path(tmp))
        timings = measure(path, args.runs)
    # Open = the map has drawn and the document has finished parsing, whichever is later.
    ready = [max(t["ready"], t["dcl"]) for t in timings]
    dcl = [t["dcl"] for t in timings]
    stats = timings[0]["stats"]
    rows = [
        ("incidents on the map", f"{stats['incidentMarkers']:,}"),
        ("site markers", f"{stats['siteMarkers']:,}"),
        ("HTML file size", f"{size_mb:.1f} MB"),
        ("render_html (Python)", f"{render_s:.2f} s"),
        ("DOMContentLoaded, median", f"{statistics.median(dcl):,.0f} ms"),
        ("map drawn (`__reportReadyAt`), median", f"{statistics.median(t['ready'] for t in timings):,.0f} ms"),
        (
            f"**open time** (navigation start → map drawn), median of {len(ready)}",
            f"**{statistics.median(ready):,.0f} ms**",
        ),
        ("open time, fastest / slowest", f"{min(ready):,.0f} / {max(ready):,.0f} ms"),
    ]
    table = "\n".join(["| measure | value |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)])
    text = (
        f"# Report open time\n\n`benchmarks/bench_report.py`: a report with {args.incidents:,} synthetic incidents "
        "and the 79 Kyiv sites, opened in headless Chromium (offline, fresh tab each run, browser start-up "
        "excluded). Open time is `performance.now()` when the page sets `window.__reportReady` after the map "
        f"has drawn (or at DOMContentLoaded, if that is later).\n\n{table}\n\nMachine: {platform.machine()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {chromium_version()}; {datetime.now(UTC):%Y-%m-%d}.\n"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
