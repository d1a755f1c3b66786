"""Records and results as GIS layers: typed GeoJSON, CSV and GeoPackage for QGIS, geopandas, Datasette.

Every property keeps its type: numbers are numbers, booleans booleans, times ISO 8601 text in UTC
with ``time_start`` and ``time_end`` beside the interval so QGIS's temporal controller can use them
(Layer Properties → Temporal → "Separate fields for start and end date/time"). The layers:

- :func:`site_features` / :func:`incident_features`: the registry and the strike reports (the
  interchange columns, typed; an export re-imports unchanged);
- :func:`analysis_features`: one Point per analysed site with its observed and expected hits and
  p-values (``deconflict analyze --format geojson|csv``);
- :func:`match_features`: one LineString per possible hit, from the incident to the site, with its
  hit probability (``deconflict match --format geojson|csv``).

:func:`to_geojson`, :func:`to_csv` and :func:`write_geopackage` write any of them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deconflict.errors import InvalidInput
from deconflict.model import Incident, Site
from deconflict.times import format_utc

if TYPE_CHECKING:
    from deconflict.access import Principal
    from deconflict.analysis import AnalysisRun, MatchRecord
    from deconflict.db import Database

__all__ = [
    "LAYER_FORMATS",
    "analysis_features",
    "analysis_layer",
    "feature_collection",
    "incident_features",
    "incident_properties",
    "match_features",
    "match_layer",
    "render_layer",
    "site_features",
    "site_properties",
    "to_csv",
    "to_geojson",
    "write_geopackage",
]

#: Formats a layer is written in.
LAYER_FORMATS = ("geojson", "csv", "gpkg")
Feature = dict[str, Any]


def site_properties(site: Site) -> dict[str, Any]:
    """A site's interchange fields, typed (``radius_m`` a number, ``approximate`` a boolean)."""
    props: dict[str, Any] = {
        "id": site.id, "name": site.name, "kind": site.kind, "owner": site.owner, "lat": site.lat, "lon": site.lon,
        "radius_m": site.radius_m, "address": site.address, "city": site.city, "footprint_wkt": site.footprint_wkt,
        "approximate": site.approximate, "source": site.source, "notes": site.notes,
    }  # fmt: skip
    for lang, name in site.names:
        key = f"name:{lang}"
        props[key] = f"{props[key]}; {name}" if key in props else name
    return props


def incident_properties(incident: Incident) -> dict[str, Any]:
    """An incident's interchange fields, typed, with ``time_start``/``time_end`` (UTC) and ``counted``."""
    span, source = incident.time, incident.source
    props: dict[str, Any] = {
        "id": incident.id, "time": span.to_text(), "time_precision": span.precision,
        "time_start": format_utc(span.start), "time_end": format_utc(span.end),
        "lat": incident.lat, "lon": incident.lon,
        "uncertainty_m": incident.uncertainty_m, "uncertainty_model": incident.uncertainty_model,
        "kind": incident.kind, "weapon": incident.weapon, "source_url": source.url, "source_sha256": source.sha256,
        "source_title": source.title, "confidence": incident.confidence, "notes": incident.notes,
        "provenance": incident.provenance, "status": incident.status, "counted": incident.counted,
    }  # fmt: skip
    if incident.extra:
        props["extra"] = dict(incident.extra)
    if incident.more_sources:
        props["more_sources"] = [
            {k: v for k, v in (("url", s.url), ("sha256", s.sha256), ("title", s.title)) if v}
            for s in incident.more_sources
        ]
    return props


def _point(lon: float, lat: float, properties: dict[str, Any]) -> Feature:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties}


def site_features(sites: Iterable[Site]) -> list[Feature]:
    """Point features of sites (their footprint stays a WKT property, as in the CSV)."""
    return [_point(s.lon, s.lat, site_properties(s)) for s in sites]


def incident_features(incidents: Iterable[Incident]) -> list[Feature]:
    """Point features of incidents."""
    return [_point(i.lon, i.lat, incident_properties(i)) for i in incidents]


_SCALAR = (str, int, float, bool, type(None))


def analysis_features(run: AnalysisRun) -> list[Feature]:
    """One Point per analysed site with its statistics (the scalar fields of ``analyze --json``).

    Lists (confidence intervals, assumptions, labels) become separate scalar fields or JSON text:
    ``rate_ratio_ci_low``/``_high``, ``assumptions`` and ``data_labels`` joined by `` | ``.
    """
    features = []
    for row in run.rows():
        site = run.sites[row["site_id"]]
        props: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, _SCALAR):
                props[key] = value
            elif key == "rate_ratio_ci" and isinstance(value, list | tuple) and len(value) == 2:
                props["rate_ratio_ci_low"], props["rate_ratio_ci_high"] = value
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                props[key] = " | ".join(value)
            else:
                props[key] = json.dumps(value, ensure_ascii=False, default=str)
        notification = run.notifications.get(site.id)
        if notification is not None:
            props["notified_start"] = format_utc(notification.notified_at.start)
            props["notified_end"] = format_utc(notification.notified_at.end)
        props.update(kind=site.kind, lat=site.lat, lon=site.lon, radius_m=site.radius_m)
        features.append(_point(site.lon, site.lat, props))
    return features


