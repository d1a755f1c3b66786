"""Whole-process figures for the benchmarks: wall clock, CPU time and peak RSS of one command.

The peak is read by GNU time (``/usr/bin/time -f``) from the command's own process: a child
forked directly from a benchmark that holds a large database in memory would otherwise report
the parent's resident set as its own (``ru_maxrss`` keeps the high-water mark across exec).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path


def run_measured(command: Sequence[str]) -> tuple[float, float, float]:
    """Run ``command`` (it must succeed); return ``(wall_s, cpu_s, peak_rss_mb)``."""
    gnu_time = shutil.which("time") or "/usr/bin/time"
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        start = time.perf_counter()
        subprocess.run([gnu_time, "-o", report.name, "-f", "%U %S %M", *command], check=True, capture_output=True)
        wall_s = time.perf_counter() - start
        user, system, peak_kib = Path(report.name).read_text().split()[-3:]
    return wall_s, float(user) + float(system), float(peak_kib) / 1024
