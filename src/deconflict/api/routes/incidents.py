"""``/api/v1/incidents``: strike reports, one by one, as a JSON batch, or as a file (bulk upload).

Admins write and read exactly; owners read exactly the incidents that could have hit their own
sites and the rest coarsened; analysts read all coarsened (see :class:`IncidentViews`). Every
batch is one log entry that commits to its records, written in the same transaction.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import Path, Query, Request
from starlette.concurrency import run_in_threadpool

from deconflict.access import IncidentViews, visible_incidents
from deconflict.api.auth import PrincipalDep
from deconflict.api.deps import DbDep, Settings, SettingsDep
from deconflict.api.routes import LimitQuery, OffsetQuery, api_router, page_bounds
from deconflict.api.routes.sites import parse_near
from deconflict.api.schemas import ImportOut, IncidentIn, IncidentOut, Page, incident_out
from deconflict.db import Database
from deconflict.errors import DeconflictError, InvalidInput, where_named
from deconflict.ids import ID_PATTERN
from deconflict.times import parse_time

__all__ = ["MAX_BATCH", "router"]

router = api_router("incidents")
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


@router.get("/incidents", response_model=Page[IncidentOut], summary="List incidents")
def list_incidents(
    db: DbDep,
    principal: PrincipalDep,
    near: Annotated[str | None, Query(max_length=100, description="LAT,LON of a search point.")] = None,
    within_m: Annotated[float | None, Query(ge=0, le=20_100_000)] = None,
    start: Annotated[str | None, Query(max_length=100, description="ISO 8601; incidents ending after.")] = None,
    end: Annotated[str | None, Query(max_length=100, description="ISO 8601; incidents starting before.")] = None,
    status: Annotated[str | None, Query(pattern="^(confirmed|unverified|rejected)$")] = None,
    confidence: Annotated[str | None, Query(max_length=20, description="One confidence level.")] = None,
    near_site: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Search around this site (as the token sees it).")
    ] = None,
    limit: int = LimitQuery,
    offset: int = OffsetQuery,
) -> Page[IncidentOut]:
    """Incidents in time order (exact for admins and owners, coarsened for analysts)."""
    point = parse_near(near) if near is not None else None
    start_utc = _utc_text(start, "start", db)
    end_utc = _utc_text(end, "end", db)
    names = {name: f"query.{name}" for name in ("confidence", "status", "near", "near_site", "within_m")}
    with where_named(**names):
        found = [
            incident_out(incident, view)
            for incident, view in visible_incidents(
                db, principal, near=point, within_m=within_m, start=start_utc, end=end_utc, status=status,
                confidence=confidence, near_site=near_site, limit=limit + 1, offset=offset,
            )
        ]  # fmt: skip
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
    incident_id: Annotated[str, Path(pattern=ID_PATTERN)],
    db: DbDep,
    principal: PrincipalDep,
) -> IncidentOut:
    """One incident as the token may see it."""
    views = IncidentViews(db, principal)
    incident = db.incidents.get(incident_id)
    return incident_out(incident, views(incident))


@router.post("/incidents", response_model=ImportOut, status_code=201, summary="Add a batch of incidents")
def add_incidents(
    body: list[IncidentIn],
    db: DbDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    on_existing: OnExistingQuery = "refuse",
    force: ForceQuery = False,
) -> ImportOut:
    """Add up to 10,000 incidents in one transaction (all or none) and one log entry (admin)."""
    if len(body) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH:,} incidents per request; upload a file instead", where="body")
    with settings.write_lock:
        result = db.incidents.add_rows(
            [item.model_dump(exclude=set() if item.extra else {"extra"}) for item in body], name="api-batch.json",
            on_existing=on_existing,
            force=force, principal=principal,
        )  # fmt: skip
    return ImportOut(**result.to_json())


OnExistingQuery = Annotated[
    str, Query(pattern="^(refuse|skip|update)$", description="Records already stored: refuse, skip or update them.")
]
ForceQuery = Annotated[bool, Query(description="Record them even when a plausibility check warns.")]
DelimiterQuery = Annotated[str | None, Query(min_length=1, max_length=1, description="CSV separator (default ,).")]


def _import_file(
    db: Database,
    settings: Settings,
    data: bytes,
    filename: str,
    fmt: str | None,
    on_existing: str = "refuse",
    delimiter: str | None = None,
    force: bool = False,
) -> ImportOut:
    with tempfile.TemporaryDirectory(prefix="deconflict-upload-") as tmp:
        path = FilePath(tmp) / filename
        path.write_bytes(data)
        try:
            # Parse and validate before taking the write lock: other writers wait only for the write.
            batch = db.incidents.read_file(path, fmt, delimiter=delimiter)
            with settings.write_lock:
                result = db.incidents.import_batch(batch, on_existing=on_existing, force=force)
        except DeconflictError as exc:  # name the upload, not the server's temporary path
            exc.message = exc.message.replace(str(path), filename)
            exc.where = (exc.where or filename).replace(str(path), filename)
            raise
    return ImportOut(**result.to_json())


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
    on_existing: OnExistingQuery = "refuse",
    delimiter: DelimiterQuery = None,
    force: ForceQuery = False,
) -> ImportOut:
    """Import a CSV, GeoJSON or ACLED-style file sent as the request body (admin); all rows or none."""
    principal.require_admin("importing incidents")
    data = await request.body()
    if not data:
        raise InvalidInput("the uploaded file is empty", where="body")
    safe_name = _FILENAME.sub("_", FilePath(filename).name).strip("._") or "upload.csv"
    return await run_in_threadpool(_import_file, db, settings, data, safe_name, format, on_existing, delimiter, force)
