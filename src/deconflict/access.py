"""Who may read what, and at which precision: API tokens, their scopes, and the views they give.

A token is ``dcf_<id>_<secret>``: ``id`` is 12 hex digits (public, shown by ``token list``),
``secret`` is ``secrets.token_urlsafe(32)`` (256 random bits). The store keeps only the
SHA-256 of the secret (hex), compared with :func:`hmac.compare_digest`, so a leaked database
does not leak usable tokens and a comparison's time does not depend on how many characters
of a guess are right.

Scopes (a token may carry several)::

    admin          everything: every site exactly, every write
    owner:ISO3     read and write that owner's sites, notifications and acknowledgements;
                   exact coordinates of its own sites only (other owners' sites are invisible);
                   incidents exactly only where they could have hit its own sites, else
                   coarsened; analysis and matches of its own sites
    analyst        every site and incident at coarsened precision (see :func:`coarsen`),
                   analyses and matches (distances rounded to the kilometre); no writes
    (an admin also adds incidents; a site of another owner answers 404, as a missing one)
    public         the log only: checkpoints, entries, proofs, tiles (no coordinates at all)

An owner's exact view must not be widened by data the owner controls. A site's reach (its
radius, or its footprint's farthest vertex plus the radius) decides which incidents its owner
reads exactly, so a token that is not admin may register or amend a site only up to
:data:`~deconflict.model.MAX_OWNER_REACH_M` of its kind, and a corridor only up to
:data:`~deconflict.model.MAX_OWNER_WIDTH_M` (:meth:`Principal.require_reach`); and whatever is
stored (an admin may record more, or did before the limit), the caller's exact view, matches,
bundles and compliance hits reach at most that far (:meth:`Principal.reach_cap_m`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from deconflict.db import Database
from deconflict.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from deconflict.geo import geodesic_distance_m
from deconflict.model import (
    CONFIDENCE_LEVELS,
    INCIDENT_STATUSES,
    MAX_OWNER_REACH_M,
    MAX_OWNER_WIDTH_M,
    Incident,
    Notification,
    Site,
    check_owner,
)
from deconflict.relevance import could_hit, site_reach_m
from deconflict.store.base import SiteQuery, TokenRecord
from deconflict.times import format_utc

__all__ = [
    "COARSE_GRID_DEG",
    "SCOPES_HELP",
    "TOKEN_PREFIX",
    "IncidentViews",
    "LocationView",
    "Principal",
    "authenticate",
    "coarsen",
    "coarsened_incident",
    "coarsened_site",
    "create_token",
    "hash_secret",
    "list_tokens",
    "may_read_notification",
    "parse_scope",
    "revoke_token",
    "visible_incidents",
    "visible_notifications",
    "visible_site",
    "visible_sites",
]

TOKEN_PREFIX = "dcf"
#: Coarsened coordinates are the centre of the 0.01° x 0.01° cell holding the true point
#: (about 1.1 km north-south, 0.7 km east-west at Kyiv's latitude).
COARSE_GRID_DEG = 0.01
SCOPES_HELP = "admin, analyst, public or owner:ISO3 (e.g. owner:AZE)"
_TOKEN = re.compile(r"^dcf_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()

LocationView = Literal["exact", "coarse"]


def parse_scope(text: str) -> str:
    """A scope in canonical form (``owner:aze`` → ``owner:AZE``); raises :class:`InvalidInput`."""
    scope = text.strip()
    if scope in ("admin", "analyst", "public"):
        return scope
    if scope.lower().startswith("owner:"):
        return "owner:" + check_owner(scope.split(":", 1)[1], "owner in scope")
    raise InvalidInput(f"unknown scope {text!r}; expected {SCOPES_HELP}")


def hash_secret(secret: str) -> str:
    """SHA-256 of a token's secret, as stored (hex)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(db: Database, scopes: Iterable[str], name: str | None = None) -> str:
    """Create an API token and return it; only its hash is stored, so it is shown once.

    Parameters
    ----------
    db
        The database the server serves.
    scopes
        One or more of ``admin``, ``analyst``, ``public``, ``owner:ISO3``.
    name
        A label for people (who holds the token).

    Raises
    ------
    InvalidInput
        For an unknown scope or none.
    """
    parsed = tuple(dict.fromkeys(parse_scope(s) for s in scopes))
    if not parsed:
        raise InvalidInput(f"a token needs at least one scope: {SCOPES_HELP}")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = TokenRecord(token_id, hash_secret(secret), parsed, name, format_utc(datetime.now(UTC)))
    with db.store.transaction():
        db.store.insert_token(record)
    return f"{TOKEN_PREFIX}_{token_id}_{secret}"


