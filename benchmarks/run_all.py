"""Run every benchmark at the sizes the issues name and collect the tables (``make bench``).

Each script writes its own table to benchmarks/results/<name>.md; this prints them all.
Pass --quick for small sizes (a smoke run of a few minutes); its tables go to a temporary copy so
the full-size figures that README quotes are not overwritten.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK = {
    "bench_import.py": ["--rows", "100000", "--sites", "20000"],
    "bench_ledger.py": ["--entries", "50000", "--single", "100"],
    "bench_bundle.py": ["--incidents", "50000"],
    "bench_match.py": ["--incidents", "100000", "--sites", "10000"],
    "bench_background.py": ["--n", "100000"],
    "bench_report.py": ["--incidents", "20000"],
    "bench_state.py": ["--incidents", "20000", "--sites", "200"],
    "bench_api.py": ["--reads", "300", "--appends", "60", "--backend", "sqlite"],
}


def main() -> None:
    quick = "--quick" in sys.argv
    failed = []
    saved = {p: p.read_bytes() for p in (HERE / "results").glob("*.md")} if quick else {}
    try:
        for script in sorted(HERE.glob("bench_*.py")):
            args = QUICK.get(script.name, []) if quick else []
            print(f"## {script.stem} {' '.join(args)}", flush=True)
            result = subprocess.run([sys.executable, str(script), *args], check=False)
            if result.returncode != 0:
                failed.append(script.name)
                print(f"{script.name} failed with exit status {result.returncode}", file=sys.stderr)
    finally:
        for path, data in saved.items():  # a smoke run never replaces the full-size tables
            path.write_bytes(data)
    print("\ntables written to", HERE / "results" if not quick else "stdout only (quick run)")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
