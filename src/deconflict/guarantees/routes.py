"""Routes of movements: reading them (GeoJSON LineString, waypoint lists, WKT) and checking them.

A route is a sequence of ``(lat, lon)`` waypoints joined by geodesics. It must have two different
points and must not cross or retrace itself: a corridor that folds over itself is ambiguous about
where (and when) the movement is, so a way there and a way back are notified as two movements.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from deconflict.errors import InvalidInput
from deconflict.geo import LocalProjection

__all__ = ["check_simple", "parse_route", "route_geojson", "route_text"]

_NUMBER = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_PAIR = re.compile(rf"^\s*({_NUMBER})\s*[, ]\s*({_NUMBER})\s*$")


def check_simple(route: Sequence[tuple[float, float]]) -> None:
    """Raise :class:`InvalidInput` naming the place where ``route`` crosses or retraces itself."""
    if len(route) < 3:
        return
    lat = np.array([p[0] for p in route])
    lon = np.array([p[1] for p in route])
    projection = LocalProjection.from_points(lon, lat)
    x, y = projection.project(lon, lat)
    segments = shapely.linestrings(np.stack([np.column_stack([x[:-1], y[:-1]]), np.column_stack([x[1:], y[1:]])], 1))
    tree = shapely.STRtree(segments)
    first, second = tree.query(segments, predicate="intersects")
    for i, j in zip(first.tolist(), second.tolist(), strict=True):
        if j <= i:
            continue
        meeting = shapely.intersection(segments[i], segments[j])
        if j == i + 1 and meeting.geom_type == "Point":
            continue  # consecutive legs share their waypoint
        point = shapely.get_coordinates(meeting)[0]
        where_lon, where_lat = projection.unproject(point[0], point[1])
        raise InvalidInput(
            f"the route crosses or retraces itself near {float(where_lat):.5f}, {float(where_lon):.5f} (legs {i + 1} "
            f"and {j + 1}); notify the way there and the way back as separate movements",
            where="route",
        )


def _pairs_from_coordinates(coordinates: Any) -> list[tuple[float, float]]:
    """GeoJSON ``[[lon, lat], ...]`` to ``(lat, lon)`` pairs."""
    if not isinstance(coordinates, list) or not all(isinstance(c, list | tuple) and len(c) >= 2 for c in coordinates):
        raise InvalidInput("a GeoJSON LineString's coordinates are a list of [lon, lat] positions", where="route")
    try:
        return [(float(c[1]), float(c[0])) for c in coordinates]
    except (TypeError, ValueError):
        raise InvalidInput("route coordinates must be numbers", where="route") from None


def parse_route(value: Any) -> tuple[tuple[float, float], ...]:
    """A route from what a user gives, as ``(lat, lon)`` waypoints.

    Accepted: a GeoJSON LineString (geometry or Feature, as a mapping or JSON text), GeoJSON
    coordinates ``[[lon, lat], ...]``, WKT ``LINESTRING (lon lat, ...)``, or waypoints as text
    ``"lat,lon; lat,lon; ..."``, or a sequence of ``(lat, lon)`` pairs.

    Raises
    ------
    InvalidInput
        When it is none of these (``where`` is ``route``); too few points are refused by
        :class:`~deconflict.guarantees.model.Movement`.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise InvalidInput("the route is empty", where="route")
        if text.startswith(("{", "[")):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"the route is not valid JSON: {exc.msg}", where="route") from None
        elif text.upper().startswith("LINESTRING"):
            try:
                geometry = shapely.from_wkt(text)
            except shapely.errors.ShapelyError as exc:
                raise InvalidInput(f"the route is not valid WKT: {exc}", where="route") from None
            return tuple((float(y), float(x)) for x, y in shapely.get_coordinates(geometry))
        else:
            pairs = []
            for number, part in enumerate(p for p in re.split(r"[;\n]", text) if p.strip()):
                match = _PAIR.match(part)
                if match is None:
                    raise InvalidInput(f"waypoint {number + 1} {part.strip()!r} is not 'lat,lon'", where="route")
                pairs.append((float(match[1]), float(match[2])))
            return tuple(pairs)
    if isinstance(value, dict):
        if value.get("type") == "Feature":
            value = value.get("geometry") or {}
        if value.get("type") != "LineString":
            raise InvalidInput(f"the route must be a GeoJSON LineString, got {value.get('type')!r}", where="route")
        return tuple(_pairs_from_coordinates(value.get("coordinates")))
    if isinstance(value, list) and value and isinstance(value[0], list):
        return tuple(_pairs_from_coordinates(value))
    if isinstance(value, Sequence):
        try:
            return tuple((float(lat), float(lon)) for lat, lon in value)
        except (TypeError, ValueError):
            raise InvalidInput("route waypoints must be (lat, lon) pairs of numbers", where="route") from None
    raise InvalidInput("the route must be a GeoJSON LineString or a list of waypoints", where="route")


def route_geojson(route: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """The route as a GeoJSON LineString geometry (``[lon, lat]`` positions)."""
    return {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in route]}


def route_text(route: Sequence[tuple[float, float]]) -> str:
    """The route as ``lat,lon; lat,lon; ...`` (the CSV column; :func:`parse_route` reads it back)."""
    return "; ".join(f"{lat!r},{lon!r}" for lat, lon in route)
