"""The web UI under ``/ui``: server-rendered pages (Jinja2) with vendored htmx, no CDN.

Signing in stores the API token in an ``HttpOnly``, ``SameSite=Strict`` cookie scoped to
``/ui``; the JSON API never reads that cookie (it wants an ``Authorization`` header), so a
cross-site request cannot use it. Every form that writes carries a CSRF token: an HMAC of the
token id under a per-process secret. Sign-in and sign-out are forms too: a forged sign-in
would put the victim in the attacker's account (what they then record goes there), a forged
sign-out is a nuisance. The sign-in form's token is the HMAC of a random nonce that the form's
page also sets as a ``SameSite=Strict`` cookie (double submit: another site can neither read
the form nor send the cookie); the sign-out form carries the session's CSRF token. Pages call
the same functions as the API routes, so a page shows exactly what the token's scope may see.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from importlib import resources
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from deconflict.access import Principal, authenticate, visible_incidents
from deconflict.analysis import analyze_database, match_database, report_data
from deconflict.api.deps import DbDep, SettingsDep
from deconflict.api.routes.incidents import _import_file
from deconflict.api.routes.sites import visible_site_rows
from deconflict.api.schemas import incident_out
from deconflict.db import Database
from deconflict.errors import DeconflictError, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from deconflict.ledger.entries import decode_entry
from deconflict.limits import upload_name
from deconflict.stats import ANALYSIS_ASSUMPTIONS
from deconflict.times import TimeSpan, format_span, parse_instant

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
COOKIE = "deconflict_token"
_TEMPLATES = Jinja2Templates(directory=str(resources.files("deconflict.api").joinpath("templates")))
_CSRF_KEY = secrets.token_bytes(32)
_OWN_STATIC = {"htmx.min.js": "text/javascript", "ui.js": "text/javascript", "ui.css": "text/css"}
_REPORT_STATIC = {"leaflet.js": "text/javascript", "leaflet.css": "text/css"}


def _csrf(principal: Principal) -> str:
    return hmac.new(_CSRF_KEY, (principal.token_id or "").encode(), hashlib.sha256).hexdigest()


def _check_csrf(principal: Principal, presented: str) -> None:
    if not hmac.compare_digest(_csrf(principal), presented):
        raise PermissionDenied(_FORGED)


_FORGED = "the form expired or came from another site; reload the page and try again"
LOGIN_COOKIE = "deconflict_login"


def _login_csrf(nonce: str) -> str:
    return hmac.new(_CSRF_KEY, b"login:" + nonce.encode(), hashlib.sha256).hexdigest()


def _principal(request: Request, db: Database) -> Principal | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return authenticate(db, token)
    except Unauthenticated:
        return None


def _page(request: Request, name: str, principal: Principal | None, status: int = 200, **context: Any) -> Response:
    context.update(
        principal=principal,
        csrf=_csrf(principal) if principal else "",
        scopes=sorted(principal.scopes) if principal else [],
    )
    return _TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def _login_redirect() -> RedirectResponse:
    return RedirectResponse("/ui/login", status_code=303)


def _error_page(request: Request, principal: Principal | None, exc: DeconflictError) -> Response:
    return _page(request, "error.html", principal, status=exc.http_status, error=exc)


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The UI's own scripts and styles, and Leaflet from the report's vendored copy."""
    if name in _OWN_STATIC:
        data = resources.files("deconflict.api").joinpath("static", name).read_bytes()
        return Response(data, media_type=_OWN_STATIC[name], headers={"Cache-Control": "max-age=3600"})
    if name in _REPORT_STATIC:
        data = resources.files("deconflict.report").joinpath("static", name).read_bytes()
        return Response(data, media_type=_REPORT_STATIC[name], headers={"Cache-Control": "max-age=3600"})
    raise NotFound(f"no static file {name!r}")


