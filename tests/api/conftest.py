"""Fixtures for the server tests: the shared database, clients, live servers (see ``api_helpers``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.api_helpers import Fixture, LiveServer, build_database
from deconflict.api import create_app
from pg import free_port


@pytest.fixture(scope="session")
def api_db(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    """The shared database with sites, incidents, a notification and tokens of every scope."""
    return build_database(tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="session")
def client(api_db: Fixture) -> Iterator[TestClient]:
    """A client of the app over the shared database (tests through it must not write)."""
    with TestClient(create_app(api_db.path, key_file=api_db.key_file)) as test_client:
        yield test_client


@pytest.fixture
def fresh(api_db: Fixture, tmp_path: Path) -> Fixture:
    """A private copy of the shared database for a test that writes."""
    return api_db.copy_to(tmp_path)


@pytest.fixture
def fresh_client(fresh: Fixture) -> Iterator[TestClient]:
    """A client of the app over a private copy of the database."""
    with TestClient(create_app(fresh.path, key_file=fresh.key_file, max_body_bytes=64 * 1024)) as test_client:
        yield test_client


@pytest.fixture
def live_server(fresh: Fixture) -> Iterator[LiveServer]:
    """A real server over a private copy of the database."""
    server = LiveServer(fresh, free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_server(fresh: Fixture) -> Iterator[Callable[[], LiveServer]]:
    """Start (and restart) real servers over the same private database copy."""
    servers: list[LiveServer] = []

    def make() -> LiveServer:
        server = LiveServer(fresh, free_port())
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
