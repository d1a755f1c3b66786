"""Shared fixtures: a fresh database, the CLI runner, file builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import deconflict
from deconflict.cli import app
from samples import INCIDENTS_CSV, SITES_CSV, file_digest  # noqa: F401


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a freshly initialised database (timezone Europe/Kyiv)."""
    path = tmp_path / "test.db"
    deconflict.init(path, timezone="Europe/Kyiv").close()
    return path


@pytest.fixture
def db(db_path: Path) -> Iterator[deconflict.Database]:
    """An open database handle."""
    handle = deconflict.open(db_path)
    yield handle
    handle.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner: CliRunner, db_path: Path) -> Callable[..., object]:
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
