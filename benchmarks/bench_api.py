"""Server load: requests/s and p50/p99 latency for reads and appends, SQLite and PostGIS.

Starts ``deconflict serve`` in a subprocess on 127.0.0.1 (loopback only) over a fresh database
(the API test data: 9 sites, 83 incidents, one notification), then drives it with httpx
AsyncClients: a fixed number of requests at a fixed concurrency, each phase also bounded in
time. Reads are a mix of a site, a sites search and an inclusion proof (owner token); appends
are notifications (each a durable log entry). The PostGIS server is a throwaway one started
like the test suite's (tests/pg.py), but with fsync and full_page_writes ON so its commits are
as durable as SQLite's synchronous=FULL.

Usage: python benchmarks/bench_api.py [--reads 3000] [--appends 600] [--concurrency 16] [--backend both]
Writes benchmarks/results/api.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "tests"))

from api.api_helpers import Fixture, LiveServer, build_database  # noqa: E402
from pg import free_port  # noqa: E402

READ_PATHS = (
    "/api/v1/sites/aze-embassy",
    "/api/v1/sites?search=Embassy&limit=20",
    "/api/v1/log/proof/inclusion?index=3",
)
MAX_PHASE_S = 60.0


async def drive(url: str, token: str, count: int, concurrency: int, make: object) -> tuple[float, list[float], int]:
    """Send ``count`` requests with ``concurrency`` clients; return (seconds, latencies, errors)."""
    latencies: list[float] = []
    errors = 0
    next_item = 0
    deadline = time.monotonic() + MAX_PHASE_S

    async def worker() -> None:
        nonlocal next_item, errors
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            while next_item < count and time.monotonic() < deadline:
                n = next_item
                next_item += 1
                method, path, body = make(n)  # type: ignore[operator]
                started = time.perf_counter()
                response = await http.request(method, path, json=body)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code >= 300

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, errors


def read_request(n: int) -> tuple[str, str, None]:
    return "GET", READ_PATHS[n % len(READ_PATHS)], None


def append_request(n: int) -> tuple[str, str, dict[str, object]]:
    body = {"id": f"bench-{n}", "site_ids": ["aze-embassy"], "recipient": "RUS", "notified_at": "2025-12-01T10:00Z"}
    return "POST", "/api/v1/notifications", body


def row(backend: str, what: str, seconds: float, latencies: list[float], errors: int) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (f"| {backend} | {what} | {len(latencies):,} | {len(latencies) / seconds:,.0f} | "
            f"{statistics.median(ordered) * 1000:.1f} | {p99 * 1000:.1f} | {errors} |")  # fmt: skip


def run_backend(backend: str, args: argparse.Namespace, work: Path) -> list[str]:
    server_pg = None
    if backend == "postgis":
        import pg

        pg.SERVER_SETTINGS = {**pg.SERVER_SETTINGS, "fsync": "on", "full_page_writes": "on"}
        server_pg = pg.start_server()
        location: str | Path = server_pg.create_database("bench")
    else:
        location = work / "sqlite"
        location.mkdir()
    try:
        fixture = build_database(location) if backend == "sqlite" else build_on_postgres(str(location), work)
        server = LiveServer(fixture, free_port())
        server.start()
        try:
            asyncio.run(drive(server.url, fixture.tokens["aze"], 100, args.concurrency, read_request))  # warm-up
            rows = []
            for what, count, make in (("reads", args.reads, read_request), ("appends", args.appends, append_request)):
                seconds, latencies, errors = asyncio.run(
                    drive(server.url, fixture.tokens["aze"], count, args.concurrency, make)
                )
                rows.append(row(backend, what, seconds, latencies, errors))
                print(rows[-1], flush=True)
            return rows
        finally:
            server.stop()
    finally:
        if server_pg is not None:
            server_pg.stop()


def build_on_postgres(url: str, work: Path) -> Fixture:
    """The API test data in a PostgreSQL database (build_database writes SQLite files)."""
    import deconflict
    from api import api_helpers
    from deconflict.api.auth import create_token
    from deconflict.model import Notification
    from deconflict.times import parse_time

    key = work / "pg.key"
    db = deconflict.init(url, timezone="Europe/Kyiv", key_file=key)
    try:
        db.sites.add_many(api_helpers.SITES)
        db.incidents.add_many(api_helpers.incidents())
        db.notifications.notify(Notification(id="ntf-aze-1", site_ids=("aze-embassy",), recipient="RUS",
                                             notified_at=parse_time("2025-10-01T12:00Z")))  # fmt: skip
        tokens = {name: create_token(db, scopes, name) for name, scopes in api_helpers.SCOPES.items()}
    finally:
        db.close()
    return Fixture(url, key, tokens)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--appends", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backend", choices=("sqlite", "postgis", "both"), default="both")
    args = parser.parse_args()
    backends = ("sqlite", "postgis") if args.backend == "both" else (args.backend,)
    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        for backend in backends:
            lines.extend(run_backend(backend, args, Path(tmp)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    header = (
        f"Server load: `deconflict serve` (one uvicorn process) on 127.0.0.1, {args.concurrency} concurrent "
        f"httpx clients, {platform.machine()} with {os.cpu_count()} cores, Python {platform.python_version()}. "
        "Reads: a site, a name search, an inclusion proof (owner token). Appends: notifications, each a durable "
        "log entry (SQLite synchronous=FULL; PostgreSQL fsync on). Latency includes the client on the same machine.\n\n"
        "| backend | requests | count | requests/s | p50 ms | p99 ms | non-2xx |\n|---|---|---|---|---|---|---|\n"
    )
    (RESULTS / "api.md").write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS / 'api.md'}")


if __name__ == "__main__":
    main()
