"""A static map inset of a few sites and the incidents around them (matplotlib SVG, no tiles).

The brief is printed and attached to a note: its map must need no tile server and no script.
Positions are projected to metres on an azimuthal equidistant projection centred on the sites
(pyproj), so distances on the inset are true and the scale bar is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pyproj import Proj

from deconflict.geo import geodesic_distance_m
from deconflict.model import Site
from deconflict.report.data import ReportData, is_synthetic
from deconflict.report.timeline import PROVENANCE_COLOURS, _new_figure, _to_svg

__all__ = ["INSET_RADIUS_M", "map_inset_svg"]

#: The inset shows this far around the sites.
INSET_RADIUS_M = 1_500.0


def map_inset_svg(
    data: ReportData, sites: Sequence[Site], *, radius_m: float = INSET_RADIUS_M, _: Callable[[str], str] = str
) -> str:
    """An ``<svg>`` map of ``sites`` (with their hit radius) and the incidents within ``radius_m``.

    Possible hits of these sites are drawn with their location-uncertainty circle; SYNTHETIC
    incidents are grey; an APPROXIMATE site is drawn dashed. ``_`` translates the legend.
    """
    lat0 = float(np.mean([s.lat for s in sites]))
    lon0 = float(np.mean([s.lon for s in sites]))
    project = Proj(proj="aeqd", lat_0=lat0, lon_0=lon0, datum="WGS84", units="m")
    lat = np.array([i.lat for i in data.incidents], dtype=float)
    lon = np.array([i.lon for i in data.incidents], dtype=float)
    near: Any = np.flatnonzero(geodesic_distance_m(lon0, lat0, lon, lat) <= radius_m * 1.2) if len(lat) else []
    wanted = {s.id for s in sites}
    hits = {m.incident_id for m in data.matches if m.site_id in wanted and m.probability >= 0.05}
    fig, ax = _new_figure(4.2, 4.2)
    drawn: set[str] = set()
    for k in near:
        incident = data.incidents[int(k)]
        x, y = project(incident.lon, incident.lat)
        synthetic = is_synthetic(incident)
        colour = PROVENANCE_COLOURS["synthetic"] if synthetic else PROVENANCE_COLOURS["reported"]
        key = "synthetic" if synthetic else "reported"
        label = None
        if key not in drawn:
            label = _("SYNTHETIC incident (simulated)") if synthetic else _("reported incident")
            drawn.add(key)
        ax.plot(
            [x], [y], "x" if not synthetic else "o", color=colour, ms=6 if not synthetic else 3, label=label, zorder=3
        )
        if incident.id in hits:
            ax.add_patch(
                _circle((x, y), incident.uncertainty_m, edgecolor=colour, facecolor="none", lw=0.8, ls="--", zorder=2)
            )
    for n, site in enumerate(sites):
        x, y = project(site.lon, site.lat)
        ax.add_patch(
            _circle(
                (x, y), site.radius_m, edgecolor="#1f4e9c", facecolor="#1f4e9c33", lw=1.2,
                ls="--" if site.approximate else "-", zorder=4,
            )
        )  # fmt: skip
        ax.plot(
            [x], [y], "s", color="#1f4e9c", ms=4, zorder=5, label=_("protected site (hit radius)") if n == 0 else None
        )
        ax.annotate(
            site.name + (" (" + _("APPROXIMATE location") + ")" if site.approximate else ""),
            xy=(x, y),
            xytext=(6, 6 + 10 * (n % 3)),
            textcoords="offset points",
            fontsize=7,
            color="#1f4e9c",
        )
    ax.set_xlim(-radius_m, radius_m)
    ax.set_ylim(-radius_m, radius_m)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(True)
        ax.spines[side].set_color("#999999")
    bar = 500.0
    ax.plot([-radius_m * 0.9, -radius_m * 0.9 + bar], [-radius_m * 0.88] * 2, color="black", lw=2)
    ax.text(-radius_m * 0.9 + bar / 2, -radius_m * 0.84, f"{bar:,.0f} m", ha="center", fontsize=7)
    ax.annotate("N", xy=(radius_m * 0.88, radius_m * 0.9), ha="center", fontsize=9, weight="bold")
    ax.annotate("", xy=(radius_m * 0.88, radius_m * 0.86), xytext=(radius_m * 0.88, radius_m * 0.66),
                arrowprops={"arrowstyle": "->", "lw": 1.2})  # fmt: skip
    ax.legend(loc="lower right", fontsize=6.5, frameon=True)
    ax.set_title(_("Within {km} km; no basemap (offline)").format(km=f"{radius_m / 1000:g}"), fontsize=8)
    return _to_svg(fig, "brief-map-inset")


def _circle(centre: tuple[float, float], radius: float, **style: object) -> object:
    from matplotlib.patches import Circle

    return Circle(centre, radius, **style)
