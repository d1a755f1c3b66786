"""Offline basemaps for reports: a PMTiles archive the user downloads once for their city.

A `PMTiles <https://github.com/protomaps/PMTiles>`_ archive is one file holding a whole tile
pyramid (vector tiles in the Protomaps basemap schema, or raster images). ``deconflict report
--basemap FILE.pmtiles`` embeds it in the report, whose vendored pmtiles and protomaps-leaflet
libraries draw it with no network request; ``deconflict basemap check FILE`` says what it
covers. The header and metadata are read with the ``pmtiles`` package's reader::

    info = read_basemap("kyiv.pmtiles")
    info.bounds          # (west, south, east, north) in degrees
    info.covers(50.46, 30.49)
"""

from __future__ import annotations

import json
import mmap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deconflict.errors import InvalidInput

__all__ = ["TILE_TYPES", "BasemapInfo", "read_basemap"]

#: The tile types a report can draw: vector tiles (protomaps-leaflet) and raster images.
TILE_TYPES = ("mvt", "png", "jpeg", "webp", "avif")
_TYPE_NAMES = {"MVT": "mvt", "PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "AVIF": "avif", "MLT": "mlt"}


@dataclass(frozen=True)
class BasemapInfo:
    """What a PMTiles archive holds.

    Attributes
    ----------
    path
        The archive.
    size_bytes
        Its size (what embedding it adds to a report, times 4/3 for base64).
    tile_type
        ``mvt`` (vector), ``png``, ``jpeg``, ``webp``, ``avif`` or what else the header says.
    tile_compression
        ``gzip``, ``none``, ``brotli``, ``zstd`` or ``unknown``.
    min_zoom, max_zoom
        The zoom levels with tiles (the map over-zooms past ``max_zoom``).
    bounds
        ``(west, south, east, north)`` in degrees (WGS84).
    center
        ``(lon, lat, zoom)`` the archive suggests.
    name, attribution
        From the archive's metadata (``""`` when absent); the attribution is shown on the map.
    layers
        Vector layer names (``vector_layers`` in the metadata), e.g. ``earth``, ``water``, ``roads``.
    tiles
        Addressed tiles (0 when the header does not count them).
    """

    path: Path
    size_bytes: int
    tile_type: str
    tile_compression: str
    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float]
    center: tuple[float, float, int]
    name: str
    attribution: str
    layers: tuple[str, ...]
    tiles: int

    def covers(self, lat: float, lon: float) -> bool:
        """Whether the point lies within the archive's bounds."""
        west, south, east, north = self.bounds
        return south <= lat <= north and west <= lon <= east

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON (``basemap check --json``; the report's page reads the same)."""
        return {
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "tile_type": self.tile_type,
            "tile_compression": self.tile_compression,
            "min_zoom": self.min_zoom,
            "max_zoom": self.max_zoom,
            "bounds": list(self.bounds),
            "center": list(self.center),
            "name": self.name,
            "attribution": self.attribution,
            "layers": list(self.layers),
            "tiles": self.tiles,
        }


def read_basemap(path: str | Path) -> BasemapInfo:
    """Read the header and metadata of the PMTiles archive at ``path``.

    Raises
    ------
    InvalidInput
        When the file is missing, is not a PMTiles version 3 archive, or holds tiles a report
        cannot draw (the message names the file and the problem).
    """
    from pmtiles.reader import Reader
    from pmtiles.tile import MagicNumberNotFound, SpecVersionUnsupported

    source = Path(path)
    if not source.is_file():
        raise InvalidInput(f"{source}: no such basemap file (a .pmtiles archive)")
    size = source.stat().st_size
    if size < 127:
        raise InvalidInput(f"{source}: not a PMTiles archive (only {size} bytes)")
    with source.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        reader = Reader(lambda offset, length: mapped[offset : offset + length])
        try:
            header = reader.header()
        except (MagicNumberNotFound, UnicodeDecodeError):
            raise InvalidInput(f"{source}: not a PMTiles archive (no 'PMTiles' magic number)") from None
        except SpecVersionUnsupported:
            raise InvalidInput(f"{source}: a PMTiles archive of an old version; only version 3 is read") from None
        except ValueError as exc:
            raise InvalidInput(f"{source}: a damaged PMTiles header ({exc})") from None
        try:
            metadata = reader.metadata() if header["metadata_length"] else {}
        except (OSError, ValueError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"{source}: the archive's metadata cannot be read ({exc})") from None
    tile_type = _TYPE_NAMES.get(header["tile_type"].name, header["tile_type"].name.lower())
    if tile_type not in TILE_TYPES:
        raise InvalidInput(
            f"{source}: holds {tile_type} tiles; a report draws vector tiles (mvt) or png/jpeg/webp/avif images"
        )
    metadata = metadata if isinstance(metadata, dict) else {}
    layers = tuple(str(layer.get("id", "")) for layer in metadata.get("vector_layers") or () if isinstance(layer, dict))
    return BasemapInfo(
        path=source,
        size_bytes=size,
        tile_type=tile_type,
        tile_compression=header["tile_compression"].name.lower(),
        min_zoom=int(header["min_zoom"]),
        max_zoom=int(header["max_zoom"]),
        bounds=(
            header["min_lon_e7"] / 1e7,
            header["min_lat_e7"] / 1e7,
            header["max_lon_e7"] / 1e7,
            header["max_lat_e7"] / 1e7,
        ),
        center=(header["center_lon_e7"] / 1e7, header["center_lat_e7"] / 1e7, int(header["center_zoom"])),
        name=str(metadata.get("name") or source.stem),
        attribution=str(metadata.get("attribution") or ""),
        layers=layers,
        tiles=int(header["addressed_tiles_count"]),
    )
