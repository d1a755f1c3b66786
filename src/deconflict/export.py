"""Writers for sites and incidents in the interchange formats (an export re-imports unchanged)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from deconflict.ingest.common import INCIDENT_COLUMNS, SITE_COLUMNS
from deconflict.model import Incident, Site, Source

__all__ = [
    "extra_text",
    "incident_row",
    "incidents_to_csv",
    "incidents_to_geojson",
    "site_row",
    "sites_to_csv",
    "sites_to_geojson",
    "sources_text",
]


def _text(value: float) -> str:
    return repr(float(value))


def site_row(site: Site) -> dict[str, str]:
    """A site as a row of the interchange format (text values, names as ``name:<lang>``)."""
    row = {
        "id": site.id, "name": site.name, "kind": site.kind, "owner": site.owner,
        "lat": _text(site.lat), "lon": _text(site.lon), "radius_m": _text(site.radius_m),
        "address": site.address or "", "city": site.city or "", "footprint_wkt": site.footprint_wkt or "",
        "approximate": "true" if site.approximate else "false", "source": site.source or "",
        "notes": site.notes or "",
    }  # fmt: skip
    for lang, name in site.names:
        key = f"name:{lang}"
        row[key] = f"{row[key]}; {name}" if key in row else name
    return row


def incident_row(incident: Incident) -> dict[str, str]:
    """An incident as a row of the interchange format."""
    # Hot path of large imports (the log commits to every row): read each attribute once, inline _text.
    span, source = incident.time, incident.source
    row = {
        "id": incident.id, "time": span.to_text(), "time_precision": span.precision,
        "lat": repr(float(incident.lat)), "lon": repr(float(incident.lon)),
        "uncertainty_m": repr(float(incident.uncertainty_m)), "uncertainty_model": incident.uncertainty_model,
        "kind": incident.kind or "", "weapon": incident.weapon or "",
        "source_url": source.url or "", "source_sha256": source.sha256 or "",
        "source_title": source.title or "",
        "confidence": incident.confidence, "notes": incident.notes or "",
        "provenance": incident.provenance or "", "status": incident.status,
    }  # fmt: skip
    # Only when present, so the records of incidents without them stay byte for byte as committed.
    if incident.extra:
        row["extra"] = extra_text(incident.extra)
    if incident.more_sources:
        row["more_sources"] = sources_text(incident.more_sources)
    return row


def extra_text(extra: Iterable[tuple[str, Any]]) -> str:
    """The ``extra`` column: a JSON object of source-specific fields, keys sorted."""
    return json.dumps(dict(extra), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sources_text(sources: Iterable[Source]) -> str:
    """The ``more_sources`` column: a JSON list of ``{"url", "sha256", "title"}`` (empty ones left out)."""
    items = [{k: v for k, v in (("url", s.url), ("sha256", s.sha256), ("title", s.title)) if v} for s in sources]
    return json.dumps(items, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _csv(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    extra = sorted({key for row in rows for key in row if key not in columns})
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=[*columns, *extra], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def sites_to_csv(sites: Iterable[Site]) -> str:
    """CSV text of ``sites``."""
    return _csv([site_row(s) for s in sites], SITE_COLUMNS)


def incidents_to_csv(incidents: Iterable[Incident]) -> str:
    """CSV text of ``incidents``."""
    return _csv([incident_row(i) for i in incidents], INCIDENT_COLUMNS)


def sites_to_geojson(sites: Iterable[Site]) -> str:
    """GeoJSON FeatureCollection text of ``sites``: Point geometries, typed properties (numbers, booleans;
    footprint as a WKT property); see :mod:`deconflict.layers`."""
    from deconflict.layers import site_features, to_geojson

    return to_geojson(site_features(sites))


def incidents_to_geojson(incidents: Iterable[Incident]) -> str:
    """GeoJSON FeatureCollection text of ``incidents``: typed properties with ``time_start``/``time_end``."""
    from deconflict.layers import incident_features, to_geojson

    return to_geojson(incident_features(incidents))
