"""``/api/v1/match``, ``/api/v1/analysis`` and ``/api/v1/report``: results, filtered by scope.

Matching and statistics run over the whole database (the background needs every strike and
control sites come from the whole registry); the caller receives only rows of sites it may
see. For coarse views (analysts) distances are rounded to the kilometre and the report draws
sites and incidents at their coarsened positions.
"""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import HTMLResponse

from deconflict.api import _analysis_adapter as adapter
from deconflict.api.auth import COARSE_GRID_DEG, LocationView, Principal, PrincipalDep, coarsen
from deconflict.api.deps import DbDep, Settings, SettingsDep
from deconflict.api.routes import LimitQuery, OffsetQuery, api_router, page_bounds
from deconflict.api.routes.incidents import IncidentViews
from deconflict.api.routes.notifications import visible_notifications
from deconflict.api.routes.sites import visible_site
from deconflict.api.schemas import AnalysisOut, MatchOut, Page
from deconflict.db import Database
from deconflict.errors import InvalidInput, NotFound
from deconflict.model import Incident, Site
from deconflict.store.base import IncidentQuery, SiteQuery

__all__ = ["build_report_data", "router", "visible_analysis", "visible_matches"]

router = api_router("analysis")
SiteFilter = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$", description="One site.")]
_HTML = {200: {"content": {"text/html": {"schema": {"type": "string"}}}}}


def _site_views(db: Database, principal: Principal) -> dict[str, LocationView]:
    """``{site_id: view}`` of every site the caller may see."""
    principal.require_registry()
    views: dict[str, LocationView] = {}
    for site, _ in db.store.list_sites(SiteQuery()):
        view = principal.site_view(site)
        if view is not None:
            views[site.id] = view
    return views


def visible_matches(db: Database, principal: Principal, site_id: str | None = None) -> list[dict[str, Any]]:
    """Candidate hits on sites the caller may see (distances rounded to 1 km for coarse views)."""
    if site_id is not None:
        visible_site(db, principal, site_id)
    views = _site_views(db, principal)
    rows = []
    for row in adapter.match_rows(db):
        view = views.get(row["site_id"])
        if view is None or (site_id is not None and row["site_id"] != site_id):
            continue
        rows.append(row if view == "exact" else {**row, "distance_m": round(row["distance_m"], -3)})
    return rows


def visible_analysis(db: Database, principal: Principal, seed: int, site_id: str | None = None) -> list[dict[str, Any]]:
    """Per-site statistics of the sites the caller may see."""
    if site_id is not None:
        visible_site(db, principal, site_id)
    views = _site_views(db, principal)
    return [
        row
        for row in adapter.analysis_rows(db, seed)
        if row["site_id"] in views and (site_id is None or row["site_id"] == site_id)
    ]


@router.get("/match", response_model=Page[MatchOut], summary="Incident-site candidate hits")
def match(
    db: DbDep,
    principal: PrincipalDep,
    site_id: SiteFilter = None,
    min_probability: Annotated[float, Query(ge=0, le=1)] = 0.0,
    limit: int = LimitQuery,
    offset: int = OffsetQuery,
) -> Page[MatchOut]:
    """Which incidents could have hit which of the token's visible sites, with hit probabilities."""
    rows = [r for r in visible_matches(db, principal, site_id) if r["hit_probability"] >= min_probability]
    page = rows[offset : offset + limit + 1]
    items = [MatchOut(**r) for r in page[:limit]]
    return Page[MatchOut](items=items, limit=limit, offset=offset, next_offset=page_bounds(len(page), limit, offset))


@router.get("/analysis", response_model=AnalysisOut, summary="Intentionality statistics per site")
def analysis(
    db: DbDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    site_id: SiteFilter = None,
    seed: Annotated[int | None, Query(ge=0, le=2**32 - 1, description="Default: the server's seed.")] = None,
) -> AnalysisOut:
    """Observed vs expected hits, exact tests and adjusted p-values (as ``deconflict analyze --json``)."""
    used = settings.analysis_seed if seed is None else seed
    rows = visible_analysis(db, principal, used, site_id)
    labels = rows[0]["data_labels"] if rows else []
    return AnalysisOut(items=rows, seed=used, assumptions=adapter.assumptions(), data_labels=labels)


