"""Incident ↔ site matching: could this incident have hit this site, and how likely?

A site is hit when the true impact point of an incident falls inside the site's *hit
region*: the disk of radius ``radius_m`` around the site's point or, when the site has a
footprint polygon, the footprint buffered by ``radius_m``. The reported location of an
incident is uncertain, in one of two documented ways:

``"disk"``
    The true impact is uniformly distributed in the disk of radius ``uncertainty_m`` around
    the reported point (a "500 m circle"). The hit probability is the exact fraction of that
    disk's area that lies inside the hit region (a lens area for circular sites; a shapely
    intersection area, with 128-gon disks, for footprints).
``"normal"``
    The error is an isotropic bivariate normal whose 95 % circle has radius ``uncertainty_m``
    (``sigma = uncertainty_m / sqrt(chi2.ppf(0.95, 2))``). For a circular site at distance
    ``d`` the hit probability is a Rice / non-central chi-square CDF,
    ``ncx2.cdf((r/sigma)**2, 2, (d/sigma)**2)``. For footprints it is a deterministic
    stratified quadrature (24 equal-probability rings x 48 angles), so no randomness enters.
    Candidate pairs are searched up to ``5 sigma`` beyond the hit region; the probability
    beyond that is below 4e-6 and is treated as zero.

With ``uncertainty_m == 0`` both models reduce to the indicator "the point is inside the hit
region". Distances are Euclidean in a local azimuthal-equidistant projection (metres), see
:mod:`deconflict.geo`. Candidate pairs come from dual k-d tree searches
(:meth:`scipy.spatial.cKDTree.sparse_distance_matrix`), one per pair of reach classes;
each pair's distance is then recomputed, ``sqrt(dx*dx + dy*dy)``, and compared with that
pair's own reach, so the candidates are exactly the pairs a brute-force comparison would
find. Projection, searches and probabilities run on a few threads (PROJ, scipy and numpy
release the GIL); a million incidents against a hundred thousand sites takes about a second
or two.

ACLED geo-precision codes map to uncertainty radii by :data:`ACLED_GEO_PRECISION_RADIUS_M`.
"""

from deconflict.match._corridor import CorridorHit, corridor_hit_probabilities
from deconflict.match._inputs import (
    ACLED_GEO_PRECISION_RADIUS_M,
    CONFIDENCE_LEVELS,
    DEFAULT_MIN_PROBABILITY,
    IncidentArray,
    IncidentInput,
    SiteArray,
    SiteInput,
    UncertaintyModel,
)
from deconflict.match._pairs import Match, MatchTable, match, match_arrays, site_hit_regions
from deconflict.match._probability import hit_probability, polygon_hit_probability, uncertainty_offsets
from deconflict.relevance import NORMAL_95_SCALE, NORMAL_REACH_SIGMAS

__all__ = [
    "ACLED_GEO_PRECISION_RADIUS_M",
    "CONFIDENCE_LEVELS",
    "DEFAULT_MIN_PROBABILITY",
    "NORMAL_95_SCALE",
    "NORMAL_REACH_SIGMAS",
    "CorridorHit",
    "IncidentArray",
    "IncidentInput",
    "Match",
    "MatchTable",
    "SiteArray",
    "SiteInput",
    "UncertaintyModel",
    "corridor_hit_probabilities",
    "hit_probability",
    "match",
    "match_arrays",
    "polygon_hit_probability",
    "site_hit_regions",
    "uncertainty_offsets",
]
