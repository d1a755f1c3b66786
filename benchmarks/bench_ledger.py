"""Ledger speed: durable appends, proofs and `log verify` at N entries.

Compares deconflict's persistent log (SQLite, synchronous=FULL, stored subtree hashes) with
pymerkle's SqliteTree on the same leaves on the same machine, and relates the append rate to
the physical limit: raw hashlib SHA-256 over the same entry bytes. Single appends are compared
twice: against pymerkle as it ships (rollback journal) and, the fair figure, against pymerkle in
the same WAL + synchronous=FULL mode, alternating one append of each.

Usage: python benchmarks/bench_ledger.py [--entries 1000000] [--single 300] [--proofs 200]
Writes benchmarks/results/ledger.md.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pymerkle import SqliteTree

import deconflict

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _process import run_measured

RESULTS = Path(__file__).resolve().parent / "results"


def body(i: int) -> dict[str, object]:
    return {
        "incident_id": f"inc-{i:08d}",
        "sha256": hashlib.sha256(str(i).encode()).hexdigest(),
        "filename": "report.pdf",
        "description": "benchmark entry",
    }


def faster(ours_s: float, theirs_s: float) -> str:
    """'Nx faster' or 'Nx slower' from two times for the same work."""
    ratio = theirs_s / ours_s
    return f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=300, help="durable single appends to time")
    parser.add_argument("--proofs", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(3)
    rows = []
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        work = Path(tmp)
        db = deconflict.init(work / "ledger.db")
        ledger = db.ledger

        # Batches of 1,000 up to N entries (each batch one durable transaction).
        start = time.perf_counter()
        for first in range(0, args.entries, 1000):
            with db.store.transaction():
                ledger.append([("evidence", body(i)) for i in range(first, min(args.entries, first + 1000))])
        batch_s = time.perf_counter() - start
        entry_bytes = [row.data for row in ledger.entries(0, 1000)]
        mean_size = statistics.mean(len(b) for b in entry_bytes)

        # Single durable appends on top of N, alternating with pymerkle at the same durability
        # (WAL journal, synchronous=FULL, as deconflict's SQLite store), so load hits both alike.
        pm_wal = SqliteTree(str(work / "pymerkle-wal.db"))
        pm_wal.con.execute("PRAGMA journal_mode=WAL")
        pm_wal.con.execute("PRAGMA synchronous=FULL")
        pm_wal.append_entries([row.data for row in ledger.entries(0, min(args.entries, 100_000))])
        ours_single: list[float] = []
        wal_single: list[float] = []
        for i in range(args.single):
            start = time.perf_counter()
            ledger.append([("evidence", body(args.entries + i))])
            ours_single.append(time.perf_counter() - start)
            start = time.perf_counter()
            pm_wal.append_entry(entry_bytes[i % len(entry_bytes)])
            wal_single.append(time.perf_counter() - start)
        pm_wal.close()
        single_s = statistics.mean(ours_single)
        pm_wal_single_s = statistics.mean(wal_single)
        size = ledger.size

        # Proofs at N entries.
        indices = rng.integers(0, size, args.proofs)
        olds = rng.integers(1, size, args.proofs)
        inclusion_s = statistics.median(timed(ledger.inclusion_proof, int(i), size)[0] for i in indices)
        consistency_s = statistics.median(timed(ledger.consistency_proof, int(o), size)[0] for o in olds)
        verify_s, _ = timed(ledger.verify)
        # Whole process: `deconflict log verify` as a child, its peak resident memory.
        cli = Path(sys.executable).parent / "deconflict"
        _, _, verify_peak_mb = run_measured([str(cli), "--db", str(work / "ledger.db"), "log", "verify"])

        # Physical limit: SHA-256 of the same entry sizes (leaf hash only).
        payload = [entry_bytes[i % len(entry_bytes)] for i in range(200_000)]
        start = time.perf_counter()
        for data in payload:
            hashlib.sha256(b"\x00" + data).digest()
        hashlib_rate = len(payload) / (time.perf_counter() - start)

        # pymerkle on the same leaves.
        pm_n = args.entries
        tree = SqliteTree(str(work / "pymerkle.db"))
        leaves = [row.data for row in ledger.entries(0, pm_n)]
        start = time.perf_counter()
        for first in range(0, pm_n, 1000):
            tree.append_entries(leaves[first : first + 1000])
        pm_batch_s = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(min(args.single, 300)):
            tree.append_entry(entry_bytes[i % len(entry_bytes)])
        pm_single_s = (time.perf_counter() - start) / min(args.single, 300)
        pm_size = tree.get_size()
        pm_inclusion_s = statistics.median(timed(tree.prove_inclusion, int(i) + 1, pm_size)[0] for i in indices[:20])
        pm_consistency_s = statistics.median(timed(tree.prove_consistency, int(o), pm_size)[0] for o in olds[:20])
        tree.close()
        db.close()

    append_rate = args.entries / batch_s
    rows = [
        (
            "append, batches of 1,000 (durable)",
            f"{append_rate:,.0f} entries/s",
            f"{args.entries / pm_batch_s:,.0f} entries/s",
            faster(batch_s, pm_batch_s),
        ),
        (
            "append, one entry per transaction (durable; pymerkle with its default rollback journal)",
            f"{1 / single_s:,.0f} entries/s",
            f"{1 / pm_single_s:,.0f} entries/s",
            faster(single_s, pm_single_s),
        ),
        (
            "append, one entry per transaction, both WAL + synchronous=FULL (alternating runs)",
            f"{1 / single_s:,.0f} entries/s",
            f"{1 / pm_wal_single_s:,.0f} entries/s",
            faster(single_s, pm_wal_single_s),
        ),
        (
            f"inclusion proof at {size:,} entries (median)",
            f"{inclusion_s * 1e3:.2f} ms",
            f"{pm_inclusion_s * 1e3:.2f} ms",
            faster(inclusion_s, pm_inclusion_s),
        ),
        (
            f"consistency proof at {size:,} entries (median)",
            f"{consistency_s * 1e3:.2f} ms",
            f"{pm_consistency_s * 1e3:.2f} ms",
            faster(consistency_s, pm_consistency_s),
        ),
        (
            f"`log verify` at {size:,} entries",
            f"{verify_s:.1f} s; peak RSS {verify_peak_mb:,.0f} MB (whole process)",
            "—",
            "goal: under 500 MB at 1,000,000",
        ),
        (
            f"raw hashlib SHA-256 of {mean_size:.0f}-byte entries",
            f"{hashlib_rate:,.0f} hashes/s",
            "—",
            f"batched append = {append_rate / hashlib_rate:.1%} of it",
        ),
    ]
    table = "\n".join(
        ["| measure | deconflict | pymerkle 7 SqliteTree | ratio |", "|---|---|---|---|"]
        + [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ledger.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
