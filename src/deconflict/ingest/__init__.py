"""Readers for sites and incidents: CSV, GeoJSON, ACLED-style exports, the Wikidata embassies export.

Every reader returns a :class:`Batch` of validated records and raises
:class:`~deconflict.errors.InvalidInput` naming the file, row and field of the first
problem, before anything is written.
"""

from deconflict.ingest._formats import (
    INCIDENT_FORMATS,
    SITE_FORMATS,
    detect_csv_format,
    guess_format,
    read_incidents,
    read_sites,
)
from deconflict.ingest.acled import ACLED_GEO_PRECISION_RADIUS_M
from deconflict.ingest.common import INCIDENT_COLUMNS, SITE_COLUMNS, Batch

__all__ = [
    "ACLED_GEO_PRECISION_RADIUS_M",
    "INCIDENT_COLUMNS",
    "INCIDENT_FORMATS",
    "SITE_COLUMNS",
    "SITE_FORMATS",
    "Batch",
    "detect_csv_format",
    "guess_format",
    "read_incidents",
    "read_sites",
]
