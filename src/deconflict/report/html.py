"""Render a :class:`~deconflict.report.data.ReportData` as one self-contained HTML file.

The file carries everything it needs: Leaflet (vendored from the npm registry, see
``scripts/vendor-report-assets.sh``), the page's own script and styles, the figures as inline
SVG and the data as JSON in a ``<script type="application/json">`` block. A
Content-Security-Policy meta tag forbids every network request (``default-src 'none'``), so a
report opened on an air-gapped machine looks exactly as it does online, and a report that
tried to phone home would fail loudly in the browser console instead. ``tiles_url`` adds an
online tile layer and allows exactly that host for images.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import re
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from deconflict._version import __version__
from deconflict.errors import InvalidInput
from deconflict.model import owner_name
from deconflict.report.data import ReportData, is_synthetic, notified_sites, provenance_of, report_json
from deconflict.report.timeline import (
    PROVENANCE_COLOURS,
    incident_arrays,
    overall_timeline_svg,
    sensitivity_svg,
    site_timeline_svg,
    sites_for_timelines,
)
from deconflict.times import TimeSpan, format_instant, format_span, format_utc, zone

__all__ = ["KIND_COLOURS", "LEAFLET_VERSION", "MAX_HIT_ROWS", "content_security_policy", "render_html"]

LEAFLET_VERSION = "1.9.4"
#: Site colours by kind (colour-blind-safe where it matters: diplomatic kinds differ in hue).
KIND_COLOURS = {
    "embassy": "#1f4e9c",
    "consular_section": "#6a3d9a",
    "consulate": "#8e63c7",
    "cultural_centre": "#e6a100",
    "residence": "#4aa3a2",
    "international_organisation": "#00838f",
    "hospital": "#d81b60",
    "school": "#7cb342",
    "heritage": "#8d6e63",
    "power_plant": "#ef6c00",
    "humanitarian": "#c2185b",
    "other": "#546e7a",
}
#: The hits table shows at most this many rows (all hits are in the embedded data).
MAX_HIT_ROWS = 500
#: The printed report (PDF) lists at most this many hits, on the sites it leads with.
MAX_PRINTED_HIT_ROWS = 40
_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:{tiles}"


def _static(name: str) -> str:
    return resources.files("deconflict.report").joinpath("static", name).read_text(encoding="utf-8")


def _static_bytes(name: str) -> bytes:
    return resources.files("deconflict.report").joinpath("static", name).read_bytes()


def _leaflet_css() -> str:
    """Leaflet's CSS with its images inlined as data: URIs (the CSP allows no other images)."""

    def inline(match: re.Match[str]) -> str:
        png = base64.b64encode(_static_bytes(f"leaflet-{match.group(1)}")).decode()
        return f"url(data:image/png;base64,{png})"

    return re.sub(r"url\(images/([A-Za-z0-9._-]+\.png)\)", inline, _static("leaflet.css"))


def _script_safe(js: str, name: str) -> str:
    """Check that inlined JavaScript cannot end its ``<script>`` element early."""
    lowered = js.lower()
    if "</script" in lowered or "<!--" in lowered:
        raise ValueError(f"{name} contains '</script' or '<!--' and cannot be inlined")
    return js


def _finite(value: Any) -> Any:
    """``value`` with non-finite floats replaced by None (JSON has no NaN or Infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _json_for_script(value: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">`` (no ``<``, ``>``, ``&``)."""
    text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _tiles_source(tiles_url: str) -> str:
    """The CSP source expression for a tile URL template, e.g. ``https://*.tile.example.org``."""
    parts = urlsplit(tiles_url.replace("{s}", "a"))
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(
            "--tiles must be an http(s) URL template such as https://tile.example/{z}/{x}/{y}.png, "
            f"got {tiles_url!r}"
        )
    host = urlsplit(tiles_url).netloc
    if "{s}" in host:
        host = host.replace("{s}.", "*.").replace("{s}", "*")
    if "{" in host:
        raise InvalidInput(f"--tiles: only {{s}} may vary in the host name, got {tiles_url!r}")
    return f"{parts.scheme}://{host}"