def _login_page(request: Request, status: int = 200, error: str | None = None) -> Response:
    """The sign-in form with a fresh nonce cookie and the form token bound to it."""
    nonce = secrets.token_urlsafe(16)
    response = _page(request, "login.html", None, status=status, error=error, login_csrf=_login_csrf(nonce))
    secure = request.url.scheme == "https"
    response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=secure, path="/ui")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """The sign-in form."""
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    db: DbDep,
    token: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Check the form's CSRF token and the API token, and keep the API token in an HttpOnly cookie."""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(_login_csrf(nonce), csrf):
        return _login_page(request, status=403, error=_FORGED)
    try:
        authenticate(db, token)
    except Unauthenticated as exc:
        return _login_page(request, status=401, error=exc.message)
    response = RedirectResponse("/ui/", status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict", secure=secure, path="/ui")
    response.delete_cookie(LOGIN_COOKIE, path="/ui")
    return response


@router.post("/logout")
def logout(request: Request, db: DbDep, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Forget the token (the form must carry the session's CSRF token; a forged one changes nothing)."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    try:
        _check_csrf(principal, csrf)
    except PermissionDenied as exc:
        return _error_page(request, principal, exc)
    response = _login_redirect()
    response.delete_cookie(COOKIE, path="/ui")
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DbDep) -> Response:
    """Sites the token may see: a table and a map."""
    return sites_page(request, db)


@router.get("/sites", response_class=HTMLResponse)
def sites_page(request: Request, db: DbDep, search: str | None = None) -> Response:
    """Sites the token may see: a table (filtered live with htmx) and a map."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    if not principal.reads_registry:
        return _page(request, "public.html", principal, log_size=db.ledger.size)
    sites = visible_site_rows(db, principal, search=search or None)
    rows = [s.model_dump(include={"id", "name", "lat", "lon", "radius_m", "location_precision"}) for s in sites]
    # Inside <script type="application/json">: escape what could close the element or start markup.
    map_data = json.dumps(rows).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    template = "sites_table.html" if request.headers.get("hx-request") else "sites.html"
    return _page(request, template, principal, sites=sites, search=search or "", map_data=map_data)


@router.get("/notify", response_class=HTMLResponse)
def notify_form(request: Request, db: DbDep) -> Response:
    """Form to log a notification of the token's own sites."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    sites = (
        [s for s in visible_site_rows(db, principal) if principal.can_write(s.owner)]
        if principal.reads_registry
        else []
    )
    return _page(request, "notify.html", principal, sites=sites)


@router.post("/notify")
def notify(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    csrf: Annotated[str, Form(max_length=100)],
    site_ids: Annotated[list[str], Form()],
    recipient: Annotated[str, Form(max_length=3)],
    notified_at: Annotated[str, Form(max_length=100)],
    channel: Annotated[str, Form(max_length=200)] = "",
    reference: Annotated[str, Form(max_length=200)] = "",
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Log the notification, then show it in the log."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    try:
        _check_csrf(principal, csrf)
        with settings.write_lock:
            _, index = db.notifications.notify(
                site_ids,
                to=recipient,
                at=notified_at,
                channel=channel or None,
                reference=reference or None,
                text=text or None,
                principal=principal,
            )
    except DeconflictError as exc:
        return _error_page(request, principal, exc)
    except ValueError as exc:  # pydantic's ValidationError
        return _error_page(request, principal, InvalidInput(str(exc).splitlines()[0]))
    return RedirectResponse(f"/ui/log?highlight={index}", status_code=303)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, db: DbDep) -> Response:
    """The alert inbox of the token's owner(s) (every owner's for admins) and the commitments they rest on."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    try:
        alerts = [a.to_json() for a in db.alerts.list(principal=principal)]
        commitments = [r.to_json() for r in db.commitments.records(principal=principal)]
    except DeconflictError as exc:
        return _error_page(request, principal, exc)
    return _page(request, "alerts.html", principal, alerts=alerts, commitments=commitments)


@router.post("/alerts/{alert_id}/ack")
def acknowledge_alert(
    request: Request, db: DbDep, settings: SettingsDep, alert_id: str, csrf: Annotated[str, Form(max_length=100)]
) -> Response:
    """Acknowledge an alert (a log entry), then show the inbox."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    try:
        _check_csrf(principal, csrf)
        with settings.write_lock:
            db.alerts.acknowledge(alert_id, principal=principal)
    except DeconflictError as exc:
        return _error_page(request, principal, exc)
    return RedirectResponse("/ui/alerts", status_code=303)


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request, db: DbDep) -> Response:
    """The latest incidents and, for admins, the import form."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    if not principal.reads_registry:
        return _error_page(request, principal, PermissionDenied("this token reads the public log only"))
    found = visible_incidents(db, principal, limit=200)
    incidents = [incident_out(i, view) for i, view in found]
    times = [format_span(i.time, db.timezone) for i, _ in found]
    return _page(request, "incidents.html", principal, incidents=incidents, times=times, total=db.incidents.count())


@router.post("/incidents/import")
async def import_incidents(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    csrf: Annotated[str, Form(max_length=100)],
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Import an uploaded incident file (admin), then show the result."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    try:
        _check_csrf(principal, csrf)
        principal.require_admin("importing incidents")
        data = await file.read()
        if not data:
            raise InvalidInput("the uploaded file is empty", where="file")
        name = upload_name(file.filename or "upload.csv", where="file")
        result = await run_in_threadpool(_import_file, db, settings, data, name, format or None)
    except DeconflictError as exc:
        return _error_page(request, principal, exc)
    return _page(request, "imported.html", principal, result=result, filename=name)


@router.get("/analysis", response_class=HTMLResponse)
def analysis_page(request: Request, db: DbDep, settings: SettingsDep) -> Response:
    """Per-site statistics and candidate hits of the sites the token may see."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    try:
        rows = analyze_database(db, settings.analysis_options(db), principal).rows()
        problem = None
    except InvalidInput as exc:
        rows, problem = [], exc.message
    except DeconflictError as exc:
        return _error_page(request, principal, exc)
    try:
        matches = [m.to_json() for m in match_database(db, settings.analysis_options(db), principal)]
    except DeconflictError as exc:
        return _error_page(request, principal, exc)
    return _page(
        request,
        "analysis.html",
        principal,
        rows=rows,
        matches=matches[:500],
        problem=problem,
        assumptions=list(ANALYSIS_ASSUMPTIONS),
    )


