"""deconflict: tamper-evident records of humanitarian notifications, strike matching and
intentionality statistics.

The public API::

    import deconflict
    db = deconflict.init("deconflict.db", timezone="Europe/Kyiv")   # or deconflict.open(...)
    db.sites.import_file("sites.csv")
    db.incidents.import_file("strikes.csv")
"""

from deconflict._version import __version__
from deconflict.db import Database, ImportResult, SiteHit, init, open
from deconflict.errors import (
    ConflictError,
    DeconflictError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    VerificationError,
)
from deconflict.model import Incident, Notification, Site, Source
from deconflict.times import TimeSpan, parse_time

__all__ = [
    "ConflictError",
    "Database",
    "DeconflictError",
    "ImportResult",
    "Incident",
    "InvalidInput",
    "NotFound",
    "Notification",
    "PermissionDenied",
    "Site",
    "SiteHit",
    "Source",
    "TimeSpan",
    "VerificationError",
    "__version__",
    "init",
    "open",
    "parse_time",
]
