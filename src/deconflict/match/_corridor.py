"""Hit probabilities for corridors: a route buffered by half its width, in metres.

A movement's hit region is its corridor: every point within ``half_width_m`` (geodesic) of its
route, the waypoints joined by geodesics. For each incident the route is placed in the
incident's own azimuthal-equidistant plane (:func:`deconflict.geo.local_route`), where distances
from the incident are exact, and the probability is computed exactly as for a footprint site
(:func:`~deconflict.match.polygon_hit_probability`: area fraction for ``disk``, quadrature for
``normal``), so it does not depend on where the corridor is or how long it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from deconflict.geo import ROUTE_SEGMENT_M, _segment_distances, local_route
from deconflict.match._inputs import IncidentArray
from deconflict.match._probability import polygon_hit_probability
from deconflict.relevance import incident_reach_m

__all__ = ["CorridorHit", "corridor_hit_probabilities"]


@dataclass(frozen=True)
class CorridorHit:
    """An incident (index into the incident array) that may have hit a corridor."""

    incident_index: int
    distance_m: float
    probability: float


def corridor_hit_probabilities(
    vertices: NDArray[np.float64],
    half_width_m: float,
    incidents: IncidentArray,
    candidates: NDArray[np.intp],
    *,
    min_probability: float = 0.0,
) -> list[CorridorHit]:
    """Hit probabilities of the ``candidates`` (indices into ``incidents``) on one corridor.

    Parameters
    ----------
    vertices
        The densified route, ``(n, 2)`` lon/lat (:func:`deconflict.geo.geodesic_densify`).
    half_width_m
        How far the corridor reaches from the route.
    candidates
        The incidents within reach (:func:`deconflict.relevance.could_hit_movement`).
    """
    hits = []
    reach = incident_reach_m(incidents.uncertainty_m, incidents.normal)
    for k in candidates.tolist():
        local = local_route(vertices, float(incidents.lon[k]), float(incidents.lat[k]))
        distances = _segment_distances(local)
        distance = float(distances.min())
        near = np.flatnonzero(distances <= half_width_m + float(reach[k]) + ROUTE_SEGMENT_M)
        if near.size == 0:
            continue
        legs = shapely.multilinestrings([shapely.linestrings(local[[i, i + 1]]) for i in near.tolist()])
        region = shapely.buffer(legs, half_width_m, quad_segs=16)
        model = "normal" if bool(incidents.normal[k]) else "disk"
        probability = float(
            polygon_hit_probability(region, [0.0], [0.0], [float(incidents.uncertainty_m[k])], model)[0]
        )
        if probability >= min_probability and probability > 0.0:
            hits.append(CorridorHit(k, distance, probability))
    return hits
