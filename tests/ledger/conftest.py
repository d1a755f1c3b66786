"""Real outside servers for the ledger's tests: local OpenSSL TSAs and the project's own witnesses.

Every server listens on 127.0.0.1 on a free port and is stopped when the test ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deconflict.ledger.local_tsa import LocalTSA, make_tsa_certificates
from deconflict.ledger.note import Signer
from deconflict.ledger.witness import Witness, generate_witness_key
from deconflict.ledger.witness_http import RunningWitness, start_witness
from deconflict.model import Site
from outside_servers import expired_options


@dataclass
class TSAs:
    """Two independent local TSAs (separate CAs) and the factory for more."""

    first: LocalTSA
    second: LocalTSA
    make: Callable[..., LocalTSA]

    @property
    def roots(self) -> list[Path]:
        return [self.first.files.ca_cert, self.second.files.ca_cert]


@pytest.fixture
def tsas(tmp_path: Path) -> Iterator[TSAs]:
    started: list[LocalTSA] = []

    def make(name: str, kind: type[LocalTSA] = LocalTSA, **certificate_options: object) -> LocalTSA:
        directory = tmp_path / f"tsa-{len(started)}"
        files, _ = make_tsa_certificates(directory, name, **certificate_options)  # type: ignore[arg-type]
        tsa = kind(directory, files, name=name)
        started.append(tsa)
        return tsa

    first, second = make("test TSA one"), make("test TSA two")
    yield TSAs(first, second, make)
    for tsa in started:
        tsa.close()


@dataclass
class RunningWitnesses:
    """Two of the project's own tlog-witnesses following one log, and a factory for more."""

    servers: list[RunningWitness]
    keys: list[Signer]
    make: Callable[..., tuple[RunningWitness, Signer]]

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]

    @property
    def vkeys(self) -> list[str]:
        return [k.vkey for k in self.keys]


@pytest.fixture
def witnesses(db, tmp_path: Path) -> Iterator[RunningWitnesses]:
    started: list[RunningWitness] = []

    def make(name: str, log_keys: list[str] | None = None, state: Path | None = None) -> tuple[RunningWitness, Signer]:
        key = generate_witness_key(name)
        path = state or tmp_path / f"{name}.json"
        server = start_witness(Witness(path, key, log_keys or [db.ledger.verifier_key]))
        started.append(server)
        return server, key

    pairs = [make("witness-one.example"), make("witness-two.example")]
    yield RunningWitnesses([s for s, _ in pairs], [k for _, k in pairs], make)
    for server in started:
        server.close()


@pytest.fixture
def grow(db) -> Callable[..., None]:
    """Add ``count`` sites (one log entry each) whose ids start with ``prefix``."""

    def add(prefix: str, count: int = 2) -> None:
        db.sites.add_many([Site(id=f"{prefix}{i}", name=f"Site {prefix}{i}", kind="embassy", owner="AZE",
                                lat=50.45, lon=30.5 + i / 1000, city="Kyiv") for i in range(count)])  # fmt: skip

    return add


@pytest.fixture
def expired() -> dict[str, dt.datetime]:
    """Certificate validity that ended yesterday."""
    return expired_options()
