"""Which incidents concern a site: the one definition every part of deconflict uses.

An incident *concerns* a site when it could have hit it: the geodesic distance between the
incident's reported point and the site's point is at most the site's reach plus the incident's
reach,

- **site reach**: the largest distance from the site's point to its hit region, i.e. its
  ``radius_m`` for a circular site, or the farthest vertex of its footprint polygon plus
  ``radius_m`` (the footprint buffered by the radius);
- **incident reach**: how far from the reported point the true impact can be, i.e.
  ``uncertainty_m`` for the ``disk`` model and :data:`NORMAL_REACH_SIGMAS` standard deviations
  for the ``normal`` model (the probability mass beyond is below 4e-6).

Matching (:mod:`deconflict.match`) computes hit probabilities for exactly these pairs (in a
local projection, where distances agree with the geodesic ones to well under a metre at city
scale); evidence bundles contain exactly these incidents; an owner's exact view of incidents,
and the per-site timelines of a report, are these incidents. A pair with a hit probability
above zero is always within reach, so every listed match is in the site's bundle.

A *movement* (:class:`~deconflict.guarantees.model.Movement`) has a corridor instead of a point:
an incident concerns it when its time interval overlaps the movement's window and the geodesic
distance from its reported point to the route is at most the **corridor reach** (half the
corridor width) plus the incident's reach (:func:`could_hit_movement`). Breach monitoring,
movement bundles and corridor matching use exactly these incidents.

**Capped reach.** Every function takes an optional ``reach_cap_m``: the site's (or corridor's)
reach is then at most that many metres, whatever is stored. :mod:`deconflict.access` passes the
cap of a non-admin caller (:meth:`~deconflict.access.Principal.reach_cap_m`), so that an owner's
exact view, its bundles and its matches are not widened by a radius or footprint it controls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from deconflict.geo import (
    LocalProjection,
    disk_boxes,
    geodesic_densify,
    geodesic_distance_m,
    geodesic_distance_to_route_m,
)
from deconflict.model import Incident, Site
from deconflict.store.base import IncidentQuery, Store
from deconflict.times import format_utc

if TYPE_CHECKING:
    from deconflict.guarantees.model import Movement

__all__ = [
    "NORMAL_95_SCALE",
    "NORMAL_REACH_SIGMAS",
    "REACH_SLACK_M",
    "corridor_reach_m",
    "could_hit",
    "could_hit_movement",
    "incident_reach_boxes",
    "incident_reach_m",
    "incidents_concerning",
    "incidents_concerning_movement",
    "site_reach_m",
]

#: ``sqrt(chi2.ppf(0.95, 2))``: radius of the 95 % circle of a standard bivariate normal.
NORMAL_95_SCALE: float = math.sqrt(-2.0 * math.log(0.05))
#: Reach of the normal uncertainty model, in standard deviations (mass beyond < 4e-6).
NORMAL_REACH_SIGMAS: float = 5.0
#: Added to every reach so that the projected distances of matching (which differ from the
#: geodesic ones by far less than this at city scale) never find a pair outside it.
REACH_SLACK_M: float = 1.0


def incident_reach_m(uncertainty_m: ArrayLike, normal: ArrayLike = False) -> NDArray[np.float64]:
    """How far from its reported point an incident's true impact can lie, in metres.

    Parameters
    ----------
    uncertainty_m
        The incidents' uncertainty radii (the 95 % circle for the ``normal`` model).
    normal
        Whether each incident uses the ``normal`` model (else ``disk``); one for all or one each.
    """
    reach = np.array(uncertainty_m, dtype=float, ndmin=1)
    mask = np.broadcast_to(np.asarray(normal, dtype=bool), reach.shape)
    reach[mask] *= NORMAL_REACH_SIGMAS / NORMAL_95_SCALE
    return reach


def incident_reach_boxes(
    lat: ArrayLike, lon: ArrayLike, uncertainty_m: ArrayLike, normal: ArrayLike = False
) -> NDArray[np.float64]:
    """Lat/lon boxes ``(min_lat, max_lat, min_lon, max_lon)`` holding each incident's reach (plus the slack).

    The stores index these boxes, so a site's incidents are those whose box overlaps the box of the
    site's reach (:func:`incidents_concerning`): the search follows each incident's own reach, not
    the widest of the database. Returns an ``(n, 4)`` array (:func:`deconflict.geo.disk_boxes`).
    """
    return disk_boxes(lat, lon, incident_reach_m(uncertainty_m, normal) + REACH_SLACK_M)


def site_reach_m(site: Site) -> float:
    """The largest distance (geodesic metres) from ``site``'s point to its hit region."""
    if not site.footprint_wkt:
        return float(site.radius_m)
    import shapely
    from shapely import wkt

    vertices = np.asarray(shapely.get_coordinates(wkt.loads(site.footprint_wkt)))
    farthest = geodesic_distance_m(site.lon, site.lat, vertices[:, 0], vertices[:, 1]).max(initial=0.0)
    return float(farthest) + float(site.radius_m)


def _capped(reach: float, reach_cap_m: float | None) -> float:
    return reach if reach_cap_m is None else min(reach, reach_cap_m)


