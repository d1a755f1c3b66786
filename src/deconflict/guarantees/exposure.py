"""Could this incident have hit this protected object, and how likely: sites and corridors alike.

The spatial probability of a site is :func:`deconflict.match.match`'s (radius or footprint); of
a movement, :func:`deconflict.match.corridor_hit_probabilities` on the incidents
:func:`deconflict.relevance.could_hit_movement` keeps. The time part is separate
(:meth:`~deconflict.guarantees.model.Window.fraction_of`): an alert's hit probability is the
spatial probability times the share of the incident's time interval inside the window that
protected the object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from deconflict.guarantees.model import Movement, ObjectRef
from deconflict.match import IncidentArray, corridor_hit_probabilities, match
from deconflict.model import Incident, Site
from deconflict.relevance import could_hit_movement, route_vertices

__all__ = ["Exposure", "movement_exposures", "site_exposures"]

#: Pairs below this spatial probability are not considered at all (far below any threshold).
_NEGLIGIBLE = 1e-9


@dataclass(frozen=True)
class Exposure:
    """An incident that may have hit an object: distance (metres) and spatial hit probability."""

    object: ObjectRef
    incident: Incident
    distance_m: float
    spatial_probability: float


def site_exposures(sites: Sequence[Site], incidents: Sequence[Incident]) -> list[Exposure]:
    """Every (site, incident) pair with a spatial hit probability above zero."""
    if not sites or not incidents:
        return []
    from deconflict.analysis import incident_inputs, site_inputs

    by_id = {i.id: i for i in incidents}
    found = match(site_inputs(list(sites), {}), incident_inputs(list(incidents)), min_probability=_NEGLIGIBLE)
    return [Exposure(ObjectRef("site", m.site_id), by_id[m.incident_id], m.distance_m, m.probability) for m in found]


def movement_exposures(movement: Movement, incidents: Sequence[Incident]) -> list[Exposure]:
    """Every incident in the movement's window that may have hit its corridor."""
    mask = could_hit_movement(movement, incidents)
    if not mask.any():
        return []
    from deconflict.analysis import incident_inputs

    chosen = [incidents[k] for k in np.flatnonzero(mask).tolist()]
    array = IncidentArray.from_records(incident_inputs(chosen))
    hits = corridor_hit_probabilities(
        route_vertices(movement), movement.half_width_m, array, np.arange(len(chosen)), min_probability=_NEGLIGIBLE
    )
    ref = ObjectRef("movement", movement.id)
    return [Exposure(ref, chosen[h.incident_index], h.distance_m, h.probability) for h in hits]