def revoke_token(db: Database, token_id: str) -> None:
    """Revoke a token by its public id; raises :class:`~deconflict.errors.NotFound` when unknown."""
    with db.store.transaction():
        db.store.revoke_token(token_id, format_utc(datetime.now(UTC)))


def list_tokens(db: Database) -> list[TokenRecord]:
    """Every token (hashes only), oldest first."""
    return db.store.list_tokens()


def coarsen(lat: float, lon: float) -> tuple[float, float]:
    """The centre of the :data:`COARSE_GRID_DEG` cell holding ``(lat, lon)``.

    Every point of a cell maps to the same centre, so coarsened coordinates reveal only the
    cell (about 1 km), however many times they are read.
    """

    def centre(value: float, low: float, high: float) -> float:
        cell = math.floor(value / COARSE_GRID_DEG)
        return round(min(max((cell + 0.5) * COARSE_GRID_DEG, low), high), 4)

    return centre(lat, -90.0, 90.0), centre(lon, -180.0, 180.0)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's id (None when anonymous) and its scopes."""

    token_id: str | None
    scopes: frozenset[str]
    name: str | None = None

    @classmethod
    def anonymous(cls) -> Principal:
        """An unauthenticated caller: reads the public log only."""
        return cls(None, frozenset({"public"}))

    @classmethod
    def local(cls) -> Principal:
        """Whoever opens the database file itself (the CLI, a library user): sees everything."""
        return cls(None, frozenset({"admin"}), "local")

    @property
    def is_admin(self) -> bool:
        """Whether the token carries ``admin``."""
        return "admin" in self.scopes

    @property
    def is_analyst(self) -> bool:
        """Whether the token carries ``analyst``."""
        return "analyst" in self.scopes

    @property
    def owners(self) -> frozenset[str]:
        """The ISO3 codes of the ``owner:`` scopes."""
        return frozenset(s.split(":", 1)[1] for s in self.scopes if s.startswith("owner:"))

    @property
    def reads_registry(self) -> bool:
        """Whether the caller may read sites, incidents and notifications at all."""
        return self.is_admin or self.is_analyst or bool(self.owners)

    def can_see_exact(self, site: Site) -> bool:
        """Whether the caller may read ``site``'s exact coordinates."""
        return self.is_admin or site.owner in self.owners

    def site_view(self, site: Site) -> LocationView | None:
        """How the caller sees ``site``: ``exact``, ``coarse`` or not at all (None)."""
        if self.can_see_exact(site):
            return "exact"
        if self.is_analyst:
            return "coarse"
        return None

    def can_write(self, owner: str) -> bool:
        """Whether the caller may add sites and notifications of ``owner``."""
        return self.is_admin or owner in self.owners

    def require_registry(self) -> None:
        """Raise :class:`PermissionDenied` unless the caller may read the registry."""
        if not self.reads_registry:
            raise PermissionDenied("this token's scope allows the public log only (checkpoints and proofs)")

    def require_admin(self, action: str) -> None:
        """Raise :class:`PermissionDenied` unless the caller is an admin."""
        if not self.is_admin:
            raise PermissionDenied(f"{action} needs an admin token")

    def require_write(self, owner: str) -> None:
        """Raise :class:`PermissionDenied` unless the caller may write records of ``owner``."""
        if not self.can_write(owner):
            raise PermissionDenied(f"this token may not write records of owner {owner}")

    def reach_cap_m(self, site: Site) -> float | None:
        """How far from ``site`` the caller's exact views reach at most: None (the stored reach) for an
        admin, else :data:`~deconflict.model.MAX_OWNER_REACH_M` of the site's kind."""
        return None if self.is_admin else MAX_OWNER_REACH_M[site.kind]

    @property
    def corridor_cap_m(self) -> float | None:
        """How far from a movement's route the caller's views reach at most (None: the stored half width)."""
        return None if self.is_admin else MAX_OWNER_WIDTH_M / 2.0

    def require_reach(self, site: Site) -> None:
        """Raise :class:`PermissionDenied` when a caller that is not admin writes a site reaching
        farther than :data:`~deconflict.model.MAX_OWNER_REACH_M` of its kind (``where`` names the field)."""
        cap = self.reach_cap_m(site)
        if cap is None:
            return
        reach = site_reach_m(site)
        if reach > cap + 1e-6:
            field = "footprint_wkt" if site.footprint_wkt else "radius_m"
            how = "its footprint's farthest vertex plus radius_m" if site.footprint_wkt else "radius_m"
            raise PermissionDenied(
                f"site {site.id!r} would reach {reach:,.0f} m ({how}); a token that is not admin may register "
                f"a {site.kind} reaching at most {cap:,.0f} m (an admin may record more)",
                where=field,
            )

    def require_width(self, width_m: float) -> None:
        """Raise :class:`PermissionDenied` when a caller that is not admin writes a corridor wider than
        :data:`~deconflict.model.MAX_OWNER_WIDTH_M`."""
        if not self.is_admin and width_m > MAX_OWNER_WIDTH_M + 1e-6:
            raise PermissionDenied(
                f"a corridor {width_m:,.0f} m wide is wider than the {MAX_OWNER_WIDTH_M:,.0f} m a token that is not "
                "admin may register (an admin may record more)",
                where="width_m",
            )


