"""Run every benchmark at the sizes the issues name and collect the tables (``make bench``).

Each script writes its own table to benchmarks/results/<name>.md; this prints them all.
Pass --quick for small sizes (a smoke run of a few minutes).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK = {
    "bench_import.py": ["--rows", "100000", "--sites", "20000"],
    "bench_ledger.py": ["--entries", "50000", "--single", "100"],
    "bench_match.py": ["--incidents", "100000", "--sites", "10000"],
    "bench_background.py": ["--incidents", "100000"],
    "bench_report.py": ["--incidents", "20000"],
    "bench_api.py": ["--requests", "500"],
}


def main() -> None:
    quick = "--quick" in sys.argv
    for script in sorted(HERE.glob("bench_*.py")):
        args = QUICK.get(script.name, []) if quick else []
        print(f"## {script.stem} {' '.join(args)}", flush=True)
        result = subprocess.run([sys.executable, str(script), *args], check=False)
        if result.returncode != 0:
            print(f"{script.name} failed with exit status {result.returncode}", file=sys.stderr)
    print("\ntables written to", HERE / "results")


if __name__ == "__main__":
    main()
