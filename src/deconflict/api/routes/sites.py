"""``/api/v1/sites``: the registry of protected sites, as each scope may see it.

Owners see their own sites exactly and no other site; analysts see every site coarsened;
admins see everything. A spatial search is evaluated on the location the caller sees (the
coarsened one for analysts), so repeated searches with shrinking radii cannot home in on a
site's exact position.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from deconflict.access import Principal, visible_site, visible_sites
from deconflict.api.auth import PrincipalDep
from deconflict.api.deps import DbDep, SettingsDep
from deconflict.api.routes import LimitQuery, OffsetQuery, api_router, page_bounds
from deconflict.api.schemas import Page, SiteIn, SiteOut, site_out
from deconflict.db import Database
from deconflict.errors import InvalidInput, where_named
from deconflict.ids import ID_PATTERN
from deconflict.model import check_lat_lon

__all__ = ["router", "visible_site_rows"]

router = api_router("sites")
#: Farthest a coarsened point lies from the true one (half the diagonal of a 0.01° cell), with slack.
SiteIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="Site id.")]


def parse_near(text: str) -> tuple[float, float]:
    """``"LAT,LON"`` → a validated point; raises :class:`InvalidInput` naming ``near``."""
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return check_lat_lon(float(parts[0]), float(parts[1]))
    except (ValueError, InvalidInput):
        raise InvalidInput(f"near must be LAT,LON in degrees, got {text!r}", where="query.near") from None


def visible_site_rows(db: Database, principal: Principal, **filters: Any) -> list[SiteOut]:
    """The sites the caller may see, filtered (:func:`deconflict.access.visible_sites`), as it sees them."""
    return [site_out(site, view, distance) for site, view, distance in visible_sites(db, principal, **filters)]


@router.get("/sites", response_model=Page[SiteOut], summary="List and search sites")
def list_sites(
    db: DbDep,
    principal: PrincipalDep,
    near: Annotated[str | None, Query(max_length=100, description="LAT,LON of a search point.")] = None,
    within_m: Annotated[float | None, Query(ge=0, le=20_100_000, description="Search radius, metres.")] = None,
    owner: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$")] = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    search: Annotated[
        str | None, Query(max_length=200, description="Any name, any language or script, words inflected.")
    ] = None,
    city: Annotated[str | None, Query(max_length=200, description="A city, any spelling (Kyiv, Kiev, Київ).")] = None,
    limit: int = LimitQuery,
    offset: int = OffsetQuery,
) -> Page[SiteOut]:
    """Sites the token may see, filtered; nearest first with ``near`` and ``within_m``."""
    point = parse_near(near) if near is not None else None
    with where_named(city="query.city"):
        items = visible_site_rows(
            db, principal, near=point, within_m=within_m, owner=owner, kind=kind, search=search, city=city
        )
    page = items[offset : offset + limit + 1]
    return Page[SiteOut](
        items=page[:limit], limit=limit, offset=offset, next_offset=page_bounds(len(page), limit, offset)
    )


@router.get("/sites/{site_id}", response_model=SiteOut, summary="One site")
def get_site(site_id: SiteIdPath, db: DbDep, principal: PrincipalDep) -> SiteOut:
    """One site as the token may see it (404 when it may not see it at all)."""
    site, view = visible_site(db, principal, site_id)
    return site_out(site, view)


@router.post("/sites", response_model=SiteOut, status_code=201, summary="Register a site")
def add_site(body: SiteIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep) -> SiteOut:
    """Register a site of the token's owner (admin: any owner); its record is committed to the log."""
    with settings.write_lock:
        added = db.sites.create(
            name=body.name,
            kind=body.kind,
            owner=body.owner,
            lat=body.lat,
            lon=body.lon,
            radius_m=body.radius_m,
            id=body.id,
            address=body.address,
            city=body.city,
            names=body.names,
            footprint_wkt=body.footprint_wkt,
            approximate=body.approximate,
            source=body.source,
            notes=body.notes,
            force=body.force,
            principal=principal,
        )
    return site_out(added, "exact")