def could_hit(site: Site, incidents: Sequence[Incident], *, reach_cap_m: float | None = None) -> NDArray[np.bool_]:
    """For each incident, whether it concerns ``site`` (see the module docstring; ``reach_cap_m``
    bounds the site's reach)."""
    if not incidents:
        return np.zeros(0, dtype=bool)
    lon = np.array([i.lon for i in incidents])
    lat = np.array([i.lat for i in incidents])
    reach = incident_reach_m([i.uncertainty_m for i in incidents], [i.uncertainty_model == "normal" for i in incidents])
    distance = geodesic_distance_m(site.lon, site.lat, lon, lat)
    mask: NDArray[np.bool_] = distance <= _capped(site_reach_m(site), reach_cap_m) + reach + REACH_SLACK_M
    return mask


def incidents_concerning(store: Store, site: Site, *, reach_cap_m: float | None = None) -> list[Incident]:
    """The stored incidents that concern ``site``, in time order (``reach_cap_m`` bounds the site's reach).

    A spatial-index query for the incidents whose reach box (:func:`incident_reach_boxes`) overlaps
    the box of the site's reach, then the exact geodesic test (:func:`could_hit`).
    """
    reach = _capped(site_reach_m(site), reach_cap_m)
    candidates = store.list_incidents(IncidentQuery(reaching=(site.lat, site.lon, reach)))
    mask = could_hit(site, candidates, reach_cap_m=reach_cap_m)
    return [incident for incident, near in zip(candidates, mask, strict=True) if near]


_EARTH_RADIUS_M = 6_371_008.8


def corridor_reach_m(movement: Movement, reach_cap_m: float | None = None) -> float:
    """How far from its route a movement's corridor reaches: half its width (at most ``reach_cap_m``), in metres."""
    return _capped(float(movement.half_width_m), reach_cap_m)


def _within_route_reach(vertices: NDArray[np.float64], lon: NDArray[np.float64], lat: NDArray[np.float64],
                        reach: NDArray[np.float64]) -> NDArray[np.bool_]:  # fmt: skip
    """Conservative prefilter: True for every point whose geodesic distance to the route is <= its reach.

    In an azimuthal-equidistant plane centred on the route, no distance is shorter than on the
    ellipsoid and none longer than by the scale factor at the far edge, (d/R)/sin(d/R); a point
    within reach is therefore within reach times that factor on the plane.
    """
    import shapely

    projection = LocalProjection.from_points(vertices[:, 0], vertices[:, 1])
    vx, vy = projection.project(vertices[:, 0], vertices[:, 1])
    extent = float(np.hypot(vx, vy).max()) + float(reach.max(initial=0.0))
    angle = min(extent / _EARTH_RADIUS_M, 3.0)
    stretch = (angle / np.sin(angle) if angle > 1e-9 else 1.0) * 1.01
    x, y = projection.project(lon, lat)
    line = shapely.linestrings(np.column_stack([vx, vy]))
    planar = shapely.distance(line, shapely.points(x, y))
    mask: NDArray[np.bool_] = planar <= reach * stretch + REACH_SLACK_M
    return mask


def could_hit_movement(
    movement: Movement, incidents: Sequence[Incident], *, reach_cap_m: float | None = None
) -> NDArray[np.bool_]:
    """For each incident, whether it concerns ``movement`` (see the module docstring; ``reach_cap_m``
    bounds the corridor's reach)."""
    if not incidents:
        return np.zeros(0, dtype=bool)
    window = movement.window
    end = window.end
    in_time = np.array([i.time.end >= window.start and (end is None or i.time.start <= end) for i in incidents])
    mask = np.zeros(len(incidents), dtype=bool)
    if not in_time.any():
        return mask
    chosen = np.flatnonzero(in_time)
    lon = np.array([incidents[k].lon for k in chosen.tolist()])
    lat = np.array([incidents[k].lat for k in chosen.tolist()])
    reach = corridor_reach_m(movement, reach_cap_m) + incident_reach_m(
        [incidents[k].uncertainty_m for k in chosen.tolist()],
        [incidents[k].uncertainty_model == "normal" for k in chosen.tolist()],
    )
    vertices = route_vertices(movement)
    near = _within_route_reach(vertices, lon, lat, reach)
    if near.any():
        exact = geodesic_distance_to_route_m(vertices, lon[near], lat[near])
        mask[chosen[near]] = exact <= reach[near] + REACH_SLACK_M
    return mask


def route_vertices(movement: Movement) -> NDArray[np.float64]:
    """The movement's route with geodesic legs, ``(n, 2)`` lon/lat (:func:`deconflict.geo.geodesic_densify`)."""
    return geodesic_densify([p[1] for p in movement.route], [p[0] for p in movement.route])


def incidents_concerning_movement(
    store: Store, movement: Movement, *, reach_cap_m: float | None = None
) -> list[Incident]:
    """The stored incidents that concern ``movement``, in time order (``reach_cap_m``: :func:`could_hit_movement`)."""
    window = movement.window
    query = IncidentQuery(start=format_utc(window.start), end=None if window.end is None else format_utc(window.end))
    candidates = store.list_incidents(query)
    mask = could_hit_movement(movement, candidates, reach_cap_m=reach_cap_m)
    return [incident for incident, near in zip(candidates, mask, strict=True) if near]
