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
import queue
import re
import secrets
import threading
from collections.abc import Iterator
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from deconflict.access import Principal, authenticate, visible_incidents, visible_site
from deconflict.analysis import analyze_database, match_database, report_data
from deconflict.api.deps import DbDep, SettingsDep
from deconflict.api.routes.incidents import _import_file, _utc_text
from deconflict.api.routes.sites import visible_site_rows
from deconflict.api.schemas import incident_out
from deconflict.db import Database
from deconflict.errors import (
    DeconflictError,
    Implausible,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    where_named,
)
from deconflict.ledger.entries import decode_entry
from deconflict.limits import upload_name
from deconflict.model import CONFIDENCE_LEVELS, INCIDENT_STATUSES, SITE_KINDS
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


# -- forms: input kept, errors next to their field, a confirmation step before the log ----------
#: Values of a form as sent: one string per field, or a list for repeated fields (checkboxes).
FormValues = dict[str, str | list[str]]


def _field_of(exc: DeconflictError, fields: tuple[str, ...]) -> str | None:
    """The form field an error names (in ``where``, e.g. ``body.lat``, or first in its message), if any."""
    words = [w for w in re.split(r"[^A-Za-z0-9_]+", exc.where or "") if w]
    for word in reversed(words):
        if word in fields:
            return word
    first = re.match(r"[A-Za-z_]+", exc.message)
    return first.group(0) if first and first.group(0) in fields else None


def _errors_of(exc: DeconflictError, fields: tuple[str, ...]) -> dict[str, str]:
    """``{field: message}`` for the field at fault, or ``{"": message}`` for the form as a whole."""
    field = _field_of(exc, fields)
    where = "" if field or not exc.where else f" ({exc.where})"
    return {field or "": exc.message + where}


def _hidden(values: FormValues) -> list[tuple[str, str]]:
    """The form's values as ``(name, value)`` pairs for hidden inputs (a list gives several pairs)."""
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        pairs.extend((name, v) for v in value) if isinstance(value, list) else pairs.append((name, value))
    return pairs


def _number(values: FormValues, name: str, errors: dict[str, str], label: str) -> float | None:
    """A form field as a float (None when empty); a parse error goes to ``errors[name]``."""
    text = str(values.get(name, "")).strip()
    if not text:
        return None
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        errors[name] = f"{label} must be a number, got {text!r}"
        return None
    if number != number or number in (float("inf"), float("-inf")):
        errors[name] = f"{label} must be a finite number, got {text!r}"
        return None
    return number


def _confirm_page(
    request: Request,
    principal: Principal,
    *,
    heading: str,
    action: str,
    values: FormValues,
    summary: list[tuple[str, str]],
    public: str,
) -> Response:
    """The step before a write: what will be logged, said to be permanent, with the input kept."""
    return _page(request, "confirm.html", principal, heading=heading, action=action, hidden=_hidden(values),
                 summary=summary, public=public)  # fmt: skip


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
def sites_page(request: Request, db: DbDep, search: str | None = None, registered: str | None = None) -> Response:
    """Sites the token may see: a table (filtered live with htmx) and a map."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    if not principal.reads_registry:
        return _page(request, "public.html", principal, log_size=db.ledger.size)
    sites = visible_site_rows(db, principal, search=search or None)
    rows = [s.model_dump(include={"id", "name", "lat", "lon", "radius_m", "location_precision"}) for s in sites]
    # Inside <script type="application/json">: escape what could close the element or start markup.
    map_data = _script_json(rows)
    template = "sites_table.html" if request.headers.get("hx-request") else "sites.html"
    return _page(request, template, principal, sites=sites, search=search or "", map_data=map_data,
                 registered=registered)  # fmt: skip


_SITE_FIELDS = ("id", "name", "kind", "owner", "lat", "lon", "radius_m", "address", "city", "approximate",
                "footprint_wkt", "notes", "source", "reason", "force")  # fmt: skip
#: The fields an amendment may change (those of ``Sites.amend``), with their labels.
_AMENDABLE = {"name": "Name", "kind": "Kind", "lat": "Latitude", "lon": "Longitude", "radius_m": "Radius (m)",
              "address": "Address", "city": "City", "approximate": "Approximate location",
              "footprint_wkt": "Footprint (WKT)", "notes": "Notes"}  # fmt: skip


def _site_form(
    request: Request, principal: Principal, values: FormValues, errors: dict[str, str], *,
    site_id: str | None = None, warnings: list[str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    owners = sorted(principal.owners)
    return _page(request, "site_form.html", principal, status=status, values=values, errors=errors,
                 warnings=warnings or [], site_id=site_id, kinds=SITE_KINDS, owners=owners)  # fmt: skip


def _site_values(site: Any) -> FormValues:
    """A stored site as the edit form's values (as the owner sees it: exactly)."""
    radius = f"{site.radius_m:g}"
    return {"name": site.name, "kind": site.kind, "lat": repr(site.lat), "lon": repr(site.lon), "radius_m": radius,
            "address": site.address or "", "city": site.city or "", "approximate": "yes" if site.approximate else "",
            "footprint_wkt": site.footprint_wkt or "", "notes": site.notes or ""}  # fmt: skip


