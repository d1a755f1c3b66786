"""``/api/v1/match``, ``/api/v1/analysis`` and ``/api/v1/report``: the library's results, as the token sees them.

Each route parses its query, calls one function of :mod:`deconflict.analysis` with the
server's options and the caller's principal, and returns what it gets: the library runs the
computation over the whole database and keeps what the caller may see.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.responses import HTMLResponse, Response

from deconflict.analysis import analyze_database, match_database, report_data
from deconflict.api.auth import PrincipalDep
from deconflict.api.deps import DbDep, SettingsDep
from deconflict.api.routes import LimitQuery, OffsetQuery, api_router, page_bounds
from deconflict.api.schemas import AnalysisOut, MatchOut, Page
from deconflict.ids import ID_PATTERN
from deconflict.stats import ANALYSIS_ASSUMPTIONS

__all__ = ["router"]

router = api_router("analysis")
SiteFilter = Annotated[str | None, Query(pattern=ID_PATTERN, description="One site.")]
_HTML = {200: {"content": {"text/html": {"schema": {"type": "string"}}}}}


@router.get("/match", response_model=Page[MatchOut], summary="Incident-site candidate hits")
def match(
    db: DbDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    site_id: SiteFilter = None,
    min_probability: Annotated[
        float | None, Query(ge=0, le=1, description="Default: the server's (as `deconflict match`).")
    ] = None,
    limit: int = LimitQuery,
    offset: int = OffsetQuery,
) -> Page[MatchOut]:
    """Which incidents could have hit which of the token's visible sites, with hit probabilities."""
    options = settings.analysis_options(db, min_probability=min_probability)
    rows = match_database(db, options, principal, site_ids=[site_id] if site_id else [])
    page = rows[offset : offset + limit + 1]
    items = [MatchOut(**r.to_json()) for r in page[:limit]]
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
    options = settings.analysis_options(db, seed=seed)
    run = analyze_database(db, options, principal, site_ids=[site_id] if site_id else [])
    return AnalysisOut(
        items=run.rows(), seed=options.seed, assumptions=list(ANALYSIS_ASSUMPTIONS), data_labels=run.labels
    )


LayerFormat = Annotated[str, Query(pattern="^(geojson|csv)$", description="geojson (default) or csv.")]
_LAYER_TYPES = {"geojson": "application/geo+json", "csv": "text/csv; charset=utf-8"}


@router.get("/analysis/layer", summary="The analysis as a GIS layer (GeoJSON or CSV)", response_class=Response)
def analysis_layer(
    db: DbDep, principal: PrincipalDep, settings: SettingsDep, format: LayerFormat = "geojson"
) -> Response:
    """One Point per site with its statistics, typed (as ``deconflict analyze --format``)."""
    from deconflict.layers import analysis_layer as layer
    from deconflict.layers import render_layer

    run = analyze_database(db, settings.analysis_options(db), principal)
    text = render_layer(layer(run), format, data_labels=run.labels) or ""
    return Response(text, media_type=_LAYER_TYPES[format])


@router.get("/match/layer", summary="Possible hits as lines (GeoJSON or CSV)", response_class=Response)
def match_layer(db: DbDep, principal: PrincipalDep, settings: SettingsDep, format: LayerFormat = "geojson") -> Response:
    """One LineString per possible hit, incident to site (as ``deconflict match --format``)."""
    from deconflict.layers import match_layer as layer
    from deconflict.layers import render_layer

    records = match_database(db, settings.analysis_options(db), principal)
    text = render_layer(layer(db, records, principal), format) or ""
    return Response(text, media_type=_LAYER_TYPES[format])


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

    html = render_html(report_data(db, settings.analysis_options(db), principal))
    disposition = "inline" if inline else 'attachment; filename="deconflict-report.html"'
    headers = {"Content-Disposition": disposition, "Content-Security-Policy": content_security_policy(None)}
    return HTMLResponse(html, headers=headers)