def authenticate(db: Database, token: str) -> Principal:
    """The principal a presented token stands for; raises :class:`Unauthenticated`.

    The secret's hash is compared in constant time; an unknown id costs the same comparison,
    so timing does not tell which ids exist.
    """
    match = _TOKEN.match(token.strip())
    if match is None:
        raise Unauthenticated("malformed token; expected dcf_<id>_<secret> (deconflict token create)")
    token_id, secret = match.groups()
    record = db.store.get_token(token_id)
    presented = hash_secret(secret)
    stored = record.secret_hash if record is not None else _DUMMY_HASH
    if not hmac.compare_digest(presented, stored) or record is None:
        raise Unauthenticated("unknown token")
    if record.revoked_at is not None:
        raise Unauthenticated("this token was revoked")
    return Principal(record.id, frozenset(record.scopes), record.name)


def coarsened_site(site: Site) -> Site:
    """``site`` at the centre of its grid cell, without address, footprint, notes or source."""
    lat, lon = coarsen(site.lat, site.lon)
    return site.with_changes(lat=lat, lon=lon, address=None, footprint_wkt=None, notes=None, source=None)


def coarsened_incident(incident: Incident) -> Incident:
    """``incident`` at the centre of its grid cell."""
    from dataclasses import replace

    lat, lon = coarsen(incident.lat, incident.lon)
    return replace(incident, lat=lat, lon=lon)


def visible_site(db: Database, principal: Principal, site_id: str) -> tuple[Site, LocationView]:
    """The site and the caller's view of it; :class:`NotFound` when unknown *or* not visible.

    An invisible site answers exactly like a missing one, so ids of other owners' sites cannot
    be probed.
    """
    from deconflict.errors import NotFound

    principal.require_registry()
    try:
        site = db.sites.get(site_id)
    except NotFound:
        raise NotFound(f"no site with id {site_id!r}") from None
    view = principal.site_view(site)
    if view is None:
        raise NotFound(f"no site with id {site_id!r}")
    return site, view


class IncidentViews:
    """How one caller sees each incident: ``exact`` or ``coarse``.

    Admins see every incident exactly. An owner sees exactly the incidents that concern one of
    its own sites within the capped reach (:meth:`Principal.reach_cap_m`; :mod:`deconflict.relevance`:
    the incidents the bundles it downloads contain) and every other incident coarsened, because a
    strike reported at another owner's premises would reveal that site. Analysts see all coarsened.
    """

    def __init__(self, db: Database, principal: Principal) -> None:
        principal.require_registry()
        self.principal = principal
        self._own = (
            []
            if principal.is_admin
            else [s for s, _ in db.store.list_sites(SiteQuery()) if s.owner in principal.owners]
        )

    def __call__(self, incident: Incident) -> LocationView:
        """The view of one incident."""
        return "exact" if bool(self.exact_mask([incident])[0]) else "coarse"

    def exact_mask(self, incidents: Sequence[Incident]) -> NDArray[np.bool_]:
        """For each incident, whether the caller sees it exactly."""
        if self.principal.is_admin:
            return np.ones(len(incidents), dtype=bool)
        mask = np.zeros(len(incidents), dtype=bool)
        for site in self._own:
            mask |= could_hit(site, incidents, reach_cap_m=self.principal.reach_cap_m(site))
        return mask

    def views(self, incidents: Sequence[Incident]) -> list[LocationView]:
        """The view of each incident."""
        return ["exact" if exact else "coarse" for exact in self.exact_mask(incidents)]

    def shown(self, incidents: Sequence[Incident]) -> list[Incident]:
        """``incidents`` as the caller sees them (coarsened where the view is coarse)."""
        mask = self.exact_mask(incidents)
        return [i if exact else coarsened_incident(i) for i, exact in zip(incidents, mask, strict=True)]


def may_read_notification(db: Database, principal: Principal, notification: Notification) -> bool:
    """Whether ``principal`` may read ``notification``: admins and analysts all; owners those of their sites."""
    from deconflict.errors import NotFound

    if principal.is_admin or principal.is_analyst:
        return True
    if notification.sender in principal.owners:
        return True
    for site_id in notification.site_ids:
        try:
            if db.sites.get(site_id).owner in principal.owners:
                return True
        except NotFound:
            continue
    return False