def _locked(settings: Any, write: Any, *args: Any, **kwargs: Any) -> Any:
    """``write(*args, **kwargs)`` holding the process's write lock (called in a worker thread)."""
    with settings.write_lock:
        return write(*args, **kwargs)


def _site_writer(principal: Principal, db: Database) -> Principal | None:
    """``principal`` when it may register sites (an owner or admin token), else None."""
    return principal if principal.is_admin or principal.owners else None


@router.get("/sites/new", response_class=HTMLResponse)
def new_site_form(request: Request, db: DbDep) -> Response:
    """Form to register a site of the token's owner (admin: any owner)."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    if _site_writer(principal, db) is None:
        return _error_page(request, principal, PermissionDenied("registering sites needs an owner or admin token"))
    owners = sorted(principal.owners)
    return _site_form(request, principal, {"owner": owners[0] if len(owners) == 1 else "", "kind": "embassy"}, {})


def _site_form_values(form: Any, fields: tuple[str, ...]) -> FormValues:
    return {name: str(form.get(name, ""))[:100_000] for name in fields}


@router.post("/sites/new")
async def new_site(request: Request, db: DbDep, settings: SettingsDep) -> Response:
    """Check, confirm ("this is permanent"), register the site (a log entry), then show the registry."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    form = await request.form()
    values = _site_form_values(form, _SITE_FIELDS)
    confirmed = str(form.get("confirmed", ""))
    try:
        _check_csrf(principal, str(form.get("csrf", "")))
    except DeconflictError as exc:
        return _site_form(request, principal, values, {"": exc.message}, status=exc.http_status)
    errors: dict[str, str] = {}
    lat = _number(values, "lat", errors, "latitude")
    lon = _number(values, "lon", errors, "longitude")
    radius = _number(values, "radius_m", errors, "radius")
    for name, label in (("lat", "latitude"), ("lon", "longitude")):
        if not str(values[name]).strip() and name not in errors:
            errors[name] = f"{label} is required (decimal degrees, WGS 84)"
    if errors or confirmed == "edit":
        return _site_form(request, principal, values, errors, status=400 if errors else 200)
    if confirmed != "yes":
        summary = [(label, str(values[name])) for name, label in
                   (("id", "Id"), ("name", "Name"), ("kind", "Kind"), ("owner", "Owner"), ("lat", "Latitude"),
                    ("lon", "Longitude"), ("radius_m", "Radius (m)"), ("address", "Address"), ("city", "City"),
                    ("approximate", "Approximate location"), ("notes", "Notes"), ("source", "Source"))
                   if values[name]]  # fmt: skip
        return _confirm_page(request, principal, heading="Register this site?", action="/ui/sites/new",
                             values=values, summary=summary,
                             public="The log gets the site's id and a salted commitment to this record; the "
                                    "record itself stays in the registry, readable by your tokens, admins and "
                                    "(coarsened to about 1 km) analysts.")  # fmt: skip
    assert lat is not None and lon is not None  # checked above
    try:
        site = await run_in_threadpool(
            _locked, settings, db.sites.create, name=str(values["name"]), kind=str(values["kind"]),
            owner=str(values["owner"]), lat=lat, lon=lon, radius_m=radius, id=str(values["id"]).strip() or None,
            address=str(values["address"]) or None, city=str(values["city"]) or None,
            footprint_wkt=str(values["footprint_wkt"]) or None, approximate=values["approximate"] == "yes",
            source=str(values["source"]) or None, notes=str(values["notes"]) or None,
            force=values["force"] == "yes", principal=principal,
        )  # fmt: skip
    except Implausible as exc:
        return _site_form(request, principal, values, {}, warnings=exc.warnings, status=exc.http_status)
    except DeconflictError as exc:
        return _site_form(request, principal, values, _errors_of(exc, _SITE_FIELDS), status=exc.http_status)
    return RedirectResponse(f"/ui/sites?registered={site.id}", status_code=303)


