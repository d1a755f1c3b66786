"""Shared fixtures: a fresh database, the CLI runner, file builders."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

import deconflict
from deconflict.cli import app
from pg import PostgresServer, ServerUnavailable, start_server
from samples import INCIDENTS_CSV, SITES_CSV, file_digest  # noqa: F401

# In CI (CI=true) property tests draw the same examples every run, so a submission's result does not
# depend on the random search; locally they explore freshly each run (and keep failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

BACKENDS = ["sqlite", "postgis"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL + PostGIS server for the whole session, started on first use.

    Fails (never skips) when PostgreSQL or PostGIS is missing: the PostGIS backend is part
    of the product, and ``scripts/install-system-deps.sh`` installs what it needs.
    """
    try:
        server = start_server()
    except ServerUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a new, empty PostgreSQL database with PostGIS (dropped after the test)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend under test: ``sqlite`` or ``postgis``."""
    return str(request.param)


@pytest.fixture
def db_location(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """Where a new database goes: a SQLite file path or an empty PostgreSQL database's URL."""
    if backend == "postgis":
        return str(request.getfixturevalue("postgres_url"))
    return tmp_path / "test.db"


@pytest.fixture
def db_path(db_location: Path | str, tmp_path: Path) -> Path | str:
    """Location of a freshly initialised database (timezone Europe/Kyiv), on each backend.

    A :class:`~pathlib.Path` for SQLite, a ``postgresql://`` URL for PostGIS; either is
    accepted wherever a database location is (``deconflict.open``, ``--db``, :func:`snapshot`).
    """
    deconflict.init(db_location, timezone="Europe/Kyiv", key_file=tmp_path / "test.db.key").close()
    return db_location


@pytest.fixture
def db(db_path: Path | str) -> Iterator[deconflict.Database]:
    """An open database handle."""
    handle = deconflict.open(db_path)
    yield handle
    handle.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner: CliRunner, db_path: Path | str) -> Callable[..., object]:
    """Invoke the CLI against the test database: ``cli("sites", "list")``."""

    def invoke(*args: str) -> object:
        return runner.invoke(app, ["--db", str(db_path), *args])

    return invoke


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write a file under tmp_path and return its path."""

    def make(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
        return path

    return make
