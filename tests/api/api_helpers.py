"""Helpers of the server tests (importable as ``api.api_helpers``): the test data, tokens, a live server.

The database holds sites of three owners, two of them a few hundred metres apart (AZE and HRV,
as on Kyiv's Melnykova street), 80 seeded background incidents, hits on both embassies and a
notification of the AZE sites. It is built once per session; tests that write get a copy.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

import deconflict
from deconflict.access import create_token
from deconflict.model import Incident, Site
from deconflict.times import parse_time

AZE_EMBASSY = Site(
    id="aze-embassy",
    name="Embassy of Azerbaijan",
    kind="embassy",
    owner="AZE",
    lat=50.460821,
    lon=30.490562,
    address="Hlybochytska 24",
    names=(("uk", "Посольство Азербайджану"),),
)
AZE_CONSULAR = Site(
    id="aze-consular",
    name="Consular section of Azerbaijan",
    kind="consular_section",
    owner="AZE",
    lat=50.461502,
    lon=30.489001,
)
HRV_EMBASSY = Site(
    id="hrv-embassy",
    name="Embassy of Croatia",
    kind="embassy",
    owner="HRV",
    lat=50.455423,
    lon=30.493271,
    address="Melnykova 81",
    notes="secret courtyard entrance",
)
OTHERS = [
    Site(id=f"ctl-{n}", name=f"Embassy of control {n}", kind="embassy", owner=owner, lat=lat, lon=lon)
    for n, (owner, lat, lon) in enumerate(
        [("POL", 50.4512, 30.5188), ("DEU", 50.4431, 30.5123), ("FRA", 50.4487, 30.5302),
         ("ITA", 50.4402, 30.4901), ("ESP", 50.4655, 30.5155), ("USA", 50.4390, 30.5360)]
    )
]  # fmt: skip
SITES = [AZE_EMBASSY, AZE_CONSULAR, HRV_EMBASSY, *OTHERS]
SCOPES = {"admin": ["admin"], "aze": ["owner:AZE"], "hrv": ["owner:HRV"], "analyst": ["analyst"], "public": ["public"]}
#: What the leak tests search for: each coordinate truncated to 4 decimals (about 10 m), which
#: every more precise rendering of it contains.
SECRET_COORDS = {site.id: [f"{site.lat:.6f}"[:7], f"{site.lon:.6f}"[:7]] for site in SITES}


def incidents() -> list[Incident]:
    rng = np.random.default_rng(7)
    found = []
    for n in range(80):
        lat = 50.45 + rng.normal(0, 0.02)
        lon = 30.51 + rng.normal(0, 0.03)
        day = 1 + int(rng.integers(0, 27))
        found.append(Incident(id=f"bg-{n}", time=parse_time(f"2025-{1 + n % 11:02d}-{day:02d}"), lat=lat, lon=lon,
                              uncertainty_m=float(rng.choice([0, 100, 500])), kind="missile", provenance="synthetic"))  # fmt: skip
    for n, (site, date) in enumerate(
        [(AZE_EMBASSY, "2025-11-14"), (AZE_EMBASSY, "2025-12-20"), (HRV_EMBASSY, "2025-06-01")]
    ):
        found.append(Incident(id=f"hit-{n}", time=parse_time(date), lat=site.lat + 0.00005, lon=site.lon,
                              uncertainty_m=0, kind="drone", provenance="reported"))  # fmt: skip
    return found


@dataclass
class Fixture:
    """The session database: its path, key file and one token per scope name."""

    path: Path
    key_file: Path
    tokens: dict[str, str]

    def copy_to(self, directory: Path) -> Fixture:
        """A copy of the database (and its key) in ``directory``, with the same tokens."""
        path = directory / "copy.db"
        shutil.copy(self.path, path)
        for suffix in ("-wal", "-shm"):
            if Path(f"{self.path}{suffix}").exists():
                shutil.copy(f"{self.path}{suffix}", f"{path}{suffix}")
        key = directory / "copy.db.key"
        shutil.copy(self.key_file, key)
        key.chmod(0o600)
        return Fixture(path, key, self.tokens)


def build_database(directory: Path) -> Fixture:
    """Create the test database in ``directory`` with a token of every scope in :data:`SCOPES`."""
    path, key = directory / "api.db", directory / "api.db.key"
    db = deconflict.init(path, timezone="Europe/Kyiv", key_file=key)
    try:
        db.sites.add_many(SITES)
        db.incidents.add_many(incidents())
        db.notifications.notify(["aze-embassy", "aze-consular"], to="RUS", at="2025-10-01T12:00Z",
                                channel="note-verbale", sender="AZE", id="ntf-aze-1")  # fmt: skip
        db.ledger.sign_checkpoint()
        tokens = {name: create_token(db, scopes, name) for name, scopes in SCOPES.items()}
    finally:
        db.close()
    return Fixture(path, key, tokens)


def auth(tokens: dict[str, str], name: str) -> dict[str, str]:
    """The Authorization header of the token named ``name``."""
    return {"Authorization": f"Bearer {tokens[name]}"}


def ui_login(client: httpx.Client, token: str) -> httpx.Response:
    """Sign in to the web UI as a browser does: load the form (nonce cookie, CSRF field), post it."""
    import re

    form = client.get("/ui/login")
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    assert found is not None, form.text
    return client.post("/ui/login", data={"token": token, "csrf": found.group(1)}, follow_redirects=False)


# -- a real server in a subprocess ----------------------------------------------------------------


@dataclass
class LiveServer:
    """``deconflict serve`` running in a subprocess on 127.0.0.1."""

    db: Fixture
    port: int
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    log_dir: Path | None = None

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> None:
        """Start the server and wait until it answers."""
        self.log_path = (self.log_dir or self.db.key_file.parent) / f"server-{self.port}.log"
        env = {**os.environ, "DECONFLICT_DB": str(self.db.path), "DECONFLICT_KEY": str(self.db.key_file)}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from deconflict.cli import main; main()", "serve", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/api/v1/log", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start in {timeout_s} s: {self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed that was not already durable."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