def _editable_site(db: Database, principal: Principal, site_id: str) -> Any:
    """The site ``site_id`` if ``principal`` may amend it (raises NotFound or PermissionDenied)."""
    site, _ = visible_site(db, principal, site_id)
    principal.require_write(site.owner)
    return site


@router.get("/sites/{site_id}/edit", response_class=HTMLResponse)
def edit_site_form(request: Request, db: DbDep, site_id: str) -> Response:
    """Form to amend one of the token's own sites (a correction with a reason, logged)."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    try:
        site = _editable_site(db, principal, site_id)
    except DeconflictError as exc:
        return _error_page(request, principal, exc)
    return _site_form(request, principal, _site_values(site), {}, site_id=site.id)


@router.post("/sites/{site_id}/edit")
async def edit_site(request: Request, db: DbDep, settings: SettingsDep, site_id: str) -> Response:
    """Check, confirm ("this is permanent"), log the amendment, then show it in the log."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    try:
        site = _editable_site(db, principal, site_id)
    except DeconflictError as exc:
        return _error_page(request, principal, exc)
    form = await request.form()
    values = _site_form_values(form, (*_AMENDABLE, "reason", "force"))
    confirmed = str(form.get("confirmed", ""))
    try:
        _check_csrf(principal, str(form.get("csrf", "")))
    except DeconflictError as exc:
        return _site_form(request, principal, values, {"": exc.message}, site_id=site.id, status=exc.http_status)
    errors: dict[str, str] = {}
    numbers = {name: _number(values, name, errors, label.lower()) for name, label in
               (("lat", "Latitude"), ("lon", "Longitude"), ("radius_m", "Radius"))}  # fmt: skip
    old = _site_values(site)
    # Only what differs from the record in force is sent (the library refuses an amendment changing nothing).
    changes: dict[str, Any] = {}
    for name in _AMENDABLE:
        if values[name] == old[name]:
            continue
        if name in numbers:
            if numbers[name] is not None and numbers[name] != _number(old, name, {}, name):
                changes[name] = numbers[name]
        elif name == "approximate":
            changes[name] = values[name] == "yes"
        else:
            changes[name] = values[name]
    if errors or confirmed == "edit":
        return _site_form(request, principal, values, errors, site_id=site.id, status=400 if errors else 200)
    if confirmed != "yes":
        summary = [(f"{_AMENDABLE[name]}", f"{old[name] or '—'} → {values[name] or '—'}") for name in changes]
        summary.append(("Reason", str(values["reason"])))
        return _confirm_page(request, principal, heading=f"Amend site {site.id}?", action=f"/ui/sites/{site.id}/edit",
                             values=values, summary=summary,
                             public="The log gets a new salted commitment superseding the one in force, and the "
                                    "reason; the old version stays in the site's history.")  # fmt: skip
    try:
        with where_named(site=""):
            _, index = await run_in_threadpool(
                _locked, settings, db.sites.amend, site.id, reason=str(values["reason"]),
                force=values["force"] == "yes", principal=principal, **changes,
            )  # fmt: skip
    except Implausible as exc:
        return _site_form(request, principal, values, {}, site_id=site.id, warnings=exc.warnings,
                          status=exc.http_status)  # fmt: skip
    except DeconflictError as exc:
        return _site_form(request, principal, values, _errors_of(exc, _SITE_FIELDS), site_id=site.id,
                          status=exc.http_status)  # fmt: skip
    return RedirectResponse(f"/ui/log?highlight={index}", status_code=303)


_NOTIFY_FIELDS = ("site_ids", "recipient", "notified_at", "channel", "reference", "text", "force")