def _ledger_state(db: Database, settings: Settings) -> dict[str, Any] | None:
    from deconflict.api.routes.log import current_checkpoint

    try:
        stored = current_checkpoint(db, settings)
    except NotFound:
        return None
    body = stored.checkpoint
    return {
        "origin": body.origin, "size": body.size, "root_hash_b64": base64.b64encode(body.root_hash).decode(),
        "checkpoint_note": stored.note, "verifier_key": db.ledger.verifier_key, "cosignatures": [],
    }  # fmt: skip


def build_report_data(db: Database, principal: Principal, settings: Settings) -> Any:
    """The :class:`~deconflict.report.ReportData` the caller may see."""
    from deconflict.report import ReportData

    views = _site_views(db, principal)
    sites: list[Site] = []
    for site, _ in db.store.list_sites(SiteQuery()):
        view = views.get(site.id)
        if view == "exact":
            sites.append(site)
        elif view == "coarse":
            lat, lon = coarsen(site.lat, site.lon)
            sites.append(site.with_changes(lat=lat, lon=lon, address=None, footprint_wkt=None, notes=None, source=None))
    incident_views = IncidentViews(db, principal)
    incidents: list[Incident] = []
    coarse_incidents = False
    for incident in db.store.list_incidents(IncidentQuery()):
        if incident_views(incident) == "exact":
            incidents.append(incident)
        else:
            lat, lon = coarsen(incident.lat, incident.lon)
            incidents.append(dataclasses.replace(incident, lat=lat, lon=lon))
            coarse_incidents = True
    notifications = visible_notifications(db, principal)
    readable = {n.id for n, _ in notifications}
    acks = [
        {"notification_id": a.notification_id, "recipient": a.recipient, "at": a.at, "reference": a.reference}
        for a, _ in db.notifications.acknowledgements()
        if a.notification_id in readable
    ]
    notes: list[str] = []
    try:
        matches = visible_matches(db, principal)
    except adapter.AnalysisUnavailable as exc:
        matches, notes = [], [*notes, f"Matching is not available: {exc.message}"]
    try:
        rows = visible_analysis(db, principal, settings.analysis_seed)
    except (adapter.AnalysisUnavailable, InvalidInput) as exc:
        rows, notes = [], [*notes, f"Statistics are not shown: {exc.message}"]
    if any(view == "coarse" for view in views.values()) or coarse_incidents:
        notes.append(
            f"Locations outside this token's scope are shown at the centre of their {COARSE_GRID_DEG}° grid cell "
            "(about 1 km); distances to such sites are rounded to the kilometre."
        )
    return ReportData(
        title="deconflict report", generated_at=datetime.now(UTC), sites=sites, incidents=incidents,
        notifications=[n for n, _ in notifications], acknowledgements=acks,
        matches=[{"incident_id": m["incident_id"], "site_id": m["site_id"], "hit_probability": m["hit_probability"],
                  "distance_m": m["distance_m"]} for m in matches],
        analysis=rows, ledger=_ledger_state(db, settings), notes=notes,
    )  # fmt: skip


@router.get(
    "/report",
    response_class=HTMLResponse,
    responses=_HTML,  # type: ignore[arg-type]
    summary="The HTML report (offline, self-contained)",
)
def report(
    db: DbDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    inline: Annotated[bool, Query(description="Show in the browser instead of downloading.")] = False,
) -> HTMLResponse:
    """Map, timelines, hits and statistics of what the token may see, as one HTML file."""
    from deconflict.report import content_security_policy, render_html

    html = render_html(build_report_data(db, principal, settings))
    disposition = "inline" if inline else 'attachment; filename="deconflict-report.html"'
    headers = {"Content-Disposition": disposition, "Content-Security-Policy": content_security_policy(None)}
    return HTMLResponse(html, headers=headers)
