"""``/api/v1/sites``: the registry of protected sites, as each scope may see it.

Owners see their own sites exactly and no other site; analysts see every site coarsened;
admins see everything. A spatial search is evaluated on the location the caller sees (the
coarsened one for analysts), so repeated searches with shrinking radii cannot home in on a
site's exact position.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Path, Query
from pyproj import Geod

from deconflict.api.auth import Principal, PrincipalDep, coarsen
from deconflict.api.deps import DbDep, SettingsDep
from deconflict.api.routes import LimitQuery, OffsetQuery, api_router, page_bounds
from deconflict.api.schemas import Page, SiteIn, SiteOut, site_out
from deconflict.db import Database
from deconflict.errors import InvalidInput, NotFound
from deconflict.model import Site, check_lat_lon

__all__ = ["router", "visible_site", "visible_sites"]

router = api_router("sites")
_GEOD = Geod(ellps="WGS84")
#: Farthest a coarsened point lies from the true one (half the diagonal of a 0.01° cell), with slack.
_COARSE_SLACK_M = 800.0
SiteIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$", description="Site id.")]


def parse_near(text: str) -> tuple[float, float]:
    """``"LAT,LON"`` → a validated point; raises :class:`InvalidInput` naming ``near``."""
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return check_lat_lon(float(parts[0]), float(parts[1]))
    except (ValueError, InvalidInput):
        raise InvalidInput(f"near must be LAT,LON in degrees, got {text!r}", where="query.near") from None


def visible_site(db: Database, principal: Principal, site_id: str) -> tuple[Site, str]:
    """The site and the caller's view of it; :class:`NotFound` when unknown *or* not visible.

    An invisible site answers exactly like a missing one, so ids of other owners' sites cannot
    be probed.
    """
    principal.require_registry()
    try:
        site = db.sites.get(site_id)
    except NotFound:
        raise NotFound(f"no site with id {site_id!r}") from None
    view = principal.site_view(site)
    if view is None:
        raise NotFound(f"no site with id {site_id!r}")
    return site, view


def visible_sites(
    db: Database,
    principal: Principal,
    *,
    near: tuple[float, float] | None = None,
    within_m: float | None = None,
    owner: str | None = None,
    kind: str | None = None,
    search: str | None = None,
) -> list[SiteOut]:
    """Every site the caller may see that matches the filters, as the caller sees it.

    With ``near``/``within_m`` the distance is measured to the location the caller sees and
    results are nearest first.
    """
    principal.require_registry()
    if (near is None) != (within_m is None):
        raise InvalidInput("near and within_m go together", where="query")
    if owner is not None:
        owner = owner.strip().upper()
    only_owner = None
    if not principal.is_admin and not principal.is_analyst and len(principal.owners) == 1:
        (only_owner,) = principal.owners
        if owner is not None and owner != only_owner:
            return []
    reach = None if within_m is None else within_m + _COARSE_SLACK_M
    hits = db.sites.list(near=near, within_m=reach, owner=owner or only_owner, kind=kind, search=search)
    found: list[tuple[float, SiteOut]] = []
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
                distance = float(_GEOD.inv(near[1], near[0], lon, lat)[2])
            if distance is None or distance > within_m:
                continue
        found.append((distance or 0.0, site_out(hit.site, view, distance)))
    if near is not None:
        found.sort(key=lambda pair: pair[0])
    return [out for _, out in found]


@router.get("/sites", response_model=Page[SiteOut], summary="List and search sites")
def list_sites(
    db: DbDep,
    principal: PrincipalDep,
    near: Annotated[str | None, Query(max_length=100, description="LAT,LON of a search point.")] = None,
    within_m: Annotated[float | None, Query(ge=0, le=20_100_000, description="Search radius, metres.")] = None,
    owner: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$")] = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    search: Annotated[str | None, Query(max_length=200, description="Any name, any language or script.")] = None,
    limit: int = LimitQuery,
    offset: int = OffsetQuery,
) -> Page[SiteOut]:
    """Sites the token may see, filtered; nearest first with ``near`` and ``within_m``."""
    point = parse_near(near) if near is not None else None
    items = visible_sites(db, principal, near=point, within_m=within_m, owner=owner, kind=kind, search=search)
    page = items[offset : offset + limit + 1]
    return Page[SiteOut](
        items=page[:limit], limit=limit, offset=offset, next_offset=page_bounds(len(page), limit, offset)
    )


@router.get("/sites/{site_id}", response_model=SiteOut, summary="One site")
def get_site(site_id: SiteIdPath, db: DbDep, principal: PrincipalDep) -> SiteOut:
    """One site as the token may see it (404 when it may not see it at all)."""
    site, view = visible_site(db, principal, site_id)
    return site_out(site, view)  # type: ignore[arg-type]


@router.post("/sites", response_model=SiteOut, status_code=201, summary="Register a site")
def add_site(body: SiteIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep) -> SiteOut:
    """Register a site of the token's owner (admin: any owner); its record is committed to the log."""
    principal.require_write(body.owner.upper())
    site = Site(
        id=body.id or f"site-{secrets.token_hex(5)}", name=body.name, kind=body.kind, owner=body.owner,
        lat=body.lat, lon=body.lon, radius_m=-1.0 if body.radius_m is None else body.radius_m,
        address=body.address, city=body.city, names=tuple(sorted(body.names.items())),
        footprint_wkt=body.footprint_wkt, approximate=body.approximate, source=body.source, notes=body.notes,
    )  # fmt: skip
    with settings.write_lock:
        added = db.sites.add(site)
    return site_out(added, "exact")
