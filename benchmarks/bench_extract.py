"""Benchmark: extracting candidates from one long report (the issue's bound: 5,000 words under 2 s).

Usage: python benchmarks/bench_extract.py [--words 5000] [--repeat 5] [--no-model]

The report is made by concatenating the labelled development reports of tests/extract/reports
(written for the tests, fictional) until it has ``--words`` words, so it holds what real reports
hold: datelines, lists of owners, dates, responses and claims. The registry is the development
set's. The first call (which loads the gazetteer, the CLDR names and, with the ``ru-ner`` extra,
natasha's model) is timed apart from the median of ``--repeat`` later calls. Writes
benchmarks/results/extract.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from deconflict.extract import extract_report
from deconflict.extract.evaluate import load_sites
from deconflict.extract.people import natasha_available
from deconflict.extract.reader import read_report

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "tests" / "extract" / "reports"


def long_report(words: int) -> str:
    """The development reports, one after another, until the text has ``words`` words."""
    files = sorted(p for p in REPORTS.iterdir() if p.suffix in (".txt", ".html"))
    texts = [read_report(p).text for p in files]
    parts: list[str] = []
    count = 0
    while count < words:
        for text in texts:
            parts.append(text)
            count += len(text.split())
            if count >= words:
                break
    return "\n\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--words", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-model", action="store_true", help="Leave the ru-ner model out even when installed.")
    args = ap.parse_args()
    sites = load_sites(json.loads((REPORTS / "labels.json").read_text(encoding="utf-8")))
    text = long_report(args.words)
    use_model = not args.no_model
    kwargs = {
        "sites": sites,
        "report_date": date(2026, 2, 14),
        "local": ZoneInfo("Europe/Kyiv"),
        "use_model": use_model,
    }
    start = time.perf_counter()
    first = extract_report(text, **kwargs)  # type: ignore[arg-type]
    first_s = time.perf_counter() - start
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        extract_report(text, **kwargs)  # type: ignore[arg-type]
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    model = "natasha (ru-ner)" if use_model and natasha_available() else "rules only"
    table = "\n".join(
        [
            f"Extraction of one {len(text.split()):,}-word report ({len(text):,} characters; {model}), "
            f"{platform.processor() or platform.machine()}, Python {platform.python_version()}",
            "",
            "| call | seconds | candidates |",
            "|---|---:|---:|",
            f"| first (loads gazetteer, CLDR names, model) | {first_s:.2f} | "
            f"{len(first.incidents)} incidents, {len(first.notifications)} claims, {len(first.responses)} responses |",
            f"| median of {args.repeat} later calls | {median:.2f} | |",
            "",
            f"Bound: under 2 s for 5,000 words -> {'met' if median < 2.0 else 'NOT met'}.",
        ]
    )
    print(table)
    out = Path(__file__).resolve().parent / "results" / "extract.md"
    out.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
