"""Calibration table of the headline p-value: every scenario of the statistics issue (SYNTHETIC).

Usage: python benchmarks/bench_calibration.py

Runs the scenarios of ``tests/stats/test_calibration_scenarios.py`` (the same independent
simulator and seeds) and writes, per scenario, the share of headline p <= 0.05 and <= 0.01 over
the null sites with its binomial standard error, the median estimated / true expected count
(whole period and after notification), and the old report-level p-values' shares for
comparison; then the power figures. Writes benchmarks/results/calibration.md.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "stats"))

from test_calibration_scenarios import BUILDERS, analysed, headline_p, power  # noqa: E402


def share(p: np.ndarray, alpha: float) -> str:
    s = float(np.mean(p <= alpha))
    se = math.sqrt(alpha * (1 - alpha) / p.size)
    return f"{s:.3f} ± {se:.3f}"


def main() -> None:
    rows = [
        "| scenario | null sites | headline p ≤ 0.05 | headline p ≤ 0.01 | expected / true (median) | "
        "after: expected / true | report-level Poisson p ≤ 0.05 (same expected counts) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in BUILDERS:
        t0 = time.perf_counter()
        study, results = analysed(name)
        p = headline_p(results)
        ok = np.isfinite(p)
        old = np.array([r.p_value_after if r.p_value_after is not None else r.p_value for r in results])[ok]
        ratio = np.array([r.expected for r in results]) / study.true_expected
        notified = np.array([r.notified_at is not None for r in results]) & (study.true_expected_after > 0)
        after = (
            np.array([r.expected_after or math.nan for r in results])[notified] / study.true_expected_after[notified]
        )
        rows.append(
            f"| {name} | {int(ok.sum())} | {share(p[ok], 0.05)} | {share(p[ok], 0.01)} | "
            f"{np.nanmedian(ratio):.2f} | {np.nanmedian(after):.2f} | {np.mean(old <= 0.05):.3f} |"
        )
        print(rows[-1], f"({time.perf_counter() - t0:.0f} s)", flush=True)
    rows += ["", "| power (100 targeted of 500 notified 50 m sites) | headline p ≤ 0.05 | Holm ≤ 0.05 | "
             "BH ≤ 0.05 | false positives (400 others, p ≤ 0.05) |", "|---|---|---|---|---|"]  # fmt: skip
    for label, seed, hits, error in (("3 extra attacks, 50 m error", 31, 3, 50.0),
                                     ("2 extra attacks, exact locations", 41, 2, 0.0)):  # fmt: skip
        f = power(seed, hits, error)
        rows.append(f"| {label} | {f['power']:.2f} | {f['power_holm']:.2f} | {f['power_bh']:.2f} | "
                    f"{f['false_positive']:.3f} |")  # fmt: skip
        print(rows[-1], flush=True)
    out = HERE / "results" / "calibration.md"
    out.write_text("# Calibration of the headline p-value (SYNTHETIC simulations)\n\n" + "\n".join(rows) + "\n",
                   encoding="utf-8")  # fmt: skip
    print("written", out)


if __name__ == "__main__":
    main()