def content_security_policy(tiles_url: str | None = None) -> str:
    """The report's Content-Security-Policy: nothing from the network except the tile host."""
    return _CSP.format(tiles=f" {_tiles_source(tiles_url)}" if tiles_url else "")


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, (int, float)):
        if value == 0:
            return "0"
        if abs(value) < 0.001:
            return f"{value:.1e}"
        return f"{value:.{digits}g}"
    return str(value)


def _when(span: TimeSpan, timezone: str) -> str:
    """A time as recorded, in the database's timezone (:func:`deconflict.times.format_span`)."""
    return format_span(span, timezone, "text")


def _analysis_rows(data: ReportData) -> list[dict[str, Any]]:
    """One row per analysed site: the lead ones (:attr:`ReportData.highlighted`) first."""
    sites = {s.id: s for s in data.sites}
    lead = _lead_ids(data)
    rows = []
    for a in sorted(
        data.analysis, key=lambda a: (a["site_id"] not in lead, not a.get("flagged"), a.get("p_adjusted") or 1.0)
    ):
        site = sites.get(a["site_id"])
        ci = a.get("rate_ratio_ci")
        rate = _fmt(a.get("rate_ratio"))
        if ci and rate != "—":
            low, high = _fmt(ci[0], 2), _fmt(ci[1], 2)
            if low != "—" and high != "—":
                rate += f" ({low}–{high})"
            elif low != "—":
                rate += f" (from {low})"
        head = a.get("headline") or {}
        headline = _fmt(head.get("p_value"))
        spread = head.get("range")
        if spread and headline != "—" and spread[0] is not None and spread[1] is not None:
            headline += f" ({_fmt(spread[0])}–{_fmt(spread[1])})"
        rows.append(
            {
                "site_id": a["site_id"],
                "lead": a["site_id"] in lead,
                "name": site.name if site else a["site_id"],
                "headline": headline,
                "approximate": bool(site and site.approximate),
                "flagged": bool(a.get("flagged")),
                "sentence": a.get("sentence", ""),
                "notified_at": (a.get("notified_at") or "")[:10] or None,
                "observed": _fmt(a.get("observed")),
                "expected": _fmt(a.get("expected")),
                "p_value": _fmt(a.get("p_value")),
                "observed_after": _fmt(a.get("observed_after")),
                "expected_after": _fmt(a.get("expected_after")),
                "p_value_after": _fmt(a.get("p_value_after")),
                "rate_ratio": rate,
                "p_value_change": _fmt(a.get("p_value_change")),
                "p_value_control": _fmt(a.get("p_value_control")),
                "p_adjusted": _fmt(a.get("p_adjusted")),
            }
        )
    return rows


def _lead_ids(data: ReportData) -> set[str]:
    """The sites the text leads with: notified or flagged, and those the analysis highlights."""
    notified = set(notified_sites(data))
    return (set(data.highlighted) | {a["site_id"] for a in data.analysis if a.get("flagged")} | notified) & {
        a["site_id"] for a in data.analysis
    }


def _rest_summary(data: ReportData) -> str | None:
    """One line for the sites the text does not lead with (their numbers are in the full table)."""
    lead = _lead_ids(data)
    rest = [a for a in data.analysis if a["site_id"] not in lead]
    if not rest:
        return None
    without = sum(1 for a in rest if not a.get("observed"))
    tested = [a["p_adjusted"] for a in rest if a.get("p_adjusted") is not None]
    flagged = sum(1 for a in rest if a.get("flagged"))
    noun = "site" if len(rest) == 1 else "sites"
    if without == len(rest):
        line = f"The other {len(rest)} {noun} analysed {'has' if len(rest) == 1 else 'have'} no possible hit"
    else:
        some = len(rest) - without
        line = f"Of the other {len(rest)} {noun} analysed, {without} have no possible hit and {some} have some"
    if flagged:
        line += f"; {flagged} of them are flagged"
    elif tested:
        line += f"; none is flagged (smallest adjusted p {_fmt(min(tested))})"
    else:
        line += "; none could be tested"
    ending = "." if flagged else ": consistent with chance."
    return f"{line}{ending} Every site's numbers are in the full table of the HTML report."


