"""Sites and incidents to and from GeoPandas GeoDataFrames (the optional ``geo`` extra).

Frames use the interchange columns (see :data:`deconflict.ingest.SITE_COLUMNS`) plus a Point
``geometry`` in WGS84 (EPSG:4326). A frame in another CRS is re-projected to EPSG:4326; a frame
without a CRS is refused, because coordinates of unknown meaning cannot be placed.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from deconflict.errors import InvalidInput
from deconflict.ingest.common import build_incident, build_site, with_row
from deconflict.model import Incident, Site

if TYPE_CHECKING:  # pragma: no cover
    import geopandas

__all__ = ["incidents_from_geodataframe", "incidents_to_geodataframe", "sites_from_geodataframe",
           "sites_to_geodataframe"]  # fmt: skip

WGS84 = "EPSG:4326"


def _geopandas() -> Any:
    try:
        import geopandas
    except ImportError:
        raise InvalidInput("GeoDataFrame support needs the geo extra: pip install 'deconflict[geo]'") from None
    return geopandas


def _frame(rows: list[dict[str, str]]) -> geopandas.GeoDataFrame:
    gpd = _geopandas()
    from shapely.geometry import Point

    geometry = [Point(float(r["lon"]), float(r["lat"])) for r in rows]
    data = [{k: v for k, v in r.items() if k not in ("lat", "lon")} for r in rows]
    return gpd.GeoDataFrame(data, geometry=geometry, crs=WGS84)


def sites_to_geodataframe(sites: Iterable[Site]) -> geopandas.GeoDataFrame:
    """Sites as a GeoDataFrame in EPSG:4326: the interchange columns typed (``radius_m`` float,
    ``approximate`` bool), Point geometry."""
    from deconflict.layers import features_to_geodataframe, site_features

    features = site_features(sites)
    return features_to_geodataframe(features) if features else _frame([])


def incidents_to_geodataframe(incidents: Iterable[Incident]) -> geopandas.GeoDataFrame:
    """Incidents as a GeoDataFrame in EPSG:4326: typed columns, ``time_start``/``time_end`` as
    timezone-aware (UTC) datetimes beside the ``time`` interval text, Point geometry."""
    from deconflict.layers import features_to_geodataframe, incident_features

    features = incident_features(incidents)
    return features_to_geodataframe(features) if features else _frame([])


def _rows(frame: geopandas.GeoDataFrame) -> list[dict[str, Any]]:
    if frame.crs is None:
        raise InvalidInput(
            "the GeoDataFrame has no CRS; set it first, e.g. frame.set_crs('EPSG:4326') for longitude/latitude"
        )
    if not frame.crs.equals(WGS84):
        frame = frame.to_crs(WGS84)
    rows = []
    for number, (_, record) in enumerate(frame.iterrows(), start=1):
        geometry = record[frame.geometry.name]
        if geometry is None or geometry.is_empty or geometry.geom_type != "Point":
            raise InvalidInput("geometry must be a Point", where=f"GeoDataFrame row {number}, field 'geometry'")
        row = {str(k): ("" if v is None or (isinstance(v, float) and v != v) else v)
               for k, v in record.items() if k != frame.geometry.name}  # fmt: skip
        row["lon"], row["lat"] = geometry.x, geometry.y
        rows.append(row)
    return rows


def sites_from_geodataframe(frame: geopandas.GeoDataFrame) -> list[Site]:
    """Validated sites from a GeoDataFrame of Point geometries (re-projected to EPSG:4326)."""
    return [with_row("GeoDataFrame", n, partial(build_site, row)) for n, row in enumerate(_rows(frame), 1)]


def incidents_from_geodataframe(frame: geopandas.GeoDataFrame, local: ZoneInfo | None = None) -> list[Incident]:
    """Validated incidents from a GeoDataFrame of Point geometries (re-projected to EPSG:4326)."""
    return [with_row("GeoDataFrame", n, partial(build_incident, row, local)) for n, row in enumerate(_rows(frame), 1)]