@router.get("/report")
def report_page(request: Request, db: DbDep, settings: SettingsDep) -> Response:
    """The HTML report of what the token may see, in the browser."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    from deconflict.report import content_security_policy, render_html

    try:
        html = render_html(report_data(db, settings.analysis_options(db), principal))
    except DeconflictError as exc:
        return _error_page(request, principal, exc)
    return HTMLResponse(html, headers={"Content-Security-Policy": content_security_policy(None)})


@router.get("/log", response_class=HTMLResponse)
def log_page(request: Request, db: DbDep, highlight: int | None = None) -> Response:
    """The newest log entries, newest first, and the log's identity."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    ledger = db.ledger
    size = ledger.size
    rows = ledger.entries(max(0, size - 50), size)
    entries: list[dict[str, Any]] = []
    tz = db.timezone
    for row in reversed(rows):
        body = decode_entry(row.data).get("body", {})
        entries.append({"index": row.index, "kind": row.kind, "logged_at": row.logged_at,
                        "summary": _summary(row.kind, body, tz)})  # fmt: skip
    return _page(request, "log.html", principal, entries=entries, size=size, origin=ledger.origin,
                 vkey=ledger.verifier_key, highlight=highlight)  # fmt: skip


def _when(span: Any, tz: ZoneInfo) -> str:
    """A logged span (``{"start", "end", "precision"}``) as recorded, in the database's timezone."""
    try:
        return format_span(TimeSpan(parse_instant(span["start"]), parse_instant(span["end"]), span["precision"]), tz)
    except (DeconflictError, KeyError, TypeError):
        return "?"


def _summary(kind: str, body: dict[str, Any], tz: ZoneInfo) -> str:
    reason = f" — reason: {body.get('reason')}" if body.get("reason") else ""
    if kind in ("notification", "notification_amended"):
        sites = ", ".join(s.get("site_id", "?") for s in body.get("sites", []))
        when = _when(body.get("notified_at", {}), tz)
        text = f"{body.get('notification_id')}: {sites} notified to {body.get('recipient')} {when}"
        if kind == "notification_amended":
            return f"{text} (amends entry {body.get('supersedes')}){reason}"
        return text
    if kind == "site_committed":
        return f"site {body.get('site_id')} committed ({str(body.get('commitment', ''))[:16]}…)"
    if kind == "site_amended":
        return f"site {body.get('site_id')} amended (supersedes entry {body.get('supersedes')}){reason}"
    if kind in ("site_withdrawn", "notification_withdrawn", "acknowledgement_withdrawn"):
        what = body.get("acknowledgement_id") or body.get("notification_id") or body.get("site_id")
        return f"{kind.split('_')[0]} {what} withdrawn (supersedes entry {body.get('supersedes')}){reason}"
    if kind == "acknowledgement":
        when = _when(body.get("at", {}), tz)
        who = f"{body.get('acknowledgement_id')}: {body.get('recipient')}"
        return f"{who} acknowledged {body.get('notification_id')} {when}"
    if kind in ("incident", "incident_revision"):
        source = body.get("import") or {}
        text = (
            f"{body.get('count')} incident(s) {body.get('first_id')}…{body.get('last_id')} {source.get('filename', '')}"
        )
        return text + (f" revising earlier versions{reason}" if kind == "incident_revision" else "")
    if kind == "incident_merge":
        return f"{', '.join(body.get('merged', []))} merged into incident {body.get('incident_id')}{reason}"
    if kind == "review":
        return f"incident {body.get('incident_id')} {body.get('status')}"
    return kind
