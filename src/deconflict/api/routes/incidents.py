"""``/api/v1/incidents``: strike reports, one by one, as a JSON batch, or as a file (bulk upload).

Admins write and read exactly; owners read exactly the incidents that could have hit their own
sites and the rest coarsened; analysts read all coarsened (see :class:`IncidentViews`). Every
batch is one log entry that commits to its records, written in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import tempfile
from pathlib import Path as FilePath
from typing import Annotated

import numpy as np
from fastapi import Path, Query, Request
from pyproj import Geod
from starlette.concurrency import run_in_threadpool

from deconflict.api.auth import LocationView, Principal, PrincipalDep, coarsen
from deconflict.api.deps import DbDep, Settings, SettingsDep
from deconflict.api.routes import LimitQuery, OffsetQuery, api_router, page_bounds
from deconflict.api.routes.sites import parse_near
from deconflict.api.schemas import ImportOut, IncidentIn, IncidentOut, Page, incident_out
from deconflict.db import Database
from deconflict.errors import DeconflictError, InvalidInput
from deconflict.model import Incident, Source
from deconflict.store import ImportRecord
from deconflict.store.base import SiteQuery
from deconflict.times import parse_time

__all__ = ["MAX_BATCH", "IncidentViews", "router", "visible_incidents"]

router = api_router("incidents")
_GEOD = Geod(ellps="WGS84")
_COARSE_SLACK_M = 800.0
#: Largest JSON batch of incidents in one request (files may hold more, within the body limit).
MAX_BATCH = 10_000
_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
_IMPORT_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/geo+json": {"schema": {"type": "string"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


class IncidentViews:
    """How one caller sees each incident: ``exact`` or ``coarse``.

    Admins see every incident exactly. An owner sees exactly the incidents that could have hit
    one of its own sites (uncertainty disk reaching the site's radius: the incidents its
    evidence bundles must contain) and every other incident coarsened, because a strike
    reported at another owner's premises would reveal that site. Analysts see all coarsened.
    """

    def __init__(self, db: Database, principal: Principal) -> None:
        principal.require_registry()
        self.principal = principal
        own = (
            []
            if principal.is_admin
            else [s for s, _ in db.store.list_sites(SiteQuery()) if s.owner in principal.owners]
        )
        self._lat = np.array([s.lat for s in own])
        self._lon = np.array([s.lon for s in own])
        self._radius = np.array([s.radius_m for s in own])

    def __call__(self, incident: Incident) -> LocationView:
        """The view of one incident."""
        if self.principal.is_admin:
            return "exact"
        if self._lat.size:
            n = self._lat.size
            _, _, distance = _GEOD.inv(np.full(n, incident.lon), np.full(n, incident.lat), self._lon, self._lat)
            if bool(np.any(distance <= self._radius + incident.uncertainty_m)):
                return "exact"
        return "coarse"


def visible_incidents(
    db: Database,
    principal: Principal,
    *,
    near: tuple[float, float] | None = None,
    within_m: float | None = None,
    start: str | None = None,
    end: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[IncidentOut]:
    """Up to ``limit + 1`` incidents from ``offset``, as the caller sees them, in time order."""
    views = IncidentViews(db, principal)
    if (near is None) != (within_m is None):
        raise InvalidInput("near and within_m go together", where="query")
    if principal.is_admin or near is None or within_m is None:
        found = db.incidents.list(near=near, within_m=within_m, start=start, end=end, status=status,
                                  limit=limit + 1, offset=offset)  # fmt: skip
        return [incident_out(i, views(i)) for i in found]
    # A spatial search is evaluated on the positions the caller sees, so repeated searches with
    # shrinking radii cannot home in on exact ones.
    candidates = db.incidents.list(near=near, within_m=within_m + _COARSE_SLACK_M, start=start, end=end, status=status)
    kept = []
    for incident in candidates:
        view = views(incident)
        lat, lon = (incident.lat, incident.lon) if view == "exact" else coarsen(incident.lat, incident.lon)
        if _GEOD.inv(near[1], near[0], lon, lat)[2] <= within_m:
            kept.append(incident_out(incident, view))
    return kept[offset : offset + limit + 1]


@router.get("/incidents", response_model=Page[IncidentOut], summary="List incidents")
def list_incidents(
    db: DbDep,
    principal: PrincipalDep,
    near: Annotated[str | None, Query(max_length=100, description="LAT,LON of a search point.")] = None,
    within_m: Annotated[float | None, Query(ge=0, le=20_100_000)] = None,
    start: Annotated[str | None, Query(max_length=100, description="ISO 8601; incidents ending after.")] = None,
    end: Annotated[str | None, Query(max_length=100, description="ISO 8601; incidents starting before.")] = None,
    status: Annotated[str | None, Query(pattern="^(confirmed|unverified|rejected)$")] = None,
    limit: int = LimitQuery,
    offset: int = OffsetQuery,
) -> Page[IncidentOut]:
    """Incidents in time order (exact for admins and owners, coarsened for analysts)."""
    point = parse_near(near) if near is not None else None
    start_utc = _utc_text(start, "start", db)
    end_utc = _utc_text(end, "end", db)
    found = visible_incidents(db, principal, near=point, within_m=within_m, start=start_utc, end=end_utc,
                              status=status, limit=limit, offset=offset)  # fmt: skip
    return Page[IncidentOut](
        items=found[:limit], limit=limit, offset=offset, next_offset=page_bounds(len(found), limit, offset)
    )


def _utc_text(text: str | None, name: str, db: Database) -> str | None:
    if text is None:
        return None
    from deconflict.times import format_utc

    try:
        span = parse_time(text, None, db.timezone)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where=f"query.{name}") from None
    return format_utc(span.start)


@router.get("/incidents/{incident_id}", response_model=IncidentOut, summary="One incident")
def get_incident(
    incident_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")],
    db: DbDep,
    principal: PrincipalDep,
) -> IncidentOut:
    """One incident as the token may see it."""
    views = IncidentViews(db, principal)
    incident = db.incidents.get(incident_id)
    return incident_out(incident, views(incident))


def _incident(item: IncidentIn, position: int, db: Database) -> Incident:
    where = f"body[{position}]"
    try:
        return Incident(
            id=item.id or f"inc-{secrets.token_hex(6)}", time=parse_time(item.time, item.time_precision, db.timezone),
            lat=item.lat, lon=item.lon, uncertainty_m=item.uncertainty_m, uncertainty_model=item.uncertainty_model,
            kind=item.kind, weapon=item.weapon, confidence=item.confidence,
            source=Source(url=item.source_url, sha256=item.source_sha256), notes=item.notes,
            provenance=item.provenance, status=item.status,
        )  # fmt: skip
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where=where) from None


@router.post("/incidents", response_model=ImportOut, status_code=201, summary="Add a batch of incidents")
def add_incidents(
    body: list[IncidentIn],
    db: DbDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> ImportOut:
    """Add up to 10,000 incidents in one transaction (all or none) and one log entry (admin)."""
    principal.require_admin("adding incidents")
    if not body:
        raise InvalidInput("the batch is empty", where="body")
    if len(body) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH:,} incidents per request; upload a file instead", where="body")
    incidents = [_incident(item, n, db) for n, item in enumerate(body)]
    payload = json.dumps([item.model_dump() for item in body], sort_keys=True, ensure_ascii=False).encode()
    digest = hashlib.sha256(payload).hexdigest()
    record = ImportRecord("incidents", "api-batch.json", digest, "json", len(incidents))
    with settings.write_lock:
        added = db.incidents.add_many(incidents, record)
    return ImportOut(added=added, sha256=digest, format="json", skipped=[], ignored_columns=[])


def _import_file(db: Database, settings: Settings, data: bytes, filename: str, fmt: str | None) -> ImportOut:
    with tempfile.TemporaryDirectory(prefix="deconflict-upload-") as tmp:
        path = FilePath(tmp) / filename
        path.write_bytes(data)
        try:
            with settings.write_lock:
                result = db.incidents.import_file(path, fmt)
        except DeconflictError as exc:  # name the upload, not the server's temporary path
            exc.message = exc.message.replace(str(path), filename)
            exc.where = (exc.where or filename).replace(str(path), filename)
            raise
    return ImportOut(
        added=result.added, sha256=result.sha256, format=result.format,
        skipped=[f"row {row}: {why}" for row, why in result.skipped], ignored_columns=list(result.ignored_columns),
    )  # fmt: skip


@router.post(
    "/incidents/import",
    response_model=ImportOut,
    status_code=201,
    summary="Import an incident file (bulk upload)",
    openapi_extra={"requestBody": _IMPORT_BODY},
)
async def import_incidents(
    request: Request,
    db: DbDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    format: Annotated[str | None, Query(pattern="^(csv|geojson|acled)$", description="Default: from the name.")] = None,
    filename: Annotated[
        str, Query(min_length=1, max_length=200, description="Recorded as the file's name.")
    ] = "upload.csv",
) -> ImportOut:
    """Import a CSV, GeoJSON or ACLED-style file sent as the request body (admin); all rows or none."""
    principal.require_admin("importing incidents")
    data = await request.body()
    if not data:
        raise InvalidInput("the uploaded file is empty", where="body")
    safe_name = _FILENAME.sub("_", FilePath(filename).name).strip("._") or "upload.csv"
    return await run_in_threadpool(_import_file, db, settings, data, safe_name, format)