def _assumptions(data: ReportData) -> list[str]:
    seen: dict[str, None] = {}
    for a in data.analysis:
        for text in a.get("assumptions") or ():
            seen.setdefault(text, None)
    return list(seen)


def _hit_rows(data: ReportData) -> list[dict[str, Any]]:
    sites = {s.id: s for s in data.sites}
    incidents = {i.id: i for i in data.incidents}
    lead = _lead_ids(data) | set(notified_sites(data))
    printed = 0
    rows = []
    for m in sorted(data.matches, key=lambda m: -m.probability)[:MAX_HIT_ROWS]:
        incident, site = incidents.get(m.incident_id), sites.get(m.site_id)
        if incident is None or site is None:
            continue
        shown_on_paper = m.site_id in lead and printed < MAX_PRINTED_HIT_ROWS
        printed += shown_on_paper
        rows.append(
            {
                "printed": shown_on_paper,
                "incident_id": incident.id,
                "when": _when(incident.time, data.timezone),
                "site": site.name,
                "approximate": site.approximate,
                "probability": f"{m.probability:.2f}",
                "distance": f"{m.distance_m:,.0f}",
                "uncertainty": f"{incident.uncertainty_m:,.0f}",
                "kind": incident.kind or "—",
                "synthetic": is_synthetic(incident),
                "provenance": provenance_of(incident),
                "source": incident.source.title or incident.source.url or "—",
            }
        )
    return rows


def _provenance_rows(data: ReportData) -> list[dict[str, Any]]:
    counts: dict[str, list[int]] = {}
    for incident in data.incidents:
        name = provenance_of(incident)
        entry = counts.setdefault(name, [0, 0])
        entry[0] += 1
        entry[1] += incident.counted
    return [
        {"name": name, "count": c[0], "counted": c[1], "synthetic": name == "synthetic"}
        for name, c in sorted(counts.items(), key=lambda kv: -kv[1][0])
    ]


