"""``/api/v1/sites/{id}/evidence``: a site's evidence bundle, for those who may see it exactly.

A bundle reveals the site's committed record (its exact coordinates and salt), so only an
admin or the site's owner may download it: an analyst gets 403, anyone else 404 as for an unknown site.
"""

from __future__ import annotations

from fastapi.responses import Response

from deconflict.api.auth import PrincipalDep
from deconflict.api.deps import DbDep, SettingsDep
from deconflict.api.routes import api_router
from deconflict.api.routes.sites import SiteIdPath, visible_site
from deconflict.errors import PermissionDenied
from deconflict.ledger.bundle import build_bundle

__all__ = ["router"]

router = api_router("evidence")
_ZIP = {200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}}


@router.get(
    "/sites/{site_id}/evidence",
    response_class=Response,
    responses=_ZIP,  # type: ignore[arg-type]
    summary="Evidence bundle of a site",
    tags=["sites"],
)
def evidence_bundle(site_id: SiteIdPath, db: DbDep, principal: PrincipalDep, settings: SettingsDep) -> Response:
    """The zip that proves the site's record, notifications and nearby incidents offline.

    Verify it with ``deconflict evidence verify bundle.zip --key VKEY``.
    """
    site, view = visible_site(db, principal, site_id)
    if view != "exact":
        raise PermissionDenied("an evidence bundle reveals the site's exact record: admin or the site's owner only")
    with settings.write_lock:  # may sign a checkpoint covering the site's entries
        data = build_bundle(db.ledger, site.id, reach_cap_m=principal.reach_cap_m(site))
    headers = {"Content-Disposition": f'attachment; filename="evidence-{site.id}.zip"'}
    return Response(data, media_type="application/zip", headers=headers)