def _notify_form(
    request: Request, db: Database, principal: Principal, values: FormValues, errors: dict[str, str],
    warnings: list[str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    sites = (
        [s for s in visible_site_rows(db, principal) if principal.can_write(s.owner)]
        if principal.reads_registry
        else []
    )
    return _page(request, "notify.html", principal, status=status, sites=sites, values=values, errors=errors,
                 warnings=warnings or [])  # fmt: skip


@router.get("/notify", response_class=HTMLResponse)
def notify_form(request: Request, db: DbDep) -> Response:
    """Form to log a notification of the token's own sites."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    return _notify_form(request, db, principal, {}, {})


@router.post("/notify")
def notify(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    site_ids: Annotated[list[str] | None, Form()] = None,
    recipient: Annotated[str, Form(max_length=100)] = "",
    notified_at: Annotated[str, Form(max_length=100)] = "",
    channel: Annotated[str, Form(max_length=200)] = "",
    reference: Annotated[str, Form(max_length=200)] = "",
    text: Annotated[str, Form(max_length=4000)] = "",
    force: Annotated[str, Form(max_length=10)] = "",
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Check, confirm ("this is permanent"), log the notification, then show it in the log.

    A refused notification comes back as the form, with what was typed and the error next to its field.
    """
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    values: FormValues = {"site_ids": site_ids or [], "recipient": recipient, "notified_at": notified_at,
                          "channel": channel, "reference": reference, "text": text, "force": force}  # fmt: skip
    try:
        _check_csrf(principal, csrf)
    except DeconflictError as exc:
        return _notify_form(request, db, principal, values, {"": exc.message}, status=exc.http_status)
    if confirmed != "yes":
        if confirmed == "edit":
            return _notify_form(request, db, principal, values, {})
        summary = [("Sites", ", ".join(site_ids or []) or "none"), ("Recipient", recipient),
                   ("When", notified_at), ("Channel", channel), ("Reference", reference), ("Text", text)]  # fmt: skip
        return _confirm_page(request, principal, heading="Log this notification?", action="/ui/notify",
                             values=values, summary=summary,
                             public="Sender, recipient, time, channel, reference and text become public in the log; "
                                    "the sites appear as their ids and salted commitments.")  # fmt: skip
    try:
        with settings.write_lock, where_named(to="recipient", at="notified_at"):
            _, index = db.notifications.notify(
                site_ids or [],
                to=recipient,
                at=notified_at,
                channel=channel or None,
                reference=reference or None,
                text=text or None,
                force=force == "yes",
                principal=principal,
            )
    except Implausible as exc:
        return _notify_form(request, db, principal, values, {}, warnings=exc.warnings, status=exc.http_status)
    except DeconflictError as exc:
        return _notify_form(request, db, principal, values, _errors_of(exc, _NOTIFY_FIELDS), status=exc.http_status)
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


#: Incidents per page of the UI's list.
INCIDENTS_PAGE = 100
_INCIDENT_FILTERS = ("start", "end", "confidence", "status", "near_site", "within_m")


def _script_json(value: Any) -> str:
    """JSON for a ``<script type="application/json">`` element: nothing in it can close the element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(
    request: Request,
    db: DbDep,
    start: Annotated[str, Query(max_length=100)] = "",
    end: Annotated[str, Query(max_length=100)] = "",
    confidence: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    near_site: Annotated[str, Query(max_length=200)] = "",
    within_m: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Incidents in time order, a page at a time, filtered (time, confidence, status, near a site), on a map;
    for admins, the import form."""
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    values: FormValues = {"start": start, "end": end, "confidence": confidence, "status": status,
                          "near_site": near_site, "within_m": within_m}  # fmt: skip
    return _incidents(request, db, principal, values, offset)


def _incidents(
    request: Request, db: Database, principal: Principal, values: FormValues, offset: int = 0, status: int = 200,
    **extra: Any,
) -> Response:  # fmt: skip
    if not principal.reads_registry:
        return _error_page(request, principal, PermissionDenied("this token reads the public log only"))
    start, end, near_site = (str(values[name]) for name in ("start", "end", "near_site"))
    confidence, review = str(values["confidence"]), str(values["status"])
    errors: dict[str, str] = {}
    radius = _number(values, "within_m", errors, "distance")
    if near_site and radius is None and "within_m" not in errors:
        radius = 1000.0  # the form's default distance (shown in the field)
        values["within_m"] = "1000"
    found: list[Any] = []
    if not errors:
        try:
            with where_named(**{f"query.{name}": name for name in ("start", "end")}):
                start_utc = _utc_text(start or None, "start", db)
                end_utc = _utc_text(end or None, "end", db)
            found = visible_incidents(
                db, principal, start=start_utc, end=end_utc, confidence=confidence or None, status=review or None,
                near_site=near_site or None, within_m=radius if near_site else None,
                limit=INCIDENTS_PAGE + 1, offset=offset,
            )  # fmt: skip
        except DeconflictError as exc:
            errors, status = _errors_of(exc, _INCIDENT_FILTERS), exc.http_status
    more = len(found) > INCIDENTS_PAGE
    found = found[:INCIDENTS_PAGE]
    incidents = [incident_out(i, view) for i, view in found]
    times = [format_span(i.time, db.timezone) for i, _ in found]
    points = [{"id": i.id, "lat": i.lat, "lon": i.lon, "uncertainty_m": i.uncertainty_m, "time": t,
               "precision": i.location_precision, "provenance": i.provenance or ""}
              for i, t in zip(incidents, times, strict=True)]  # fmt: skip
    sites = [{"id": s.id, "name": s.name} for s in visible_site_rows(db, principal)]
    query = {k: v for k, v in values.items() if v}
    pages = {
        "previous": urlencode({**query, "offset": max(0, offset - INCIDENTS_PAGE)}) if offset else None,
        "next": urlencode({**query, "offset": offset + INCIDENTS_PAGE}) if more else None,
    }
    status = 400 if errors and status < 400 else status
    return _page(request, "incidents.html", principal, status=status, incidents=incidents,
                 times=times, total=db.incidents.count(), values=values, errors=errors, offset=offset,
                 pages=pages, sites=sites, confidences=CONFIDENCE_LEVELS, statuses=INCIDENT_STATUSES,
                 map_data=_script_json(points), page_size=INCIDENTS_PAGE, **extra)  # fmt: skip


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
        where = f" ({exc.where})" if exc.where else ""
        empty: FormValues = dict.fromkeys(_INCIDENT_FILTERS, "")
        return _incidents(request, db, principal, empty, status=exc.http_status, import_format=format,
                          import_errors={"": f"Nothing was imported: {exc.message}{where}"})  # fmt: skip
    return _page(request, "imported.html", principal, result=result, filename=name)


#: Where the analysis page's progress and results go in its template (streamed in between).
_PROGRESS_MARK, _RESULTS_MARK = "<!--progress-->", "<!--results-->"


@router.get("/analysis", response_class=HTMLResponse)
def analysis_page(request: Request, db: DbDep, settings: SettingsDep) -> Response:
    """Per-site statistics and candidate hits of the sites the token may see, with progress as they compute.

    The page is streamed: its head and a progress line come at once, a line per phase of
    :func:`~deconflict.analysis.analyze_database` (its ``progress`` callback) while it runs,
    then the results; the browser shows each part as it arrives (no script needed).
    """
    principal = _principal(request, db)
    if principal is None:
        return _login_redirect()
    page = bytes(_page(request, "analysis.html", principal).body).decode("utf-8")
    head, rest = page.split(_PROGRESS_MARK, 1)
    middle, tail = rest.split(_RESULTS_MARK, 1)
    events: queue.Queue[tuple[str, Any]] = queue.Queue()

    def work() -> None:
        # Its own handle: the request's goes back to the pool when the handler returns.
        try:
            with settings.pool.connection() as own:
                options = settings.analysis_options(own)
                try:
                    rows = analyze_database(own, options, principal,
                                            progress=lambda *step: events.put(("step", step))).rows()  # fmt: skip
                    problem = None
                except InvalidInput as exc:
                    rows, problem = [], exc.message
                events.put(("step", ("matching", 0, None)))
                matches = [m.to_json() for m in match_database(own, options, principal)]
            events.put(("done", {"rows": rows, "matches": matches[:500], "problem": problem}))
        except DeconflictError as exc:
            events.put(("error", exc))
        except Exception as exc:
            events.put(("error", DeconflictError(f"the analysis failed ({type(exc).__name__}); see the server log")))
            raise

    def stream() -> Iterator[str]:
        yield head
        threading.Thread(target=work, name="ui-analysis", daemon=True).start()
        while True:
            kind, item = events.get()
            if kind != "step":
                break
            phase, done, total = item
            yield _TEMPLATES.get_template("analysis_step.html").render(phase=phase, done=done, total=total)
        yield _TEMPLATES.get_template("analysis_step.html").render(phase="done", done=1, total=1)
        yield middle
        context = item if kind == "done" else {"rows": [], "matches": [], "problem": None, "error": item}
        yield _TEMPLATES.get_template("analysis_results.html").render(assumptions=list(ANALYSIS_ASSUMPTIONS),
                                                                      **context)  # fmt: skip
        yield tail

    return StreamingResponse(stream(), media_type="text/html; charset=utf-8")


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