def _ledger(data: ReportData) -> dict[str, Any] | None:
    if data.ledger is None:
        return None
    ledger = dataclasses.asdict(data.ledger)
    ledger["cosignatures"] = [
        {
            "name": c.name,
            "key_id": c.key_id,
            "timestamp": c.timestamp,
            "when": None if c.timestamp is None else format_utc(datetime.fromtimestamp(c.timestamp, tz=UTC)),
        }
        for c in data.ledger.cosignatures
    ]
    return ledger


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("deconflict.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _notification_rows(data: ReportData) -> list[dict[str, Any]]:
    site_names = {s.id: s.name for s in data.sites}
    return [
        {
            "id": n.id,
            "recipient": f"{n.recipient} ({owner_name(n.recipient)})",
            "when": _when(n.notified_at, data.timezone),
            "channel": n.channel,
            "reference": n.reference,
            "sites": ", ".join(site_names.get(s, s) for s in n.site_ids),
        }
        for n in sorted(data.notifications, key=lambda n: n.notified_at.start)
    ]


def _acknowledgement_rows(data: ReportData) -> list[dict[str, Any]]:
    return [
        {
            "recipient": a.recipient,
            "notification_id": a.notification_id,
            "reference": a.reference,
            "when": _when(a.at, data.timezone),
        }
        for a in data.acknowledgements
    ]


def _site_rows(data: ReportData) -> list[dict[str, Any]]:
    by_site = notified_sites(data)
    lead = _lead_ids(data) | set(by_site) | {m.site_id for m in data.matches if m.probability >= 0.5}
    return [
        {
            "lead": s.id in lead,
            "id": s.id,
            "name": s.name,
            "kind": s.kind.replace("_", " "),
            "owner": s.owner,
            "lat": f"{s.lat:.5f}",
            "lon": f"{s.lon:.5f}",
            "radius": f"{s.radius_m:g}",
            "approximate": s.approximate,
            "notified": (
                f"{by_site[s.id][0].recipient} {_when(by_site[s.id][0].notified_at, data.timezone)}"
                if s.id in by_site
                else None
            ),
        }
        for s in data.sites
    ]


def _figures(data: ReportData) -> dict[str, Any]:
    """The SVG figures: overall timeline, per-site timelines, sensitivity heat maps."""
    by_site = notified_sites(data)
    arrays = incident_arrays(data.incidents)
    periods_sites = {p.site_id for p in data.periods}
    analysis_by_site = {a["site_id"]: a for a in data.analysis}
    site_figures = [
        {
            "site": site,
            "svg": Markup(site_timeline_svg(data, site, arrays=arrays)),
            "has_periods": site.id in periods_sites,
        }
        for site in sites_for_timelines(data)
    ]
    sensitivity_sites = list(dict.fromkeys(c.site_id for c in data.sensitivity))
    sensitivity_sites.sort(key=lambda s: (not analysis_by_site.get(s, {}).get("flagged"), s not in by_site, s))
    site_names = {s.id: s.name for s in data.sites}
    heatmaps = [{"name": site_names.get(s, s), "svg": Markup(sensitivity_svg(data, s))} for s in sensitivity_sites[:12]]
    return {"overall_svg": Markup(overall_timeline_svg(data)), "site_figures": site_figures, "heatmaps": heatmaps}


def _assets() -> dict[str, Markup]:
    """The vendored CSS and JavaScript, inlined (the page loads nothing)."""
    return {
        "leaflet_css": Markup(_leaflet_css()),
        "report_css": Markup(_static("report.css")),
        "leaflet_js": Markup(_script_safe(_static("leaflet.js"), "leaflet.js")),
        "report_js": Markup(_script_safe(_static("report.js"), "report.js")),
        "tables_css": Markup(_static("tables.css")),
        "tables_js": Markup(_script_safe(_static("tables.js"), "tables.js")),
    }


def render_html(data: ReportData, *, tiles_url: str | None = None, tiles_attribution: str | None = None) -> str:
    """The report as one self-contained HTML document.

    Parameters
    ----------
    data
        What to show.
    tiles_url
        Optional online tile layer, a Leaflet URL template such as
        ``https://tile.openstreetmap.org/{z}/{x}/{y}.png``; its host is the only network
        origin the page's Content-Security-Policy allows. Without it the map has no basemap
        (graticule, scale bar and the study-area outline, if any) and the page makes no request.
    tiles_attribution
        Attribution shown for the tiles (required by most tile licences).

    Returns
    -------
    str
        The HTML text (UTF-8).

    Raises
    ------
    InvalidInput
        When ``tiles_url`` is not an http(s) URL template.
    """
    csp = content_security_policy(tiles_url)
    config = {
        "tiles_url": tiles_url,
        "tiles_attribution": tiles_attribution,
        "kind_colours": KIND_COLOURS,
        "provenance_colours": PROVENANCE_COLOURS,
        "timezone": data.timezone,
    }
    context = {
        "version": __version__,
        "leaflet_version": LEAFLET_VERSION,
        "csp": csp,
        "title": data.title,
        "generated_at": format_instant(data.generated_at, zone(data.timezone), "text"),
        "timezone": data.timezone,
        "notes": data.notes,
        "tiles_url": tiles_url,
        "tiles_host": urlsplit(tiles_url).netloc if tiles_url else None,
        "tiles_attribution": tiles_attribution,
        "study_area_label": data.study_area_label if data.study_area_wkt else None,
        "sites": data.sites,
        "n_incidents": len(data.incidents),
        "n_synthetic": sum(is_synthetic(i) for i in data.incidents),
        "n_approximate": sum(s.approximate for s in data.sites),
        "n_flagged": sum(bool(a.get("flagged")) for a in data.analysis),
        "notifications": _notification_rows(data),
        "acknowledgements": _acknowledgement_rows(data),
        "hit_rows": _hit_rows(data),
        "hit_total": len(data.matches),
        "provenance_rows": _provenance_rows(data),
        "site_rows": _site_rows(data),
        "analysis_rows": _analysis_rows(data),
        "rest_summary": _rest_summary(data),
        "lead_ids": _lead_ids(data),
        "assumptions": _assumptions(data),
        **_figures(data),
        "ledger": _ledger(data),
        "guarantees": data.guarantees,
        "about": data.about,
        **_assets(),
        "data_json": Markup(_json_for_script(report_json(data))),
        "config_json": Markup(_json_for_script(config)),
    }
    return _environment().get_template("report.html.j2").render(**context)
