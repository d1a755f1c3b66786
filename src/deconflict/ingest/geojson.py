"""GeoJSON reader: a FeatureCollection whose properties use the CSV column names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from deconflict.errors import InvalidInput
from deconflict.ingest.common import (
    Batch,
    build_incident,
    build_site,
    read_bytes,
    read_text,
    with_row,
)
from deconflict.progress import ProgressCallback, report_steps

__all__ = ["read_incidents_geojson", "read_sites_geojson"]


def _features(path: str | Path, progress: ProgressCallback | None = None) -> tuple[str, str, list[Any]]:
    where = str(path)
    data, digest = read_bytes(path, progress)
    try:
        document = json.loads(read_text(data, where))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc.msg} at line {exc.lineno}", where=where) from exc
    except RecursionError as exc:
        raise InvalidInput("JSON nested too deeply", where=where) from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise InvalidInput("expected a GeoJSON FeatureCollection", where=where)
    features = document.get("features")
    if not isinstance(features, list):
        raise InvalidInput("'features' must be a list", where=where)
    if not features:
        raise InvalidInput("the FeatureCollection has no features", where=where)
    return where, digest, features


def _rows(where: str, features: list[Any], *, polygons: bool) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, feature in enumerate(features, start=1):
        place = f"{where}, feature {number}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise InvalidInput("is not a GeoJSON Feature", where=place)
        properties = feature.get("properties") or {}
        geometry = feature.get("geometry")
        if not isinstance(properties, dict):
            raise InvalidInput("'properties' must be an object", where=place)
        if not isinstance(geometry, dict):
            raise InvalidInput("has no geometry", where=f"{place}, field 'geometry'")
        row = {str(k): ("" if v is None else v) for k, v in properties.items()}
        kind = geometry.get("type")
        coordinates = geometry.get("coordinates")
        if kind == "Point":
            if (
                not isinstance(coordinates, list)
                or len(coordinates) < 2
                or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates[:2])
            ):
                raise InvalidInput(
                    "Point coordinates must be [lon, lat] numbers",
                    where=f"{place}, field 'geometry'",
                )
            row["lon"], row["lat"] = coordinates[0], coordinates[1]
        elif polygons and kind in ("Polygon", "MultiPolygon"):
            from shapely.errors import ShapelyError
            from shapely.geometry import shape

            try:
                footprint = shape(geometry)
            except (ShapelyError, ValueError, TypeError, IndexError, KeyError) as exc:
                raise InvalidInput(f"invalid polygon: {exc}", where=f"{place}, field 'geometry'") from exc
            if footprint.is_empty or not footprint.is_valid:
                raise InvalidInput("invalid polygon", where=f"{place}, field 'geometry'")
            point = footprint.representative_point()
            row.setdefault("lon", point.x)
            row.setdefault("lat", point.y)
            row["footprint_wkt"] = footprint.wkt
        else:
            expected = "a Point or Polygon" if polygons else "a Point"
            raise InvalidInput(f"geometry must be {expected}, got {kind!r}", where=f"{place}, field 'geometry'")
        yield number, row


def read_sites_geojson(path: str | Path, progress: ProgressCallback | None = None) -> Batch:
    """Read sites (Point, or Polygon footprint) from a GeoJSON FeatureCollection.

    Reports the phases ``"reading"`` (bytes) and ``"validating"`` (features) to ``progress``.
    """
    where, digest, features = _features(path, progress)
    tick = report_steps(progress, "validating", len(features), step=1000)
    sites = []
    for number, row in _rows(where, features, polygons=True):
        sites.append(with_row(where, number, partial(build_site, row), "feature"))
        tick(number)
    tick(len(sites), final=True)
    return Batch(where, digest, "geojson", sites)


def read_incidents_geojson(
    path: str | Path, local: ZoneInfo | None = None, progress: ProgressCallback | None = None
) -> Batch:
    """Read incidents (Point features) from a GeoJSON FeatureCollection.

    Reports the phases ``"reading"`` (bytes) and ``"validating"`` (features) to ``progress``.
    """
    where, digest, features = _features(path, progress)
    tick = report_steps(progress, "validating", len(features))
    incidents = []
    for number, row in _rows(where, features, polygons=False):
        incidents.append(with_row(where, number, partial(build_incident, row, local), "feature"))
        tick(number)
    tick(len(incidents), final=True)
    return Batch(where, digest, "geojson", incidents)