def match_features(records: Sequence[MatchRecord], sites: dict[str, Site]) -> list[Feature]:
    """One LineString per possible hit, from the incident's point to the site's (as the caller sees them)."""
    features = []
    for record in records:
        site, incident = sites[record.match.site_id], record.incident
        props = {
            **record.to_json(),
            "time_start": format_utc(incident.time.start),
            "time_end": format_utc(incident.time.end),
            "uncertainty_m": incident.uncertainty_m,
            "incident_lat": incident.lat,
            "incident_lon": incident.lon,
            "site_lat": site.lat,
            "site_lon": site.lon,
            "site_name": site.name,
        }
        geometry = {"type": "LineString", "coordinates": [[incident.lon, incident.lat], [site.lon, site.lat]]}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return features


def feature_collection(features: list[Feature], **members: Any) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (RFC 7946: WGS84 longitude/latitude) with extra top-level members."""
    return {"type": "FeatureCollection", **members, "features": features}


def to_geojson(features: list[Feature], **members: Any) -> str:
    """GeoJSON text of ``features``."""
    return json.dumps(feature_collection(features, **members), ensure_ascii=False, indent=1) + "\n"


def to_csv(features: list[Feature]) -> str:
    """CSV text: one row per feature, its properties (nested values as JSON) and its geometry as WKT."""
    from shapely.geometry import shape

    rows = []
    for feature in features:
        row = {k: _csv_value(v) for k, v in feature["properties"].items()}
        row["geometry_wkt"] = shape(feature["geometry"]).wkt
        rows.append(row)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    """A property as a CSV cell: JSON for nested values, ``true``/``false`` for booleans (as Datasette reads)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def features_to_geodataframe(features: list[Feature]) -> Any:
    """A GeoDataFrame in EPSG:4326 of ``features``: typed columns, ``time_*`` as tz-aware datetimes."""
    from deconflict.frames import _geopandas

    gpd = _geopandas()
    import pandas as pd

    flat = [
        {**f, "properties": {k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                             for k, v in f["properties"].items()}}
        for f in features
    ]  # fmt: skip
    frame = gpd.GeoDataFrame.from_features(flat, crs="EPSG:4326")
    for column in ("time_start", "time_end", "notified_start", "notified_end"):
        if column in frame.columns:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def write_geopackage(features: list[Feature], path: str | Path, layer: str) -> None:
    """Write ``features`` as layer ``layer`` of a GeoPackage (needs the ``geo`` extra: geopandas, pyogrio)."""
    if not features:
        raise InvalidInput("nothing to write: the layer is empty", where=str(path))
    frame = features_to_geodataframe(features)
    frame.to_file(path, layer=layer, driver="GPKG")


def render_layer(features: list[Feature], format: str, *, path: str | Path | None = None, layer: str = "layer",
                 **members: Any) -> str | None:  # fmt: skip
    """Write ``features`` as ``geojson`` or ``csv`` text (returned), or as a ``gpkg`` file at ``path``."""
    if format == "geojson":
        return to_geojson(features, **members)
    if format == "csv":
        return to_csv(features)
    if format == "gpkg":
        if path is None:
            raise InvalidInput("a GeoPackage is written to a file: give one", where="path")
        write_geopackage(features, path, layer)
        return None
    raise InvalidInput(f"unknown layer format {format!r}; expected one of {', '.join(LAYER_FORMATS)}", where="format")


def analysis_layer(run: AnalysisRun) -> list[Feature]:
    """The analysis as a layer of sites (:func:`analysis_features`); its data labels go with the collection."""
    return analysis_features(run)


def match_layer(db: Database, records: Sequence[MatchRecord], principal: Principal | None = None) -> list[Feature]:
    """Possible hits as lines from incident to site, with the sites as ``principal`` sees them (coarsened
    where its view is coarse, as :func:`deconflict.analysis.match_database` rounds their distances)."""
    from dataclasses import replace

    from deconflict.access import IncidentViews, Principal, coarsened_site, visible_site

    caller = principal or Principal.local()
    sites: dict[str, Site] = {}
    for site_id in dict.fromkeys(r.match.site_id for r in records):
        site, view = visible_site(db, caller, site_id)
        sites[site_id] = site if view == "exact" else coarsened_site(site)
    shown = IncidentViews(db, caller).shown([r.incident for r in records])
    return match_features([replace(r, incident=i) for r, i in zip(records, shown, strict=True)], sites)
