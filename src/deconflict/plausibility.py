"""Plausibility checks: valid input that is probably a desk officer's slip.

Each check returns warnings (plain sentences naming the record); a write that gets any raises
:class:`~deconflict.errors.Implausible` and writes nothing, unless the caller passes
``force=True`` (CLI ``--yes``, API ``"force": true``). The checks:

- a notification or acknowledgement dated in the future (:data:`FUTURE_TOLERANCE`);
- an acknowledgement before the notification it answers;
- a site or incident outside the database's study area;
- a site far from the city it names (a lat/lon swap puts Kyiv in Iran): more than
  :data:`CITY_DISTANCE_M` from that city's centre;
- a site within :data:`DUPLICATE_SITE_M` of a site of the same owner and kind (a probable duplicate;
  an embassy and its consular section in one building are not).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from deconflict.errors import Implausible
from deconflict.geo import geodesic_distance_m
from deconflict.model import Acknowledgement, Incident, Notification, Site
from deconflict.times import TimeSpan, format_utc

if TYPE_CHECKING:
    from deconflict.db import Database

__all__ = [
    "CITY_DISTANCE_M",
    "DUPLICATE_SITE_M",
    "FUTURE_TOLERANCE",
    "acknowledgement_warnings",
    "incident_warnings",
    "notification_warnings",
    "refuse_unless_forced",
    "site_warnings",
]

#: A time is "in the future" when it starts later than this after now (clocks differ a little).
FUTURE_TOLERANCE = timedelta(hours=1)
#: A site further than this from the centre of the city it names is probably misplaced.
CITY_DISTANCE_M = 60_000.0
#: A site closer than this to another site of the same owner is probably the same site.
DUPLICATE_SITE_M = 25.0
_SHOWN = 5


def refuse_unless_forced(warnings: Sequence[str], force: bool) -> None:
    """Raise :class:`Implausible` with ``warnings`` unless there are none or ``force``."""
    if warnings and not force:
        raise Implausible(list(warnings))


def _future(span: TimeSpan, what: str, now: datetime | None) -> list[str]:
    moment = now or datetime.now(UTC)
    if span.start > moment + FUTURE_TOLERANCE:
        return [f"{what} is dated {format_utc(span.start)}, in the future (now is {format_utc(moment)})"]
    return []


def notification_warnings(notification: Notification, now: datetime | None = None) -> list[str]:
    """Warnings about a notification: dated in the future."""
    return _future(notification.notified_at, f"notification {notification.id}", now)


def acknowledgement_warnings(
    acknowledgement: Acknowledgement, notification: Notification, now: datetime | None = None
) -> list[str]:
    """Warnings about an acknowledgement: in the future, or before the notification it answers."""
    warnings = _future(acknowledgement.at, f"acknowledgement {acknowledgement.id}", now)
    if acknowledgement.at.end < notification.notified_at.start:
        warnings.append(
            f"acknowledgement {acknowledgement.id} ({format_utc(acknowledgement.at.end)}) is before the notification "
            f"{notification.id} it answers ({format_utc(notification.notified_at.start)})"
        )
    return warnings


def _outside_area(db: Database, points: Sequence[tuple[float, float]]) -> list[bool]:
    area = db.analysis_options().study_area
    if area is None or not points:
        return [False] * len(points)
    import shapely

    lats = [lat for lat, _ in points]
    lons = [lon for _, lon in points]
    return [not inside for inside in shapely.contains_xy(area, lons, lats)]


def site_warnings(db: Database, sites: Sequence[Site], *, replacing: bool = False) -> list[str]:
    """Warnings about sites to be registered (or, with ``replacing``, amended in place).

    Outside the study area; far from the city they name; within :data:`DUPLICATE_SITE_M` of
    another site of the same owner.
    """
    from deconflict.names import find_city

    warnings = []
    outside = _outside_area(db, [(s.lat, s.lon) for s in sites])
    label = db.analysis_options().study_area_label or "the study area"
    for site, out in zip(sites, outside, strict=True):
        if out:
            warnings.append(f"site {site.id} ({site.lat}, {site.lon}) lies outside {label}")
        city = find_city(site.city) if site.city else None
        if city is not None:
            distance = float(geodesic_distance_m(site.lon, site.lat, city.lon, city.lat))
            if distance > CITY_DISTANCE_M:
                swapped = float(geodesic_distance_m(site.lat, site.lon, city.lon, city.lat))
                hint = " — are lat and lon swapped?" if swapped <= CITY_DISTANCE_M else ""
                warnings.append(
                    f"site {site.id} at ({site.lat}, {site.lon}) is {distance / 1000:,.0f} km from {city.name} "
                    f"({city.country_code}), the city it names{hint}"
                )
        for hit in db.sites.list(near=(site.lat, site.lon), within_m=DUPLICATE_SITE_M, owner=site.owner):
            if hit.site.id != site.id and hit.site.kind == site.kind:
                warnings.append(
                    f"site {site.id} is {hit.distance_m or 0.0:.0f} m from {hit.site.id} ({hit.site.name}), a "
                    f"{site.kind} of the same owner {site.owner}: probably the same site"
                )
    if not replacing:
        warnings += _batch_duplicates(sites)
    return warnings


def _batch_duplicates(sites: Sequence[Site]) -> list[str]:
    """Pairs of sites of one batch with the same owner and kind within :data:`DUPLICATE_SITE_M`."""
    if len(sites) < 2:
        return []
    import numpy as np
    from scipy.spatial import cKDTree

    lat = np.radians([s.lat for s in sites])
    lon = np.radians([s.lon for s in sites])
    xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]) * 6_371_008.8
    warnings = []
    for i, j in sorted(cKDTree(xyz).query_pairs(DUPLICATE_SITE_M * 1.01)):
        a, b = sites[i], sites[j]
        if (a.owner, a.kind) == (b.owner, b.kind):
            gap = float(geodesic_distance_m(a.lon, a.lat, b.lon, b.lat))
            if gap <= DUPLICATE_SITE_M:
                warnings.append(f"sites {a.id} and {b.id} ({a.kind}, {a.owner}) are {gap:.0f} m apart: one site?")
    return warnings


def incident_warnings(db: Database, incidents: Sequence[Incident]) -> list[str]:
    """Warnings about incidents to be recorded: outside the study area (counted, first ids named)."""
    outside = [i.id for i, out in zip(incidents, _outside_area(db, [(i.lat, i.lon) for i in incidents]), strict=True)
               if out]  # fmt: skip
    if not outside:
        return []
    label = db.analysis_options().study_area_label or "the study area"
    named = ", ".join(outside[:_SHOWN]) + (", ..." if len(outside) > _SHOWN else "")
    return [f"{len(outside)} of {len(incidents)} incidents lie outside {label} ({named})"]