def visible_notifications(
    db: Database, principal: Principal, site_id: str | None = None
) -> list[tuple[Notification, int]]:
    """Notifications the caller may read (of one site, or all) with their log index, oldest first."""
    principal.require_registry()
    if site_id is not None:
        visible_site(db, principal, site_id)
    return [(n, i) for n, i in db.notifications.list(site_id) if may_read_notification(db, principal, n)]


#: A search by a caller with coarse views considers records this much beyond the radius, then
#: keeps those whose *shown* (coarsened) position lies within it: a cell is about 1.1 km across.
_COARSE_SLACK_M = 800.0


def visible_sites(
    db: Database,
    principal: Principal,
    *,
    near: tuple[float, float] | None = None,
    within_m: float | None = None,
    owner: str | None = None,
    kind: str | None = None,
    search: str | None = None,
    city: str | None = None,
) -> list[tuple[Site, LocationView, float | None]]:
    """Every site the caller may see that matches the filters: ``(site, view, distance_m)``.

    With ``near``/``within_m`` the distance is measured to the location the caller sees (so
    repeated searches with shrinking radii cannot home in on an exact position) and results are
    nearest first. The site returned is the true record; show it through :func:`coarsened_site`
    where the view is ``coarse``.
    """
    principal.require_registry()
    if (near is None) != (within_m is None):
        raise InvalidInput("near and within_m go together", where="near" if near is None else "within_m")
    if owner is not None:
        owner = owner.strip().upper()
    only_owner = None
    if not principal.is_admin and not principal.is_analyst and len(principal.owners) == 1:
        (only_owner,) = principal.owners
        if owner is not None and owner != only_owner:
            return []
    reach = None if within_m is None else within_m + _COARSE_SLACK_M
    hits = db.sites.list(near=near, within_m=reach, owner=owner or only_owner, kind=kind, search=search, city=city)
    found: list[tuple[Site, LocationView, float | None]] = []
    for hit in hits:
        view = principal.site_view(hit.site)
        if view is None:
            continue
        distance = None
        if near is not None and within_m is not None:
            if view == "exact":
                distance = hit.distance_m
            else:
                lat, lon = coarsen(hit.site.lat, hit.site.lon)
                distance = float(geodesic_distance_m(near[1], near[0], lon, lat))
            if distance is None or distance > within_m:
                continue
        found.append((hit.site, view, distance))
    if near is not None:
        found.sort(key=lambda item: item[2] or 0.0)
    return found


def visible_incidents(
    db: Database,
    principal: Principal,
    *,
    near: tuple[float, float] | None = None,
    within_m: float | None = None,
    start: str | None = None,
    end: str | None = None,
    status: str | None = None,
    confidence: str | None = None,
    near_site: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[tuple[Incident, LocationView]]:
    """Up to ``limit`` incidents from ``offset`` in time order, with the caller's view of each.

    As for sites, a spatial search of a caller who sees coarsened positions is evaluated on
    the positions it sees. ``near_site`` searches around a site instead of a point: around the
    site's position as the caller sees it (the centre of its 0.01° cell for an analyst), so a
    search near a site reveals no more of its location than the site list does.
    """
    views = IncidentViews(db, principal)
    if near_site is not None:
        if near is not None:
            raise InvalidInput("give near or near_site, not both", where="near_site")
        try:
            site, view = visible_site(db, principal, near_site)
        except NotFound as exc:
            exc.where = exc.where or "near_site"
            raise
        near = (site.lat, site.lon) if view == "exact" else coarsen(site.lat, site.lon)
    if confidence is not None and confidence not in CONFIDENCE_LEVELS:
        raise InvalidInput(f"confidence must be one of {', '.join(CONFIDENCE_LEVELS)}, got {confidence!r}",
                           where="confidence")  # fmt: skip
    if status is not None and status not in INCIDENT_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(INCIDENT_STATUSES)}, got {status!r}", where="status")
    if (near is None) != (within_m is None):
        where = "within_m" if near is not None else "near_site" if near_site is not None else "near"
        raise InvalidInput(f"{'near_site' if near_site else 'near'} and within_m go together", where=where)
    filters: dict[str, Any] = {"start": start, "end": end, "status": status, "confidence": confidence}
    if principal.is_admin or near is None or within_m is None:
        found = db.incidents.list(near=near, within_m=within_m, limit=limit, offset=offset, **filters)
        return [(i, view) for i, view in zip(found, views.views(found), strict=True)]
    candidates = db.incidents.list(near=near, within_m=within_m + _COARSE_SLACK_M, **filters)
    kept = []
    for incident, view in zip(candidates, views.views(candidates), strict=True):
        lat, lon = (incident.lat, incident.lon) if view == "exact" else coarsen(incident.lat, incident.lon)
        if float(geodesic_distance_m(near[1], near[0], lon, lat)) <= within_m:
            kept.append((incident, view))
    return kept[offset : offset + limit]
