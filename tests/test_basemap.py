"""Offline basemaps: reading a PMTiles archive's header and metadata, and `deconflict basemap check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconflict.basemap import read_basemap
from deconflict.cli import app
from deconflict.errors import InvalidInput
from report.basemap_helpers import build_basemap

BOUNDS = (30.44, 50.43, 30.54, 50.49)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_basemap(tmp_path_factory.mktemp("basemap") / "kyiv-test.pmtiles", BOUNDS, zooms=range(9, 13))


def test_read_basemap_says_what_the_archive_covers(archive: Path) -> None:
    info = read_basemap(archive)
    assert info.tile_type == "mvt" and info.tile_compression == "gzip"
    assert (info.min_zoom, info.max_zoom) == (9, 12)
    assert info.bounds == pytest.approx(BOUNDS)
    assert info.layers == ("earth", "water")
    assert info.name == "Test basemap" and "test suite" in info.attribution
    assert info.covers(50.46, 30.49) and not info.covers(49.84, 24.03)
    assert info.size_bytes == archive.stat().st_size and info.tiles > 0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "only 0 bytes"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "no 'PMTiles' magic number"),
        (b"PMTiles\x02" + bytes(200), "old version"),
    ],
)
def test_read_basemap_refuses_what_is_not_a_pmtiles_v3_archive(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.pmtiles"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=problem) as raised:
        read_basemap(path)
    assert str(path) in raised.value.message


def test_basemap_check_prints_bounds_zooms_and_layers(archive: Path) -> None:
    result = CliRunner().invoke(app, ["basemap", "check", str(archive)])
    assert result.exit_code == 0, result.output
    assert "vector tiles (mvt), gzip, zoom 9-12" in result.output
    assert "west 30.4400, south 50.4300, east 30.5400, north 50.4900" in result.output
    assert "layers: earth, water" in result.output


def test_basemap_check_json_is_the_library_answer(archive: Path) -> None:
    result = CliRunner().invoke(app, ["basemap", "check", str(archive), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == read_basemap(archive).to_json()


def test_basemap_check_names_a_missing_file_and_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["basemap", "check", str(tmp_path / "none.pmtiles")])
    assert result.exit_code == 2
    assert "none.pmtiles: no such basemap file" in result.output
