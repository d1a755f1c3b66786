"""A small PMTiles vector basemap made in the test (importable as ``report.basemap_helpers``).

Two layers of the Protomaps basemap schema, which the report's "light" style draws: ``earth``
(land, ``#e2dfda``) over the whole box and ``water`` (``#80deea``) over its western half. Tiles
are Mapbox Vector Tiles (``mapbox-vector-tile``) written with the ``pmtiles`` package's writer.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import mapbox_vector_tile
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write
from shapely.geometry import box
from shapely.ops import transform

EARTH = (0xE2, 0xDF, 0xDA)
WATER = (0x80, 0xDE, 0xEA)
_R = 6378137.0


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    return math.radians(lon) * _R, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * _R


def _tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    size = 2 * math.pi * _R / 2**z
    west, north = -math.pi * _R + x * size, math.pi * _R - y * size
    return west, north - size, west + size, north


def _tile_range(z: int, bounds: tuple[float, float, float, float]) -> tuple[range, range]:
    west, south, east, north = bounds
    n = 2**z

    def column(lon: float) -> int:
        return int((lon + 180) / 360 * n)

    def row(lat: float) -> int:
        return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    return range(column(west), column(east) + 1), range(row(north), row(south) + 1)


def build_basemap(
    path: Path, bounds: tuple[float, float, float, float], zooms: range = range(8, 15), name: str = "Test basemap"
) -> Path:
    """Write a PMTiles archive over ``bounds`` (west, south, east, north) at ``zooms``; return ``path``."""
    west, south, east, north = bounds
    earth = transform(lambda x, y: _mercator(x, y), box(west, south, east, north))
    water = transform(lambda x, y: _mercator(x, y), box(west, south, (west + east) / 2, north))
    tiles: list[tuple[int, bytes]] = []
    for z in zooms:
        columns, rows = _tile_range(z, bounds)
        for x in columns:
            for y in rows:
                tile_box = box(*_tile_bounds(z, x, y))
                layers = [
                    {"name": layer, "features": [{"geometry": geometry.intersection(tile_box), "properties": props}]}
                    for layer, geometry, props in (
                        ("earth", earth, {"kind": "earth"}),
                        ("water", water, {"kind": "water"}),
                    )
                    if geometry.intersects(tile_box) and not geometry.intersection(tile_box).is_empty
                ]
                if not layers:
                    continue
                data = mapbox_vector_tile.encode(
                    layers, default_options={"quantize_bounds": tile_box.bounds, "extents": 4096, "y_coord_down": False}
                )
                tiles.append((zxy_to_tileid(z, x, y), gzip.compress(data, mtime=0)))
    tiles.sort()
    with write(str(path)) as writer:
        for tile_id, data in tiles:
            writer.write_tile(tile_id, data)
        writer.finalize(
            {
                "tile_type": TileType.MVT,
                "tile_compression": Compression.GZIP,
                "min_lon_e7": int(west * 1e7),
                "min_lat_e7": int(south * 1e7),
                "max_lon_e7": int(east * 1e7),
                "max_lat_e7": int(north * 1e7),
                "center_zoom": zooms.start + 2,
                "center_lon_e7": int((west + east) / 2 * 1e7),
                "center_lat_e7": int((south + north) / 2 * 1e7),
            },
            {
                "name": name,
                "attribution": "test tiles made by deconflict's test suite",
                "vector_layers": [{"id": "earth", "fields": {}}, {"id": "water", "fields": {}}],
            },
        )
    return path
